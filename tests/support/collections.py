"""Helpers for collection-plan's stories: the embedded app with a collector's and an
approver's keys besides the admin's, events fed in as if another service had published
them, and what collection-plan itself announced (its outbox)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from shared.events import EventData, new_event
from shared.settings import Settings
from tests.support.api import API_KEYS_SPEC, Api, eventually
from tests.support.embedded import running_app

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
    runtime = app.state.runtimes["collections"]
    outbox = runtime.infra.outbox
    async with runtime.read_sessions() as session:
        rows = (await session.execute(
            select(outbox.c.envelope).where(outbox.c.type == event_type).order_by(outbox.c.id)
        )).scalars().all()
    return [json.loads(row)["data"] for row in rows]


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
