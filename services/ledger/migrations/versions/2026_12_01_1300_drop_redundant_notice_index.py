"""drop the overdue notices' index on invoice_id alone

Revision ID: 9e3c1a7b5d20
Revises: 4d8b2f6a9c31
Create Date: 2026-12-01 13:00:00.000000

The unique index on (invoice_id, threshold_days) serves every lookup by invoice (its first
column); the second index only cost the sweep an index insert per notice (about five
million at 1,000,000 invoices).
"""

from collections.abc import Sequence

from alembic import op

revision: str = '9e3c1a7b5d20'
down_revision: str | None = '4d8b2f6a9c31'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('overdue_notice', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_overdue_notice_invoice_id'))


def downgrade() -> None:
    with op.batch_alter_table('overdue_notice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_overdue_notice_invoice_id'), ['invoice_id'], unique=False)
