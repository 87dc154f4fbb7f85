"""code_attempts and resume code expiry: wrong JOIN and RESUME codes limited in every process; codes run out

Revision ID: 0009
Revises: 0008
"""

from datetime import UTC, datetime, timedelta

from alembic import op
import sqlalchemy as sa


revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "code_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("code_index", sa.String(length=64), nullable=False),
        sa.Column("client_index", sa.String(length=64), nullable=False),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_code_attempts_client", "code_attempts", ["client_index", "failed_at"], unique=False)
    op.create_index("ix_code_attempts_code", "code_attempts", ["code_index", "failed_at"], unique=False)
    op.create_index("ix_code_attempts_failed_at", "code_attempts", ["failed_at"], unique=False)
    with op.batch_alter_table("contacts") as batch:
        batch.add_column(sa.Column("resume_code_expires_at", sa.DateTime(timezone=True), nullable=True))
    # Codes given before codes ran out get the default 30 days from now, rather than stopping at once.
    op.execute(
        sa.text("UPDATE contacts SET resume_code_expires_at = :until WHERE resume_code_hash IS NOT NULL").bindparams(
            sa.bindparam("until", datetime.now(UTC) + timedelta(days=30), type_=sa.DateTime(timezone=True))
        )
    )


def downgrade() -> None:
    with op.batch_alter_table("contacts") as batch:
        batch.drop_column("resume_code_expires_at")
    op.drop_index("ix_code_attempts_failed_at", table_name="code_attempts")
    op.drop_index("ix_code_attempts_code", table_name="code_attempts")
    op.drop_index("ix_code_attempts_client", table_name="code_attempts")
    op.drop_table("code_attempts")
