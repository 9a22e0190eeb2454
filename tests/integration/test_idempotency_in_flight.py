"""A request still running with an Idempotency-Key makes a second one with that key
wait its turn (409); afterwards the first answer is replayed."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from recoup import services
from shared.auth import Keyring
from shared.idempotency import IdempotencyMiddleware
from shared.messaging.inprocess import InProcessTransport
from shared.runtime import ServiceRuntime
from tests.support.embedded import embedded_settings

HEADERS = {"Authorization": "Bearer k", "Idempotency-Key": "K1"}


async def app_with_idempotency(tmp_path: Path, **settings: Any) -> tuple[FastAPI, ServiceRuntime]:
    """A bare app behind the middleware, on a migrated credit database, key "k"."""
    (definition,) = services.load(["credit"])
    runtime = ServiceRuntime(definition, embedded_settings(tmp_path, **settings),
                             Keyring.parse("k=admin"), InProcessTransport())
    await runtime.migrate()
    app = FastAPI()
    app.state.runtime = runtime
    app.add_middleware(IdempotencyMiddleware)
    return app, runtime


async def test_in_flight_request_gets_409_then_the_answer_is_replayed(tmp_path: Path) -> None:
    app, runtime = await app_with_idempotency(tmp_path)
    release, started = asyncio.Event(), asyncio.Event()
    calls = 0

    @app.post("/slow", status_code=201)
    async def slow() -> dict[str, int]:
        nonlocal calls
        calls += 1
        started.set()
        await release.wait()
        return {"call": calls}

    headers = HEADERS
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        first = asyncio.create_task(client.post("/slow", json={"a": 1}, headers=headers))
        await started.wait()
        second = await client.post("/slow", json={"a": 1}, headers=headers)
        assert second.status_code == 409
        assert second.headers["content-type"] == "application/problem+json"
        release.set()
        assert (await first).status_code == 201
        replay = await client.post("/slow", json={"a": 1}, headers=headers)
        assert (replay.status_code, replay.json()) == (201, {"call": 1})
        assert calls == 1
    await runtime.engine.dispose()


async def test_expired_keys_are_forgotten(tmp_path: Path) -> None:
    app, runtime = await app_with_idempotency(tmp_path, idempotency_ttl_hours=0)
    calls = 0

    @app.post("/count", status_code=201)
    async def count() -> dict[str, int]:
        nonlocal calls
        calls += 1
        return {"call": calls}

    headers = HEADERS
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        assert (await client.post("/count", json={}, headers=headers)).json() == {"call": 1}
        assert (await client.post("/count", json={}, headers=headers)).json() == {"call": 2}
    idempotency = runtime.infra.idempotency_keys
    async with runtime.sessions() as session:
        rows = (await session.execute(idempotency.select())).all()
    assert len(rows) == 1  # the expired one was pruned, not piled up
    await runtime.engine.dispose()
