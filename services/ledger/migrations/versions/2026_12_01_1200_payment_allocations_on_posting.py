"""payments remember what they allocated when posted

Revision ID: 4d8b2f6a9c31
Revises: 7a1e0c9d2b64
Create Date: 2026-12-01 12:00:00.000000

A payment sent again is compared with the allocations it made when it was posted, not with
those its unapplied rest made later. Existing payments take the figure from their journal
entry, whose receivable line was what the posting allocated. A plain ADD COLUMN on SQLite
(no table copy).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '4d8b2f6a9c31'
down_revision: str | None = '7a1e0c9d2b64'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('credit_document', sa.Column(
        'allocated_on_posting', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
        nullable=True))
    op.execute(sa.text(
        "UPDATE credit_document SET allocated_on_posting = COALESCE(("
        " SELECT -SUM(l.amount) FROM journal_line l"
        " WHERE l.entry_id = 'payment:' || credit_document.id AND l.account = 'receivable'"
        "), 0) WHERE kind = 'payment'"))


def downgrade() -> None:
    op.drop_column('credit_document', 'allocated_on_posting')
