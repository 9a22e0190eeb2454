from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from services.ledger.domain.aging import (
    THRESHOLDS,
    bucket_earliest_due_dates,
    days_past_due,
    overdue_news,
    threshold_cutoffs,
    thresholds_crossed,
)
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


@given(st.integers(-100, 400))
def test_threshold_cutoffs_cross_like_days_past_due(days: int) -> None:
    """The sweep finds invoices past each threshold by due date; it must agree with days,
    and with what a reversal declares at once (thresholds_crossed)."""
    due = AS_OF - timedelta(days=days)
    crossed = [t for t, cutoff in threshold_cutoffs(AS_OF) if due <= cutoff]
    assert crossed == [t for t in THRESHOLDS if days_past_due(due, AS_OF) >= t]
    assert crossed == thresholds_crossed(due, AS_OF)


def test_overdue_news_is_the_missed_payment_once_and_the_highest_new_threshold() -> None:
    assert overdue_news(1, 1) == (True, None)
    assert overdue_news(1, 60) == (True, 60)  # a first sweep 64 days late: one aged event
    assert overdue_news(90, 90) == (False, 90)
