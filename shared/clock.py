"""Today's date for rules that default `as_of`; tests pass explicit dates instead."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta


def today() -> date:
    return datetime.now(UTC).date()


def now() -> datetime:
    return datetime.now(UTC)


def is_future(day: date) -> bool:
    """A business date that has not come yet anywhere: a day's grace for callers east of UTC.
    Daily jobs refuse such dates (they would break promises and book defaults early)."""
    return day > today() + timedelta(days=1)
