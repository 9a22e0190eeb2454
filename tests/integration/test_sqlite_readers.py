"""On SQLite a reader does not queue behind a writer (WAL, deferred transaction)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import text

from shared.db import create_engine, sessionmaker


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
