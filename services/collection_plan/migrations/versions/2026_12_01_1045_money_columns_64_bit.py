"""money columns 64-bit

Revision ID: 5d2f8e1a7c30
Revises: a3a0ce68ce45
Create Date: 2026-12-01 10:45:00.000000

PostgreSQL's INTEGER stops at 2**31 - 1 minor units; the API takes up to 10**15. SQLite's
INTEGER is 64-bit already, so only PostgreSQL changes.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '5d2f8e1a7c30'
down_revision: str | None = 'a3a0ce68ce45'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = {  # table: (column, nullable)
    "customer_view": (("recommended_limit_amount", True),),
    "invoice_view": (("amount", False), ("open_amount", False)),
    "invoice_reduction": (("amount", False),),
    "payment_view": (("amount", False),),
    "case_invoice": (("open_amount", False),),
    "promise": (("amount", False), ("paid", False)),
    "agreement": (("total", False), ("missed_amount", True)),
    "charge": (("amount", False),),
    "write_off": (("amount", False),),
}


def _retype(type_: sa.types.TypeEngine) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, columns in COLUMNS.items():
        for column, nullable in columns:
            op.alter_column(table, column, type_=type_, existing_nullable=nullable)


def upgrade() -> None:
    _retype(sa.BigInteger())


def downgrade() -> None:
    _retype(sa.Integer())
