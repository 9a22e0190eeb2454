"""Apply a service's migrations. On PostgreSQL an advisory lock makes concurrent
starts (several replicas, or a migrate job racing one) take turns."""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData, text
from sqlalchemy.ext.asyncio import AsyncEngine

_ENV = Path(__file__).parent / "alembic"


def alembic_config(versions: Path, metadata: MetaData, connection: Any = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(_ENV))
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", str(versions))
    config.set_main_option(
        "file_template", "%%(year)d_%%(month).2d_%%(day).2d_%%(hour).2d%%(minute).2d_%%(slug)s"
    )
    config.attributes["target_metadata"] = metadata
    config.attributes["connection"] = connection
    return config


async def run_alembic(engine: AsyncEngine, versions: Path, metadata: MetaData,
                      action: str, *args: Any, **kwargs: Any) -> None:
    def _run(sync_conn: Any) -> None:
        getattr(command, action)(alembic_config(versions, metadata, sync_conn), *args, **kwargs)

    async with engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            # SQLite changes a table by copying it; with foreign keys on, dropping the old
            # copy would trip over the rows that refer to it. The switch works only outside
            # a transaction; the check below proves the copy kept every reference.
            await _sqlite_pragma(conn, "PRAGMA foreign_keys=OFF")
        try:
            async with conn.begin():
                if not sqlite:
                    key = zlib.crc32(f"recoup-migrate:{versions}".encode())
                    await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
                await conn.run_sync(_run)
                if sqlite:
                    broken = (await conn.exec_driver_sql("PRAGMA foreign_key_check")).all()
                    if broken:
                        raise RuntimeError(f"migration broke foreign keys: {broken[:5]}")
        finally:
            if sqlite:
                await _sqlite_pragma(conn, "PRAGMA foreign_keys=ON")


async def _sqlite_pragma(conn: Any, pragma: str) -> None:
    raw = await conn.get_raw_connection()
    await raw.driver_connection.execute(pragma)


async def upgrade(engine: AsyncEngine, versions: Path, metadata: MetaData, revision: str = "head") -> None:
    await run_alembic(engine, versions, metadata, "upgrade", revision)
