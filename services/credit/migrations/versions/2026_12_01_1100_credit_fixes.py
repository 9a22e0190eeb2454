"""credit fixes: the holds a collection case asked for, kept on the customer; the
invoices of an order delivered in parts

Revision ID: 7c1f0e5a2b94
Revises: 05da49439645
Create Date: 2026-12-01 11:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '7c1f0e5a2b94'
down_revision: str | None = '05da49439645'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('collection_holds', sa.JSON(), nullable=False, server_default='{}'))
    # What open cases asked for before this revision: their collection holds still active.
    conn = op.get_bind()
    asked: dict[str, dict[str, dict[str, object]]] = {}
    for customer_id, kind, reason, stage in conn.execute(sa.text(
            "SELECT customer_id, kind, reason, stage FROM hold "
            "WHERE cause = 'collection' AND released_at IS NULL ORDER BY placed_at, id")):
        asked.setdefault(customer_id, {})[kind] = {"reason": reason, "stage": stage}
    customer = sa.table('customer', sa.column('id', sa.String()), sa.column('collection_holds', sa.JSON()))
    for customer_id, kinds in asked.items():
        conn.execute(customer.update().where(customer.c.id == customer_id).values(collection_holds=kinds))

    with op.batch_alter_table('reservation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('invoices', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('invoiced', sa.BigInteger(), nullable=False, server_default='0'))
    # An open reservation whose invoice was heard before this revision: that invoice
    # ends it whole, as it did.
    reservation = sa.table('reservation', sa.column('order_id', sa.String()),
                           sa.column('amount', sa.BigInteger()), sa.column('invoice_id', sa.String()),
                           sa.column('consumed_at_version', sa.Integer()), sa.column('status', sa.String()),
                           sa.column('invoices', sa.JSON()))
    for order_id, amount, invoice_id, version in conn.execute(sa.select(
            reservation.c.order_id, reservation.c.amount, reservation.c.invoice_id,
            reservation.c.consumed_at_version).where(
            reservation.c.invoice_id.is_not(None), reservation.c.status.in_(('reserved', 'shipped')))):
        conn.execute(reservation.update().where(reservation.c.order_id == order_id).values(
            invoices=[{"invoice_id": invoice_id, "amount": amount, "version": version or 0}]))


def downgrade() -> None:
    with op.batch_alter_table('reservation', schema=None) as batch_op:
        batch_op.drop_column('invoiced')
        batch_op.drop_column('invoices')
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.drop_column('collection_holds')
