"""Collection-plan when news arrives out of order (competing consumers do that)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import select

from services.collection_plan.handlers import cases, readmodels
from services.collection_plan.tables import Task
from shared.events import contracts as ev
from shared.events import new_event
from tests.support.embedded import embedded_settings, running_app


async def apply(runtime: object, handler: object, data: ev.EventData) -> None:
    async with runtime.unit_of_work() as uow:  # type: ignore[attr-defined]
        await handler(uow, data, new_event("test", data))  # type: ignore[operator]
        await uow.commit()


async def test_tasks_made_before_the_registration_get_their_collector(tmp_path: Path) -> None:
    async with running_app(embedded_settings(tmp_path), ["collections"]) as app:
        runtime = app.state.runtimes["collections"]
        await apply(runtime, cases.on_overdue, ev.PaymentMissed(
            customer_id="C1", invoice_id="I1", currency="CNY", open_amount=1000,
            due_date=date(2026, 1, 31), as_of=date(2026, 2, 20), days_past_due=20,
            balance_version=1))
        await apply(runtime, readmodels.on_customer_registered, ev.CustomerRegistered(
            customer_id="C1", name="Dealer", salesperson="li.na",
            terms=ev.Terms(mode="net_days", days=30),
            credit_limit=ev.MoneyField(amount=1, currency="CNY")))
        async with runtime.read_sessions() as session:
            collectors = set((await session.execute(select(Task.collector))).scalars())
    assert collectors == {"li.na"}
