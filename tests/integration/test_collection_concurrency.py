"""Racing requests on PostgreSQL: sweeps of the same date run at once, and collectors
record promises at once; nothing is announced or charged twice."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from services.collection_plan.tables import Dispute, InvoicePause
from shared.events import contracts as ev
from shared.events import new_event
from tests.support.collections import (
    collections_alone,
    feed,
    hand_over_notice,
    overdue,
    registered,
)
from tests.support.outbox import emitted as announced

pytestmark = pytest.mark.postgres
D = date.fromisoformat


async def test_sweeps_of_one_date_at_once_announce_and_charge_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECOUP_COLLECTIONS_INTEREST_RATE_BASIS_POINTS", "1200")
    async with collections_alone("postgres", tmp_path) as (runtime, client):
        for customer_id in ("C1", "C2", "C3"):
            await feed(runtime, registered(customer_id), *overdue(
                customer_id, f"{customer_id}-1", 100_000, due=D("2026-01-31"), as_of=D("2026-02-20")))
            await hand_over_notice(client, customer_id, "2026-02-20")
            (case,) = (await client.get(f"/v1/cases?customer_id={customer_id}")).json()
            response = await client.post(f"/v1/cases/{case['id']}/promises", json={
                "amount": 50_000, "currency": "CNY", "promised_on": "2026-02-25",
                "as_of": "2026-02-20"})
            assert response.status_code == 201, response.text

        answers = await asyncio.gather(*(
            client.post("/v1/sweeps", json={"as_of": "2026-03-02"}) for _ in range(6)))
        assert [a.status_code for a in answers] == [200] * 6, [a.text for a in answers]
        assert sum(a.json()["promises_broken"] for a in answers) == 3
        assert len(await announced(runtime, "collections.promise.broken")) == 3
        charges = await announced(runtime, "collections.interest.charged")
        assert sorted(c["invoice_id"] for c in charges) == ["C1-1", "C2-1", "C3-1"]
        # 30 days is supply pressure (3); the broken promise takes each case one step more.
        levels = [(e["customer_id"], e["level"])
                  for e in await announced(runtime, "collections.case.escalated")]
        assert sorted(levels) == [(c, lv) for c in ("C1", "C2", "C3") for lv in (2, 4)]
        assert max(a.json()["runs"] for a in answers) == 6


async def test_promises_recorded_at_once_leave_one_open(tmp_path: Path) -> None:
    async with collections_alone("postgres", tmp_path) as (runtime, client):
        await feed(runtime, registered("C1"),
                   *overdue("C1", "C1-1", 100_000, due=D("2026-01-31"), as_of=D("2026-02-05")))
        (case,) = (await client.get("/v1/cases")).json()
        answers = await asyncio.gather(*(client.post(f"/v1/cases/{case['id']}/promises", json={
            "amount": 10_000 + n, "currency": "CNY", "promised_on": "2026-02-10",
            "as_of": "2026-02-05"}) for n in range(5)))
        assert sorted(a.status_code for a in answers) == [201, 409, 409, 409, 409]
        assert len(await announced(runtime, "collections.promise.made")) == 1


async def test_agreements_over_the_same_invoices_signed_at_once_leave_one(tmp_path: Path) -> None:
    async with collections_alone("postgres", tmp_path) as (runtime, client):
        await feed(runtime, registered("C1"),
                   *overdue("C1", "C1-1", 100_000, due=D("2026-01-31"), as_of=D("2026-02-05")))
        answers = await asyncio.gather(*(client.post("/v1/agreements", json={
            "customer_id": "C1", "invoice_ids": ["C1-1"], "as_of": "2026-02-05",
            "instalments": [{"due_date": "2026-02-20", "amount": 50_000 + n},
                            {"due_date": "2026-03-05", "amount": 50_000 - n}]})
            for n in range(5)))
        assert sorted(a.status_code for a in answers) == [201, 422, 422, 422, 422]
        assert all("already in agreement" in a.text for a in answers if a.status_code == 422)
        assert len(await announced(runtime, "collections.agreement.signed")) == 1


async def test_news_of_a_new_customer_handled_at_once_by_competing_consumers(tmp_path: Path) -> None:
    """Replicas take a customer's first events side by side: none of them fails."""
    async with collections_alone("postgres", tmp_path) as (runtime, _):
        due, as_of = D("2026-01-31"), D("2026-02-20")
        news = [
            *overdue("NEW", "NEW-1", 1_000, due=due, as_of=as_of),
            ev.InvoiceAged(customer_id="NEW", invoice_id="NEW-1", currency="CNY", open_amount=1_000,
                           due_date=due, as_of=as_of, days_past_due=20, balance_version=1,
                           threshold_days=15),
            ev.RatingChanged(customer_id="NEW", rating_class="D", score=1, reasons=[]),
            ev.BalanceChanged(customer_id="NEW", version=1, as_of=as_of, balances=[
                ev.CurrencyBalance(currency="CNY", balance=1_000, overdue=1_000)]),
            registered("NEW"),
        ]
        handlers = runtime.definition.subscriptions()

        async def handle(data: ev.EventData) -> None:
            async with runtime.unit_of_work() as uow:
                await handlers[data.event_type](uow, data, new_event("recoup/test", data))
                await uow.commit()

        await asyncio.gather(*(handle(data) for data in news))
        cases = await announced(runtime, "collections.case.opened")
        assert len(cases) == 1


async def test_a_dispute_racing_its_resolution_and_a_payment_takes_turns(tmp_path: Path) -> None:
    """Competing consumers take a customer's dispute, its resolution and a payment side by
    side: each waits for the customer, so none fails on a key the other just wrote."""
    async with collections_alone("postgres", tmp_path) as (runtime, _):
        await feed(runtime, registered("C1"),
                   *overdue("C1", "C1-1", 100_000, due=D("2026-01-31"), as_of=D("2026-02-05")))
        handlers = runtime.definition.subscriptions()

        async def handle(data: ev.EventData) -> None:
            async with runtime.unit_of_work() as uow:
                await handlers[data.event_type](uow, data, new_event("recoup/test", data))
                await uow.commit()

        for n in range(5):
            dispute = dict(customer_id="C1", statement_id=f"ST-{n}", dispute_id=f"DSP-{n}",
                           invoice_ids=["C1-1"])
            await asyncio.gather(
                handle(ev.StatementDisputed(**dispute, reason="short delivery")),
                handle(ev.DisputeResolved(**dispute, resolution="rejected", note="",
                                          resolved_by="x")),
                handle(ev.PaymentReceived(
                    customer_id="C1", payment_id=f"P-{n}", amount=1_000, currency="CNY",
                    received_on=D("2026-02-06"), unapplied=0,
                    allocations=[ev.Allocation(invoice_id="C1-1", amount=1_000)])))
        async with runtime.read_sessions() as session:
            open_pauses = (await session.execute(select(InvoicePause).where(
                InvoicePause.ends_on.is_(None)))).scalars().all()
            disputes = (await session.execute(select(Dispute))).scalars().all()
        # Whichever came first, every dispute ends resolved and pauses nothing.
        assert open_pauses == []
        assert sorted((d.id, d.resolved_on is not None) for d in disputes) == [
            (f"DSP-{n}", True) for n in range(5)]
