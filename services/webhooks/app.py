from __future__ import annotations

from pathlib import Path

from services.webhooks import api, config, tables
from services.webhooks.delivery import DeliveryWorker
from services.webhooks.interest import Interest
from services.webhooks.subscriptions import subscriptions
from shared.runtime import ServiceDefinition


def definition() -> ServiceDefinition:
    return ServiceDefinition(
        name="webhooks",
        prefix="/webhooks",
        title="webhooks",
        metadata=tables.metadata,
        infra=tables.infra,
        migrations=Path(__file__).parent / "migrations" / "versions",
        routers=[api.router],
        subscriptions=subscriptions,
        config=config.load,
        workers=[DeliveryWorker.for_runtime],
        event_filter=lambda runtime: Interest.of(runtime).wants,
    )
