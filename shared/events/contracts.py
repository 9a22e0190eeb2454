"""The typed contract of every integration event. Changing one is a deliberate act:
tests/unit/shared/test_event_contracts.py compares them with a stored snapshot."""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field


class EventData(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="allow")
    event_type: ClassVar[str]
    event_version: ClassVar[int] = 1


class Terms(BaseModel):
    mode: str
    days: int | None = None
    day_of_month: int | None = None
    due_date: date | None = None
    early_payment_discount: dict | None = None


class MoneyField(BaseModel):
    amount: int
    currency: str


class Allocation(BaseModel):
    invoice_id: str
    amount: int


class Instalment(BaseModel):
    due_date: date
    amount: int


class DisputedLine(BaseModel):
    document_id: str
    reason: str | None = None


class CurrencyBalance(BaseModel):
    currency: str
    balance: int
    overdue: int
    oldest_overdue_due_date: date | None = None


# credit -------------------------------------------------------------------------------
class CustomerRegistered(EventData):
    event_type = "credit.customer.registered"
    customer_id: str
    name: str
    salesperson: str | None = None
    region: str | None = None
    terms: Terms
    credit_limit: MoneyField
    distance_km: int | None = None
    legal_representative: str | None = None
    address: str | None = None


class CustomerUpdated(EventData):
    """The dossier changed after registration (terms have `credit.terms.changed`).
    Carries the whole current dossier; `version` grows by one per change."""

    event_type = "credit.customer.updated"
    customer_id: str
    version: int
    name: str
    salesperson: str | None = None
    region: str | None = None
    distance_km: int | None = None
    legal_representative: str | None = None
    changed: list[str] = Field(default_factory=list, description="the fields that changed")
    address: str | None = None
    credit_limit: MoneyField | None = None
    financial_status: dict | None = Field(None, description="{grade, note, assessed_on}")
    market_network: dict | None = None
    sales_ability: dict | None = None
    organisation: dict | None = Field(None, description="organisation and management")
    documents: dict | None = Field(
        None, description="kind -> {signed, sealed, sealed_by, received_on, reference}")


class TermsChanged(EventData):
    event_type = "credit.terms.changed"
    customer_id: str
    terms: Terms
    version: int


class RatingChanged(EventData):
    event_type = "credit.rating.changed"
    customer_id: str
    rating_class: str = Field(alias="class")
    previous_class: str | None = None
    score: int
    reasons: list[str]
    recommended_limit: MoneyField | None = None
    as_of: date | None = None


class SignalRecorded(EventData):
    event_type = "credit.signal.recorded"
    customer_id: str
    signal_id: str
    kind: str
    observed_on: date
    note: str | None = None
    serious: bool
    origin: str = Field("reported", description="reported (by a person) or detected (from data)")
    evidence: list[str] = Field(default_factory=list, description="what a detection rests on")


class CollectionRequested(EventData):
    """Credit asks collection-plan to collect at once, before or beyond the ladder's pace
    (a serious warning signal)."""

    event_type = "credit.collection.requested"
    customer_id: str
    reason: str
    as_of: date
    signal_id: str | None = None
    signal_kind: str | None = None
    receivable_class: str | None = Field(
        None, description="the class the cause calls for, e.g. bad_debt on bankruptcy")


class HoldPlaced(EventData):
    event_type = "credit.hold.placed"
    customer_id: str
    hold_id: str
    kind: str
    reason: str
    cause: str
    placed_by: str
    incentives: list[str] | None = Field(
        None, description="suspend_incentives: the incentives that are off (promotions, ...)")


class HoldReleased(EventData):
    event_type = "credit.hold.released"
    customer_id: str
    hold_id: str
    kind: str
    reason: str
    released_by: str
    override: bool = Field(
        False, description="a person released an automatic hold while its cause remained")


# ledger -------------------------------------------------------------------------------
class InvoicePosted(EventData):
    event_type = "ledger.invoice.posted"
    customer_id: str
    invoice_id: str
    amount: int
    currency: str
    issue_date: date
    due_date: date
    salesperson: str | None = None
    shipment_id: str | None = None
    kind: str = Field("invoice", description="invoice, interest, fee, refund or reversal")
    reference_id: str | None = None
    order_id: str | None = Field(None, description="the ERP order the invoice bills")
    balance_version: int | None = Field(
        None, description="the first ledger.balance.changed version that includes it")


class InvoiceWrittenOff(EventData):
    event_type = "ledger.invoice.written_off"
    customer_id: str
    write_off_id: str
    invoice_id: str
    amount: int
    currency: str
    written_off_on: date
    reason: str


class PaymentReceived(EventData):
    event_type = "ledger.payment.received"
    customer_id: str
    payment_id: str
    amount: int
    currency: str
    received_on: date
    method: str | None = None
    allocations: list[Allocation]
    unapplied: int
    discounts: list[Allocation] = Field(
        default_factory=list, description="early-payment discounts earned, per invoice")


class CreditApplied(EventData):
    """Unapplied credit (a payment or credit note) applied to an invoice later; or, with
    `document_kind` "discount", the early-payment discount a new invoice earned from money
    paid ahead (a discount document, id = the invoice's)."""

    event_type = "ledger.credit.applied"
    customer_id: str
    document_kind: str
    document_id: str
    invoice_id: str
    amount: int
    currency: str
    applied_on: date


class CreditNotePosted(EventData):
    event_type = "ledger.credit_note.posted"
    customer_id: str
    credit_note_id: str
    amount: int
    currency: str
    issue_date: date
    invoice_id: str | None = None
    allocations: list[Allocation]


class InvoiceSettled(EventData):
    event_type = "ledger.invoice.settled"
    customer_id: str
    invoice_id: str
    currency: str
    settled_on: date


class PaymentMissed(EventData):
    event_type = "ledger.payment.missed"
    customer_id: str
    invoice_id: str
    currency: str
    open_amount: int
    due_date: date
    as_of: date
    days_past_due: int
    balance_version: int = Field(description="the ledger's balance version when sent")


class InvoiceAged(EventData):
    """An overdue invoice crossed an age threshold (days past due), once per threshold."""

    event_type = "ledger.invoice.aged"
    customer_id: str
    invoice_id: str
    currency: str
    open_amount: int
    due_date: date
    as_of: date
    days_past_due: int
    balance_version: int = Field(description="the ledger's balance version when sent")
    threshold_days: int


class BalanceChanged(EventData):
    """The customer's whole position after a change; `version` grows by one per change."""

    event_type = "ledger.balance.changed"
    customer_id: str
    version: int
    as_of: date
    balances: list[CurrencyBalance]


class PostingRefused(EventData):
    """A document another service asked the ledger to book by event (a charge, a
    write-off) was refused by the ledger's rules; nothing was booked."""

    event_type = "ledger.posting.refused"
    customer_id: str
    document_kind: str
    document_id: str
    reason: str
    source_event_id: str
    source_event_type: str


# collections --------------------------------------------------------------------------
class CaseOpened(EventData):
    event_type = "collections.case.opened"
    customer_id: str
    case_id: str
    opened_on: date


class CaseEscalated(EventData):
    event_type = "collections.case.escalated"
    customer_id: str
    case_id: str
    level: int
    previous_level: int
    receivable_class: str = Field(alias="class")
    step: str
    days_past_due: int
    as_of: date
    balance_version: int | None = None
    requested_holds: list[str] = Field(
        default_factory=list, description="hold kinds the step asks credit to place")
    trigger: str | None = Field(
        None, description="what moved the case: days past due, a broken promise, a signal, ...")


class CaseClosed(EventData):
    event_type = "collections.case.closed"
    customer_id: str
    case_id: str
    closed_on: date
    reason: str


class PromiseMade(EventData):
    event_type = "collections.promise.made"
    customer_id: str
    case_id: str
    promise_id: str
    amount: int
    currency: str
    promised_on: date


class PromiseKept(EventData):
    event_type = "collections.promise.kept"
    customer_id: str
    case_id: str
    promise_id: str
    amount: int
    currency: str
    promised_on: date
    kept_on: date


class PromiseBroken(EventData):
    event_type = "collections.promise.broken"
    customer_id: str
    case_id: str
    promise_id: str
    amount: int
    currency: str
    promised_on: date
    as_of: date | None = None
    paid: int | None = Field(None, description="what came in towards it by the date")


class AgreementSigned(EventData):
    event_type = "collections.agreement.signed"
    customer_id: str
    agreement_id: str
    invoice_ids: list[str]
    currency: str
    total: int
    instalments: list[Instalment] = Field(default_factory=list)
    signed_on: date | None = None


class AgreementBroken(EventData):
    """An instalment was missed: the agreement no longer shields its invoices."""

    event_type = "collections.agreement.broken"
    customer_id: str
    agreement_id: str
    invoice_ids: list[str]
    currency: str
    missed_due_date: date
    missed_amount: int
    as_of: date


class AgreementCompleted(EventData):
    event_type = "collections.agreement.completed"
    customer_id: str
    agreement_id: str
    invoice_ids: list[str]
    completed_on: date


class InterestCharged(EventData):
    """Late interest or a fee collection-plan has charged after a written notice; the
    ledger books it as its own document (`kind` interest or fee, id `charge_id`)."""

    event_type = "collections.interest.charged"
    customer_id: str
    charge_id: str
    kind: str = Field("interest", description="interest or fee")
    invoice_id: str | None = None
    amount: int
    currency: str
    issue_date: date
    reason: str


class WriteOffApproved(EventData):
    """A write-off proposal approved by a person; the ledger books the write-off."""

    event_type = "collections.write_off.approved"
    customer_id: str
    write_off_id: str
    invoice_id: str
    amount: int | None = Field(None, description="default: all that is open")
    currency: str
    written_off_on: date
    reason: str
    approved_by: str


class ReminderIssued(EventData):
    """An amount falls due soon: the customer is asked to confirm it (reconciliation
    sends the balance-confirmation link)."""

    event_type = "collections.reminder.issued"
    customer_id: str
    reminder_id: str
    invoice_ids: list[str]
    amount: int
    currency: str
    due_date: date
    as_of: date


# reconciliation -----------------------------------------------------------------------
class StatementIssued(EventData):
    event_type = "reconciliation.statement.issued"
    customer_id: str
    statement_id: str
    period: str
    currency: str
    closing_balance: int
    digest: str
    version: int | None = Field(None, description="1, then one more per re-issue that changed")
    supersedes: str | None = Field(None, description="the statement id this version replaces")
    kind: str | None = Field(None, description="monthly, or balance (a reminder's confirmation)")


class StatementConfirmed(EventData):
    event_type = "reconciliation.statement.confirmed"
    customer_id: str
    statement_id: str
    confirmed_by: str


class StatementDisputed(EventData):
    event_type = "reconciliation.statement.disputed"
    customer_id: str
    statement_id: str
    invoice_ids: list[str]
    reason: str
    dispute_id: str | None = None
    lines: list[DisputedLine] = Field(default_factory=list)


class DisputeResolved(EventData):
    """A person resolved a dispute: escalation of its invoices may resume."""

    event_type = "reconciliation.dispute.resolved"
    customer_id: str
    statement_id: str
    dispute_id: str
    invoice_ids: list[str]
    resolution: str
    note: str
    resolved_by: str


class ConfirmationRequested(EventData):
    """A link was made for the customer to confirm (or dispute) a statement or a balance,
    without an API key; ERP hooks send it."""

    event_type = "reconciliation.confirmation.requested"
    customer_id: str
    confirmation_id: str
    purpose: str = Field(description="statement or balance_reminder")
    statement_id: str | None = None
    link: str = Field(description="path and signed token, relative to the public base URL")
    expires_at: datetime
    url: str | None = Field(None, description="the link made absolute with the public base URL")
    reference: str | None = Field(None, description="the statement's reference, as printed on it")


class PaymentIdentified(EventData):
    event_type = "reconciliation.payment.identified"
    customer_id: str
    bank_line_id: str
    amount: int
    currency: str
    received_on: date
    invoice_ids: list[str]
    reference: str | None = None
    payer_name: str | None = None
    confidence: float | None = Field(None, description="0..1, how sure the match is")
    match_reason: str | None = None
    discrepancy: str | None = Field(None, description="why the amount differs from what was due")


def reversal_id(payment_id: str) -> str:
    """The id of the ledger's reversal of a payment, which its refusals name: `REV-<payment
    id>`; for the longest payment ids, which that does not fit (ids have at most 64
    characters), the id's start and a digest of all of it: the same each time."""
    plain = f"REV-{payment_id}"
    if len(plain) <= 64:
        return plain
    digest = hashlib.sha256(payment_id.encode()).hexdigest()[:16]
    return f"REV-{payment_id[:43]}-{digest}"


class PaymentReturned(EventData):
    """The bank took back a payment it had credited (a direct debit refused, a transfer sent
    back): the ledger reverses the payment, so what it paid is owed again with its age."""

    event_type = "reconciliation.payment.returned"
    customer_id: str
    payment_id: str = Field(description="the ledger's payment the bank took back")
    bank_line_id: str = Field(description="the bank line of the return")
    amount: int = Field(description="what the bank took back")
    currency: str
    returned_on: date
    reason: str | None = Field(None, description="the bank's return reason, e.g. AM04 insufficient funds")
    original_bank_line_id: str | None = Field(None, description="the credit line it undoes, when one")
    payment_amount: int | None = Field(None, description="the payment's amount, when it differs")
    linked_by: str = Field(description="matching, or the person who linked it")
    note: str | None = None


EVENT_TYPES: dict[str, type[EventData]] = {
    cls.event_type: cls
    for cls in (
        # credit
        CustomerRegistered, CustomerUpdated, TermsChanged, RatingChanged, SignalRecorded,
        CollectionRequested, HoldPlaced, HoldReleased,
        # ledger
        InvoicePosted, InvoiceWrittenOff, PaymentReceived, CreditApplied, CreditNotePosted,
        InvoiceSettled, PaymentMissed, InvoiceAged, BalanceChanged, PostingRefused,
        # collections
        CaseOpened, CaseEscalated, CaseClosed, PromiseMade, PromiseKept, PromiseBroken,
        AgreementSigned, AgreementBroken, AgreementCompleted, InterestCharged,
        WriteOffApproved, ReminderIssued,
        # reconciliation
        StatementIssued, StatementConfirmed, StatementDisputed, DisputeResolved,
        ConfirmationRequested, PaymentIdentified, PaymentReturned,
    )
}


class UnknownEventType(KeyError):
    pass


def contract_for(event_type: str) -> type[EventData]:
    try:
        return EVENT_TYPES[event_type]
    except KeyError:
        raise UnknownEventType(event_type) from None
