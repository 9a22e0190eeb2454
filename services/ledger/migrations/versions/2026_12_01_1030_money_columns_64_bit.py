"""money columns 64-bit

Revision ID: 7a1e0c9d2b64
Revises: 1c4250008d3f
Create Date: 2026-12-01 10:30:00.000000

PostgreSQL's INTEGER stops at 2**31 - 1 minor units; the API takes up to 10**15. SQLite's
INTEGER is 64-bit already, so only PostgreSQL changes (and no SQLite table is copied, which
would drop the journal's triggers).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '7a1e0c9d2b64'
down_revision: str | None = '1c4250008d3f'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = {
    "invoice": ("amount", "open_amount"),
    "credit_document": ("amount", "unapplied"),
    "allocation": ("amount",),
    "journal_line": ("amount",),
}


def _retype(type_: sa.types.TypeEngine) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, columns in COLUMNS.items():
        for column in columns:
            op.alter_column(table, column, type_=type_, existing_nullable=False)


def upgrade() -> None:
    _retype(sa.BigInteger())


def downgrade() -> None:
    _retype(sa.Integer())
