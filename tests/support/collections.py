"""Helpers for collection-plan's stories: the embedded app with a collector's and an
approver's keys besides the admin's, events fed in as if another service had published
them, and what collection-plan itself announced (its outbox)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from shared.events import EventData, new_event
from shared.events import contracts as ev
from shared.settings import Settings
from tests.support.api import ADMIN_KEY, API_KEYS_SPEC, Api, eventually
from tests.support.embedded import running_app, service_on
from tests.support.outbox import emitted as emitted_by

COLLECTOR_KEY = "test-collector"  # collections:read, collections:write
APPROVER_KEY = "test-approver"  # collections:read, collections:approve
KEYS_SPEC = (f"{API_KEYS_SPEC};{COLLECTOR_KEY}=collections:read,collections:write;"
             f"{APPROVER_KEY}=collections:read,collections:approve")


@asynccontextmanager
async def collections_api(tmp: Path, **overrides: Any) -> AsyncIterator[tuple[Api, FastAPI]]:
    """All four services embedded, on fresh SQLite files."""
    settings = Settings(data_dir=tmp, api_keys=KEYS_SPEC, relay_poll_seconds=0.2,
                        scheduler_enabled=False, **overrides)
    async with running_app(settings) as app:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://recoup") as client:
            yield Api({"/": client}), app


async def publish(app: FastAPI, data: EventData, source: str = "recoup/test") -> None:
    """Deliver an event to every hosted consumer, as the producing service's relay would."""
    transport = app.state.runtimes["collections"].transport
    await transport.publish(new_event(source, data))


async def emitted(app: FastAPI, event_type: str) -> list[dict[str, Any]]:
    """The data of every event of this type collection-plan wrote to its outbox, in order."""
    return await emitted_by(app.state.runtimes["collections"], event_type)


async def dead_letters(app: FastAPI) -> list[tuple[str, str]]:
    """(type, error) of every event a hosted service could not handle."""
    found = []
    for runtime in app.state.runtimes.values():
        table = runtime.infra.dead_letters
        async with runtime.read_sessions() as session:
            found += [(t, e) for t, e in (await session.execute(
                select(table.c.type, table.c.error))).all()]
    return found


async def quiet(app: FastAPI) -> None:
    """Wait until every service's outbox is delivered: each consumer committed each event
    (the in-process relay marks a row sent only then), including what those events caused."""

    async def drained() -> None:
        for runtime in app.state.runtimes.values():
            outbox = runtime.infra.outbox
            async with runtime.read_sessions() as session:
                waiting = (await session.execute(
                    select(outbox.c.id).where(outbox.c.published_at.is_(None)).limit(1))).first()
            assert waiting is None, f"{runtime.name} has events on their way"
    await eventually(drained)


# --- one service alone, fed the other services' events -----------------------------------------
async def feed(runtime: Any, *events: EventData) -> None:
    """Deliver events to the service's consumer (inbox included), one after the other."""
    for data in events:
        await runtime.transport.publish(new_event("recoup/test", data))


def registered(customer_id: str, salesperson: str | None = "li.na", distance_km: int | None = None,
               terms: ev.Terms | None = None) -> ev.CustomerRegistered:
    return ev.CustomerRegistered(customer_id=customer_id, name=f"Dealer {customer_id}",
                                 salesperson=salesperson, distance_km=distance_km,
                                 terms=terms or ev.Terms(mode="net_days", days=30),
                                 credit_limit=ev.MoneyField(amount=10**9, currency="CNY"))


def overdue(customer_id: str, invoice_id: str, amount: int, *, due: date, as_of: date,
            currency: str = "CNY", balance_version: int = 1) -> list[EventData]:
    """The invoice, and the ledger's sweep declaring it missed as of `as_of`."""
    return [
        ev.InvoicePosted(customer_id=customer_id, invoice_id=invoice_id, amount=amount,
                         currency=currency, issue_date=due - timedelta(days=30), due_date=due),
        ev.PaymentMissed(customer_id=customer_id, invoice_id=invoice_id, currency=currency,
                         open_amount=amount, due_date=due, as_of=as_of,
                         days_past_due=(as_of - due).days, balance_version=balance_version),
    ]


@asynccontextmanager
async def collections_alone(db: str, tmp: Path) -> AsyncIterator[tuple[Any, httpx.AsyncClient]]:
    """collection-plan alone on a fresh database, and an admin client for its API (paths
    from /v1)."""
    async with service_on(db, tmp, "collections") as (app, runtime):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://recoup/collections",
                                     headers={"Authorization": f"Bearer {ADMIN_KEY}"}) as client:
            yield runtime, client


async def hand_over_notice(client: httpx.AsyncClient, customer_id: str, as_of: str) -> None:
    """The collector records the written notice handed over (late interest runs after it),
    through a client of `collections_alone`."""
    (case,) = (await client.get(f"/v1/cases?customer_id={customer_id}&status=open")).json()
    (task,) = [t for t in case["open_tasks"] if t["kind"] == "written_notice"]
    response = await client.post(f"/v1/tasks/{task['id']}/outcome",
                                 json={"outcome": "reached", "as_of": as_of})
    assert response.status_code == 200, response.text
