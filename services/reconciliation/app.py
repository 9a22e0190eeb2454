from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from services.reconciliation import api, tables
from services.reconciliation.config import config
from services.reconciliation.domain.statement import previous_period
from services.reconciliation.statements import run_month
from services.reconciliation.subscriptions import subscriptions
from shared.runtime import ScheduledJob, ServiceDefinition, ServiceRuntime


async def month_end_statements(runtime: ServiceRuntime, as_of: date) -> Any:
    """On the configured day of the month, every customer's statements of the month before;
    other days do nothing. Running it again for a date issues only what changed."""
    if as_of.day != runtime.config.statement_run_day:
        return {"as_of": as_of, "skipped": f"statements are issued on day "
                f"{runtime.config.statement_run_day} of the month"}
    return {"as_of": as_of, **await run_month(runtime, previous_period(as_of), as_of, "scheduler")}


def definition() -> ServiceDefinition:
    return ServiceDefinition(
        name="reconciliation",
        prefix="/reconciliation",
        title="reconciliation",
        metadata=tables.metadata,
        infra=tables.infra,
        migrations=Path(__file__).parent / "migrations" / "versions",
        routers=api.routers,
        subscriptions=subscriptions,
        jobs=[ScheduledJob("month-end-statements", month_end_statements)],
        config=config,
    )
