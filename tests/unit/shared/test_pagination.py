"""Keyset pagination walks a list page by page: every row once, in order, and a cursor
from elsewhere is a clear 422."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI, Request, Response
from sqlalchemy import Column, Date, Integer, MetaData, String, Table, create_engine, insert, select
from sqlmodel import Field, SQLModel

from shared.db import service_registry
from shared.errors import Invalid
from shared.pagination import Page, PageRequest, _decode, encode_cursor, finish, keyset
from shared.web import install_problem_handlers

metadata = MetaData()
items = Table("item", metadata, Column("id", String, primary_key=True),
              Column("on", Date, nullable=False), Column("n", Integer, nullable=False))


def app_on(path: Path, *, descending: bool) -> FastAPI:
    engine = create_engine(f"sqlite:///{path}")
    metadata.create_all(engine)
    with engine.begin() as conn:  # two rows share each date: the id breaks the tie
        conn.execute(insert(items), [
            {"id": f"I{n:02}", "on": date(2026, 1, 1) + timedelta(days=n // 2), "n": n}
            for n in range(25)])
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/items")
    def list_items(page: Page, request: Request, response: Response) -> list[dict]:
        query = keyset(select(items), [items.c.on, items.c.id], page, descending=descending)
        with engine.connect() as conn:
            rows = [dict(r._mapping) for r in conn.execute(query)]
        return finish(rows, page, lambda r: (r["on"], r["id"]), request, response)

    return app


def client_of(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


@pytest.mark.parametrize("descending", [False, True])
async def test_pages_cover_every_row_once_in_order(tmp_path: Path, descending: bool) -> None:
    client = client_of(app_on(tmp_path / "db.sqlite3", descending=descending))
    seen, url, pages = [], "/items?limit=10", 0
    while url:
        response = await client.get(url)
        assert response.status_code == 200
        seen += [row["n"] for row in response.json()]
        pages += 1
        link = response.headers.get("link")
        url = link[1:link.index(">")] if link else None
    assert pages == 3
    assert seen == (sorted(range(25), reverse=True) if descending else list(range(25)))


async def test_a_foreign_cursor_names_the_field(tmp_path: Path) -> None:
    client = client_of(app_on(tmp_path / "db.sqlite3", descending=False))
    response = await client.get("/items?cursor=bm90LWEtY3Vyc29y")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "query.cursor"
    with pytest.raises(Invalid):
        keyset(select(items), [items.c.on, items.c.id], PageRequest(10, encode_cursor(["x"])))



class _Row(SQLModel, registry=service_registry(), table=True):
    id: str = Field(primary_key=True, max_length=8)
    at: datetime
    on: date


def test_cursors_over_sqlmodel_columns_keep_their_types() -> None:
    """sqlmodel's AutoString and UTCDateTime say `object` as their Python type."""
    moment = datetime(2026, 4, 1, 8, 30, tzinfo=UTC)
    cursor = encode_cursor([moment, date(2026, 4, 1), "A-1"])
    assert _decode(cursor, [_Row.at, _Row.on, _Row.id]) == [moment, date(2026, 4, 1), "A-1"]

