"""web channel: web chat sessions ended by quick exit, and finding newly sent messages for open chat pages

Revision ID: 0011
Revises: 0009
"""

from alembic import op
import sqlalchemy as sa


revision = "0011"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ended_chat_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key_hash"),
    )
    op.create_index("ix_messages_delivered", "messages", ["channel", "sent_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_messages_delivered", table_name="messages")
    op.drop_table("ended_chat_sessions")
