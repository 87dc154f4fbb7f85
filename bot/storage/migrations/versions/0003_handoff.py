"""handoff: TOTP codes accepted once; indexes for the advocate inbox's "Mine" folder

Revision ID: 0003
Revises: 0002
"""

from alembic import op
import sqlalchemy as sa


revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("staff_users") as batch_op:
        batch_op.add_column(sa.Column("totp_last_step", sa.Integer(), nullable=True))
    op.create_index("ix_tickets_assignee", "tickets", ["assignee_id", "status"], unique=False)
    op.create_index("ix_tickets_routed", "tickets", ["routed_to_id", "status"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_tickets_routed", table_name="tickets")
    op.drop_index("ix_tickets_assignee", table_name="tickets")
    with op.batch_alter_table("staff_users") as batch_op:
        batch_op.drop_column("totp_last_step")
