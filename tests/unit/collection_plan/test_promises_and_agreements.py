from datetime import date

import pytest

from services.collection_plan.domain.agreements import (
    AgreementPolicy,
    Instalment,
    InvoiceFacts,
    check_agreement,
    first_miss,
    terms_period_days,
)
from services.collection_plan.domain.promises import (
    PromisePolicy,
    check_new_promise,
    is_broken,
    paid_towards,
)
from shared.errors import Invalid

D = date.fromisoformat
SIGNED = D("2026-03-01")
NET_30 = {"mode": "net_days", "days": 30}


def invoice(invoice_id: str, *, due: str = "2026-01-31", issued: str = "2026-01-01",
            open_amount: int = 100_000, currency: str = "CNY", **extra: object) -> InvoiceFacts:
    return InvoiceFacts(invoice_id, "C1", currency, D(issued), D(due), open_amount, **extra)  # type: ignore[arg-type]


BOOK = {i.invoice_id: i for i in (
    invoice("OLD-1"), invoice("OLD-2", due="2026-02-10", open_amount=50_000),
    invoice("NEW", issued="2026-02-20", due="2026-03-22"),
    invoice("LATER", issued="2026-03-05", due="2026-02-28"),
    invoice("PAID", open_amount=0), invoice("USD", currency="USD"),
    invoice("PLANNED", agreement_id="AG-0"), invoice("DISPUTED", disputed=True),
    invoice("CHARGED", interest_charged_through=D("2026-03-31")),
    InvoiceFacts("THEIRS", "C2", "CNY", D("2026-01-01"), D("2026-01-31"), 100_000),
)}


def agree(invoice_ids: list[str], plan: list[tuple[str, int]], *, terms: dict | None = None,
          signed_on: date = SIGNED, as_of: date = SIGNED, **policy: int) -> tuple[str, int]:
    return check_agreement(
        customer_id="C1", invoice_ids=invoice_ids, invoices=BOOK,
        instalments=[Instalment(D(d), a) for d, a in plan], signed_on=signed_on, as_of=as_of,
        terms=terms or NET_30, policy=AgreementPolicy(**policy))


def test_an_agreement_over_overdue_invoices_that_adds_up_is_accepted() -> None:
    assert agree(["OLD-1", "OLD-2"], [("2026-03-20", 75_000), ("2026-04-15", 75_000)]) == ("CNY", 150_000)


@pytest.mark.parametrize(("invoice_ids", "plan", "field", "words"), [
    (["OLD-1", "NEW"], [("2026-03-20", 200_000)], "invoice_ids[1]", "not overdue"),
    (["OLD-1", "LATER"], [("2026-03-20", 200_000)], "invoice_ids[1]", "issued on 2026-03-05, after"),
    (["OLD-1", "OLD-1"], [("2026-03-20", 200_000)], "invoice_ids", "named twice"),
    (["NOPE"], [("2026-03-20", 100_000)], "invoice_ids[0]", "not one of this customer's"),
    (["THEIRS"], [("2026-03-20", 100_000)], "invoice_ids[0]", "not one of this customer's"),
    (["PAID"], [("2026-03-20", 100_000)], "invoice_ids[0]", "nothing open"),
    (["PLANNED"], [("2026-03-20", 100_000)], "invoice_ids[0]", "already in agreement AG-0"),
    (["DISPUTED"], [("2026-03-20", 100_000)], "invoice_ids[0]", "disputed"),
    (["CHARGED"], [("2026-03-20", 100_000)], "signed_on", "charged through 2026-03-31"),
    (["OLD-1", "USD"], [("2026-03-20", 200_000)], "invoice_ids", "one agreement per currency"),
    (["OLD-1"], [("2026-03-20", 90_000)], "instalments", "add up to 90000 CNY"),
    (["OLD-1"], [("2026-02-27", 100_000)], "instalments[0].due_date", "before the signing"),
    (["OLD-1"], [("2026-03-20", 50_000), ("2026-03-20", 50_000)], "instalments[1].due_date",
     "must increase"),
    (["OLD-1"], [("2026-04-01", 100_000)], "instalments[0].due_date", "31 days after the signing"),
    (["OLD-1"], [("2026-03-20", 50_000), ("2026-04-25", 50_000)], "instalments[1].due_date",
     "36 days after the previous"),
])
def test_a_plan_that_mixes_in_new_business_or_does_not_add_up_is_refused(
        invoice_ids: list[str], plan: list[tuple[str, int]], field: str, words: str) -> None:
    with pytest.raises(Invalid) as refused:
        agree(invoice_ids, plan)
    assert refused.value.field == field, refused.value.detail
    assert words in refused.value.detail


def test_the_plan_may_not_contradict_the_terms_or_the_policy() -> None:
    monthly = {"mode": "monthly", "day_of_month": 25}
    assert agree(["OLD-1"], [("2026-04-01", 100_000)], terms=monthly) == ("CNY", 100_000)
    with pytest.raises(Invalid, match="at most 2 months"):
        agree(["OLD-1"], [("2026-03-25", 30_000), ("2026-04-25", 30_000), ("2026-05-20", 40_000)],
              terms=monthly, max_months=2)
    with pytest.raises(Invalid, match="1 to 1 instalments"):
        agree(["OLD-1"], [("2026-03-20", 50_000), ("2026-03-25", 50_000)], max_instalments=1)
    with pytest.raises(Invalid) as future:
        agree(["OLD-1"], [("2026-03-20", 100_000)], signed_on=D("2026-03-02"))
    assert future.value.field == "signed_on"
    assert terms_period_days({"mode": "cash"}, AgreementPolicy(default_period_days=14)) == 14
    assert terms_period_days({"mode": "deliver_two_settle_one", "days": 20}, AgreementPolicy()) == 20


def test_the_first_instalment_missed_counts_what_came_in_by_each_date() -> None:
    plan = [Instalment(D("2026-03-15"), 50_000), Instalment(D("2026-04-15"), 50_000)]
    assert first_miss(plan, [], D("2026-03-15"), 0) is None  # its day is not over
    assert first_miss(plan, [], D("2026-03-16"), 0).missing == 50_000  # type: ignore[union-attr]
    assert first_miss(plan, [], D("2026-03-16"), grace_days=3) is None
    paid = [(D("2026-03-14"), 50_000), (D("2026-04-20"), 50_000)]  # the second came late
    miss = first_miss(plan, paid, D("2026-04-16"), 0)
    assert miss is not None and (miss.due_date, miss.missing) == (D("2026-04-15"), 50_000)
    assert first_miss(plan, [(D("2026-03-01"), 100_000)], D("2026-05-01"), 0) is None  # paid ahead


def test_a_promise_is_for_an_amount_overdue_on_a_near_date() -> None:
    policy = PromisePolicy(max_days_ahead=30)
    ok = dict(amount=50_000, currency="CNY", promised_on=D("2026-03-10"), as_of=SIGNED,
              overdue={"CNY": 80_000}, policy=policy)
    check_new_promise(**ok)  # type: ignore[arg-type]
    for change, field in (({"amount": 90_000}, "amount"), ({"currency": "USD"}, "currency"),
                          ({"promised_on": D("2026-02-27")}, "promised_on"),
                          ({"promised_on": D("2026-04-01")}, "promised_on")):
        with pytest.raises(Invalid) as refused:
            check_new_promise(**{**ok, **change})  # type: ignore[arg-type]
        assert refused.value.field == field


def test_a_promise_counts_the_money_from_its_making_to_its_date() -> None:
    payments = [(D("2026-02-28"), 10), (D("2026-03-01"), 20), (D("2026-03-10"), 30), (D("2026-03-11"), 40)]
    assert paid_towards(payments, SIGNED, D("2026-03-10")) == 50
    policy = PromisePolicy(grace_days=1)
    assert not is_broken(amount=100, paid=50, promised_on=D("2026-03-10"), as_of=D("2026-03-11"),
                         policy=policy)
    assert is_broken(amount=100, paid=50, promised_on=D("2026-03-10"), as_of=D("2026-03-12"),
                     policy=policy)
    assert not is_broken(amount=100, paid=100, promised_on=D("2026-03-10"), as_of=D("2026-04-01"),
                         policy=policy)
