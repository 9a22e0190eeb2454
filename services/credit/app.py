from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from services.credit import api, config, tables
from services.credit.handlers.reviews import run_reviews
from services.credit.subscriptions import subscriptions
from shared.runtime import ScheduledJob, ServiceDefinition


def definition() -> ServiceDefinition:
    return ServiceDefinition(
        name="credit",
        prefix="/credit",
        title="credit",
        metadata=tables.metadata,
        infra=tables.infra,
        migrations=Path(__file__).parent / "migrations" / "versions",
        routers=[api.router],
        subscriptions=subscriptions,
        # After the night's ledger news (days overdue, payments) has arrived.
        jobs=[ScheduledJob("review", run_reviews, after=timedelta(hours=1, minutes=30))],
        config=config.load,
    )
