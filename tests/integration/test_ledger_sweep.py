"""The overdue sweep, set-based and committed chunk by chunk: the same news whatever the
chunks, nothing twice, and right against payments arriving while it runs (PostgreSQL)."""

from __future__ import annotations

import asyncio
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from services.ledger import handlers, sweep
from services.ledger.domain.commands import PostInvoice, PostPayment, RunSweep
from shared.events import CloudEvent, EventEncoder, new_event
from shared.events import contracts as ev
from tests.support.embedded import service_on

BOTH = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
ISSUED = date(2026, 1, 1)  # net 30: due 2026-01-31


async def customers(runtime: Any, count: int, invoices: int = 1) -> None:
    async with runtime.unit_of_work("test") as uow:
        for c in range(count):
            data = ev.CustomerRegistered(
                customer_id=f"C{c:03d}", name="Dealer", terms=ev.Terms(mode="net_days", days=30),
                credit_limit=ev.MoneyField(amount=10**9, currency="CNY"))
            await handlers.on_customer_terms(uow, data, new_event("test", data))
        await uow.commit()
    async with runtime.unit_of_work("test") as uow:
        await handlers.post_many(uow, [
            PostInvoice(f"I{c:03d}-{n}", f"C{c:03d}", 1_000 * (n + 1), "CNY", ISSUED)
            for c in range(count) for n in range(invoices)])
        await uow.commit()


async def events(runtime: Any, *types: str) -> list[dict[str, Any]]:
    outbox = runtime.infra.outbox
    async with runtime.read_sessions() as session:
        rows = (await session.execute(select(outbox.c.type, outbox.c.envelope)
                                      .order_by(outbox.c.id))).all()
    return [json.loads(envelope)["data"] | {"type": kind} for kind, envelope in rows
            if kind in types]


NEWS = ("ledger.payment.missed", "ledger.invoice.aged", "ledger.balance.changed")


@pytest.mark.parametrize("db", BOTH)
async def test_chunks_give_the_same_news_once_and_positions_before_their_news(
        db: str, tmp_path: Path) -> None:
    async with service_on(db, tmp_path, "ledger") as (_, runtime):
        await customers(runtime, 5, invoices=3)
        before = len(await events(runtime, *NEWS))
        as_of = RunSweep(date(2026, 3, 5))  # 33 days past due: missed, and aged 30
        counts = await sweep.run_sweep(runtime.unit_of_work, as_of, chunk=2, workers=2)
        assert counts == {"as_of": as_of.as_of, "payment_missed": 15, "invoice_aged": 15,
                          "balance_changed": 5, "events": 35}
        assert (await sweep.run_sweep(runtime.unit_of_work, as_of, chunk=1))["events"] == 0
        news = (await events(runtime, *NEWS))[before:]
        assert len(news) == 35
        seen: dict[str, int] = {}
        for event in news:  # each customer's position first, its news with that version
            if event["type"] == "ledger.balance.changed":
                seen[event["customer_id"]] = event["version"]
                assert event["balances"][0]["overdue"] == 6_000
            else:
                assert event["balance_version"] == seen[event["customer_id"]]
        aged = [e["threshold_days"] for e in news if e["type"] == "ledger.invoice.aged"]
        assert set(aged) == {30}  # the highest threshold crossed, once
        # Later, the next thresholds only.
        later = await sweep.run_sweep(runtime.unit_of_work, RunSweep(date(2026, 4, 5)))
        assert (later["payment_missed"], later["invoice_aged"], later["balance_changed"]) == (0, 15, 0)


@pytest.mark.postgres
async def test_payments_racing_the_sweep_never_leave_stale_missed_payment_news(
        tmp_path: Path) -> None:
    async with service_on("postgres", tmp_path, "ledger") as (_, runtime):
        count = 40
        await customers(runtime, count)

        async def pay(c: int) -> None:
            async with runtime.unit_of_work("test") as uow:
                await handlers.post_payment(uow, PostPayment(
                    f"P{c:03d}", f"C{c:03d}", 1_000, "CNY", date(2026, 2, 20)))
                await uow.commit()

        async def pay_all() -> None:  # in the sweep's order, so that the two meet and pass
            for c in range(count):
                await pay(c)

        # Chunks of one customer, two at a time, while every invoice is being paid.
        await asyncio.gather(
            sweep.run_sweep(runtime.unit_of_work, RunSweep(date(2026, 2, 20)), chunk=1, workers=2),
            pay_all())
        missed = {e["customer_id"]: e for e in await events(runtime, "ledger.payment.missed")}
        payments = {e["customer_id"]: e for e in await events(runtime, "ledger.payment.received")}
        positions = await events(runtime, "ledger.balance.changed")
        for customer_id, news in missed.items():
            # The sweep saw the invoice open, so the payment came later: a later version,
            # and the last position shows nothing overdue.
            last = max((p for p in positions if p["customer_id"] == customer_id),
                       key=lambda p: p["version"])
            assert last["version"] > news["balance_version"]
            assert last["balances"] == [] and customer_id in payments
        assert len(payments) == count


@pytest.mark.parametrize("db", BOTH)
async def test_the_sweeps_events_are_their_contracts_json_and_positions_are_whole(
        db: str, tmp_path: Path) -> None:
    """Events written out without a model per event are byte for byte what the contracts'
    models write; the position counts every open invoice and the unapplied credit, per
    currency, overdue only what was declared missed (by this sweep or an earlier one)."""
    async with service_on(db, tmp_path, "ledger") as (_, runtime):
        await customers(runtime, 1)  # I000-0: 1,000 CNY due 2026-01-31
        async with runtime.unit_of_work("test") as uow:
            await handlers.post_many(uow, [
                PostInvoice("I000-late", "C000", 2_000, "CNY", date(2026, 2, 10)),  # due 03-12
                PostInvoice("I000-usd", "C000", 500, "USD", date(2026, 3, 1)),  # due 03-31
                PostPayment("P000", "C000", 300, "EUR", date(2026, 1, 5))])  # nothing to pay
            await uow.commit()
        before = len(await events(runtime, *NEWS))
        # A sweep for a later day declares I000-late missed; then one for an earlier day
        # finds a new overdue invoice: the position still counts I000-late overdue.
        await sweep.run_sweep(runtime.unit_of_work, RunSweep(date(2026, 3, 14)))
        async with runtime.unit_of_work("test") as uow:
            await handlers.post_invoice(uow, PostInvoice("I000-new", "C000", 4_000, "CNY",
                                                         date(2026, 1, 1)))  # due 01-31
            await uow.commit()
        await sweep.run_sweep(runtime.unit_of_work, RunSweep(date(2026, 3, 5)))
        positions = [e for e in (await events(runtime, *NEWS))[before:]
                     if e["type"] == "ledger.balance.changed"]
        assert positions[-1]["balances"] == [
            {"currency": "CNY", "balance": 7_000, "overdue": 7_000,
             "oldest_overdue_due_date": "2026-01-31"},
            {"currency": "EUR", "balance": -300, "overdue": 0, "oldest_overdue_due_date": None},
            {"currency": "USD", "balance": 500, "overdue": 0, "oldest_overdue_due_date": None}]

        outbox = runtime.infra.outbox
        async with runtime.read_sessions() as session:
            envelopes = (await session.scalars(select(outbox.c.envelope).where(
                outbox.c.type.in_(NEWS)))).all()
        assert len(envelopes) > len(positions)
        for envelope in envelopes:
            parsed = CloudEvent.model_validate_json(envelope)
            rebuilt = new_event(parsed.source, parsed.payload(), subject=parsed.subject)
            assert rebuilt.model_copy(update={"id": parsed.id, "time": parsed.time}
                                      ).to_json() == envelope


@pytest.mark.parametrize("db", BOTH)
async def test_a_chunk_that_fails_leaves_nothing_and_a_rerun_announces_the_rest_once(
        db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async with service_on(db, tmp_path, "ledger") as (_, runtime):
        await customers(runtime, 4)
        before = len(await events(runtime, *NEWS))
        as_of = RunSweep(date(2026, 3, 5))
        written = EventEncoder.__call__

        def failing(self: Any, data: dict[str, Any], **kw: Any) -> Any:
            if data["customer_id"] == "C002":  # the second chunk of two customers
                raise RuntimeError("the process dies while writing the chunk's events")
            return written(self, data, **kw)

        monkeypatch.setattr(EventEncoder, "__call__", failing)
        with pytest.raises(RuntimeError):
            await sweep.run_sweep(runtime.unit_of_work, as_of, chunk=2)
        news = (await events(runtime, *NEWS))[before:]
        assert {e["customer_id"] for e in news} == {"C000", "C001"}  # the first chunk only
        monkeypatch.setattr(EventEncoder, "__call__", written)
        rerun = await sweep.run_sweep(runtime.unit_of_work, as_of, chunk=2)
        assert (rerun["payment_missed"], rerun["balance_changed"]) == (2, 2)
        news = (await events(runtime, *NEWS))[before:]
        missed = [e["customer_id"] for e in news if e["type"] == "ledger.payment.missed"]
        assert sorted(missed) == ["C000", "C001", "C002", "C003"]


@pytest.mark.postgres
async def test_two_sweeps_at_once_announce_everything_exactly_once(tmp_path: Path) -> None:
    async with service_on("postgres", tmp_path, "ledger") as (_, runtime):
        await customers(runtime, 12, invoices=2)
        before = len(await events(runtime, *NEWS))
        as_of = RunSweep(date(2026, 3, 5))
        first, second = await asyncio.gather(
            sweep.run_sweep(runtime.unit_of_work, as_of, chunk=3, workers=2),
            sweep.run_sweep(runtime.unit_of_work, as_of, chunk=2, workers=2))
        assert first["payment_missed"] + second["payment_missed"] == 24
        assert first["invoice_aged"] + second["invoice_aged"] == 24
        news = (await events(runtime, *NEWS))[before:]
        missed = [e["invoice_id"] for e in news if e["type"] == "ledger.payment.missed"]
        assert sorted(missed) == sorted({f"I{c:03d}-{n}" for c in range(12) for n in range(2)})
        versions = [(e["customer_id"], e["version"]) for e in news
                    if e["type"] == "ledger.balance.changed"]
        assert len(versions) == len(set(versions)) == 12


async def test_on_sqlite_the_sweep_opens_no_transaction_for_postgresql_statistics(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keeping the notices' statistics fresh is PostgreSQL's concern: on SQLite, where each
    transaction takes the database's write lock, the sweep must not open one per chunk to
    learn that there is nothing to analyze."""
    monkeypatch.setattr(sweep, "ANALYZE_FROM", 1)
    async with service_on("sqlite", tmp_path, "ledger") as (_, runtime):
        await customers(runtime, 6)
        opened = 0

        def unit_of_work() -> Any:
            nonlocal opened
            opened += 1
            return runtime.unit_of_work("test")

        counts = await sweep.run_sweep(unit_of_work, RunSweep(date(2026, 3, 5)), chunk=1)
        assert counts["payment_missed"] == 6
        # 6 chunks, the look that finds no more, and one look at the dialect.
        assert opened == 6 + 1 + 1
