"""An invoice's history as collection-plan hears it from the ledger, and what was open on
any date: the ground for KPIs and the provision matrix."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

WRITE_OFF = "write_off"
CASH = ("payment", "credit")  # money received, or a payment's credit applied later


@dataclass(frozen=True)
class Reduction:
    on: date
    amount: int
    kind: str  # payment, credit, credit_note, discount, write_off


@dataclass
class InvoiceHistory:
    invoice_id: str
    customer_id: str
    currency: str
    amount: int
    issue_date: date
    due_date: date
    salesperson: str | None = None
    kind: str = "invoice"
    reductions: list[Reduction] = field(default_factory=list)

    def open_on(self, day: date) -> int:
        """Open at the end of `day` (0 before it was issued)."""
        if self.issue_date > day:
            return 0
        return max(self.amount - sum(r.amount for r in self.reductions if r.on <= day), 0)

    def reduced_between(self, after: date, through: date, kinds: tuple[str, ...]) -> int:
        return sum(r.amount for r in self.reductions if after < r.on <= through and r.kind in kinds)
