"""The event types collection-plan consumes, in one place."""

from __future__ import annotations

from collections.abc import Mapping

from services.collection_plan.handlers import cases, charges, disputes, readmodels
from shared.messaging.consumer import EventHandler


def subscriptions() -> Mapping[str, EventHandler]:
    return {
        # credit
        "credit.customer.registered": readmodels.on_customer_registered,
        "credit.customer.updated": readmodels.on_customer_updated,
        "credit.terms.changed": readmodels.on_terms_changed,
        "credit.rating.changed": readmodels.on_rating_changed,
        "credit.collection.requested": cases.on_collection_requested,
        # ledger
        "ledger.invoice.posted": readmodels.on_invoice_posted,
        "ledger.payment.missed": cases.on_overdue,
        "ledger.invoice.aged": cases.on_overdue,
        "ledger.payment.received": readmodels.on_money_allocated,
        "ledger.credit_note.posted": readmodels.on_money_allocated,
        "ledger.credit.applied": readmodels.on_money_allocated,
        "ledger.invoice.written_off": readmodels.on_money_allocated,
        "ledger.invoice.settled": readmodels.on_invoice_settled,
        "ledger.balance.changed": readmodels.on_balance_changed,
        "ledger.posting.refused": charges.on_posting_refused,
        # reconciliation
        "reconciliation.statement.disputed": disputes.on_disputed,
        "reconciliation.dispute.resolved": disputes.on_resolved,
    }
