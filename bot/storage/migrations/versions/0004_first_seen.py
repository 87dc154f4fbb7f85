"""addresses: first_seen_at instead of last_seen_at (the last address used is read from messages)

Updating last_seen_at cost a write on every message; the messages table already records which
address each message came from.

Revision ID: 0004
Revises: 0003
"""

from alembic import op


revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("addresses") as batch_op:
        batch_op.alter_column("last_seen_at", new_column_name="first_seen_at")


def downgrade() -> None:
    with op.batch_alter_table("addresses") as batch_op:
        batch_op.alter_column("first_seen_at", new_column_name="last_seen_at")
