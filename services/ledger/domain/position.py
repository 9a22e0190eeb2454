"""A customer's position, as `ledger.balance.changed` announces it: per currency, the
balance (open items less unapplied credit), the overdue amount and the oldest due date
among the invoices the sweep has declared missed (the cause of holds and cases)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any


@dataclass
class CurrencyTotals:
    """Open invoices of one currency, added up."""

    open_amount: int = 0
    overdue: int = 0
    oldest_overdue_due_date: date | None = None

    def add(self, open_amount: int, declared_due_date: date | None) -> None:
        """One open invoice; `declared_due_date` is its due date if the sweep declared it
        missed, else None."""
        self.open_amount += open_amount
        if declared_due_date is not None:
            self.overdue += open_amount
            if self.oldest_overdue_due_date is None or declared_due_date < self.oldest_overdue_due_date:
                self.oldest_overdue_due_date = declared_due_date


def position(invoices: Mapping[str, CurrencyTotals], unapplied: Mapping[str, int]
             ) -> list[dict[str, Any]]:
    """The balances, one per currency with open items or unapplied credit, by currency."""
    currencies = {c for c, t in invoices.items() if t.open_amount} | {
        c for c, amount in unapplied.items() if amount}
    balances = []
    for currency in sorted(currencies):
        totals = invoices.get(currency) or CurrencyTotals()
        balances.append({
            "currency": currency,
            "balance": totals.open_amount - unapplied.get(currency, 0),
            "overdue": totals.overdue,
            "oldest_overdue_due_date": totals.oldest_overdue_due_date,
        })
    return balances
