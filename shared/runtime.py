"""What a running service is made of: its database, its outbox relay, its consumer.

Built in the application's lifespan, never at import time.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Protocol

import structlog
from fastapi import APIRouter
from sqlalchemy import MetaData, text

from shared.auth import Keyring
from shared.db import UnitOfWork, create_engine, sessionmaker
from shared.messaging.consumer import EventFilter, EventHandler, ServiceConsumer
from shared.messaging.outbox import OutboxRelay
from shared.messaging.tables import InfrastructureTables
from shared.messaging.transport import Transport
from shared.migrations import upgrade
from shared.settings import Settings

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class ScheduledJob:
    """A daily job; `run(runtime, as_of)` must be idempotent per date (it may run on several
    replicas, and again after a restart). The scheduler passes today; `recoup job` any date.
    `after`: how long after the night starts (RECOUP_SWEEP_AT) it runs, so that a job that
    needs another's news (collection-plan's sweep, the ledger's) runs once it has arrived."""

    name: str
    run: Callable[[ServiceRuntime, date], Any]
    after: timedelta = timedelta(0)


class BackgroundWorker(Protocol):
    """A loop that runs beside the relay while the service runs (e.g. webhook delivery)."""

    async def run(self) -> None: ...

    def stop(self) -> None:
        """Finish the current round, then leave."""


@dataclass(frozen=True)
class ServiceDefinition:
    name: str  # also the settings suffix and the queue name: credit, ledger, ...
    prefix: str  # URL prefix, the same in both modes
    title: str
    metadata: MetaData
    infra: InfrastructureTables
    migrations: Path
    routers: list[APIRouter]
    subscriptions: Callable[[], Mapping[str, EventHandler]]
    jobs: list[ScheduledJob] = field(default_factory=list)
    # The service's own policy settings (e.g. pydantic-settings with its own RECOUP_ names),
    # built from the process settings when the runtime starts, never at import; handlers
    # read them as `uow.config`.
    config: Callable[[Settings], Any] | None = None
    workers: list[Callable[[ServiceRuntime], BackgroundWorker]] = field(default_factory=list)
    event_filter: Callable[[ServiceRuntime], EventFilter] | None = None

    @property
    def event_types(self) -> list[str]:
        return list(self.subscriptions())


class ServiceRuntime:
    def __init__(
        self,
        definition: ServiceDefinition,
        settings: Settings,
        keyring: Keyring,
        transport: Transport,
    ) -> None:
        self.definition = definition
        self.settings = settings
        self.keyring = keyring
        self.transport = transport
        self.infra = definition.infra
        self.config = definition.config(settings) if definition.config else None
        self.database_url = settings.database_url(definition.name)
        self.engine = create_engine(self.database_url)
        self.sessions = sessionmaker(self.engine)
        self.read_sessions = sessionmaker(self.engine, read_only=True)
        # SQLite has one writer at a time: this process's units of work take turns here.
        self._write_lock = asyncio.Lock() if self.database_url.startswith("sqlite") else None
        self.relay = OutboxRelay(
            self.sessions, self.infra.outbox, transport, service=definition.name,
            batch_size=settings.relay_batch_size, poll_seconds=settings.relay_poll_seconds,
            read_sessions=self.read_sessions if self.database_url.startswith("sqlite") else None,
        )
        self.workers = [make(self) for make in definition.workers]
        self._tasks: list[asyncio.Task[Any]] = []
        # What a service keeps per process beside its engine (e.g. a fast path's readers),
        # made on first use; each `closer` runs when the runtime closes.
        self.resources: dict[str, Any] = {}
        self._closers: list[Callable[[], Any]] = []

    @property
    def name(self) -> str:
        return self.definition.name

    def unit_of_work(self, actor: str = "system", *, read_only: bool = False) -> UnitOfWork:
        return UnitOfWork(
            self.read_sessions if read_only else self.sessions,
            source=f"recoup/{self.name}", outbox=self.infra.outbox,
            actor=actor, on_commit=self.relay.notify, config=self.config,
            write_lock=None if read_only else self._write_lock,
        )

    @asynccontextmanager
    async def writer_turn(self) -> AsyncIterator[None]:
        """This process's turn to write the service's database outside a unit of work (units
        of work take the same turns). SQLite has one writer at a time; PostgreSQL: no turn."""
        if self._write_lock is None:
            yield
            return
        async with self._write_lock:
            yield

    @property
    def migrates_on_start(self) -> bool:
        """SQLite (embedded) migrates itself; PostgreSQL waits for `recoup migrate`."""
        configured = self.settings.migrate_on_start
        return self.database_url.startswith("sqlite") if configured is None else configured

    async def migrate(self) -> None:
        await upgrade(self.engine, self.definition.migrations, self.definition.metadata)

    async def prepare(self) -> None:
        """Migrate (if this mode does) and start consuming. Every hosted service is
        prepared before any relay starts, so no event finds a consumer missing."""
        if self.migrates_on_start:
            await self.migrate()
        handlers = self.definition.subscriptions()
        if handlers:
            event_filter = self.definition.event_filter
            await self.transport.subscribe(ServiceConsumer(
                self.name, handlers, self.unit_of_work,
                inbox=self.infra.inbox, dead_letters=self.infra.dead_letters,
                wants=event_filter(self) if event_filter else None,
            ))

    def start_background(self) -> None:
        """The outbox relay and the service's own workers."""
        self._tasks.append(asyncio.create_task(self.relay.run(), name=f"{self.name}-relay"))
        for number, worker in enumerate(self.workers):
            self._tasks.append(asyncio.create_task(worker.run(), name=f"{self.name}-worker-{number}"))

    async def stop_background(self, grace_seconds: float = 10.0) -> None:
        self.relay.stop()
        for worker in self.workers:
            worker.stop()
        if self._tasks:
            _, late = await asyncio.wait(self._tasks, timeout=grace_seconds)
            for task in late:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()

    def on_close(self, closer: Callable[[], Any]) -> None:
        self._closers.append(closer)

    async def close(self) -> None:
        for closer in reversed(self._closers):
            result = closer()
            if asyncio.iscoroutine(result):
                await result
        self._closers.clear()
        await self.engine.dispose()

    async def database_ready(self) -> bool:
        try:
            async with self.read_sessions() as session:
                await session.execute(text("SELECT 1"))
            return True
        except Exception:
            log.warning("database not reachable", service=self.name)
            return False
