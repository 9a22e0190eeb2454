"""`Idempotency-Key` on creating POSTs (RELIABILITY.md):
- the same key and body replays the stored first answer;
- the same key with another body is refused (422);
- a request still running with that key gets 409.
Keys are per authenticated caller and live `idempotency_ttl_hours` (24 by default). A 5xx,
401 or 403 answer is not stored, so the client may retry with the same key.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select, update
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.clock import now
from shared.db import conflict_insert
from shared.web import problem

RUNNING_LEASE = timedelta(seconds=60)


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        key = headers.get("idempotency-key")
        scheme, _, token = headers.get("authorization", "").partition(" ")
        runtime = scope["app"].state.runtime
        caller = runtime.keyring.authenticate(token) if scheme.lower() == "bearer" else None
        if not key or caller is None:
            await self.app(scope, receive, send)  # unauthenticated: the route answers 401
            return
        body = await _read_body(receive)
        principal = caller.name
        fingerprint = hashlib.sha256(scope["path"].encode() + b"\n" + body).hexdigest()
        store = _KeyStore(runtime)

        existing = await store.claim(principal, key, fingerprint, runtime.settings.idempotency_ttl_hours)
        if existing is not None:
            if existing.request_hash != fingerprint:
                await problem(422, "Idempotency key reused",
                              "This Idempotency-Key was used with a different request body.",
                              errors=[{"field": "Idempotency-Key", "message": "reused with another body"}],
                              )(scope, receive, send)
            elif existing.status_code is None:
                await problem(409, "Request in progress",
                              "A request with this Idempotency-Key is still running.")(scope, receive, send)
            else:
                await _replay(existing, send)
            return

        captured: dict[str, Any] = {"status": 500, "content_type": None, "body": b""}

        async def replay_body() -> Message:
            nonlocal body
            chunk, body = body, b""
            return {"type": "http.request", "body": chunk, "more_body": False}

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                captured["status"] = message["status"]
                captured["content_type"] = Headers(raw=message["headers"]).get("content-type")
            elif message["type"] == "http.response.body":
                captured["body"] += message.get("body", b"")
            await send(message)

        try:
            await self.app(scope, replay_body, capture)
        finally:
            # A failure may be retried, and a refused scope may be granted later.
            if captured["status"] >= 500 or captured["status"] in (401, 403):
                await store.forget(principal, key)
            else:
                await store.remember(principal, key, captured)


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def _replay(row: Any, send: Send) -> None:
    await send({
        "type": "http.response.start",
        "status": row.status_code,
        "headers": [
            (b"content-type", (row.content_type or "application/json").encode()),
            (b"idempotent-replayed", b"true"),
        ],
    })
    await send({"type": "http.response.body", "body": (row.body or "").encode()})


class _KeyStore:
    def __init__(self, runtime: Any) -> None:
        self._sessions = runtime.sessions
        self._table = runtime.infra.idempotency_keys

    async def claim(self, principal: str, key: str, fingerprint: str, ttl_hours: int) -> Any:
        """Take the key for this request; answers the existing row if someone has it."""
        t = self._table
        moment = now()
        async with self._sessions() as session, session.begin():
            await session.execute(delete(t).where(  # this caller's expired keys go
                t.c.principal == principal, t.c.created_at < moment - timedelta(hours=ttl_hours)))
            inserted = await session.execute(
                conflict_insert(session, t)
                .values(principal=principal, key=key, request_hash=fingerprint,
                        created_at=moment, locked_until=moment + RUNNING_LEASE)
                .on_conflict_do_nothing()
            )
            if inserted.rowcount == 1:
                return None
            row = (await session.execute(
                select(t).where(t.c.principal == principal, t.c.key == key).with_for_update()
            )).one()
            if row.status_code is None and _aware(row.locked_until) < moment:  # abandoned
                await session.execute(
                    update(t).where(t.c.principal == principal, t.c.key == key)
                    .values(request_hash=fingerprint, created_at=moment, status_code=None,
                            body=None, content_type=None, locked_until=moment + RUNNING_LEASE)
                )
                return None
            return row

    async def remember(self, principal: str, key: str, captured: dict[str, Any]) -> None:
        t = self._table
        async with self._sessions() as session, session.begin():
            await session.execute(
                update(t).where(t.c.principal == principal, t.c.key == key).values(
                    status_code=captured["status"], content_type=captured["content_type"],
                    body=captured["body"].decode("utf-8", "replace"), locked_until=None,
                )
            )

    async def forget(self, principal: str, key: str) -> None:
        t = self._table
        async with self._sessions() as session, session.begin():
            await session.execute(delete(t).where(t.c.principal == principal, t.c.key == key))


def _aware(moment: Any) -> Any:
    # SQLite hands back naive datetimes; everything we store is UTC.
    from datetime import UTC

    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
