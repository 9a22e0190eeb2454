"""Late interest after a written notice (DOMAIN.md), charged per invoice and calendar month.

Interest accrues on each day after both the notice and the due date, on what is still
open at the end of that day (so a partial payment lowers it from that day on), except on
days the invoice is shielded by a dispute or a kept repayment agreement. The rate is in
basis points per year (actual/365) or per month (the month's actual days). The exact sum
of a period is rounded down to the minor unit once: never more than the customer owes.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction


@dataclass(frozen=True)
class InterestPolicy:
    rate_basis_points: int = 0  # e.g. 1_200 = 12.00 %; 0: none
    per: str = "year"  # year | month


@dataclass(frozen=True)
class Period:
    label: str  # YYYY-MM
    start: date
    end: date


def month_of(day: date) -> Period:
    last = calendar.monthrange(day.year, day.month)[1]
    return Period(f"{day.year:04d}-{day.month:02d}", day.replace(day=1), day.replace(day=last))


def ended_periods(first_day: date, as_of: date) -> Iterator[Period]:
    """The calendar months from the one holding `first_day` that ended before `as_of`."""
    period = month_of(first_day)
    while period.end < as_of:
        yield period
        period = month_of(period.end + timedelta(days=1))


def accrual_days(period: Period, after: date,
                 pauses: Sequence[tuple[date, date | None]]) -> list[date]:
    """Days of the period after `after`, outside every pause [start, end)."""
    days = []
    day = max(period.start, after + timedelta(days=1))
    while day <= period.end:
        if not any(start <= day and (end is None or day < end) for start, end in pauses):
            days.append(day)
        day += timedelta(days=1)
    return days


def interest(amount: int, reductions: Iterable[tuple[date, int]], days: Sequence[date],
             policy: InterestPolicy) -> int:
    """Interest on the open amount over `days`: `amount` less every reduction made by the
    end of each day."""
    if not days or policy.rate_basis_points <= 0:
        return 0
    moves = sorted(reductions)
    total = Fraction(0)
    for day in days:
        open_amount = amount - sum(a for on, a in moves if on <= day)
        if open_amount <= 0:
            continue
        per_day = (365 if policy.per == "year"
                   else calendar.monthrange(day.year, day.month)[1])
        total += Fraction(open_amount * policy.rate_basis_points, 10_000 * per_day)
    return int(total)  # rounded down (a Fraction >= 0 truncates towards zero)
