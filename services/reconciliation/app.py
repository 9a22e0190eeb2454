from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from services.reconciliation import api, config, tables
from services.reconciliation.domain.statement import statement_period_due
from services.reconciliation.statements import run_completed, run_month
from services.reconciliation.subscriptions import subscriptions
from shared.runtime import ScheduledJob, ServiceDefinition, ServiceRuntime


async def month_end_statements(runtime: ServiceRuntime, as_of: date) -> Any:
    """Run daily. On the configured day of the month, every customer's statements of the
    month before (new versions where something changed). On any other day, a catch-up: the
    month due is issued to the customers with no statement of it since it ended (the run day was
    missed, or its run failed part way), and nothing once a run has completed; late entries
    are left for the next run day's re-issue or a person's. Running a date again is safe."""
    run_day = runtime.config.statement_run_day
    period = statement_period_due(as_of, run_day)
    if as_of.day != run_day:
        async with runtime.unit_of_work("scheduler", read_only=True) as uow:
            completed = await run_completed(uow, period)
        if completed is not None:
            return {"as_of": as_of, "period": period, "catch_up": True, "issued": 0,
                    "new_versions": 0, "skipped": f"the statements of {period} were issued to "
                    f"every customer on {completed:%Y-%m-%d}"}
    return {"as_of": as_of, **await run_month(runtime, period, as_of, "scheduler",
                                              catch_up=as_of.day != run_day)}


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
        config=config.load,
    )
