"""contribution_pieces: accounts, portraits, names and files, versioned, each with its own consents;
contacts.contribution_draft; attachments.byte_size and filename

Revision ID: 0012
Revises: 0011
"""

from alembic import op
import sqlalchemy as sa


revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("contacts") as batch_op:
        batch_op.add_column(sa.Column("contribution_draft", sa.Text(), nullable=True))
    with op.batch_alter_table("attachments") as batch_op:
        batch_op.add_column(sa.Column("byte_size", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("filename", sa.Text(), nullable=True))
    op.create_table(
        "contribution_pieces",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("contact_id", sa.Integer(), sa.ForeignKey("contacts.id"), nullable=False),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("cases.id"), nullable=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("piece", sa.String(40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("attachment_id", sa.Integer(), sa.ForeignKey("attachments.id"), nullable=True),
        sa.Column("consent_chair", sa.Boolean(), nullable=False),
        sa.Column("consent_quote", sa.Boolean(), nullable=False),
        sa.Column("consent_panel", sa.Boolean(), nullable=False),
        sa.Column("withdrawn", sa.Boolean(), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("contact_id", "piece", "version"),
    )
    op.create_index("ix_contribution_pieces_contact_id", "contribution_pieces", ["contact_id"])
    op.create_index("ix_contribution_pieces_case_id", "contribution_pieces", ["case_id"])


def downgrade() -> None:
    op.drop_index("ix_contribution_pieces_case_id", "contribution_pieces")
    op.drop_index("ix_contribution_pieces_contact_id", "contribution_pieces")
    op.drop_table("contribution_pieces")
    with op.batch_alter_table("attachments") as batch_op:
        batch_op.drop_column("filename")
        batch_op.drop_column("byte_size")
    with op.batch_alter_table("contacts") as batch_op:
        batch_op.drop_column("contribution_draft")
