"""payment reversals

Revision ID: ce383e1b5e3b
Revises: a0f6ad8bc7ec
Create Date: 2026-11-22 07:58:28.801844
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate writes sqlmodel column types)
from alembic import op


revision: str = 'ce383e1b5e3b'
down_revision: str | None = 'a0f6ad8bc7ec'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A reversal keeps the due date of the debt it brings back, before its issue date.
    with op.batch_alter_table("invoice", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_invoice_due_not_before_issue"), type_="check")
        batch_op.create_check_constraint(
            "due_not_before_issue", "due_date >= issue_date OR kind = 'reversal'")


def downgrade() -> None:
    with op.batch_alter_table("invoice", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_invoice_due_not_before_issue"), type_="check")
        batch_op.create_check_constraint("due_not_before_issue", "due_date >= issue_date")
