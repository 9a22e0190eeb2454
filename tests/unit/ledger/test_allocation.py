from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.ledger.domain.allocation import (
    Allocation,
    OpenInvoice,
    allocate_oldest_first,
    check_explicit,
)
from shared.errors import Invalid

D = date(2026, 1, 1)


def inv(invoice_id: str, due_offset: int, open_amount: int) -> OpenInvoice:
    return OpenInvoice(invoice_id, D, D + timedelta(days=due_offset), open_amount)


def test_oldest_due_is_paid_first_and_a_partial_payment_stays_partial() -> None:
    invoices = [inv("late", 60, 500), inv("early", 30, 300), inv("mid", 45, 400)]
    assert allocate_oldest_first(500, invoices) == [Allocation("early", 300), Allocation("mid", 200)]


def test_overpayment_leaves_the_rest_unallocated() -> None:
    assert allocate_oldest_first(1000, [inv("a", 1, 300)]) == [Allocation("a", 300)]


@given(st.integers(1, 10**9), st.lists(st.integers(1, 10**8), max_size=20))
def test_allocations_never_exceed_the_payment_or_any_invoice(amount: int, opens: list[int]) -> None:
    invoices = [inv(f"i{n}", n, o) for n, o in enumerate(opens)]
    result = allocate_oldest_first(amount, invoices)
    by_id = {i.invoice_id: i.open_amount for i in invoices}
    assert sum(a.amount for a in result) == min(amount, sum(opens))
    assert all(0 < a.amount <= by_id[a.invoice_id] for a in result)


@pytest.mark.parametrize(("requested", "field"), [
    ([Allocation("nope", 10)], "allocations.0.invoice_id"),
    ([Allocation("a", 301)], "allocations.0.amount"),
    ([Allocation("a", 0)], "allocations.0.amount"),
    ([Allocation("a", 100), Allocation("a", 100)], "allocations.1.invoice_id"),
    ([Allocation("a", 300), Allocation("b", 300)], "allocations"),
])
def test_explicit_allocations_must_make_sense(requested: list[Allocation], field: str) -> None:
    open_invoices = {"a": inv("a", 1, 300), "b": inv("b", 2, 300)}
    with pytest.raises(Invalid) as refused:
        check_explicit(500, requested, open_invoices)
    assert refused.value.field == field


def test_an_invoice_settled_in_time_earns_its_discount() -> None:
    invoices = [OpenInvoice("a", D, D + timedelta(days=30), 1000, discount=20),
                OpenInvoice("b", D, D + timedelta(days=40), 500, discount=10)]
    assert allocate_oldest_first(1470, invoices) == [Allocation("a", 980, 20), Allocation("b", 490, 10)]
    # Not enough to settle "b" net of its discount: a plain partial payment, no discount.
    assert allocate_oldest_first(1200, invoices) == [Allocation("a", 980, 20), Allocation("b", 220)]


def test_an_explicit_allocation_of_the_net_amount_earns_the_discount() -> None:
    open_invoices = {"a": OpenInvoice("a", D, D, 1000, discount=20)}
    assert check_explicit(980, [Allocation("a", 980)], open_invoices) == [Allocation("a", 980, 20)]
    assert check_explicit(900, [Allocation("a", 900)], open_invoices) == [Allocation("a", 900)]
