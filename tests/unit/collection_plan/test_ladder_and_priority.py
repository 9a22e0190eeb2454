from datetime import date

from services.collection_plan.domain.ladder import step_for
from services.collection_plan.domain.priority import priority, suggested_contact


def test_ladder_steps() -> None:
    assert step_for(0) is None
    assert [step_for(d).level for d in (1, 14, 15, 30, 60, 90, 180)] == [1, 1, 2, 3, 4, 5, 6]
    assert step_for(95).receivable_class == "doubtful"
    assert step_for(200).receivable_class == "bad_debt"


def test_time_in_default_outweighs_amount() -> None:
    old_small = priority(overdue_amount=50_000, days_past_due=120, receivable_class="doubtful")
    new_large = priority(overdue_amount=5_000_000, days_past_due=5, receivable_class="dunning")
    assert old_small.score > new_large.score
    assert any("120 days past due" in r for r in old_small.reasons)


def test_contact_avoids_mondays_sundays_and_the_first_of_the_month() -> None:
    assert suggested_contact(date(2026, 6, 1)).on == date(2026, 6, 2)  # Monday the 1st
    assert suggested_contact(date(2026, 6, 7)).on == date(2026, 6, 9)  # Sunday, then Monday
    assert suggested_contact(date(2026, 6, 10)).on == date(2026, 6, 10)
    window = suggested_contact(date(2026, 6, 10))
    assert (window.start, window.end) == ("15:30", "16:30")
