"""Aging as date boundaries, so that a database can bucket without date arithmetic of
its own, and the overdue thresholds the sweep announces."""

from __future__ import annotations

from datetime import date, timedelta

from shared.aging import BUCKETS, Bucket

# Days past due at which the sweep tells the others: 1 is the missed payment itself.
THRESHOLDS = (1, 15, 30, 60, 90, 180)


def days_past_due(due_date: date, as_of: date) -> int:
    return (as_of - due_date).days


def bucket_earliest_due_dates(
    as_of: date, buckets: tuple[Bucket, ...] = BUCKETS
) -> list[tuple[str, date]]:
    """For each bounded bucket, youngest first, the earliest due date that still falls
    in it: an invoice belongs to the first bucket whose date its due date is on or after;
    past the last one it is in the open-ended oldest bucket."""
    return [(label, as_of - timedelta(days=high)) for label, _, high in buckets if high is not None]


def threshold_cutoffs(as_of: date) -> list[tuple[int, date]]:
    """For each threshold, the latest due date that has crossed it by `as_of`: a database
    finds the invoices past each threshold without date arithmetic of its own."""
    return [(t, as_of - timedelta(days=t)) for t in THRESHOLDS]


def thresholds_crossed(due_date: date, as_of: date) -> list[int]:
    """The thresholds an item due on `due_date` has crossed by `as_of`, lowest first: the
    notices the sweep of that date records for it if it has none."""
    days = days_past_due(due_date, as_of)
    return [t for t in THRESHOLDS if days >= t]


def overdue_news(lowest: int, highest: int) -> tuple[bool, int | None]:
    """What to announce for an invoice that crossed thresholds from `lowest` to `highest`
    since the last sweep: the missed payment (once, at 1 day), and the highest age
    threshold newly crossed (one event, however many it crossed at once)."""
    return lowest == 1, highest if highest > 1 else None
