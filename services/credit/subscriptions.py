"""The event types credit consumes, in one place."""

from __future__ import annotations

from collections.abc import Mapping

from services.credit.handlers import collection_events as collections
from services.credit.handlers import ledger_events as ledger
from services.credit.handlers import reconciliation_events as reconciliation
from shared.messaging.consumer import EventHandler


def subscriptions() -> Mapping[str, EventHandler]:
    return {
        "ledger.invoice.posted": ledger.on_invoice_posted,
        "ledger.payment.received": ledger.on_payment_received,
        "ledger.invoice.settled": ledger.on_invoice_settled,
        "ledger.invoice.written_off": ledger.on_invoice_written_off,
        "ledger.balance.changed": ledger.on_balance_changed,
        "ledger.payment.missed": ledger.on_overdue,
        "ledger.invoice.aged": ledger.on_overdue,
        "collections.case.escalated": collections.on_case_escalated,
        "collections.case.closed": collections.on_case_closed,
        "collections.promise.made": collections.on_promise_made,
        "collections.promise.kept": collections.on_promise_kept,
        "collections.promise.broken": collections.on_promise_broken,
        "collections.agreement.signed": collections.on_agreement_signed,
        "collections.agreement.broken": collections.on_agreement_broken,
        "collections.agreement.completed": collections.on_agreement_completed,
        "reconciliation.statement.disputed": reconciliation.on_statement_disputed,
        "reconciliation.dispute.resolved": reconciliation.on_dispute_resolved,
    }
