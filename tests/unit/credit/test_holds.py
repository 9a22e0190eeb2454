from services.credit.domain.holds import Default, Held, Rung, Want, overdue_holds, plan


def kinds(days: int, mode: str = "net_days", **extra: object) -> set[str]:
    return set(overdue_holds(Default(days, mode, **extra)))  # type: ignore[arg-type]


def test_the_default_ladder() -> None:
    assert kinds(0) == set() and kinds(5) == set()
    assert kinds(5, "deliver_two_settle_one") == {"stop_shipments"}
    assert kinds(15) == {"cash_only", "suspend_incentives"}
    assert kinds(30) == {"cash_only", "suspend_incentives", "reduced_batches", "withhold_key_products"}
    assert "stop_shipments" in kinds(60)


def test_every_hold_carries_the_stage_the_default_reached() -> None:
    wanted = overdue_holds(Default(35, "net_days"))
    assert {w.stage for w in wanted.values()} == {30}
    assert wanted["cash_only"].reason == "15 or more days past due"


def test_doubtful_and_worse_classes_stop_all_shipments() -> None:
    assert "stop_shipments" in kinds(20, receivable_class="doubtful")
    assert "stop_shipments" not in kinds(20, receivable_class="dunning")
    assert overdue_holds(Default(20, "net_days", "bad_debt"))["stop_shipments"].stage == 180


def test_a_broken_promise_counts_as_fifteen_days_while_something_is_overdue() -> None:
    wanted = overdue_holds(Default(3, "net_days", broken_promise=True))
    assert set(wanted) == {"cash_only", "suspend_incentives"}
    assert "a promise to pay was broken" in wanted["cash_only"].reason
    assert kinds(0, broken_promise=True) == set()


def test_a_configured_ladder() -> None:
    ladder = (Rung(10, ("reduced_batches",), "10+"), Rung(45, ("stop_shipments",), "45+"))
    assert set(overdue_holds(Default(12, "net_days"), ladder)) == {"reduced_batches"}
    assert set(overdue_holds(Default(50, "net_days"), ladder)) == {"reduced_batches", "stop_shipments"}


def test_plan_places_what_is_missing_and_releases_what_is_no_longer_asked() -> None:
    wanted = {"cash_only": Want("15+", 15)}
    steps = plan(wanted, [Held("h1", "stop_shipments", 60)], [])
    assert set(steps.place) == {"cash_only"} and steps.release == ("h1",)
    assert plan(wanted, [Held("h2", "cash_only", 15)], []).place == {}


def test_an_override_holds_the_policy_back_until_the_default_worsens() -> None:
    override = [Held("h1", "cash_only", 15)]
    assert plan({"cash_only": Want("15+", 15)}, [], override).place == {}
    assert set(plan({"cash_only": Want("15+", 30)}, [], override).place) == {"cash_only"}


def test_collection_holds_are_not_in_force_while_every_overdue_invoice_is_agreed() -> None:
    from services.credit.domain.holds import collection_holds
    asked = {"cash_only": Want("collection step visit (level 2)", 2)}
    assert collection_holds(asked, {"I1", "I2"}, {"I1", "I2"}) == {}
    assert collection_holds(asked, {"I1", "I2"}, {"I1"}) == asked  # partial: they stay
    assert collection_holds(asked, {"I1"}, set()) == asked
    # Nothing overdue: the case is closing, its closing ends them; a step asking now places.
    assert collection_holds(asked, set(), set()) is None
    assert collection_holds(asked, set(), set(), asking=True) == asked


def test_a_collection_step_adds_to_what_the_case_asked_and_raises_the_stage() -> None:
    from services.credit.domain.holds import asked_more
    before = {"cash_only": Want("step visit (level 2)", 2)}
    after = asked_more(before, ["cash_only", "reduced_batches", "no_such_kind"],
                       Want("step supply pressure (level 3)", 3))
    assert after == {"cash_only": Want("step supply pressure (level 3)", 3),
                     "reduced_batches": Want("step supply pressure (level 3)", 3)}
    assert asked_more(after, ["cash_only"], Want("again", 3)) == after
