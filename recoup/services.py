"""The registry of services: name -> definition factory."""

from __future__ import annotations

from collections.abc import Callable

from shared.runtime import ServiceDefinition


def definitions() -> dict[str, Callable[[], ServiceDefinition]]:
    from services.collection_plan.app import definition as collections
    from services.credit.app import definition as credit
    from services.ledger.app import definition as ledger
    from services.reconciliation.app import definition as reconciliation
    from services.webhooks.app import definition as webhooks

    return {
        "credit": credit,
        "ledger": ledger,
        "reconciliation": reconciliation,
        "collections": collections,
        "webhooks": webhooks,
    }


def load(names: list[str] | None = None) -> list[ServiceDefinition]:
    known = definitions()
    wanted = names or list(known)
    unknown = [n for n in wanted if n not in known]
    if unknown:
        raise ValueError(f"unknown service(s) {unknown}; known: {list(known)}")
    return [known[n]() for n in wanted]
