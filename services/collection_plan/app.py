from __future__ import annotations

from pathlib import Path

from services.collection_plan import api, tables
from services.collection_plan.subscriptions import subscriptions
from shared.runtime import ServiceDefinition


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
    )
