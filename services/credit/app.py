from __future__ import annotations

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
        jobs=[ScheduledJob("review", run_reviews)],
        config=config.load,
    )
