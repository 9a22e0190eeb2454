"""A bounced payment whose debt is already past due is overdue at once: the reversal
declares it missed in its own transaction, as the sweep would (its notices, the missed
payment and the age threshold crossed, the position counting it overdue), so credit and
collection-plan hear of it now, not after the next night; the sweep then announces
nothing twice. By HTTP and by reconciliation's event alike (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from services.ledger import handlers, sweep
from services.ledger.domain.commands import PostInvoice, PostPayment, RunSweep
from shared.events import contracts as ev
from shared.events import new_event
from tests.support.api import Api
from tests.support.embedded import service_on

BOTH = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
NEWS = ("ledger.payment.missed", "ledger.invoice.aged", "ledger.balance.changed")


class Ledger:
    def __init__(self, api: Api, runtime: Any) -> None:
        self.api = api
        self.runtime = runtime
        self.seen = 0  # outbox events already looked at

    async def book(self, invoice: str, issued: date, payment: str, received: date) -> None:
        """C1's invoice of 10,000 (net 30) and a payment that pays it."""
        async with self.runtime.unit_of_work("test") as uow:
            await handlers.post_invoice(uow, PostInvoice(invoice, "C1", 10_000, "CNY", issued))
            await handlers.post_payment(uow, PostPayment(payment, "C1", 10_000, "CNY", received))
            await uow.commit()

    async def reverse(self, how: str, payment: str, on: date) -> None:
        if how == "http":
            await self.api.ok("POST", f"/ledger/v1/payments/{payment}/reversal",
                              {"reversed_on": on.isoformat(), "reason": "cheque returned"})
        else:
            await self.runtime.transport.publish(new_event("recoup/reconciliation", ev.PaymentReturned(
                customer_id="C1", payment_id=payment, bank_line_id=f"R-{payment}", amount=10_000,
                currency="CNY", returned_on=on, reason="AM04 insufficient funds",
                linked_by="matching")))

    async def sweep(self, on: date) -> dict[str, Any]:
        return await sweep.run_sweep(self.runtime.unit_of_work, RunSweep(on))

    async def news(self) -> list[dict[str, Any]]:
        """The overdue news and positions announced since the last call, in order."""
        outbox = self.runtime.infra.outbox
        async with self.runtime.read_sessions() as session:
            rows = (await session.execute(select(outbox.c.type, outbox.c.envelope)
                                          .order_by(outbox.c.id))).all()
        fresh, self.seen = rows[self.seen:], len(rows)
        return [json.loads(envelope)["data"] | {"type": kind} for kind, envelope in fresh
                if kind in NEWS]


@pytest.fixture(params=BOTH)
async def ledger(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Ledger]:
    async with service_on(request.param, tmp_path, "ledger") as (app, runtime):
        registered = ev.CustomerRegistered(
            customer_id="C1", name="Dealer", terms=ev.Terms(mode="net_days", days=30),
            credit_limit=ev.MoneyField(amount=10**9, currency="CNY"))
        await runtime.transport.publish(new_event("recoup/credit", registered))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ledger") as client:
            yield Ledger(Api({"/": client}), runtime)


@pytest.mark.parametrize("how", ["http", "event"])
async def test_a_bounced_payment_of_an_overdue_invoice_is_declared_missed_at_once(
        ledger: Ledger, how: str) -> None:
    # I1 due 2026-01-31, paid late on 02-10; the payment bounces on 03-05, 33 days past due.
    await ledger.book("I1", date(2026, 1, 1), "P1", date(2026, 2, 10))
    await ledger.news()
    await ledger.reverse(how, "P1", date(2026, 3, 5))

    position, missed, aged = await ledger.news()
    assert position["type"] == "ledger.balance.changed"  # the position first, as the sweep
    assert position["balances"] == [{"currency": "CNY", "balance": 10_000, "overdue": 10_000,
                                     "oldest_overdue_due_date": "2026-01-31"}]
    news = {"customer_id": "C1", "invoice_id": "REV-P1", "currency": "CNY",
            "open_amount": 10_000, "due_date": "2026-01-31", "as_of": "2026-03-05",
            "days_past_due": 33, "balance_version": position["version"]}
    assert missed == news | {"type": "ledger.payment.missed"}
    assert aged == news | {"type": "ledger.invoice.aged", "threshold_days": 30}

    # The night's sweep has nothing to add; a later one only the next threshold.
    assert (await ledger.sweep(date(2026, 3, 5)))["events"] == 0
    assert (await ledger.sweep(date(2026, 3, 6)))["events"] == 0
    later = await ledger.sweep(date(2026, 4, 5))  # 64 days
    assert (later["payment_missed"], later["invoice_aged"]) == (0, 1)
    (sixty,) = await ledger.news()
    assert (sixty["invoice_id"], sixty["threshold_days"]) == ("REV-P1", 60)

    # Sent again, it books and announces nothing more.
    await ledger.reverse(how, "P1", date(2026, 3, 5))
    assert [e for e in await ledger.news() if e["type"] != "ledger.balance.changed"] == []


@pytest.mark.parametrize("how", ["http", "event"])
async def test_a_bounced_payment_not_yet_due_waits_for_its_due_dates_sweep(
        ledger: Ledger, how: str) -> None:
    # I2 due 2026-03-31, paid early on 03-05; bounced on 03-10: owed again, due that day.
    await ledger.book("I2", date(2026, 3, 1), "P2", date(2026, 3, 5))
    await ledger.news()
    await ledger.reverse(how, "P2", date(2026, 3, 10))
    (position,) = await ledger.news()
    assert position["balances"] == [{"currency": "CNY", "balance": 10_000, "overdue": 0,
                                     "oldest_overdue_due_date": None}]

    assert (await ledger.sweep(date(2026, 3, 10)))["events"] == 0
    announced = await ledger.sweep(date(2026, 3, 11))
    assert (announced["payment_missed"], announced["invoice_aged"]) == (1, 0)
    missed = [e for e in await ledger.news() if e["type"] == "ledger.payment.missed"]
    assert [(e["invoice_id"], e["as_of"], e["days_past_due"]) for e in missed] == [
        ("REV-P2", "2026-03-11", 1)]
