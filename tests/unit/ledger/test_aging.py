from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from services.ledger.domain.aging import bucket_earliest_due_dates, thresholds_crossed
from shared.aging import LABELS, bucket_for

AS_OF = date(2026, 6, 30)


def test_bucket_edges() -> None:
    assert [bucket_for(d) for d in (-5, 0, 1, 30, 31, 60, 61, 90, 91, 180, 181, 365, 366)] == [
        "current", "current", "1-30", "1-30", "31-60", "31-60", "61-90", "61-90",
        "91-180", "91-180", "181-365", "181-365", "365+"]


@given(st.integers(-100, 2000))
def test_date_boundaries_bucket_like_days_past_due(days: int) -> None:
    """The database buckets by due-date boundaries; it must agree with the day count."""
    due = AS_OF - timedelta(days=days)
    by_dates = next((label for label, earliest in bucket_earliest_due_dates(AS_OF) if due >= earliest),
                    LABELS[-1])
    assert by_dates == bucket_for(days)


def test_thresholds() -> None:
    assert thresholds_crossed(0) == []
    assert thresholds_crossed(1) == [1]
    assert thresholds_crossed(64) == [1, 15, 30, 60]
