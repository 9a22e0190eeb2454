from __future__ import annotations

from pathlib import Path

from services.credit import api, tables
from services.credit.subscriptions import subscriptions
from shared.runtime import ServiceDefinition


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
    )
