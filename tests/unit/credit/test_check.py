import pytest

from services.credit.domain.check import (
    ActiveHold,
    CheckRequest,
    LinePolicy,
    OrderLine,
    decide,
    granted,
    reduced_batch_cap,
)
from shared.errors import Invalid


def request(**overrides: object) -> CheckRequest:
    base = dict(amount=100_000, currency="CNY", terms_mode="net_days", limit_amount=1_000_000,
                limit_currency="CNY", receivables=0)
    return CheckRequest(**{**base, **overrides})  # type: ignore[arg-type]


def held(*kinds: str, reason: str = "30 or more days past due") -> dict[str, ActiveHold]:
    return {k: ActiveHold(reason, ("promotions", "samples") if k == "suspend_incentives" else ())
            for k in kinds}


def test_within_limit_is_approved() -> None:
    answer = decide(request())
    assert (answer.decision, answer.reasons) == ("approve", ["within credit limit"])
    assert granted(answer, 100_000) == 100_000


def test_debt_in_another_currency_is_said_not_counted() -> None:
    answer = decide(request(other_currencies=1))
    assert (answer.decision, answer.reasons) == ("approve", [
        "within credit limit", "also owes in 1 other currency, not counted against the limit "
        "in CNY"])


def test_over_the_limit_is_reduced_to_what_is_available() -> None:
    answer = decide(request(amount=500_000, receivables=700_000))
    assert (answer.decision, answer.max_amount) == ("reduce", 300_000)
    assert granted(answer, 500_000) == 300_000
    assert "available 3,000.00 CNY" in answer.reasons[0]


def test_approved_orders_not_yet_invoiced_count_as_exposure() -> None:
    answer = decide(request(amount=500_000, receivables=300_000, reserved=400_000))
    assert (answer.decision, answer.max_amount) == ("reduce", 300_000)
    assert "approved orders 4,000.00 CNY" in answer.reasons[0]


def test_nothing_available_means_cash_only() -> None:
    answer = decide(request(receivables=600_000, reserved=400_000))
    assert answer.decision == "cash_only" and granted(answer, 100_000) == 0


def test_why_the_applied_limit_is_lower_is_said_when_it_binds() -> None:
    answer = decide(request(amount=600_000, limit_amount=500_000,
                            limit_reasons=("new customer: starting limit 5,000.00 CNY",)))
    assert answer.decision == "reduce"
    assert "new customer: starting limit 5,000.00 CNY" in answer.reasons


def test_stop_shipments_blocks_and_says_why() -> None:
    answer = decide(request(active_holds=held("stop_shipments", reason="60 or more days past due")))
    assert answer.decision == "block"
    assert "60 or more days past due" in answer.reasons[0]


def test_cash_terms_and_cash_only_hold() -> None:
    assert decide(request(terms_mode="cash")).decision == "cash_only"
    assert decide(request(active_holds=held("cash_only"))).decision == "cash_only"


def test_a_rating_class_set_to_cash_only_makes_new_orders_cash() -> None:
    answer = decide(request(rating_class="E"))
    assert answer.decision == "cash_only" and "rating class E" in answer.reasons[0]
    assert decide(request(rating_class="E", cash_only_classes=frozenset())).decision == "approve"


def test_deliver_two_settle_one_blocks_while_a_shipment_is_unpaid_or_approved() -> None:
    assert decide(request(terms_mode="deliver_two_settle_one", receivables=1)).decision == "block"
    assert decide(request(terms_mode="deliver_two_settle_one", reserved=1)).decision == "block"
    assert decide(request(terms_mode="deliver_two_settle_one")).decision == "approve"


def test_reduced_batches_cap_the_order() -> None:
    answer = decide(request(amount=400_000, active_holds=held("reduced_batches"), batch_cap=250_000,
                            batch_basis="50% of the average order 5,000.00 CNY"))
    assert (answer.decision, answer.max_amount) == ("reduce", 250_000)
    assert "50% of the average order" in answer.reasons[0]


def test_the_batch_cap_comes_from_the_average_order_or_else_the_limit() -> None:
    assert reduced_batch_cap(400_000, 1_000_000, "CNY", average_percent=50, limit_percent=25)[0] == 200_000
    cap, basis = reduced_batch_cap(None, 1_000_000, "CNY", average_percent=50, limit_percent=25)
    assert cap == 250_000 and "no order history" in basis


def test_key_products_are_taken_out_by_flag_or_by_product_class() -> None:
    lines = (OrderLine(50_000, key_product=True), OrderLine(30_000, product_class="beer-premium"),
             OrderLine(20_000, product_class="water"))
    answer = decide(request(lines=lines, active_holds=held("withhold_key_products"),
                            line_policy=LinePolicy(key_product_classes=frozenset({"beer-premium"}))))
    assert (answer.decision, answer.max_amount) == ("reduce", 20_000)
    assert [index for index, _ in answer.refused_lines] == [0, 1]
    assert decide(request(lines=lines)).decision == "approve"


def test_debt_free_only_lines_need_a_customer_owing_nothing_overdue() -> None:
    lines = (OrderLine(30_000, debt_free_only=True), OrderLine(70_000))
    owing = decide(request(lines=lines, owes_overdue=True))
    assert (owing.decision, owing.max_amount) == ("reduce", 70_000)
    assert owing.refused_lines == [(0, "reserved for customers owing nothing overdue")]
    by_class = decide(request(lines=(OrderLine(100_000, product_class="new-launch"),),
                              line_policy=LinePolicy(debt_free_only_classes=frozenset({"new-launch"})),
                              active_holds=held("debt_free_only")))
    assert by_class.decision == "cash_only"
    assert decide(request(lines=lines)).decision == "approve"


def test_suspended_incentives_are_named_and_incentive_lines_refused() -> None:
    lines = (OrderLine(90_000), OrderLine(10_000, incentive="samples"))
    answer = decide(request(lines=lines, active_holds=held("suspend_incentives", reason="15+")))
    assert (answer.decision, answer.max_amount) == ("reduce", 90_000)
    assert answer.incentives_suspended == ["promotions", "samples"]
    assert any(r.startswith("incentives suspended (promotions, samples)") for r in answer.reasons)
    plain = decide(request(active_holds=held("suspend_incentives")))
    assert plain.decision == "approve" and plain.incentives_suspended == ["promotions", "samples"]


def test_lines_must_add_up_to_the_order() -> None:
    with pytest.raises(Invalid) as refused:
        decide(request(lines=(OrderLine(1),)))
    assert refused.value.field == "lines"


def test_a_check_in_another_currency_is_refused() -> None:
    with pytest.raises(Invalid) as refused:
        decide(request(currency="USD"))
    assert refused.value.field == "currency"


def test_holds_of_one_kind_from_several_causes_all_count() -> None:
    from services.credit.domain.check import in_force
    merged = in_force([("suspend_incentives", "15 or more days past due", ("promotions", "samples")),
                       ("suspend_incentives", "rebate dispute", ("year_end_rebates",)),
                       ("cash_only", "collection step visit (level 2)", ())])
    assert merged["suspend_incentives"].incentives == ("promotions", "samples", "year_end_rebates")
    assert merged["suspend_incentives"].reason == "15 or more days past due; rebate dispute"
    assert set(merged) == {"suspend_incentives", "cash_only"}
