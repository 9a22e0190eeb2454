"""settlements of one invoice by one document in steps (credit applied in parts)

Revision ID: 6618e63b1cb6
Revises: 4712a47118cd
Create Date: 2026-12-01 09:33:10.322215
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate writes sqlmodel column types)
from alembic import op


revision: str = '6618e63b1cb6'
down_revision: str | None = '4712a47118cd'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # One document may settle one invoice in several steps: `seq` joins the key.
    with op.batch_alter_table('item_settlement', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seq', sa.Integer(), server_default='0', nullable=False))
        batch_op.drop_constraint('pk_item_settlement', type_='primary')
        batch_op.create_primary_key('pk_item_settlement', ['doc_kind', 'doc_id', 'invoice_id', 'seq'])


def downgrade() -> None:
    # The older key holds one settlement per document and invoice: later steps are dropped.
    op.execute("DELETE FROM item_settlement WHERE seq > 0")
    with op.batch_alter_table('item_settlement', schema=None) as batch_op:
        batch_op.drop_constraint('pk_item_settlement', type_='primary')
        batch_op.create_primary_key('pk_item_settlement', ['doc_kind', 'doc_id', 'invoice_id'])
        batch_op.drop_column('seq')
