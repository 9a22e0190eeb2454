"""The event types collection-plan consumes, in one place."""

from __future__ import annotations

from collections.abc import Mapping

from services.collection_plan import handlers
from shared.messaging.consumer import EventHandler


def subscriptions() -> Mapping[str, EventHandler]:
    return {
        "credit.customer.registered": handlers.on_customer_registered,
        "ledger.payment.missed": handlers.on_overdue,
        "ledger.invoice.aged": handlers.on_overdue,
        "ledger.payment.received": handlers.on_money_allocated,
        "ledger.credit_note.posted": handlers.on_money_allocated,
        "ledger.credit.applied": handlers.on_money_allocated,
        "ledger.invoice.written_off": handlers.on_money_allocated,
        "ledger.invoice.settled": handlers.on_invoice_settled,
        "ledger.balance.changed": handlers.on_balance_changed,
    }
