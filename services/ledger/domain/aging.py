"""Aging as date boundaries, so that a database can bucket without date arithmetic of
its own, and the overdue thresholds the sweep announces."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

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


def overdue_announcements(*, customer_id: str, invoice_id: str, currency: str, open_amount: int,
                          due_date: date, as_of: date, lowest: int, highest: int,
                          balance_version: int) -> list[tuple[str, dict[str, Any]]]:
    """The events (type, data) announcing an invoice that crossed thresholds from `lowest`
    to `highest`, with the version of the position announced before them; the data in the
    contracts' field order, so that their JSON equals the models' to the byte."""
    missed, aged = overdue_news(lowest, highest)
    data = {"customer_id": customer_id, "invoice_id": invoice_id, "currency": currency,
            "open_amount": open_amount, "due_date": due_date, "as_of": as_of,
            "days_past_due": days_past_due(due_date, as_of), "balance_version": balance_version}
    return ([("ledger.payment.missed", data)] if missed else []) + (
        [("ledger.invoice.aged", data | {"threshold_days": aged})] if aged is not None else [])
