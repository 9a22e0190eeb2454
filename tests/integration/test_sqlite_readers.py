"""On SQLite a reader does not queue behind a writer (WAL, deferred transaction), and an idle
outbox relay only reads."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import MetaData, text

from shared.db import create_engine, sessionmaker
from shared.messaging.inprocess import InProcessTransport
from shared.messaging.outbox import OutboxRelay
from shared.messaging.tables import infrastructure_tables


async def test_a_read_goes_through_while_a_write_transaction_is_open(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite3'}")
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (n INTEGER)"))
            await conn.execute(text("INSERT INTO t VALUES (1)"))
        writer, reader = sessionmaker(engine), sessionmaker(engine, read_only=True)
        async with writer() as session, session.begin():
            await session.execute(text("UPDATE t SET n = 2"))  # holds the write lock
            async with reader() as r:
                seen = await asyncio.wait_for(r.execute(text("SELECT n FROM t")), timeout=2)
                assert seen.scalar_one() == 1  # the committed value; no waiting
    finally:
        await engine.dispose()


async def test_an_idle_relay_does_not_wait_for_the_write_lock(tmp_path: Path) -> None:
    """The relay polls every second; with nothing to publish it must not queue behind (nor
    hold up) the service's writers."""
    metadata = MetaData()
    tables = infrastructure_tables(metadata)
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite3'}")
    try:
        async with engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
        writer = sessionmaker(engine)
        relay = OutboxRelay(writer, tables.outbox, InProcessTransport(), service="probe",
                            read_sessions=sessionmaker(engine, read_only=True))
        async with writer() as session, session.begin():
            await session.execute(text("DELETE FROM inbox"))  # a writer holds the lock
            assert await asyncio.wait_for(relay.publish_pending(), timeout=2) == 0
    finally:
        await engine.dispose()
