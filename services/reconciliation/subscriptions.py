"""The event types reconciliation consumes, in one place."""

from __future__ import annotations

from collections.abc import Mapping

from services.reconciliation import cash_matching, read_models, statements
from shared.messaging.consumer import EventHandler


def subscriptions() -> Mapping[str, EventHandler]:
    return {
        # the customer's documents (statements, open items to match)
        "ledger.invoice.posted": read_models.on_invoice_posted,
        "ledger.invoice.written_off": read_models.on_invoice_written_off,
        "ledger.payment.received": read_models.on_payment_received,
        "ledger.credit.applied": read_models.on_credit_applied,
        "ledger.credit_note.posted": read_models.on_credit_note_posted,
        "ledger.invoice.settled": read_models.on_invoice_settled,
        # a bank line's payment the ledger would not book waits for a person again
        "ledger.posting.refused": cash_matching.on_posting_refused,
        # the dossier: names (payer names to match), terms (printed on statements)
        "credit.customer.registered": read_models.on_customer_registered,
        "credit.customer.updated": read_models.on_customer_updated,
        "credit.terms.changed": read_models.on_terms_changed,
        # repayment agreements (what was agreed), reminders (balance confirmations)
        "collections.agreement.signed": read_models.on_agreement_signed,
        "collections.agreement.broken": read_models.on_agreement_broken,
        "collections.agreement.completed": read_models.on_agreement_completed,
        "collections.reminder.issued": statements.on_reminder_issued,
    }
