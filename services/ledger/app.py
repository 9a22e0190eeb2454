from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from services.ledger import api, config, sweep, tables
from services.ledger.subscriptions import subscriptions
from shared.runtime import ScheduledJob, ServiceDefinition, ServiceRuntime


async def daily_sweep(runtime: ServiceRuntime, as_of: date) -> Any:
    return await sweep.sweep(runtime, as_of, "scheduler")


def definition() -> ServiceDefinition:
    return ServiceDefinition(
        name="ledger",
        prefix="/ledger",
        title="ledger",
        metadata=tables.metadata,
        infra=tables.infra,
        migrations=Path(__file__).parent / "migrations" / "versions",
        routers=[api.router],
        subscriptions=subscriptions,
        jobs=[ScheduledJob("overdue-sweep", daily_sweep)],
        config=config.load,
    )
