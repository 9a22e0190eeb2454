"""The posting rules on in-memory books (domain/books.py): what single POSTs and batches
both run."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from services.ledger.domain.allocation import Allocation
from services.ledger.domain.books import Books
from services.ledger.domain.commands import (
    ApplyCredit,
    PostCreditNote,
    PostInvoice,
    PostPayment,
    ReversePayment,
    WriteOff,
)
from services.ledger.domain.documents import Credit, Customer, Invoice
from services.ledger.domain.terms import Terms
from shared.errors import Conflict, Invalid, NotFound

D = date(2026, 1, 1)
AT = datetime(2026, 12, 1, tzinfo=UTC)  # after every date booked here


def books(*, terms: Terms | None = None, invoices: tuple[Invoice, ...] = (),
          credits: tuple[Credit, ...] = (), version: int = 0) -> Books:
    customer = Customer("C1", terms or Terms("net_days", days=30), version)
    return Books([customer], invoices, credits, actor="test", recorded_at=AT,
                 new_id=iter(f"app{n}" for n in range(1000)).__next__)


def invoice(n: int, amount: int, issued: date = D, **extra: object) -> PostInvoice:
    return PostInvoice(f"I{n}", "C1", amount, "CNY", issued, **extra)  # type: ignore[arg-type]


def events(b: Books, kind: str) -> list[dict]:
    return [e.data for e in b.effects.events if e.type == kind]


def test_an_invoice_is_dated_by_the_terms_journalled_and_announced_with_its_version() -> None:
    b = books(version=6)
    posted, created = b.post_invoice(invoice(1, 10_000, order_id="SO-7"))
    assert created and posted.due_date == date(2026, 1, 31) and posted.open_amount == 10_000
    effects = b.close()
    (entry,) = effects.journal
    assert entry.lines == (("receivable", 10_000), ("revenue", -10_000))
    (announced,) = events(b, "ledger.invoice.posted")
    (position,) = events(b, "ledger.balance.changed")
    assert announced["order_id"] == "SO-7"
    assert announced["balance_version"] == position["version"] == 7 == effects.versions["C1"]
    assert position["balances"] == [{"currency": "CNY", "balance": 10_000, "overdue": 0,
                                     "oldest_overdue_due_date": None}]


def test_the_same_invoice_again_is_a_no_op_and_other_content_a_conflict() -> None:
    b = books()
    b.post_invoice(invoice(1, 10_000))
    again, created = b.post_invoice(invoice(1, 10_000))
    assert not created and again.amount == 10_000
    with pytest.raises(Conflict) as refused:
        b.post_invoice(invoice(1, 10_000, order_id="SO-OTHER"))
    assert refused.value.field == "id"
    assert len(b.effects.invoices_added) == 1


def test_unknown_customers_and_customers_without_terms_are_refused() -> None:
    b = Books([Customer("C2", None, 0)], [], [], actor="t", recorded_at=AT)
    for customer in ("C2", "NOPE"):
        with pytest.raises(Invalid) as refused:
            b.post_invoice(PostInvoice("I1", customer, 10, "CNY", D))
        assert refused.value.field == "customer_id"


@pytest.mark.parametrize(("change", "field"), [
    (dict(amount=0), "amount"), (dict(currency="cny"), "currency"), (dict(id=""), "id"),
    (dict(kind="gift"), "kind"), (dict(due_date=date(2025, 12, 1)), "due_date"),
])
def test_documents_asked_for_by_event_are_checked_like_http(change: dict, field: str) -> None:
    fields = dict(id="I1", customer_id="C1", amount=10, currency="CNY", issue_date=D) | change
    with pytest.raises(Invalid) as refused:
        books().post_invoice(PostInvoice(**fields))  # type: ignore[arg-type]
    assert refused.value.field == field


def test_a_payment_pays_oldest_due_first_and_settles_what_it_covers() -> None:
    b = books()
    b.post_invoice(invoice(2, 300, date(2026, 1, 10)))
    b.post_invoice(invoice(1, 500, date(2026, 1, 5)))
    payment, _ = b.post_payment(PostPayment("P1", "C1", 600, "CNY", date(2026, 2, 1)))
    assert payment.allocations == [("I1", 500), ("I2", 100)] and payment.unapplied == 0
    assert b.invoices["I1"].settled_on == date(2026, 2, 1) and b.invoices["I2"].open_amount == 200
    assert [e["invoice_id"] for e in events(b, "ledger.invoice.settled")] == ["I1"]


def test_money_left_over_pays_the_next_invoice_by_itself() -> None:
    b = books()
    b.post_payment(PostPayment("P1", "C1", 1_000, "CNY", D))
    billed, _ = b.post_invoice(invoice(1, 400, date(2026, 1, 3)))
    assert billed.open_amount == 0 and billed.settled_on == date(2026, 1, 3)
    assert b.credits[("payment", "P1")].unapplied == 600
    (applied,) = events(b, "ledger.credit.applied")
    assert (applied["document_id"], applied["amount"]) == ("P1", 400)
    b.close()
    (position,) = events(b, "ledger.balance.changed")
    assert position["balances"][0]["balance"] == -600


def test_an_early_payment_earns_its_discount_as_a_document_of_its_own() -> None:
    b = books(terms=Terms("net_days", days=30, discount_percent=2, discount_within_days=10))
    b.post_invoice(invoice(1, 100_000))
    payment, _ = b.post_payment(PostPayment("P1", "C1", 98_000, "CNY", date(2026, 1, 8)))
    assert payment.allocations == [("I1", 98_000)]
    discount = b.credits[("discount", "I1")]
    assert (discount.amount, b.invoices["I1"].open_amount) == (2_000, 0)
    late = books(terms=Terms("net_days", days=30, discount_percent=2, discount_within_days=10))
    late.post_invoice(invoice(1, 100_000))
    late.post_payment(PostPayment("P1", "C1", 98_000, "CNY", date(2026, 1, 20)))
    assert late.invoices["I1"].open_amount == 2_000 and ("discount", "I1") not in late.credits


def test_a_refund_is_paid_out_of_unapplied_credit_and_never_more() -> None:
    b = books()
    b.post_payment(PostPayment("P1", "C1", 500, "CNY", D))
    with pytest.raises(Invalid) as refused:
        b.post_invoice(PostInvoice("R1", "C1", 501, "CNY", D, kind="refund"))
    assert refused.value.field == "amount" and "500 CNY is all there is" in refused.value.detail
    assert b.credits[("payment", "P1")].unapplied == 500  # the refusal changed nothing
    refund, _ = b.post_invoice(PostInvoice("R1", "C1", 500, "CNY", D, kind="refund"))
    assert refund.open_amount == 0


def test_explicit_allocations_are_checked_and_a_refusal_changes_nothing() -> None:
    b = books()
    b.post_invoice(invoice(1, 1_000))
    before = len(b.effects.events)
    with pytest.raises(Invalid) as refused:
        b.post_payment(PostPayment("P1", "C1", 2_000, "CNY", D,
                                   allocations=(Allocation("I1", 1_001),)))
    assert refused.value.field == "allocations.0.amount"
    assert len(b.effects.events) == before and b.invoices["I1"].open_amount == 1_000
    with pytest.raises(Invalid):
        b.post_payment(PostPayment("P1", "C1", 500, "USD", D, allocations=(Allocation("I1", 500),)))


def test_a_credit_note_against_an_invoice_takes_no_more_than_is_open() -> None:
    b = books()
    b.post_invoice(invoice(1, 1_000))
    note, _ = b.post_credit_note(PostCreditNote("CN1", "C1", 1_500, "CNY", D, invoice_id="I1"))
    assert note.allocations == [("I1", 1_000)] and note.unapplied == 500
    with pytest.raises(Invalid) as refused:
        b.post_credit_note(PostCreditNote("CN2", "C1", 10, "USD", D, invoice_id="I1"))
    assert refused.value.field == "currency"


def test_a_write_off_asked_by_event_must_name_the_invoices_customer_and_currency() -> None:
    b = books()
    b.post_invoice(invoice(1, 1_000))
    with pytest.raises(Invalid) as wrong_customer:
        b.write_off(WriteOff("W1", "I1", D, "bankrupt", customer_id="C9"))
    assert wrong_customer.value.field == "invoice_id"
    with pytest.raises(NotFound):
        b.write_off(WriteOff("W1", "NOPE", D, "bankrupt"))
    written, _ = b.write_off(WriteOff("W1", "I1", D, "bankrupt", customer_id="C1", currency="CNY"))
    assert written.amount == 1_000 and b.invoices["I1"].open_amount == 0
    with pytest.raises(Invalid) as nothing_open:
        b.write_off(WriteOff("W2", "I1", D, "again"))
    assert nothing_open.value.field == "invoice_id"


def test_applications_and_reversals() -> None:
    b = books()
    b.post_invoice(invoice(1, 1_000))  # due 01-31
    b.post_payment(PostPayment("P1", "C1", 1_500, "CNY", date(2026, 2, 10)))
    b.post_invoice(invoice(2, 2_000, date(2026, 2, 1)))  # takes the 500 left
    with pytest.raises(Invalid):
        b.apply_credit(ApplyCredit("payment", "P1", date(2026, 2, 11), (Allocation("I2", 1),)))
    reversal, _ = b.reverse_payment(ReversePayment("P1", date(2026, 2, 20), "returned"))
    # owed again with the age of the oldest invoice it had paid
    assert (reversal.amount, reversal.due_date) == (1_500, date(2026, 1, 31))
    with pytest.raises(NotFound):
        b.apply_credit(ApplyCredit("payment", "NOPE", D, (Allocation("I2", 1),)))


def test_the_position_counts_only_what_the_sweep_declared_overdue() -> None:
    declared = Invoice("OLD", "invoice", "C1", 700, "CNY", D, D, 700, "t", AT, declared=True)
    b = books(invoices=(declared,), version=3)
    b.post_invoice(PostInvoice("I1", "C1", 100, "USD", D))
    b.post_invoice(invoice(2, 300))
    b.close()
    (position,) = events(b, "ledger.balance.changed")
    assert position["version"] == 4  # once per customer, however many postings
    assert position["balances"] == [
        {"currency": "CNY", "balance": 1_000, "overdue": 700, "oldest_overdue_due_date": D},
        {"currency": "USD", "balance": 100, "overdue": 0, "oldest_overdue_due_date": None}]


@pytest.mark.parametrize(("credit", "declared_open"), [(600, 400), (1_000, None)])
def test_a_reversal_past_due_is_declared_for_what_credit_leaves_open(
        credit: int, declared_open: int | None) -> None:
    """P1 paid I1 (due 01-31) and bounced on 02-20; P2's unapplied credit pays the reversal
    first. What it leaves open is declared missed at once, as the sweep of 02-20 would
    (thresholds 1 and 15, the position before the news); nothing if it leaves nothing."""
    b = books(version=2)
    b.post_invoice(invoice(1, 1_000))
    b.post_payment(PostPayment("P1", "C1", 1_000, "CNY", date(2026, 2, 10)))
    b.post_payment(PostPayment("P2", "C1", credit, "CNY", date(2026, 2, 12), allocations=()))
    b.reverse_payment(ReversePayment("P1", date(2026, 2, 20), "returned"))
    effects = b.close()
    kinds = [e.type for e in effects.events]
    if declared_open is None:
        assert effects.notices == [] and "ledger.payment.missed" not in kinds
        return
    assert [(n.invoice_id, n.threshold_days, n.as_of) for n in effects.notices] == [
        ("REV-P1", 1, date(2026, 2, 20)), ("REV-P1", 15, date(2026, 2, 20))]
    assert kinds[-3:] == ["ledger.balance.changed", "ledger.payment.missed", "ledger.invoice.aged"]
    (position,) = events(b, "ledger.balance.changed")
    assert position["balances"][0]["overdue"] == declared_open
    (missed,) = events(b, "ledger.payment.missed")
    (aged,) = events(b, "ledger.invoice.aged")
    assert (missed["open_amount"], missed["days_past_due"], missed["balance_version"]) == (
        declared_open, 20, 3)
    assert aged["threshold_days"] == 15
