"""Database engines, the service metadata convention and the unit of work.

SQLite (embedded) runs in WAL mode with a busy timeout and takes the write lock at
BEGIN (`BEGIN IMMEDIATE`), so concurrent writers queue instead of failing with
"database is locked" halfway through a transaction.
"""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import BigInteger, Integer, MetaData, cast, event, func, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine as _create_async_engine
from sqlalchemy.orm import registry

from shared.bulk import insert_rows
from shared.events import EncodedEvent, EventData, EventEncoder, new_event
from shared.messaging.outbox import outbox_rows

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# Money in minor units: 64-bit. The API takes up to 10**15, and PostgreSQL's INTEGER stops at
# 2**31 - 1 (21,474,836.47 in a currency of two decimals). SQLite's INTEGER holds 64 bits
# already, so there the declared type stays and no table is copied to change it.
MONEY = BigInteger().with_variant(Integer(), "sqlite")


def money_sum(column: Any, where: Any = None) -> Any:
    """SUM of minor units as an integer: PostgreSQL sums BIGINT into NUMERIC (a Decimal)."""
    total = func.sum(column)
    return cast(total if where is None else total.filter(where), BigInteger)


def conflict_insert(session: AsyncSession, table: Any) -> Any:
    """An INSERT into `table` that can say ON CONFLICT (DO NOTHING or DO UPDATE): the
    dialect's own, PostgreSQL's or SQLite's, as the session is bound."""
    dialect = postgresql if session.bind.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


def service_registry() -> registry:
    """A registry (and so a MetaData) of one service's own: services never share tables."""
    return registry(metadata=MetaData(naming_convention=NAMING_CONVENTION))


def create_engine(url: str) -> AsyncEngine:
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[1] if ":///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = _create_async_engine(url, connect_args={"timeout": 30})
        _make_sqlite_transactional(engine)
        return engine
    return _create_async_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


def _make_sqlite_transactional(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not pysqlite, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Readers (WAL) need no lock and must not queue behind a long write.
        read_only = conn.get_execution_options().get(READ_ONLY, False)
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


READ_ONLY = "recoup_read_only"


def sessionmaker(
    engine: AsyncEngine, *, read_only: bool = False
) -> async_sessionmaker[AsyncSession]:
    """Sessions for writing (the default), or for reading only: on SQLite a reader starts a
    plain deferred transaction instead of taking the write lock."""
    bind = engine.execution_options(**{READ_ONLY: True}) if read_only else engine
    return async_sessionmaker(bind, expire_on_commit=False, autoflush=True)


class UnitOfWork:
    """One transaction: the business change and the events it causes commit together.

    Only the unit of work commits. Events emitted here go to the outbox in the same
    transaction; `on_commit` wakes the relay so they leave without waiting for a poll.
    `write_lock` (SQLite): this process's writers queue on it in order, instead of polling
    SQLite's write lock in the busy handler's sleeps (which cost throughput under load).
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        source: str,
        outbox: Any,
        actor: str = "system",
        on_commit: Callable[[], None] | None = None,
        config: Any = None,
        write_lock: asyncio.Lock | None = None,
    ) -> None:
        self._sessions = sessions
        self._source = source
        self._outbox = outbox
        self._on_commit = on_commit
        self._write_lock = write_lock
        self.actor = actor
        self.config = config  # the service's policy settings (ServiceDefinition.config)
        # Scratch space for one transaction, e.g. what a handler announces once at the end.
        self.context: dict[str, Any] = {}
        self._pending: list[Any] = []
        self.session: AsyncSession

    async def __aenter__(self) -> UnitOfWork:
        if self._write_lock is not None:
            await self._write_lock.acquire()
        self.session = self._sessions()
        await self.session.begin()
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        try:
            if self.session.in_transaction():
                await self.session.rollback()
        finally:
            try:
                await self.session.close()
            finally:
                if self._write_lock is not None:
                    self._write_lock.release()

    async def take_turn(self, name: str) -> None:
        """Transactions taking a turn of the same `name` run one after another, until each
        commits: for a thing no row can be locked for yet (its first version). PostgreSQL:
        a transaction advisory lock; SQLite has one writer at a time already."""
        if self.session.bind.dialect.name == "postgresql":
            await self.session.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                                       {"key": zlib.crc32(name.encode())})

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        """Part of the transaction that can fail alone: its changes and its events go."""
        emitted = len(self._pending)
        try:
            async with self.session.begin_nested():
                yield
        except BaseException:
            del self._pending[emitted:]
            raise

    def emit(self, data: EventData, *, subject: str | None = None) -> None:
        self._pending.append(new_event(self._source, data, subject=subject))

    def encoder(self, contract: type[EventData]) -> EventEncoder:
        """Writes out events of `contract` from plain data, for `emit_encoded`: for code that
        emits them by the hundred thousand (see EventEncoder)."""
        return EventEncoder(self._source, contract)

    def emit_encoded(self, events: Iterable[EncodedEvent]) -> None:
        self._pending.extend(events)

    async def commit(self) -> None:
        if self._pending:
            # COPY on PostgreSQL for many (a sweep writes hundreds of thousands), and never
            # one statement past the driver's limit of bound parameters (asyncpg: 32767).
            await insert_rows(self.session, self._outbox, outbox_rows(self._pending))
        await self.session.commit()
        emitted, self._pending = self._pending, []
        if emitted and self._on_commit:
            self._on_commit()
