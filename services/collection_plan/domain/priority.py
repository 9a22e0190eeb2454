"""Who to chase first, and when to call (DOMAIN.md: collection plan, contact timing)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

CLASS_POINTS = {"dunning": 0, "doubtful": 50, "bad_debt": 80, "dormant": 30}
MAX_DAY_POINTS = 365
MAX_AMOUNT_POINTS = 200
AMOUNT_STEP = 100_000  # one point per 1,000.00 (in minor units) overdue


@dataclass(frozen=True)
class Priority:
    score: int
    reasons: tuple[str, ...]


def priority(overdue_amount: int, days_past_due: int, receivable_class: str) -> Priority:
    """Time in default weighs most: the longer overdue, the less is ever recovered."""
    day_points = min(days_past_due, MAX_DAY_POINTS)
    amount_points = min(overdue_amount // AMOUNT_STEP, MAX_AMOUNT_POINTS)
    class_points = CLASS_POINTS.get(receivable_class, 0)
    reasons = [f"{days_past_due} days past due (+{day_points})",
               f"{overdue_amount} overdue (+{amount_points})"]
    if class_points:
        reasons.append(f"classed {receivable_class.replace('_', ' ')} (+{class_points})")
    return Priority(day_points + amount_points + class_points, tuple(reasons))


@dataclass(frozen=True)
class ContactWindow:
    on: date
    start: str
    end: str
    why: str


def suggested_contact(as_of: date) -> ContactWindow:
    """Mid-afternoon, never at lunch, not on the first day of the week or of the month,
    not on Sunday."""
    day = as_of
    while day.weekday() in (0, 6) or day.day == 1:  # Monday, Sunday, 1st of the month
        day += timedelta(days=1)
    return ContactWindow(day, "15:30", "16:30",
                         "mid-afternoon; avoids lunch (11:45-14:00), Mondays and the 1st")
