"""The event types reconciliation consumes, in one place."""

from __future__ import annotations

from collections.abc import Mapping

from services.reconciliation import handlers
from shared.messaging.consumer import EventHandler


def subscriptions() -> Mapping[str, EventHandler]:
    return {
        "ledger.invoice.posted": handlers.on_invoice_posted,
        "ledger.invoice.written_off": handlers.on_invoice_written_off,
        "ledger.payment.received": handlers.on_payment_received,
        "ledger.credit.applied": handlers.on_credit_applied,
        "ledger.credit_note.posted": handlers.on_credit_note_posted,
    }
