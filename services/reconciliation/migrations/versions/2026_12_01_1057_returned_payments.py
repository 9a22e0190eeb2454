"""returned payments: returns read from bank files, linked to the credit they undo

Revision ID: 8f7a5aef2056
Revises: 6618e63b1cb6
Create Date: 2026-12-01 10:57:35.774890
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate writes sqlmodel column types)
from alembic import op


revision: str = '8f7a5aef2056'
down_revision: str | None = '6618e63b1cb6'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Lines imported before were read as plain credits and debits: they stay so. Reversals
    # heard before have no payment here: matching finds them by their own number only.
    with op.batch_alter_table('account_item', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reference_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
    with op.batch_alter_table('bank_line', schema=None) as batch_op:
        batch_op.add_column(sa.Column('end_to_end_id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True))
        batch_op.add_column(sa.Column('is_return', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('return_reason', sqlmodel.sql.sqltypes.AutoString(length=256), nullable=True))
        batch_op.add_column(sa.Column('returns_line_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.add_column(sa.Column('returns_payment_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.add_column(sa.Column('return_announced_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('returned_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.create_index('ix_bank_line_credits', ['currency', 'booking_date'], unique=False)
        batch_op.create_index('ux_bank_line_returns_payment', ['returns_payment_id'], unique=True)


def downgrade() -> None:
    # The older code knows returns as debits only, and a credit taken back before it was
    # booked as waiting for a person again.
    op.execute("UPDATE bank_line SET status = 'debit' WHERE direction = 'debit' AND is_return")
    op.execute("UPDATE bank_line SET status = 'unmatched' WHERE status = 'returned'")
    with op.batch_alter_table('bank_line', schema=None) as batch_op:
        batch_op.drop_index('ux_bank_line_returns_payment')
        batch_op.drop_index('ix_bank_line_credits')
        batch_op.drop_column('returned_by')
        batch_op.drop_column('return_announced_at')
        batch_op.drop_column('returns_payment_id')
        batch_op.drop_column('returns_line_id')
        batch_op.drop_column('return_reason')
        batch_op.drop_column('is_return')
        batch_op.drop_column('end_to_end_id')
    with op.batch_alter_table('account_item', schema=None) as batch_op:
        batch_op.drop_column('reference_id')
