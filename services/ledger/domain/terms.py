"""Due dates from the customer's settlement terms (CONTRACT.md `terms.mode`)."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

# "Deliver two, settle one" has no calendar term of its own: the previous shipment is
# due when the next one is wanted. Without `days` we allow this many days.
DELIVER_TWO_SETTLE_ONE_DEFAULT_DAYS = 30


class TermsError(ValueError):
    pass


@dataclass(frozen=True)
class Terms:
    mode: str
    days: int | None = None
    day_of_month: int | None = None
    due_date: date | None = None
    discount_percent: int | None = None
    discount_within_days: int | None = None

    def early_payment_discount(self, invoice_amount: int, issue_date: date, paid_on: date) -> int:
        """The settlement-day reward: a percent of the invoice, rounded down, for money
        received within the agreed days of the issue date."""
        if not self.discount_percent or self.discount_within_days is None:
            return 0
        if paid_on > issue_date + timedelta(days=self.discount_within_days):
            return 0
        return invoice_amount * self.discount_percent // 100


def due_date_for(terms: Terms, issue_date: date) -> date:
    match terms.mode:
        case "cash":
            return issue_date
        case "net_days":
            return issue_date + timedelta(days=terms.days or 0)
        case "monthly":
            return next_settlement_day(issue_date, terms.day_of_month or 1)
        case "deliver_two_settle_one":
            days = DELIVER_TWO_SETTLE_ONE_DEFAULT_DAYS if terms.days is None else terms.days
            return issue_date + timedelta(days=days)
        case "one_off":
            if terms.due_date is None or terms.due_date < issue_date:
                raise TermsError(
                    "one-off terms need an explicit due date on or after the issue date"
                )
            return terms.due_date
    raise TermsError(f"unknown settlement mode {terms.mode!r}")


def next_settlement_day(after: date, day_of_month: int) -> date:
    """The first settlement day strictly after `after`; day 31 means month end."""
    year, month = after.year, after.month
    for _ in range(2):
        last = calendar.monthrange(year, month)[1]
        candidate = date(year, month, min(day_of_month, last))
        if candidate > after:
            return candidate
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    raise AssertionError("unreachable: the next month always has a settlement day")
