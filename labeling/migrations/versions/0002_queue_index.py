"""sentences.flagged and the queue's index: hand-outs read in index order

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sentences", schema=None) as batch_op:
        batch_op.add_column(sa.Column("flagged", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.execute("UPDATE sentences SET flagged = (flags <> '')")
    with op.batch_alter_table("sentences", schema=None) as batch_op:
        batch_op.create_index("ix_sentences_queue", ["project_id", "flagged", "margin", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sentences", schema=None) as batch_op:
        batch_op.drop_index("ix_sentences_queue")
        batch_op.drop_column("flagged")
