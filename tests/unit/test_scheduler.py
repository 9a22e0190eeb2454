from datetime import UTC, datetime

from recoup.scheduler import seconds_until


def test_next_run_is_today_if_still_ahead_else_tomorrow() -> None:
    morning = datetime(2026, 3, 1, 0, 10, tzinfo=UTC)
    assert seconds_until("00:30", morning) == 20 * 60
    assert seconds_until("00:30", datetime(2026, 3, 1, 0, 30, tzinfo=UTC)) == 24 * 3600
    assert seconds_until("00:30", datetime(2026, 3, 1, 23, 45, tzinfo=UTC)) == 45 * 60
