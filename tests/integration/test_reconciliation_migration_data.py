"""Reconciliation's books written before statements had versions come through the
migration: open amounts and reference keys computed, earlier statements numbered."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from recoup import services
from shared.db import create_engine
from shared.migrations import run_alembic, upgrade
from tests.support.databases import database_url

FIRST = "3ccff2ba55d6"


@pytest.mark.parametrize("db", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def test_rows_of_the_first_revision_survive(db: str, tmp_path: Path) -> None:
    definition = next(d for d in services.load() if d.name == "reconciliation")
    async with database_url(db, tmp_path, "reconciliation") as url:
        engine = create_engine(url)
        try:
            await run_alembic(engine, definition.migrations, definition.metadata, "upgrade", FIRST)
            async with engine.begin() as conn:
                await conn.execute(text(
                    "INSERT INTO account_item (kind, doc_id, customer_id, currency, doc_date, amount,"
                    " due_date) VALUES ('invoice', 'INV-2026/7', 'C', 'CNY', '2026-03-01', 100, "
                    "'2026-03-31'), ('payment', 'P1', 'C', 'CNY', '2026-03-05', 30, NULL)"))
                await conn.execute(text(
                    "INSERT INTO item_settlement (doc_kind, doc_id, invoice_id, amount, settled_on)"
                    " VALUES ('payment', 'P1', 'INV-2026/7', 30, '2026-03-05')"))
                for n, at in enumerate(("2026-04-01 08:00:00+00", "2026-04-02 08:00:00+00"), 1):
                    await conn.execute(text(
                        "INSERT INTO statement (id, customer_id, period, currency, content, digest,"
                        f" status, issued_at, issued_by) VALUES ('S{n}', 'C', '2026-03', 'CNY', '{{}}',"
                        f" 'd{n}', 'issued', '{at}', 't')"))
            await upgrade(engine, definition.migrations, definition.metadata)
            async with engine.connect() as conn:
                items = (await conn.execute(text(
                    "SELECT doc_id, open_amount, ref_key FROM account_item ORDER BY doc_id"))).all()
                statements = (await conn.execute(text(
                    "SELECT id, version, status, reference, series FROM statement ORDER BY id"))).all()
        finally:
            await engine.dispose()
    assert [tuple(r) for r in items] == [("INV-2026/7", 70, "INV20267"), ("P1", 0, None)]
    assert [tuple(r) for r in statements] == [
        ("S1", 1, "superseded", "ST-2026-03-C-CNY-1", "monthly:C:2026-03:CNY"),
        ("S2", 2, "issued", "ST-2026-03-C-CNY-2", "monthly:C:2026-03:CNY")]
