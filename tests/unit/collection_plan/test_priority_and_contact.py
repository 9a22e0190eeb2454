from datetime import date

from services.collection_plan.domain.contact import ContactPreferences, suggested_contact
from services.collection_plan.domain.priority import PriorityInputs, PriorityPolicy, priority


def score(**kwargs: object) -> int:
    inputs = {"overdue": {}, "days_past_due": 10, "receivable_class": "dunning", "rating_class": "C",
              **kwargs}
    return priority(PriorityInputs(**inputs)).score  # type: ignore[arg-type]


def test_time_in_default_outweighs_amount() -> None:
    old_small = priority(PriorityInputs({"CNY": 50_000}, 120, "doubtful"))
    new_large = priority(PriorityInputs({"CNY": 5_000_000}, 5, "dunning"))
    assert old_small.score > new_large.score
    assert "120 days past due (+120)" in old_small.reasons


def test_currencies_are_scored_apart_never_added() -> None:
    policy = PriorityPolicy(amount_steps={"JPY": 1_000})
    p = priority(PriorityInputs({"CNY": 1_000_000, "JPY": 50_000}, 0, "dunning", "A"), policy)
    assert p.reasons[1:3] == ("1000000 CNY overdue (minor units) (+10)",
                              "50000 JPY overdue (minor units) (+50)")
    assert p.score == 60
    capped = priority(PriorityInputs({"CNY": 10**9, "USD": 10**9}, 0, "dunning", "A"))
    assert capped.score == 200  # the amount's share is capped across currencies


def test_worse_rating_weaker_finances_and_nearer_customers_come_first() -> None:
    assert score(rating_class="E") > score(rating_class="C") > score(rating_class="A")
    assert score(rating_class=None) == score(rating_class="C")  # unknown counts as average
    assert score(financial_strength="weak") > score() > score(financial_strength="strong")
    assert score(overdue={"CNY": 200_000}, recommended_limit=(100_000, "CNY")) == score(
        overdue={"CNY": 200_000}, financial_strength="weak")
    assert score(distance_km=5) > score(distance_km=250)
    assert score(distance_km=300) == score(distance_km=900)  # the distance's share is capped
    assert score(broken_commitments=2) == score() + 30
    assert score(receivable_class="bad_debt") > score(receivable_class="doubtful") > score()


def test_contact_avoids_mondays_sundays_and_the_first_of_the_month() -> None:
    assert suggested_contact(date(2026, 6, 1)).on == date(2026, 6, 2)  # Monday the 1st
    assert suggested_contact(date(2026, 6, 7)).on == date(2026, 6, 9)  # Sunday, then Monday
    window = suggested_contact(date(2026, 6, 10))
    assert (window.on, window.start, window.end) == (date(2026, 6, 10), "15:30", "16:30")
    assert "never at lunch (11:45-14:00)" in window.why


def test_a_window_at_lunch_moves_after_it() -> None:
    window = suggested_contact(date(2026, 6, 10), ContactPreferences(preferred_time="11:30"))
    assert (window.start, window.end) == ("14:00", "15:00")
    assert suggested_contact(date(2026, 6, 10), ContactPreferences(preferred_time="10:00")).start == "10:00"


def test_a_task_that_can_wait_goes_to_the_month_end() -> None:
    as_of = date(2026, 6, 27)  # a Saturday; the last good day of June is Tuesday the 30th
    assert suggested_contact(as_of, can_wait_days=7).on == date(2026, 6, 30)
    assert "month-end" in suggested_contact(as_of, can_wait_days=7).why
    assert suggested_contact(as_of).on == as_of  # urgent work does not wait
    # Three days at most by default: from Friday the 26th the month-end is four away.
    assert suggested_contact(date(2026, 6, 26), can_wait_days=7).on == date(2026, 6, 26)
    assert suggested_contact(date(2026, 6, 10), can_wait_days=7).on == date(2026, 6, 10)


def test_preferences_are_per_customer() -> None:
    prefs = ContactPreferences(avoid_weekdays=(2, 3), avoid_first_of_month=False)
    assert suggested_contact(date(2026, 6, 10), prefs).on == date(2026, 6, 12)  # not Wed, Thu
    assert suggested_contact(date(2026, 7, 1), prefs).on == date(2026, 7, 3)
    assert suggested_contact(date(2026, 6, 1), prefs).on == date(2026, 6, 1)  # the 1st is fine


def test_a_customers_stored_preferences_override_the_defaults() -> None:
    # As stored for a customer (JSON): the weekdays come as a list.
    prefs = ContactPreferences().overridden({"avoid_weekdays": [2, 3], "preferred_time": "10:00"})
    assert prefs == ContactPreferences(avoid_weekdays=(2, 3), preferred_time="10:00")
    assert suggested_contact(date(2026, 6, 10), prefs).on == date(2026, 6, 12)  # not Wed, Thu
    assert ContactPreferences().overridden({}) == ContactPreferences()
