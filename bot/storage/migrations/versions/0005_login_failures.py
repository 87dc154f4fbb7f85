"""login_failures: the per-client login limit, shared by every web process

Revision ID: 0005
Revises: 0004
"""

from alembic import op
import sqlalchemy as sa


revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_index", sa.String(length=64), nullable=False),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_login_failures_client", "login_failures", ["client_index", "failed_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_login_failures_client", table_name="login_failures")
    op.drop_table("login_failures")
