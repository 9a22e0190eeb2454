"""A redelivered event changes nothing: the inbox row commits with the effect."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from services.credit import handlers
from services.credit.domain.commands import RecordSignal
from services.credit.handlers import ledger_events
from services.credit.tables import Hold
from shared.events import contracts as ev
from shared.events import new_event
from shared.messaging.consumer import ServiceConsumer
from tests.support.embedded import embedded_settings, running_app, service_on
from tests.support.seed import register_dealer


@pytest.mark.parametrize("db", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def test_redelivered_event_changes_nothing(db: str, tmp_path: Path) -> None:
    async with service_on(db, tmp_path, "credit") as (_, runtime):
        await register_dealer(runtime)
        consumer = ServiceConsumer("credit", {"ledger.payment.missed": ledger_events.on_overdue},
                                   runtime.unit_of_work, inbox=runtime.infra.inbox,
                                   dead_letters=runtime.infra.dead_letters)
        missed = new_event("recoup/ledger", ev.PaymentMissed(
            customer_id="C1", invoice_id="I1", currency="CNY", open_amount=50_000,
            due_date="2026-01-31", as_of="2026-02-20", days_past_due=20, balance_version=1))

        async def counts() -> tuple[int, int]:
            async with runtime.sessions() as session:
                holds = (await session.execute(select(func.count()).select_from(Hold))).scalar_one()
                outbox = runtime.infra.outbox
                placed = (await session.execute(select(func.count()).select_from(outbox)
                          .where(outbox.c.type == "credit.hold.placed"))).scalar_one()
            return holds, placed

        await consumer.handle(missed)
        first = await counts()
        await consumer.handle(missed)
        await consumer.handle(missed)
        assert first == (2, 2)  # cash_only and suspend_incentives, each announced once
        assert await counts() == first


async def test_rating_changes_are_announced_only_when_the_class_changes(tmp_path: Path) -> None:
    async with running_app(embedded_settings(tmp_path), ["credit"]) as app:
        runtime = app.state.runtimes["credit"]
        await register_dealer(runtime)
        for kind in ("bankruptcy", "closure", "bankruptcy", "closure"):  # class E from the first
            async with runtime.unit_of_work("test") as uow:
                await handlers.record_signal(uow, RecordSignal("C1", kind, date(2026, 1, 1)))
                await uow.commit()
        outbox = runtime.infra.outbox
        async with runtime.sessions() as session:
            changes = (await session.execute(select(outbox.c.envelope).order_by(outbox.c.id)
                       .where(outbox.c.type == "credit.rating.changed"))).scalars()
            classes = [json.loads(e)["data"]["class"] for e in changes]
    assert classes == ["C", "E"]  # registered (new, nothing on file), the first serious signal
