"""Payments racing for the same invoice leave the books right (real concurrent requests
on PostgreSQL, each on its own connection)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from services.ledger.tables import Allocation, CreditDocument, Invoice, JournalLine
from tests.support.api import Api
from tests.support.embedded import service_on
from tests.support.ledger import register_customers

pytestmark = pytest.mark.postgres


@pytest.fixture
async def ledger(tmp_path: Path) -> AsyncIterator[tuple[Api, object]]:
    async with service_on("postgres", tmp_path, "ledger") as (app, runtime):
        await register_customers(runtime, "C1")
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ledger") as client:
            api = Api({"/": client})
            await api.ok("POST", "/ledger/v1/invoices", {
                "id": "I1", "customer_id": "C1", "amount": 100_000, "currency": "CNY",
                "issue_date": "2026-01-01"})
            yield api, runtime


def payment(n: int, allocate: bool) -> dict:
    body = {"id": f"P{n}", "customer_id": "C1", "amount": 30_000, "currency": "CNY",
            "received_on": "2026-01-15"}
    return {**body, "allocations": [{"invoice_id": "I1", "amount": 30_000}]} if allocate else body


async def totals(runtime: object) -> dict[str, int]:
    async with runtime.sessions() as session:  # type: ignore[attr-defined]
        invoice = await session.get(Invoice, "I1")
        allocated = (await session.execute(select(func.sum(Allocation.amount)))).scalar_one()
        unapplied = (await session.execute(select(func.sum(CreditDocument.unapplied)))).scalar_one()
        received = (await session.execute(select(func.sum(CreditDocument.amount)))).scalar_one()
        journal = (await session.execute(select(func.sum(JournalLine.amount)))).scalar_one()
    return {"open": invoice.open_amount, "allocated": allocated or 0,
            "unapplied": unapplied or 0, "received": received or 0, "journal": journal}


async def test_explicit_allocations_racing_never_overpay_an_invoice(ledger: tuple) -> None:
    api, runtime = ledger
    answers = await asyncio.gather(*(api.post("/ledger/v1/payments", payment(n, True))
                                     for n in range(10)))
    codes = sorted(r.status_code for r in answers)
    assert codes == [201] * 3 + [422] * 7, [r.text for r in answers]
    assert await totals(runtime) == {"open": 10_000, "allocated": 90_000, "unapplied": 0,
                                     "received": 90_000, "journal": 0}


async def test_oldest_first_payments_racing_keep_every_cent(ledger: tuple) -> None:
    api, runtime = ledger
    answers = await asyncio.gather(*(api.post("/ledger/v1/payments", payment(n, False))
                                     for n in range(10)))
    assert {r.status_code for r in answers} == {201}
    assert await totals(runtime) == {"open": 0, "allocated": 100_000, "unapplied": 200_000,
                                     "received": 300_000, "journal": 0}


async def test_a_credit_note_racing_a_payment_never_overallocates(ledger: tuple) -> None:
    api, runtime = ledger
    for n in range(2, 12):  # several rounds: the race has to be lost at least once to matter
        await api.ok("POST", "/ledger/v1/invoices", {
            "id": f"I{n}", "customer_id": "C1", "amount": 100_000, "currency": "CNY",
            "issue_date": "2026-01-01"})
        pay = api.post("/ledger/v1/payments", {
            "id": f"P{n}", "customer_id": "C1", "amount": 60_000, "currency": "CNY",
            "received_on": "2026-01-15", "allocations": [{"invoice_id": f"I{n}", "amount": 60_000}]})
        note = api.post("/ledger/v1/credit-notes", {
            "id": f"CN{n}", "customer_id": "C1", "amount": 100_000, "currency": "CNY",
            "issue_date": "2026-01-15", "invoice_id": f"I{n}"})
        answers = await asyncio.gather(pay, note)
        async with runtime.sessions() as session:
            invoice = await session.get(Invoice, f"I{n}")
            allocated = (await session.execute(select(func.sum(Allocation.amount))
                         .where(Allocation.invoice_id == f"I{n}"))).scalar_one()
        assert allocated + invoice.open_amount == 100_000, [a.text for a in answers]
    totals_now = await totals(runtime)
    assert totals_now["journal"] == 0
    # Every cent received is either allocated or still the customer's.
    assert totals_now["allocated"] + totals_now["unapplied"] == totals_now["received"]



async def test_a_payment_sent_several_times_at_once_and_bounced_twice_is_booked_once(
        ledger: tuple) -> None:
    api, runtime = ledger
    body = {**payment(1, True), "amount": 40_000}  # 30,000 to I1, 10,000 unapplied
    answers = await asyncio.gather(*(api.post("/ledger/v1/payments", body) for _ in range(5)))
    assert sorted(r.status_code for r in answers) == [200] * 4 + [201], [r.text for r in answers]
    await api.ok("POST", "/ledger/v1/invoices", {  # the rest pays it
        "id": "I2", "customer_id": "C1", "amount": 10_000, "currency": "CNY",
        "issue_date": "2026-01-16"})
    assert (await api.post("/ledger/v1/payments", body)).status_code == 200
    bounce = {"reversed_on": "2026-01-20", "reason": "returned"}
    answers = await asyncio.gather(*(api.post("/ledger/v1/payments/P1/reversal", json=bounce)
                                     for _ in range(2)))
    assert sorted(r.status_code for r in answers) == [200, 201], [r.text for r in answers]
    async with runtime.sessions() as session:
        reversal = await session.get(Invoice, "REV-P1")
    assert (reversal.amount, reversal.open_amount) == (40_000, 40_000)
    assert await totals(runtime) == {"open": 70_000, "allocated": 40_000, "unapplied": 0,
                                     "received": 40_000, "journal": 0}


async def test_batches_over_the_same_customers_in_any_order_never_deadlock(ledger: tuple) -> None:
    """Each batch locks all its customers at once, in key order, as single POSTs and the
    sweep do: batches listing them in opposite orders, and single payments, take turns."""
    api, runtime = ledger
    await register_customers(runtime, *(f"C{c}" for c in range(2, 12)))
    ids = [f"C{c}" for c in range(1, 12)]

    def batch(n: int, order: list[str]) -> str:
        return "\n".join(json.dumps({
            "type": "invoice", "id": f"B{n}-{customer}", "customer_id": customer,
            "amount": 1_000, "currency": "CNY", "issue_date": "2026-01-02"}) for customer in order)

    requests = [api.post("/ledger/v1/batches", content=batch(n, ids if n % 2 else ids[::-1]),
                         headers={"Content-Type": "application/x-ndjson"}) for n in range(8)]
    requests += [api.post("/ledger/v1/payments", {
        "id": f"SP{n}", "customer_id": ids[n], "amount": 500, "currency": "CNY",
        "received_on": "2026-01-03"}) for n in range(len(ids))]
    answers = await asyncio.gather(*requests)
    assert [a.status_code for a in answers] == [200] * 8 + [201] * len(ids), [
        a.text for a in answers if a.status_code >= 300]
    async with runtime.sessions() as session:
        journal = (await session.execute(select(func.sum(JournalLine.amount)))).scalar_one()
        billed = (await session.execute(select(func.sum(Invoice.amount))
                                        .where(Invoice.id.like("B%")))).scalar_one()
    assert (journal, billed) == (0, 8 * 11 * 1_000)


async def test_a_batch_of_the_largest_size_books_and_rebooks_nothing(ledger: tuple) -> None:
    """10,000 rows: no statement may pass asyncpg's 32,767 bound parameters."""
    api, runtime = ledger
    body = "\n".join(json.dumps({
        "type": "invoice", "id": f"BIG-{n:05d}", "customer_id": "C1", "amount": 100,
        "currency": "CNY", "issue_date": "2026-01-02"}) for n in range(10_000))
    for created in (10_000, 0):
        answer = await api.post("/ledger/v1/batches", content=body,
                                headers={"Content-Type": "application/x-ndjson"})
        assert answer.status_code == 200, answer.text[:500]
        assert (answer.json()["created"], answer.json()["rows"]) == (created, 10_000)
    async with runtime.sessions() as session:
        open_total = (await session.execute(select(func.sum(Invoice.open_amount))
                                            .where(Invoice.id.like("BIG-%")))).scalar_one()
    assert open_total == 1_000_000
