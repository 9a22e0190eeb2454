from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from services.collection_plan import api, config, tables
from services.collection_plan.handlers.sweep import run_sweep
from services.collection_plan.subscriptions import subscriptions
from shared.runtime import ScheduledJob, ServiceDefinition


def definition() -> ServiceDefinition:
    return ServiceDefinition(
        name="collections",
        prefix="/collections",
        title="collection-plan",
        metadata=tables.metadata,
        infra=tables.infra,
        migrations=Path(__file__).parent / "migrations" / "versions",
        routers=[api.router],
        subscriptions=subscriptions,
        # After the ledger's overdue sweep, whose news it builds on.
        jobs=[ScheduledJob("collection-sweep", run_sweep, after=timedelta(hours=1))],
        config=config.load,
    )
