from datetime import UTC, datetime, timedelta

from recoup.scheduler import seconds_until


def test_next_run_is_today_if_still_ahead_else_tomorrow() -> None:
    morning = datetime(2026, 3, 1, 0, 10, tzinfo=UTC)
    assert seconds_until("00:30", morning) == 20 * 60
    assert seconds_until("00:30", datetime(2026, 3, 1, 0, 30, tzinfo=UTC)) == 24 * 3600
    assert seconds_until("00:30", datetime(2026, 3, 1, 23, 45, tzinfo=UTC)) == 45 * 60


def test_a_job_after_the_night_starts_runs_that_much_later_once_a_day() -> None:
    hour = timedelta(hours=1)
    # The night starts at 23:30; a job an hour after it runs at 00:30 the next day.
    assert seconds_until("23:30", datetime(2026, 3, 1, 23, 0, tzinfo=UTC), hour) == 90 * 60
    # Past the night's start but before the job: the job is still ahead today.
    assert seconds_until("00:30", datetime(2026, 3, 1, 1, 0, tzinfo=UTC), hour) == 30 * 60
    assert seconds_until("00:30", datetime(2026, 3, 1, 0, 10, tzinfo=UTC), hour) == 80 * 60
    assert seconds_until("00:30", datetime(2026, 3, 1, 1, 30, tzinfo=UTC), hour) == 24 * 3600
