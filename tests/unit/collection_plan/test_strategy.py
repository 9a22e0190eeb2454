"""Strategies: the default ladder, how cases climb it, what it asks credit for, which
strategy serves a customer, and the refusals of a ladder that cannot work."""

from __future__ import annotations

import dataclasses

import pytest

from services.collection_plan.domain import strategy as s
from services.collection_plan.domain.strategy import (
    DEFAULT_STRATEGY,
    HoldRequest,
    Money,
    Segment,
    Step,
    TaskTemplate,
)
from shared.errors import Invalid

CALL = (TaskTemplate("call", "call"),)


def ladder(*steps: Step, **kwargs: object) -> s.Strategy:
    return dataclasses.replace(DEFAULT_STRATEGY, steps=steps, **kwargs)


def test_the_default_ladder_is_architecture_mds() -> None:
    d = DEFAULT_STRATEGY
    by_days = {days: s.level_for_days(d, days) for days in (0, 1, 14, 15, 30, 60, 89, 90, 180, 365)}
    assert by_days == {0: 0, 1: 1, 14: 1, 15: 2, 30: 3, 60: 4, 89: 4, 90: 6, 180: 7, 365: 8}
    assert [d.step(level).receivable_class for level in (1, 2, 3, 4, 5, 6, 7, 8)] == [
        "dunning", "dunning", "dunning", "dunning", "dormant", "doubtful", "bad_debt", "bad_debt"]
    assert d.reminder is not None and d.reminder.days_before_due == 3
    assert s.validate(d) is d


def test_holds_asked_for_add_up_along_the_ladder() -> None:
    assert s.requested_holds(DEFAULT_STRATEGY, 1, "net_days") == []
    assert s.requested_holds(DEFAULT_STRATEGY, 1, "deliver_two_settle_one") == ["stop_shipments"]
    assert s.requested_holds(DEFAULT_STRATEGY, 3, "net_days") == [
        "cash_only", "suspend_incentives", "reduced_batches", "withhold_key_products"]
    assert s.requested_holds(DEFAULT_STRATEGY, 4, "net_days")[-1] == "stop_shipments"


def test_events_move_a_case() -> None:
    d = DEFAULT_STRATEGY
    assert s.level_for_event(d, 1, "promise_broken") == 2  # the visit lists it
    assert s.level_for_event(d, 3, "promise_broken") == 4  # beyond it: one step at once
    assert s.level_for_event(d, 2, "refused") == 3
    assert s.level_for_event(d, 3, "agreement_broken") == 3  # resumes by days, no jump
    assert s.level_for_event(d, 1, "dormant") == 5
    assert s.level_for_event(d, 6, "dormant") == 6  # already past the review
    assert s.level_for_event(d, 1, "signal", "bad_debt") == 7
    assert s.level_for_event(d, 7, "signal", "bad_debt") == 7  # already bad debt
    assert s.level_for_event(d, 1, "signal") == 7  # the step that lists signals
    assert s.level_for_event(d, 8, "promise_broken") == 8  # the top


def test_the_first_strategy_by_rank_whose_segment_fits_serves_the_customer() -> None:
    risky = dataclasses.replace(DEFAULT_STRATEGY, id="risky", rank=10,
                                segment=Segment(rating_classes=("D", "E")))
    large = dataclasses.replace(DEFAULT_STRATEGY, id="large", rank=20,
                                segment=Segment(min_overdue=(Money(5_000_000, "CNY"),)))
    all_three = [DEFAULT_STRATEGY, large, risky]
    assert s.choose(all_three, "E", {}).id == "risky"
    assert s.choose(all_three, "B", {"CNY": 5_000_000}).id == "large"
    # Thresholds are per currency: 5,000,000 USD is not 5,000,000 CNY.
    assert s.choose(all_three, "B", {"USD": 9_000_000}).id == "default"
    assert s.choose(all_three, None, {}).id == "default"
    with pytest.raises(LookupError):
        s.choose([risky], "A", {})


def test_the_data_form_round_trips() -> None:
    assert s.from_data(s.to_data(DEFAULT_STRATEGY)) == DEFAULT_STRATEGY


@pytest.mark.parametrize(("strategy", "field", "words"), [
    (ladder(Step("a", "dunning", CALL, days_past_due=15), Step("b", "dunning", CALL, days_past_due=15)),
     "steps[1].trigger.days_past_due", "must increase"),
    (ladder(Step("a", "dunning", CALL, days_past_due=30), Step("b", "dunning", CALL, days_past_due=10)),
     "steps[1].trigger.days_past_due", "must increase"),
    (ladder(Step("a", "dunning", CALL, days_past_due=1), Step("a", "dunning", CALL, days_past_due=9)),
     "steps[1].name", "used twice"),
    (ladder(Step("a", "dunning", CALL)), "steps[0].trigger", "needs a trigger"),
    (ladder(Step("a", "dunning", CALL, days_past_due=0)), "steps[0].trigger.days_past_due", "start at 1"),
    (ladder(Step("a", "dunning", CALL, events=("moon",))), "steps[0].trigger.events", "unknown event"),
    (ladder(Step("a", "dunning", (TaskTemplate("pray", "x"),), days_past_due=1)),
     "steps[0].tasks[0].action", "unknown action"),
    (ladder(Step("a", "dunning", (), days_past_due=1)), "steps[0].tasks", "at least one task"),
    (ladder(Step("a", "dunning", CALL, days_past_due=1, holds=(HoldRequest("jail"),))),
     "steps[0].holds[0].kind", "unknown hold kind"),
    (ladder(Step("a", "dunning", CALL, days_past_due=1,
                 holds=(HoldRequest("cash_only", ("barter",)),))),
     "steps[0].holds[0].terms_modes", "unknown terms mode"),
    (ladder(Step("a", "not_due", CALL, days_past_due=1)), "steps[0].receivable_class", "must be one of"),
    (ladder(*DEFAULT_STRATEGY.steps, segment=Segment(rating_classes=("Z",))),
     "segment.rating_classes", "rating classes"),
    (ladder(*DEFAULT_STRATEGY.steps,
            reminder=s.Reminder(0, CALL)), "reminder.days_before_due", "1 to 60"),
    (ladder(), "steps", "at least one step"),
])
def test_a_ladder_that_cannot_work_is_refused_naming_the_field(strategy: s.Strategy, field: str,
                                                                words: str) -> None:
    with pytest.raises(Invalid) as refused:
        s.validate(strategy)
    assert refused.value.field == field
    assert words in refused.value.detail


def test_someone_must_always_be_served() -> None:
    narrow = dataclasses.replace(DEFAULT_STRATEGY, segment=Segment(rating_classes=("A",)))
    with pytest.raises(Invalid):
        s.check_catch_all_remains([narrow])
    s.check_catch_all_remains([narrow, DEFAULT_STRATEGY])
