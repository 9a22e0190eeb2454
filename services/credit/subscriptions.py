"""The event types credit consumes, in one place."""

from __future__ import annotations

from collections.abc import Mapping

from services.credit import handlers
from shared.messaging.consumer import EventHandler


def subscriptions() -> Mapping[str, EventHandler]:
    return {
        "ledger.balance.changed": handlers.on_balance_changed,
        "ledger.payment.missed": handlers.on_overdue,
        "ledger.invoice.aged": handlers.on_overdue,
        "collections.case.escalated": handlers.on_case_escalated,
    }
