"""data protection: when a case closed (its retention runs from then); Telegram chat ids in providers' ids kept only hashed

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
    # Telegram's ids for our sends ("chat:message") held the chat id in clear; they are now kept with
    # the chat id as a keyed hash. Older ones are dropped rather than hashed here, without the key:
    # a tap on a keyboard sent before the upgrade is then judged by the conversation instead.
    op.execute("UPDATE messages SET provider_id = NULL WHERE channel = 'telegram' AND provider_id IS NOT NULL")


def downgrade() -> None:
    op.drop_column("cases", "closed_on")
