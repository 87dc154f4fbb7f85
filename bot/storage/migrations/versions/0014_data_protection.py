"""data protection: when a case closed (its retention runs from then); providers' ids kept only hashed

Revision ID: 0014
Revises: 0013
"""

from alembic import op
import sqlalchemy as sa


revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("cases", sa.Column("closed_on", sa.Date(), nullable=True))
    # Ids the providers gave our sends were kept in clear (a Telegram one names the chat). They are
    # now kept as keyed hashes; older ones are dropped rather than hashed here, without the key: a
    # delivery receipt for a message sent just before the upgrade is then ignored, and a tap on an
    # old Telegram keyboard is judged by the conversation instead.
    op.execute("UPDATE messages SET provider_id = NULL WHERE provider_id IS NOT NULL")


def downgrade() -> None:
    op.drop_column("cases", "closed_on")
