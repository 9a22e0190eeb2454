"""A fresh database per test: SQLite in a temporary folder, or a new PostgreSQL database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from tests.support.distributed import postgres_databases
from tests.support.servers import require_postgres


@asynccontextmanager
async def database_url(kind: str, tmp: Path, name: str) -> AsyncIterator[str]:
    if kind == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp / f'{name}.sqlite3'}"
        return
    require_postgres()
    async with postgres_databases([name]) as urls:
        yield urls[name]
