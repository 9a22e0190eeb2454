"""bounced payments

A payment the ledger reverses (it bounced) no longer keeps a promise or pays an
instalment: payment_view says when it was reversed, and invoice_reduction names the payment
whose money each reduction is (until now only its document id did, and not for credit
applied later).

Revision ID: 8b41c7d2e9f5
Revises: 5d2f8e1a7c30
Create Date: 2026-12-01 13:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate writes sqlmodel column types)
from alembic import op

revision: str = '8b41c7d2e9f5'
down_revision: str | None = '5d2f8e1a7c30'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('payment_view', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reversed_on', sa.Date(), nullable=True))
    with op.batch_alter_table('invoice_reduction', schema=None) as batch_op:
        batch_op.add_column(sa.Column('payment_id', sqlmodel.sql.sqltypes.AutoString(length=64),
                                      nullable=True))
        batch_op.create_index(batch_op.f('ix_invoice_reduction_payment_id'), ['payment_id'],
                              unique=False)
    # A payment's allocations and the discounts it earned carry its id; credit applied
    # earlier was keyed by its event, so its payment stays unknown.
    op.execute("UPDATE invoice_reduction SET payment_id = document_id "
               "WHERE kind IN ('payment', 'discount')")


def downgrade() -> None:
    with op.batch_alter_table('invoice_reduction', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invoice_reduction_payment_id'))
        batch_op.drop_column('payment_id')
    with op.batch_alter_table('payment_view', schema=None) as batch_op:
        batch_op.drop_column('reversed_on')
