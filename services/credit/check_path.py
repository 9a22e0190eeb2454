"""The check's hot path, per process: how it reads and writes, and how audit rows reach disk.

- SQLite (embedded): plain synchronous connections used inline. A read of a few indexed
  rows takes tens of microseconds; aiosqlite hands every statement to a thread and back,
  about half a millisecond each under load. A WAL reader never waits for a writer, and
  the snapshot is one statement, so reads need no BEGIN. Writes (a reserving check, a
  batch of audit rows) go inline too, in this process's turn to write (the units of work
  take the same turns) and only if SQLite's write lock is free at once: a blocking wait
  would stall the event loop, so when another connection holds the lock (the outbox
  relay, another process) they take an ordinary unit of work instead.
- PostgreSQL (distributed): pools of the check's own without the ping on checkout: reads
  and audit rows in autocommit (no BEGIN and COMMIT round trips; a statement that finds
  its connection dead runs once more on a fresh one), a reserving check in a transaction
  (run once more if its first statement finds the connection dead).
- Audit rows (one per check, `credit_check`) of checks that reserve nothing: group commit.
  Each answer waits until its row is committed, but the rows of checks answered meanwhile
  share one transaction, so 200 checks in flight cost a handful of commits instead of 200
  (each a write-lock turn on SQLite, a WAL flush on PostgreSQL).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from sqlalchemy import create_engine, event, insert
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection, Engine, Row
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.sql import Executable

from services.credit.handlers.check import Reads, Writes
from services.credit.tables import CreditCheck
from shared.runtime import ServiceRuntime

KEY = "credit.check_path"
T = TypeVar("T")


class AuditTrail:
    """Group commit of audit rows: a check hands its row over and waits; whoever gets the
    turn writes every row waiting at that moment in one transaction."""

    def __init__(self, write_rows: Callable[[list[dict[str, Any]]], Awaitable[None]]) -> None:
        self._write_rows = write_rows
        self._waiting: list[tuple[dict[str, Any], asyncio.Future[None]]] = []
        self._turn = asyncio.Lock()

    async def write(self, row: dict[str, Any]) -> None:
        written: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((row, written))
        async with self._turn:
            if not written.done():
                # An inline write never lets the loop run: one round first, so the checks
                # answered meanwhile hand their rows over to this commit.
                await asyncio.sleep(0)
                batch, self._waiting = self._waiting, []
                # Shielded: a caller that goes away must not take the others' rows with it.
                await asyncio.shield(self._flush(batch))
        await written

    async def _flush(self, batch: list[tuple[dict[str, Any], asyncio.Future[None]]]) -> None:
        try:
            await self._write_rows([row for row, _ in batch])
        except Exception as exc:
            for _, written in batch:
                written.set_exception(exc)
        else:
            for _, written in batch:
                written.set_result(None)


def _reads(conn: Connection) -> Reads:
    async def read(statement: Executable, params: dict[str, Any]) -> Sequence[Row[Any]]:
        return conn.execute(statement, params).all()

    return read


def _writes(conn: Connection) -> Writes:
    async def write(statement: Executable, params: Any) -> None:
        conn.execute(statement, params)

    return write


class CheckPath:
    def __init__(self, runtime: ServiceRuntime) -> None:
        self._runtime = runtime
        self.audit = AuditTrail(self._write_audit)
        url = runtime.database_url
        self._reader: Engine | None = None
        self._writer: Engine | None = None
        if url.startswith("sqlite"):
            plain = url.replace("+aiosqlite", "")
            # No BEGIN: each read is one statement, and one statement is one snapshot.
            self._reader = _sqlite(create_engine(plain), begin=None, pragmas=(
                "PRAGMA query_only=ON", "PRAGMA busy_timeout=30000"))
            self._writer = _sqlite(create_engine(plain), begin="BEGIN IMMEDIATE", pragmas=(
                "PRAGMA busy_timeout=0", "PRAGMA synchronous=NORMAL", "PRAGMA foreign_keys=ON"))
            runtime.on_close(self._reader.dispose)
            runtime.on_close(self._writer.dispose)
        else:
            self._autocommit = create_async_engine(
                url, isolation_level="AUTOCOMMIT", pool_size=10, max_overflow=10,
                pool_reset_on_return=None, pool_recycle=300)
            # Reserving checks' transactions: a pool of their own, pinging nothing either.
            self._transactions = create_async_engine(url, pool_size=10, max_overflow=10,
                                                     pool_recycle=300)
            runtime.on_close(self._autocommit.dispose)
            runtime.on_close(self._transactions.dispose)

    @classmethod
    def of(cls, runtime: ServiceRuntime) -> CheckPath:
        path = runtime.resources.get(KEY)
        if path is None:
            path = runtime.resources[KEY] = cls(runtime)
        return path

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[Reads]:
        if self._reader is not None:
            with self._reader.connect() as conn:  # inline, autocommit (WAL)
                yield _reads(conn)
            return
        reads = _Autocommit(self._autocommit)
        try:
            yield reads.read
        finally:
            await reads.close()

    async def _write_audit(self, rows: list[dict[str, Any]]) -> None:
        """SQLite: inline in this process's turn to write if the lock is free, else in a
        unit of work. PostgreSQL: one INSERT in autocommit, which is one transaction."""
        if self._writer is None:
            statement = postgresql.insert(CreditCheck).on_conflict_do_nothing()  # safe to repeat
            autocommit = _Autocommit(self._autocommit)
            try:
                await autocommit.write(statement, rows)
            finally:
                await autocommit.close()
            return
        async with self.writing() as inline:
            if inline is not None:
                _, write = inline
                await write(insert(CreditCheck), rows)
                return
        async with self._runtime.unit_of_work("credit-check-audit") as uow:
            await uow.session.execute(insert(CreditCheck), rows)
            await uow.commit()

    async def in_transaction(self, work: Callable[[Reads, Writes], Awaitable[T]]) -> T | None:
        """`work` in one write transaction of the check's own, or None: use a unit of work
        (SQLite's write lock is held elsewhere just now). PostgreSQL: on the check's pool,
        which pings nothing; if the first statement finds its connection dead, nothing was
        done, and `work` runs once more on a fresh connection."""
        if self._writer is not None:
            async with self.writing() as inline:
                if inline is not None:
                    return await work(*inline)
            return None
        for attempt in (1, 2):
            done = 0  # statements that went through

            async def read(statement: Executable, params: dict[str, Any]) -> Sequence[Row[Any]]:
                nonlocal done
                rows = (await conn.execute(statement, params)).all()
                done += 1
                return rows

            async def write(statement: Executable, params: Any) -> None:
                nonlocal done
                await conn.execute(statement, params)
                done += 1

            try:
                async with self._transactions.connect() as conn, conn.begin():
                    return await work(read, write)
            except DBAPIError as exc:
                if attempt == 2 or done or not exc.connection_invalidated:
                    raise
        raise AssertionError("unreachable")

    @asynccontextmanager
    async def writing(self) -> AsyncIterator[tuple[Reads, Writes] | None]:
        """Inline reads and writes in one SQLite transaction holding the write lock, or None:
        use a unit of work (PostgreSQL, or the lock is held elsewhere just now)."""
        if self._writer is None:
            yield None
            return
        async with self._runtime.writer_turn():
            conn = self._writer.connect()
            try:
                transaction = conn.begin()
            except OperationalError:  # SQLITE_BUSY at once: someone else is writing
                conn.close()
            else:
                try:
                    with transaction:  # commits, or rolls back on an exception
                        yield _reads(conn), _writes(conn)
                finally:
                    conn.close()
                return
        yield None  # out of the turn: the unit of work takes its own


class _Autocommit:
    """Statements on one autocommit connection of the check's pool, which pings nothing on
    checkout: a connection the server dropped (a restart, an idle kill) fails its first
    statement. That statement runs once more on a fresh connection (the pool invalidates
    every connection as old as the dead one); only statements safe to repeat come here
    (reads, inserts that skip rows already there)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._connection: AsyncConnection | None = None

    async def read(self, statement: Executable, params: dict[str, Any]) -> Sequence[Row[Any]]:
        return (await self._execute(statement, params)).all()

    async def write(self, statement: Executable, params: Any) -> None:
        await self._execute(statement, params)

    async def _execute(self, statement: Executable, params: Any) -> Any:
        try:
            return await self._on_connection(statement, params)
        except DBAPIError as exc:
            if not exc.connection_invalidated:
                raise
            await self.close()
        return await self._on_connection(statement, params)  # once: a second failure is real

    async def _on_connection(self, statement: Executable, params: Any) -> Any:
        if self._connection is None:
            self._connection = await self._engine.connect()
        return await self._connection.execute(statement, params)

    async def close(self) -> None:
        if self._connection is not None:
            connection, self._connection = self._connection, None
            await connection.close()


def _sqlite(engine: Engine, *, begin: str | None, pragmas: tuple[str, ...]) -> Engine:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy, not pysqlite, says BEGIN
        cursor = dbapi_connection.cursor()
        for pragma in pragmas:
            cursor.execute(pragma)
        cursor.close()

    if begin is not None:
        @event.listens_for(engine, "begin")
        def _on_begin(conn: Any) -> None:
            conn.exec_driver_sql(begin)

    return engine
