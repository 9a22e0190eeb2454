"""The event types the ledger consumes, in one place."""

from __future__ import annotations

from collections.abc import Mapping

from services.ledger import handlers
from shared.messaging.consumer import EventHandler


def subscriptions() -> Mapping[str, EventHandler]:
    return {
        "credit.customer.registered": handlers.on_customer_terms,
        "credit.terms.changed": handlers.on_customer_terms,
        "credit.customer.updated": handlers.on_customer_updated,
        "collections.interest.charged": handlers.on_interest_charged,
        "collections.write_off.approved": handlers.on_write_off_approved,
        "reconciliation.payment.identified": handlers.on_payment_identified,
        "reconciliation.payment.returned": handlers.on_payment_returned,
    }
