"""The event types the ledger consumes, in one place."""

from __future__ import annotations

from collections.abc import Mapping

from services.ledger import handlers
from shared.messaging.consumer import EventHandler


def subscriptions() -> Mapping[str, EventHandler]:
    return {
        "credit.customer.registered": handlers.on_customer_terms,
        "credit.terms.changed": handlers.on_customer_terms,
        "reconciliation.payment.identified": handlers.on_payment_identified,
    }
