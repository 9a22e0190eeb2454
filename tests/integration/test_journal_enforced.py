"""The database itself keeps the journal honest (not only Python): an entry must balance
per currency, a sealed entry takes no more lines, and booked rows never change."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, insert, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from services.ledger.app import definition
from services.ledger.tables import JournalEntry, JournalLine
from shared.bulk import COPY_FROM, insert_rows
from shared.clock import now
from shared.db import create_engine, sessionmaker
from shared.migrations import upgrade
from tests.support.databases import database_url

DAY = date(2026, 1, 1)


def lines(entry_id: str, *amounts: tuple[str, int]) -> list[dict[str, Any]]:
    return [dict(entry_id=entry_id, document_kind="test", document_id=entry_id, customer_id="C",
                 account=account, currency="CNY", amount=amount, booked_on=DAY)
            for account, amount in amounts]


def entry(entry_id: str) -> dict[str, Any]:
    return dict(id=entry_id, document_kind="test", document_id=entry_id, customer_id="C",
                booked_on=DAY, recorded_by="test", recorded_at=now())


@asynccontextmanager
async def migrated(db: str, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    async with database_url(db, tmp_path, "ledger") as url:
        engine = create_engine(url)
        try:
            ledger = definition()
            await upgrade(engine, ledger.migrations, ledger.metadata)
            yield engine
        finally:
            await engine.dispose()


BOTH = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.mark.parametrize("db", BOTH)
async def test_the_database_refuses_bad_bookkeeping(db: str, tmp_path: Path) -> None:
    async with migrated(db, tmp_path) as engine:
        async def refused(*statements: Any) -> None:
            with pytest.raises(DBAPIError):
                async with engine.begin() as conn:
                    for statement in statements:
                        await conn.execute(statement)

        async with engine.begin() as conn:  # a balanced entry is fine
            await conn.execute(insert(JournalLine), lines("ok", ("receivable", 100),
                                                         ("revenue", -100)))
            await conn.execute(insert(JournalEntry).values(entry("ok")))

        await refused(insert(JournalLine).values(lines("bad", ("receivable", 100),
                                                       ("revenue", -99))),
                      insert(JournalEntry).values(entry("bad")))
        await refused(insert(JournalEntry).values(entry("empty")))
        await refused(insert(JournalLine).values(lines("ok", ("receivable", 5))))
        await refused(update(JournalLine).values(amount=1))
        await refused(delete(JournalLine))
        await refused(update(JournalEntry).values(recorded_by="someone else"))
        await refused(delete(JournalEntry))
        # A line whose entry never comes fails at commit (the deferred foreign key).
        await refused(insert(JournalLine).values(lines("orphan", ("receivable", 0))))


@pytest.mark.parametrize("db", BOTH)
async def test_bulk_writes_are_held_to_the_same_rules(db: str, tmp_path: Path) -> None:
    """Postings write many rows at once (COPY on PostgreSQL): the triggers still judge them."""
    ids = [f"E{n}" for n in range(COPY_FROM)]
    async with migrated(db, tmp_path) as engine:
        async def book(entries: list[str], last_amount: int) -> None:
            async with sessionmaker(engine)() as session, session.begin():
                rows = [line for e in entries for line in lines(
                    e, ("receivable", 100), ("revenue", -100 if e != entries[-1] else last_amount))]
                await insert_rows(session, JournalLine.__table__, rows)
                await insert_rows(session, JournalEntry.__table__, [entry(e) for e in entries])

        with pytest.raises(DBAPIError):
            await book(ids, last_amount=-99)  # the last of 500 entries does not balance
        await book(ids, last_amount=-100)
        with pytest.raises(DBAPIError):
            await book(ids, last_amount=-100)  # lines for entries already sealed
