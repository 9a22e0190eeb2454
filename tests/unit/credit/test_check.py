import pytest

from services.credit.domain.check import CheckRequest, OrderLine, decide
from shared.errors import Invalid


def request(**overrides: object) -> CheckRequest:
    base = dict(amount=100_000, currency="CNY", terms_mode="net_days", limit_amount=1_000_000,
                limit_currency="CNY", exposure=0, active_holds={})
    return CheckRequest(**{**base, **overrides})  # type: ignore[arg-type]


def test_within_limit_is_approved() -> None:
    assert decide(request()).decision == "approve"


def test_over_the_limit_is_reduced_to_what_is_available() -> None:
    answer = decide(request(amount=500_000, exposure=700_000))
    assert (answer.decision, answer.max_amount) == ("reduce", 300_000)


def test_nothing_available_means_cash_only() -> None:
    assert decide(request(exposure=1_000_000)).decision == "cash_only"


def test_stop_shipments_blocks_and_says_why() -> None:
    answer = decide(request(active_holds={"stop_shipments": "60 or more days past due"}))
    assert answer.decision == "block"
    assert "60 or more days past due" in answer.reasons[0]


def test_cash_terms_and_cash_only_hold() -> None:
    assert decide(request(terms_mode="cash")).decision == "cash_only"
    assert decide(request(active_holds={"cash_only": "x"})).decision == "cash_only"


def test_deliver_two_settle_one_blocks_while_a_shipment_is_unpaid() -> None:
    assert decide(request(terms_mode="deliver_two_settle_one", exposure=1)).decision == "block"
    assert decide(request(terms_mode="deliver_two_settle_one", exposure=0)).decision == "approve"


def test_reduced_batches_cap_the_order() -> None:
    answer = decide(request(amount=400_000, active_holds={"reduced_batches": "30+"},
                            reduced_batch_percent=25))
    assert (answer.decision, answer.max_amount) == ("reduce", 250_000)


def test_key_products_are_taken_out_of_the_order() -> None:
    lines = (OrderLine(60_000, key_product=True), OrderLine(40_000))
    answer = decide(request(lines=lines, active_holds={"withhold_key_products": "30+"}))
    assert (answer.decision, answer.max_amount) == ("reduce", 40_000)


def test_debt_free_only_lines_are_refused_under_that_hold() -> None:
    lines = (OrderLine(30_000, debt_free_only=True), OrderLine(70_000))
    held = decide(request(lines=lines, active_holds={"debt_free_only": "overdue"}))
    assert (held.decision, held.max_amount) == ("reduce", 70_000)
    assert any("debt-free" in r for r in held.reasons)
    assert decide(request(lines=lines)).decision == "approve"


def test_suspended_incentives_are_reported_with_an_approval() -> None:
    answer = decide(request(active_holds={"suspend_incentives": "15+"}))
    assert answer.decision == "approve"
    assert any("incentives suspended" in r for r in answer.reasons)


def test_a_check_in_another_currency_is_refused() -> None:
    with pytest.raises(Invalid) as refused:
        decide(request(currency="USD"))
    assert refused.value.field == "currency"
