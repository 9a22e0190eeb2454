"""Promises to pay (DOMAIN.md): amount and date; a broken promise escalates at once, and a
partial payment short of the promise is challenged immediately."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from shared.errors import Invalid


@dataclass(frozen=True)
class PromisePolicy:
    max_days_ahead: int = 30  # a promise further out is a repayment agreement, not a promise
    grace_days: int = 0  # days after the promised date before the promise counts as broken


def check_new_promise(*, amount: int, currency: str, promised_on: date, as_of: date,
                      overdue: dict[str, int], policy: PromisePolicy) -> None:
    owed = overdue.get(currency, 0)
    if owed <= 0:
        raise Invalid(f"the case has nothing overdue in {currency}", field="currency")
    if amount > owed:
        raise Invalid(f"more than the {owed} {currency} overdue", field="amount")
    if promised_on < as_of:
        raise Invalid(f"a promise is for a date from {as_of.isoformat()} on", field="promised_on")
    if promised_on > as_of + timedelta(days=policy.max_days_ahead):
        raise Invalid(f"at most {policy.max_days_ahead} days ahead; a longer plan is a repayment "
                      "agreement", field="promised_on")


def paid_towards(payments: Iterable[tuple[date, int]], made_on: date, promised_on: date) -> int:
    """What came in from the day the promise was made to the promised date."""
    return sum(amount for on, amount in payments if made_on <= on <= promised_on)


def is_broken(*, amount: int, paid: int, promised_on: date, as_of: date,
              policy: PromisePolicy) -> bool:
    return paid < amount and as_of > promised_on + timedelta(days=policy.grace_days)
