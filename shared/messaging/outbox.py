"""Transactional outbox: rows written with the business change, published by a relay.

The relay leases a batch (so replicas do not publish the same rows), publishes each
event outside any database transaction, and marks a row published only after the
transport confirmed it. A failed publish leaves the row for the next round: nothing is
deleted, nothing is lost while the broker is down.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import structlog
from sqlalchemy import Table, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.clock import now
from shared.events import CloudEvent, EncodedEvent
from shared.messaging.metrics import EVENTS_PUBLISHED, PUBLISH_FAILURES
from shared.messaging.transport import Transport

log = structlog.get_logger(__name__)

# How long a relay owns the rows it took. Rows of a relay that died mid-round go out
# again once their lease ends (consumers drop the duplicates by event id).
LEASE = timedelta(seconds=30)


def outbox_rows(events: Sequence[CloudEvent | EncodedEvent]) -> list[dict[str, Any]]:
    created = now()
    return [
        {"event_id": e.id, "type": e.type, "envelope": e.to_json(), "created_at": created,
         "attempts": 0}
        for e in events
    ]


class OutboxRelay:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        outbox: Table,
        transport: Transport,
        *,
        service: str,
        batch_size: int = 200,
        poll_seconds: float = 1.0,
        read_sessions: async_sessionmaker[AsyncSession] | None = None,
    ) -> None:
        self._sessions = sessions
        self._read_sessions = read_sessions
        self._outbox = outbox
        self._transport = transport
        self._service = service
        self._batch_size = batch_size
        self._poll_seconds = poll_seconds
        self._wake = asyncio.Event()
        self._stopping = False

    def notify(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        """Finish the current round, then leave: no lease is left hanging."""
        self._stopping = True
        self._wake.set()

    async def run(self) -> None:
        while not self._stopping:
            try:
                published = await self.publish_pending()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox relay round failed")
                published = 0
            if published == self._batch_size or self._stopping:
                continue  # more may be waiting, or time to go
            try:
                async with asyncio.timeout(self._poll_seconds):
                    await self._wake.wait()
            except TimeoutError:
                pass
            self._wake.clear()

    async def publish_pending(self) -> int:
        """Publish one leased batch; answers how many rows were published."""
        batch = await self._lease_batch()
        events = [CloudEvent.model_validate_json(envelope) for _, envelope in batch]
        outcomes = await self._transport.publish_batch(events) if events else []
        published = [row_id for (row_id, _), failure in zip(batch, outcomes, strict=True)
                     if failure is None]
        failures = [(row_id, f"{type(failure).__name__}: {failure}")
                    for (row_id, _), failure in zip(batch, outcomes, strict=True) if failure]
        for event, failure in zip(events, outcomes, strict=True):
            if failure is None:
                EVENTS_PUBLISHED.labels(self._service, event.type).inc()
        if failures:  # the broker is down or refused: these go again next round
            PUBLISH_FAILURES.labels(self._service).inc(len(failures))
            log.warning("outbox publish failed", rows=len(failures), error=failures[0][1])
        await self._settle(published, failures)
        return len(published)

    async def _anything_waiting(self) -> bool:
        """A look that takes no write lock (SQLite: a deferred transaction), so an idle relay
        polling every second never makes the service's writers wait."""
        if self._read_sessions is None:
            return True
        t = self._outbox
        async with self._read_sessions() as session:
            return (await session.execute(
                select(t.c.id).where(t.c.published_at.is_(None)).limit(1))).first() is not None

    async def _lease_batch(self) -> list[tuple[int, str]]:
        if not await self._anything_waiting():
            return []
        t = self._outbox
        moment = now()
        async with self._sessions() as session, session.begin():
            rows = (
                await session.execute(
                    select(t.c.id, t.c.envelope)
                    .where(t.c.published_at.is_(None))
                    .where((t.c.lease_until.is_(None)) | (t.c.lease_until < moment))
                    .order_by(t.c.id)
                    .limit(self._batch_size)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if rows:
                await session.execute(
                    update(t)
                    .where(t.c.id.in_([r.id for r in rows]))
                    .values(lease_until=moment + LEASE)
                )
        return [(r.id, r.envelope) for r in rows]

    async def _settle(self, published: list[int], failures: list[tuple[int, str]]) -> None:
        if not published and not failures:
            return
        t = self._outbox
        async with self._sessions() as session, session.begin():
            if published:
                await session.execute(
                    update(t).where(t.c.id.in_(published)).values(published_at=now())
                )
            if failures:  # give them back at once: the next round retries them
                await session.execute(
                    update(t)
                    .where(t.c.id.in_([row_id for row_id, _ in failures]))
                    .values(attempts=t.c.attempts + 1, last_error=failures[0][1], lease_until=None)
                )

    async def backlog(self) -> int:
        t = self._outbox
        async with self._sessions() as session:
            return (
                await session.execute(
                    select(func.count()).select_from(t).where(t.c.published_at.is_(None))
                )
            ).scalar_one()
