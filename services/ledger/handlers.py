"""Commands and events in, the posting rules (domain/books.py) over the books the store
loads, the effects written back. Callers commit (the unit of work, at the edge)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import select

from services.ledger import store, tables
from services.ledger.domain.books import Books
from services.ledger.domain.commands import (
    ApplyCredit,
    PostCreditNote,
    PostInvoice,
    PostPayment,
    ReversePayment,
    WriteOff,
)
from services.ledger.domain.documents import Credit, Invoice
from services.ledger.store import Command
from services.ledger.tables import LedgerCustomer
from shared.db import UnitOfWork
from shared.errors import RecoupError
from shared.events import CloudEvent
from shared.events import contracts as ev
from shared.events.contracts import reversal_id

RULES: dict[type, Callable[[Books, Any], Any]] = {
    PostInvoice: Books.post_invoice, PostPayment: Books.post_payment,
    PostCreditNote: Books.post_credit_note, WriteOff: Books.write_off,
    ApplyCredit: Books.apply_credit, ReversePayment: Books.reverse_payment,
}


async def post(uow: UnitOfWork, cmd: Command) -> Any:
    """One document: what its rule answers (a refusal raises and writes nothing)."""
    books = await store.load(uow, [cmd])
    result = RULES[type(cmd)](books, cmd)
    await store.save(uow, books)
    return result


async def post_many(uow: UnitOfWork, commands: Sequence[Command], *,
                    check_only: bool = False) -> list[Any]:
    """Many documents in order, each against the books as the ones before it left them:
    per command what its rule answered, or the RecoupError that refused it. Writes only
    if none was refused (all or nothing), and not at all with `check_only`."""
    books = await store.load(uow, commands)
    outcomes: list[Any] = []
    for cmd in commands:
        try:
            outcomes.append(RULES[type(cmd)](books, cmd))
        except RecoupError as exc:
            outcomes.append(exc)
    if not check_only and not any(isinstance(o, RecoupError) for o in outcomes):
        await store.save(uow, books)
    return outcomes


async def post_invoice(uow: UnitOfWork, cmd: PostInvoice) -> tuple[Invoice, bool]:
    """An invoice, an interest or fee charge, a refund of unapplied credit."""
    return await post(uow, cmd)


async def post_payment(uow: UnitOfWork, cmd: PostPayment) -> tuple[Credit, bool]:
    return await post(uow, cmd)


async def post_credit_note(uow: UnitOfWork, cmd: PostCreditNote) -> tuple[Credit, bool]:
    return await post(uow, cmd)


async def write_off(uow: UnitOfWork, cmd: WriteOff) -> tuple[Credit, bool]:
    return await post(uow, cmd)


async def apply_credit(uow: UnitOfWork, cmd: ApplyCredit) -> Credit:
    return await post(uow, cmd)


async def reverse_payment(uow: UnitOfWork, cmd: ReversePayment) -> tuple[Invoice, bool]:
    return await post(uow, cmd)


# --- events from reconciliation ----------------------------------------------------------
async def on_payment_identified(uow: UnitOfWork, data: ev.PaymentIdentified,
                                event: CloudEvent) -> None:
    """A bank line matched to a customer (and invoices): booked like any payment; one the
    ledger's rules refuse is refused out loud (reconciliation puts the line back in its
    queue), never dead-lettered."""
    await _post_or_refuse(uow, event, data.customer_id, "payment", data.bank_line_id, PostPayment(
        id=data.bank_line_id, customer_id=data.customer_id, amount=data.amount,
        currency=data.currency, received_on=data.received_on, method="bank_transfer",
        invoice_ids=tuple(data.invoice_ids) or None,
    ))


async def on_payment_returned(uow: UnitOfWork, data: ev.PaymentReturned, event: CloudEvent) -> None:
    """The bank took a payment back: reversed as `POST /payments/{id}/reversal` does (what
    it paid is owed again, with its age). A payment already reversed (by a person, or an
    earlier return) stays reversed once; one the ledger does not know, or cannot reverse,
    is refused with ledger.posting.refused, never dead-lettered."""
    reversal = reversal_id(data.payment_id)
    if await uow.session.get(tables.Invoice, reversal) is not None:
        return
    reason = f"returned by the bank: {data.reason or 'no reason given'} (bank line {data.bank_line_id})"
    await _post_or_refuse(uow, event, data.customer_id, "reversal", reversal, ReversePayment(
        payment_id=data.payment_id, reversed_on=data.returned_on, reason=reason[:2000]))


# --- events from collections -------------------------------------------------------------
async def on_interest_charged(uow: UnitOfWork, data: ev.InterestCharged, event: CloudEvent) -> None:
    """Late interest or a fee collection-plan charged: an open item of its own."""
    await _post_or_refuse(uow, event, data.customer_id, data.kind, data.charge_id, PostInvoice(
        id=data.charge_id, customer_id=data.customer_id, amount=data.amount,
        currency=data.currency, issue_date=data.issue_date, kind=data.kind,
        reference_id=data.invoice_id, memo=data.reason))


async def on_write_off_approved(uow: UnitOfWork, data: ev.WriteOffApproved,
                                event: CloudEvent) -> None:
    """A write-off a person approved in collection-plan: booked with its reason."""
    await _post_or_refuse(uow, event, data.customer_id, "write_off", data.write_off_id, WriteOff(
        id=data.write_off_id, invoice_id=data.invoice_id, written_off_on=data.written_off_on,
        reason=data.reason, amount=data.amount, customer_id=data.customer_id,
        currency=data.currency))


async def _post_or_refuse(uow: UnitOfWork, event: CloudEvent, customer_id: str, kind: str,
                          document_id: str, cmd: Command) -> None:
    """Book a document another service asked for; if the ledger's rules refuse it, book
    nothing and say so. Never raise for a refusal: the event would be dead-lettered."""
    try:
        async with uow.savepoint():
            await post(uow, cmd)
    except RecoupError as exc:
        uow.emit(ev.PostingRefused(
            customer_id=customer_id, document_kind=kind, document_id=document_id,
            reason=exc.detail, source_event_id=event.id, source_event_type=event.type))


# --- events from credit ----------------------------------------------------------------------
async def _ledger_customer(uow: UnitOfWork, customer_id: str) -> LedgerCustomer:
    customer = (await uow.session.execute(
        select(LedgerCustomer).where(LedgerCustomer.customer_id == customer_id).with_for_update()
    )).scalar_one_or_none()
    if customer is None:
        # terms_version -1: any terms are newer; no terms_mode: none known yet
        customer = LedgerCustomer(customer_id=customer_id, terms_version=-1)
        uow.session.add(customer)
    return customer


async def on_customer_terms(uow: UnitOfWork, data: Any, _event: CloudEvent) -> None:
    """credit.customer.registered and credit.terms.changed: keep the terms we date by."""
    customer = await _ledger_customer(uow, data.customer_id)
    if isinstance(data, ev.CustomerRegistered) and customer.dossier_version == 0:
        customer.salesperson = data.salesperson  # unless a later dossier arrived first
    version = getattr(data, "version", 0)
    if version < customer.terms_version:
        return  # stale news: a later change already arrived
    terms = data.terms
    customer.terms_mode = terms.mode
    customer.terms_days = terms.days
    customer.terms_day_of_month = terms.day_of_month
    customer.terms_due_date = terms.due_date
    discount = terms.early_payment_discount or {}
    customer.discount_percent = discount.get("percent")
    customer.discount_within_days = discount.get("within_days")
    customer.terms_version = version


async def on_customer_updated(uow: UnitOfWork, data: ev.CustomerUpdated, _: CloudEvent) -> None:
    """The dossier changed: the salesperson who answers for collecting (aging and metrics
    by salesperson use it for invoices that name none). Older versions are ignored."""
    customer = await _ledger_customer(uow, data.customer_id)
    if data.version <= customer.dossier_version:
        return
    customer.salesperson = data.salesperson
    customer.dossier_version = data.version
