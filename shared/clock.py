"""Today's date for rules that default `as_of`; tests pass explicit dates instead."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta


def today() -> date:
    return datetime.now(UTC).date()


def now() -> datetime:
    return datetime.now(UTC)


def latest_business_day(on: date) -> date:
    """The latest business date that has come somewhere on UTC day `on`: a day's grace for
    callers east of UTC. Pure, for domain code that is handed its date."""
    return on + timedelta(days=1)


def is_future(day: date) -> bool:
    """A business date that has not come yet anywhere. Daily jobs refuse such dates (they
    would break promises and book defaults early), as the books refuse money dated so."""
    return day > latest_business_day(today())
