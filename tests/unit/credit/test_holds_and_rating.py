from services.credit.domain.holds import overdue_holds
from services.credit.domain.rating import RatingInputs, rate


def test_the_default_ladder() -> None:
    assert overdue_holds(0, "net_days") == {}
    assert overdue_holds(5, "net_days") == {}
    assert set(overdue_holds(5, "deliver_two_settle_one")) == {"stop_shipments"}
    assert set(overdue_holds(15, "net_days")) == {"cash_only", "suspend_incentives"}
    assert set(overdue_holds(30, "net_days")) == {
        "cash_only", "suspend_incentives", "reduced_batches", "withhold_key_products"}
    assert "stop_shipments" in overdue_holds(60, "net_days")


def test_doubtful_and_worse_classes_stop_all_shipments() -> None:
    assert "stop_shipments" in overdue_holds(20, "net_days", "doubtful")
    assert "stop_shipments" not in overdue_holds(20, "net_days", "dunning")


def test_rating_falls_with_default_and_signals_and_says_why() -> None:
    clean = rate(RatingInputs(max_days_past_due=0))
    late = rate(RatingInputs(max_days_past_due=45))
    bankrupt = rate(RatingInputs(max_days_past_due=45, serious_signals=("bankruptcy",)))
    assert clean.rating_class == "A" and clean.reasons == ("no adverse information",)
    assert clean.score > late.score > bankrupt.score
    assert bankrupt.rating_class in ("D", "E")
    assert bankrupt.reasons[0].startswith("-40: serious warning signal")  # largest first
