from datetime import date, timedelta

from services.credit.domain.detection import (
    PartialPayment,
    Settlement,
    Thresholds,
    gone_silent,
    large_purchase_out_of_season,
    months_before,
    purchase_drop,
    repeated_partial_payments,
    started_paying_late,
)

T = Thresholds()


def months(values: dict[str, int]) -> dict[str, int]:
    return values


def test_months_before_cross_the_year() -> None:
    assert months_before(date(2026, 2, 10), 3) == ["2025-11", "2025-12", "2026-01"]


def test_purchases_dropping_sharply_against_the_customers_own_history() -> None:
    history = {m: 400_000 for m in months_before(date(2026, 1, 1), 9)}  # 2025-04 .. 2025-12
    history.update({"2026-01": 100_000, "2026-02": 100_000, "2026-03": 160_000})
    finding = purchase_drop(history, "2025-04", date(2026, 4, 2), "CNY", T)
    assert finding is not None and finding.kind == "purchase_drop"
    assert finding.evidence == ("average monthly purchases 1,200.00 CNY in 2026-01..2026-03 against "
                                "4,000.00 CNY in 2025-04..2025-12 (-70%)",)
    steady = {**history, "2026-01": 300_000, "2026-02": 300_000, "2026-03": 300_000}
    assert purchase_drop(steady, "2025-04", date(2026, 4, 2), "CNY", T) is None


def test_no_drop_without_enough_history() -> None:
    history = {"2025-10": 400_000, "2025-11": 400_000, "2025-12": 400_000}
    assert purchase_drop(history, "2025-10", date(2026, 4, 2), "CNY", T) is None


def test_a_large_purchase_out_of_season() -> None:
    year = {m: 100_000 for m in months_before(date(2026, 3, 1), 12)}  # 2025-03 .. 2026-02
    finding = large_purchase_out_of_season({**year, "2026-03": 400_000}, "2025-01",
                                           date(2026, 3, 15), "CNY", T)
    assert finding is not None and finding.kind == "large_purchase_out_of_season"
    assert finding.evidence[0] == ("purchases in 2026-03: 4,000.00 CNY, 400% of the monthly average "
                                   "1,000.00 CNY over 2025-03..2026-02")
    in_season = {**year, "2025-03": 300_000, "2026-03": 500_000}  # March was busy last year too
    assert large_purchase_out_of_season(in_season, "2025-01", date(2026, 3, 15), "CNY", T) is None
    young = large_purchase_out_of_season({"2026-02": 10, "2026-03": 400_000}, "2026-02",
                                         date(2026, 3, 15), "CNY", T)
    assert young is None


def test_repeated_partial_payments_within_the_window() -> None:
    partials = [PartialPayment(f"P{i}", date(2026, 3, i * 10), "INV-1") for i in (1, 2, 3)]
    finding = repeated_partial_payments(partials, date(2026, 4, 1), T)
    assert finding is not None and "3 payments in the 90 days to 2026-04-01" in finding.evidence[0]
    assert repeated_partial_payments(partials[:2], date(2026, 4, 1), T) is None
    assert repeated_partial_payments(partials, date(2026, 9, 1), T) is None  # long ago


def test_a_punctual_customer_starting_to_pay_late() -> None:
    punctual = [Settlement(f"I{i}", date(2026, 1, i), 0) for i in range(1, 5)]
    late = [Settlement("I5", date(2026, 2, 1), 12), Settlement("I6", date(2026, 3, 1), 20, open=True)]
    finding = started_paying_late(punctual + late, T)
    assert finding is not None and finding.kind == "paying_late"
    assert finding.evidence == ("4 invoices before paid on time (I1, I2, I3, I4)",
                                "I5 settled 12 days beyond terms", "I6 still open, 20 days past due")
    always_late = [Settlement(f"I{i}", date(2026, 1, i), 15) for i in range(1, 7)]
    assert started_paying_late(always_late, T) is None
    assert started_paying_late(punctual + late[:1], T) is None


def test_in_debt_and_silent_for_months() -> None:
    finding = gone_silent({"CNY": 300_000}, date(2025, 6, 1), date(2025, 5, 1), date(2025, 12, 15), T)
    assert finding is not None and finding.evidence == (
        "balance 3,000.00 CNY",
        "last order 2025-06-01, last payment 2025-05-01: 197 days without either")
    assert gone_silent({"CNY": 0}, date(2025, 1, 1), None, date(2025, 12, 15), T) is None
    assert gone_silent({"CNY": 1}, date(2025, 12, 1), None, date(2025, 12, 15), T) is None


def test_a_payment_is_partial_when_it_left_its_invoice_open_whatever_news_came_first() -> None:
    from services.credit.domain.detection import PaymentLine, partial_lines
    d = date(2026, 1, 10)
    # The settlement heard: settled after the payment.
    assert [p.payment_id for p in partial_lines([
        PaymentLine("P1", d, "I1", 50, 100, d + timedelta(days=5)),
        PaymentLine("P2", d + timedelta(days=5), "I1", 50, 100, d + timedelta(days=5))])] == ["P1"]
    # Not heard yet: what was paid so far against the invoice's amount.
    assert [p.payment_id for p in partial_lines([
        PaymentLine("P2", d + timedelta(days=5), "I1", 50, 100, None),
        PaymentLine("P1", d, "I1", 50, 100, None)])] == ["P1"]
    assert partial_lines([PaymentLine("P1", d, "I9", 50, None, None)]) == []  # unknown invoice


def test_money_paid_before_its_invoice_and_settling_it_on_its_issue_date_is_not_partial() -> None:
    from services.credit.domain.detection import PaymentLine, partial_lines
    d = date(2026, 1, 10)
    assert partial_lines([PaymentLine("P1", d, "I1", 100, 100, d + timedelta(days=2),
                                      d + timedelta(days=2))]) == []
    # Settled after its issue date too: that payment left it open.
    assert [p.payment_id for p in partial_lines([
        PaymentLine("P1", d, "I1", 50, 100, d + timedelta(days=9), d + timedelta(days=2))])] == ["P1"]
