from __future__ import annotations

from pathlib import Path

from services.reconciliation import api, tables
from services.reconciliation.subscriptions import subscriptions
from shared.runtime import ServiceDefinition


def definition() -> ServiceDefinition:
    return ServiceDefinition(
        name="reconciliation",
        prefix="/reconciliation",
        title="reconciliation",
        metadata=tables.metadata,
        infra=tables.infra,
        migrations=Path(__file__).parent / "migrations" / "versions",
        routers=[api.router],
        subscriptions=subscriptions,
    )
