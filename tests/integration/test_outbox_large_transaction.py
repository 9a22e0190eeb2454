"""A transaction that causes many events (a sweep over a large book, a big batch) commits:
the outbox rows must not pass the driver's limit of bound parameters (asyncpg: 32767)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from shared.events import contracts as ev
from tests.support.embedded import service_on


@pytest.mark.parametrize("db", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def test_ten_thousand_events_in_one_transaction(db: str, tmp_path: Path) -> None:
    async with service_on(db, tmp_path, "credit") as (_, runtime):
        runtime.relay.stop()  # count the rows, not what the relay makes of them
        async with runtime.unit_of_work("test") as uow:
            for n in range(10_000):
                uow.emit(ev.CaseOpened(customer_id=f"C{n}", case_id=str(n), opened_on="2026-01-01"))
            await uow.commit()
        outbox = runtime.infra.outbox
        async with runtime.read_sessions() as session:
            count = (await session.execute(select(func.count()).select_from(outbox))).scalar()
    assert count == 10_000
