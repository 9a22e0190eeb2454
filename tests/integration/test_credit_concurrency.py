"""Racing requests on PostgreSQL: the loser of a race gets a 409 to retry, never a 500."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

import httpx
import pytest

from services.credit import handlers
from services.credit.domain.commands import ReleaseHold
from services.credit.handlers import holds
from services.credit.handlers.common import find_customer
from shared.errors import Conflict
from tests.support.api import Api
from tests.support.credit_feed import Feed, LedgerNews
from tests.support.embedded import service_on
from tests.support.seed import register_dealer

pytestmark = pytest.mark.postgres


async def test_the_same_new_customer_registered_four_times_at_once(tmp_path: Path) -> None:
    async with service_on("postgres", tmp_path, "credit") as (app, _):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://credit") as client:
            api = Api({"/": client})
            body = {"id": "NEW", "name": "Dealer", "terms": {"mode": "cash"},
                    "credit_limit": {"amount": 1, "currency": "CNY"}}
            answers = await asyncio.gather(*(api.post("/credit/v1/customers", body)
                                             for _ in range(4)))
            assert (await api.get("/credit/v1/customers/NEW")).status_code == 200
    codes = [a.status_code for a in answers]
    assert codes.count(201) == 1 and set(codes) <= {200, 201, 409}, [a.text for a in answers]


async def test_orders_checked_at_once_never_spend_the_same_credit_twice(tmp_path: Path) -> None:
    async with service_on("postgres", tmp_path, "credit") as (app, _):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://credit") as client:
            api = Api({"/": client})
            await api.ok("POST", "/credit/v1/customers", {
                "id": "D1", "name": "Dealer", "terms": {"mode": "net_days", "days": 30},
                "credit_limit": {"amount": 1_000_000, "currency": "CNY"}})
            answers = await asyncio.gather(*(api.post("/credit/v1/checks", {
                "customer_id": "D1", "amount": 300_000, "currency": "CNY", "order_id": f"SO-{n}"})
                for n in range(10)))
            customer = await api.ok("GET", "/credit/v1/customers/D1")
    assert all(a.status_code == 200 for a in answers), [a.text for a in answers]
    decisions = sorted(a.json()["decision"] for a in answers)
    assert decisions == ["approve"] * 3 + ["cash_only"] * 6 + ["reduce"]
    reserved = sum(a.json()["reservation"]["amount"] for a in answers if a.json()["reservation"])
    assert reserved == customer["reserved"]["amount"] == 1_000_000


async def test_a_person_releasing_a_hold_waits_for_the_event_deciding_on_it(tmp_path: Path) -> None:
    """A handler holds the customer's lock while it decides on the holds; a person's release
    of one of them takes the same lock first, so it never slips in between the handler's
    read and its write (the hold released twice, the person's override overwritten)."""
    async with service_on("postgres", tmp_path, "credit") as (_, runtime):
        await register_dealer(runtime, limit=1_000_000)
        ledger = LedgerNews(Feed(runtime), "C1")
        await ledger.invoice("INV-1", 300_000, date(2026, 1, 1))
        await ledger.sweep(date(2026, 2, 20))  # 20 days: cash only
        async with runtime.unit_of_work("event:ledger.balance.changed") as uow:
            customer = await find_customer(uow, "C1", lock=True)
            assert customer is not None
            (hold,) = [h for h in await handlers.active_holds(uow, "C1") if h.kind == "cash_only"]

            async def person() -> str:
                try:
                    async with runtime.unit_of_work("li.na") as mine:
                        await handlers.release_hold(mine, ReleaseHold(hold.id, "pays on Friday"))
                        await mine.commit()
                    return "released"
                except Conflict:
                    return "conflict"

            racing = asyncio.create_task(person())
            await asyncio.sleep(0.5)  # the person's request arrives while the event decides
            holds.release(uow, hold, by="event:ledger.balance.changed", reason="nothing overdue any more")
            await uow.commit()
        outcome = await racing
        released = [e for e in await Feed(runtime).emitted("credit.hold.released")
                    if e["hold_id"] == hold.id]
    assert outcome == "conflict" and len(released) == 1, (outcome, released)
