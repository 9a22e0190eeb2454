"""Database failures at the HTTP edge: a transient one (locked, unreachable) answers 503 with
Retry-After, so a caller retries; a bug (a query naming a missing column) stays a 500."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx
from fastapi import FastAPI
from sqlalchemy.exc import OperationalError

from shared.web import install_problem_handlers


def _sqlite_error(tmp_path: Path, sql: str, *, lock: bool = False) -> OperationalError:
    """A real error from SQLite, wrapped as SQLAlchemy wraps it."""
    path = tmp_path / "db.sqlite3"
    holder = sqlite3.connect(path)
    holder.execute("CREATE TABLE IF NOT EXISTS t (a INTEGER)")
    holder.commit()
    if lock:
        holder.execute("BEGIN EXCLUSIVE")
    other = sqlite3.connect(path, timeout=0)
    try:
        other.execute(sql)
    except sqlite3.OperationalError as exc:
        return OperationalError(sql, {}, exc)
    finally:
        other.close()
        holder.close()
    raise AssertionError("no error")


async def _status(error: Exception) -> httpx.Response:
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/")
    async def fail() -> None:
        raise error

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        return await client.get("/")


async def test_a_locked_database_answers_503_and_a_query_bug_500(tmp_path: Path) -> None:
    locked = await _status(_sqlite_error(tmp_path, "INSERT INTO t VALUES (1)", lock=True))
    assert (locked.status_code, locked.headers["retry-after"]) == (503, "5")
    assert locked.headers["content-type"] == "application/problem+json"
    bug = await _status(_sqlite_error(tmp_path, "SELECT nope FROM t"))
    assert bug.status_code == 500
    assert bug.json()["title"] == "Internal error"
