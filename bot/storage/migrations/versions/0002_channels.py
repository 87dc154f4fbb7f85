"""channels: find an outbound message by the provider's id for it (delivery status callbacks)

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_messages_provider_id", "messages", ["provider_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_messages_provider_id", table_name="messages")
