from datetime import date, timedelta

import pytest

from services.ledger.domain.terms import Terms, TermsError, due_date_for, next_settlement_day

ISSUED = date(2026, 1, 20)


@pytest.mark.parametrize(("terms", "due"), [
    (Terms("cash"), date(2026, 1, 20)),
    (Terms("net_days", days=30), date(2026, 2, 19)),
    (Terms("net_days", days=0), date(2026, 1, 20)),
    (Terms("monthly", day_of_month=25), date(2026, 1, 25)),
    (Terms("monthly", day_of_month=20), date(2026, 2, 20)),  # strictly after issue
    (Terms("monthly", day_of_month=10), date(2026, 2, 10)),
    (Terms("deliver_two_settle_one", days=7), date(2026, 1, 27)),
    (Terms("deliver_two_settle_one"), date(2026, 2, 19)),
    (Terms("deliver_two_settle_one", days=0), date(2026, 1, 20)),  # agreed: on delivery
    (Terms("one_off", due_date=date(2026, 3, 1)), date(2026, 3, 1)),
])
def test_due_date_from_each_settlement_mode(terms: Terms, due: date) -> None:
    assert due_date_for(terms, ISSUED) == due


@pytest.mark.parametrize(("issued", "day", "due"), [
    (date(2026, 1, 30), 30, date(2026, 2, 28)),  # February has no 30th: its last day
    (date(2028, 1, 31), 29, date(2028, 2, 29)),  # leap year
    (date(2028, 2, 29), 30, date(2028, 3, 30)),  # issued on February's settlement day
    (date(2026, 2, 28), 29, date(2026, 3, 29)),
    (date(2026, 12, 29), 29, date(2027, 1, 29)),
])
def test_monthly_settlement_days_29_to_31_at_month_ends(issued: date, day: int, due: date) -> None:
    assert next_settlement_day(issued, day) == due


def test_monthly_day_31_means_month_end() -> None:
    assert next_settlement_day(date(2026, 1, 31), 31) == date(2026, 2, 28)
    assert next_settlement_day(date(2026, 12, 31), 31) == date(2027, 1, 31)


@pytest.mark.parametrize("terms", [Terms("one_off"), Terms("one_off", due_date=date(2026, 1, 1)),
                                   Terms("pay_after_sold")])
def test_vague_or_impossible_terms_are_refused(terms: Terms) -> None:
    with pytest.raises(TermsError):
        due_date_for(terms, ISSUED)


def test_early_payment_discount_within_the_window_only() -> None:
    terms = Terms("net_days", days=30, discount_percent=2, discount_within_days=10)
    assert terms.early_payment_discount(99_999, ISSUED, ISSUED + timedelta(days=10)) == 1_999
    assert terms.early_payment_discount(99_999, ISSUED, ISSUED + timedelta(days=11)) == 0
    assert Terms("net_days", days=30).early_payment_discount(1000, ISSUED, ISSUED) == 0
