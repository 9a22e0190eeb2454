"""What reconciliation keeps of other services' news: the customer's documents and what
settled them (ledger), the dossier's names and terms (credit), repayment agreements
(collection-plan). Every handler tolerates duplicates and any order."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select, update

from services.reconciliation import returns
from services.reconciliation.domain.names import name_key
from services.reconciliation.domain.references import ref_key
from services.reconciliation.domain.statement import is_debit
from services.reconciliation.tables import (
    AccountItem,
    Agreement,
    BankLine,
    ItemSettlement,
    PayerAlias,
    ReconCustomer,
    debit_items,
)
from shared.clock import now
from shared.db import UnitOfWork
from shared.events import CloudEvent
from shared.events import contracts as ev


# --- ledger ---------------------------------------------------------------------------------
async def _record(uow: UnitOfWork, kind: str, doc_id: str, customer_id: str, currency: str,
                  on: date, amount: int, due_date: date | None = None,
                  allocations: list[ev.Allocation] | tuple[()] = (),
                  reference_id: str | None = None) -> None:
    if await uow.session.get(AccountItem, (kind, doc_id)) is not None:
        return
    item = AccountItem(kind=kind, doc_id=doc_id, customer_id=customer_id, currency=currency,
                       doc_date=on, amount=amount, due_date=due_date,
                       reference_id=reference_id[:64] if reference_id else None)
    if is_debit(kind):
        # Settlements may have arrived first (events come in any order).
        settled = sum((await uow.session.execute(
            select(ItemSettlement.amount).where(ItemSettlement.invoice_id == doc_id))).scalars())
        item.open_amount = max(0, amount - settled)
        item.ref_key = ref_key(doc_id)[:64]
        # A discount heard first, from money dated before this invoice: it is earned (and
        # booked by the ledger) on the invoice's date, not the payment's.
        discount = await uow.session.get(AccountItem, ("discount", doc_id))
        if discount is not None and discount.doc_date < on:
            discount.doc_date = on
    uow.session.add(item)
    for a in allocations:
        await _settle(uow, kind, doc_id, a.invoice_id, a.amount, on)


async def _settle(uow: UnitOfWork, doc_kind: str, doc_id: str, invoice_id: str, amount: int,
                  on: date) -> None:
    """Another settlement of the invoice by the document: a document's own allocations
    come once (with the document), and its unapplied rest may be applied to one invoice in
    several steps (each event once: the inbox), in any order."""
    seq = len((await uow.session.execute(select(ItemSettlement.seq).where(
        ItemSettlement.doc_kind == doc_kind, ItemSettlement.doc_id == doc_id,
        ItemSettlement.invoice_id == invoice_id))).all())
    uow.session.add(ItemSettlement(doc_kind=doc_kind, doc_id=doc_id, invoice_id=invoice_id,
                                   seq=seq, amount=amount, settled_on=on))
    await uow.session.flush()
    debit = (await uow.session.execute(
        select(AccountItem).where(AccountItem.doc_id == invoice_id, debit_items()))).scalars().first()
    if debit is not None:
        debit.open_amount = max(0, debit.open_amount - amount)


async def on_invoice_posted(uow: UnitOfWork, data: ev.InvoicePosted, _: CloudEvent) -> None:
    await _record(uow, data.kind, data.invoice_id, data.customer_id, data.currency,
                  data.issue_date, data.amount, data.due_date,
                  reference_id=data.reference_id if data.kind == "reversal" else None)


async def on_invoice_written_off(uow: UnitOfWork, data: ev.InvoiceWrittenOff, _: CloudEvent) -> None:
    await _record(uow, "write_off", data.write_off_id, data.customer_id, data.currency,
                  data.written_off_on, data.amount,
                  allocations=[ev.Allocation(invoice_id=data.invoice_id, amount=data.amount)])


async def on_payment_received(uow: UnitOfWork, data: ev.PaymentReceived, _: CloudEvent) -> None:
    await _record(uow, "payment", data.payment_id, data.customer_id, data.currency,
                  data.received_on, data.amount, allocations=data.allocations)
    for discount in data.discounts:  # a line of its own on the statement
        # Money dated before its invoice earns the discount when the invoice is issued
        # (the ledger's allocation takes effect then): dated so, the statements agree.
        invoice = (await uow.session.execute(select(AccountItem).where(
            AccountItem.doc_id == discount.invoice_id, debit_items()))).scalars().first()
        on = max(data.received_on, invoice.doc_date) if invoice is not None else data.received_on
        await _record(uow, "discount", discount.invoice_id, data.customer_id, data.currency,
                      on, discount.amount, allocations=[discount])
    # A bank line we identified is now booked: its amount shows in the open items.
    await uow.session.execute(update(BankLine).where(BankLine.id == data.payment_id)
                              .values(booked_on=data.received_on))
    await returns.on_payment_booked(uow, data.payment_id, data.amount)  # a return waiting for it


async def on_credit_applied(uow: UnitOfWork, data: ev.CreditApplied, _: CloudEvent) -> None:
    """Earlier credit settles a new invoice: no new line, but the invoice ages no more. A
    discount that money paid ahead earned is a line of its own, as with a payment."""
    if data.document_kind == "discount":
        await _record(uow, "discount", data.document_id, data.customer_id, data.currency,
                      data.applied_on, data.amount,
                      allocations=[ev.Allocation(invoice_id=data.invoice_id, amount=data.amount)])
        return
    await _settle(uow, data.document_kind, data.document_id, data.invoice_id, data.amount,
                  data.applied_on)


async def on_credit_note_posted(uow: UnitOfWork, data: ev.CreditNotePosted, _: CloudEvent) -> None:
    await _record(uow, "credit_note", data.credit_note_id, data.customer_id, data.currency,
                  data.issue_date, data.amount, allocations=data.allocations)


async def on_invoice_settled(uow: UnitOfWork, data: ev.InvoiceSettled, _: CloudEvent) -> None:
    """The ledger says nothing is open: matching offers the invoice no more, whatever our
    own count says (the ledger is the book of record)."""
    await uow.session.execute(
        update(AccountItem).where(AccountItem.doc_id == data.invoice_id, debit_items())
        .values(open_amount=0, settled_on=data.settled_on))


# --- credit ----------------------------------------------------------------------------------
async def add_alias(uow: UnitOfWork, customer_id: str, name: str | None, source: str) -> bool:
    """Learn a name the customer pays under; False when it was known (or is only a legal form)."""
    key = name_key(name or "")[:256]
    if not name or not key or await uow.session.get(PayerAlias, (customer_id, key)) is not None:
        return False
    uow.session.add(PayerAlias(customer_id=customer_id, name_key=key, name=name[:256],
                               source=source, added_by=uow.actor, added_at=now()))
    return True


async def _customer(uow: UnitOfWork, customer_id: str, name: str) -> ReconCustomer:
    customer = await uow.session.get(ReconCustomer, customer_id)
    if customer is None:
        customer = ReconCustomer(customer_id=customer_id, name=name)
        uow.session.add(customer)
    return customer


async def on_customer_registered(uow: UnitOfWork, data: ev.CustomerRegistered, _: CloudEvent) -> None:
    customer = await _customer(uow, data.customer_id, data.name)
    if customer.dossier_version < 0:  # an update may have come first: it is newer
        customer.name, customer.salesperson = data.name, data.salesperson
        customer.legal_representative = data.legal_representative
        customer.dossier_version = 0
    if customer.terms_version < 0:
        customer.terms, customer.terms_version = data.terms.model_dump(mode="json"), 0
    await add_alias(uow, data.customer_id, data.name, "dossier")
    await add_alias(uow, data.customer_id, data.legal_representative, "legal_representative")


async def on_customer_updated(uow: UnitOfWork, data: ev.CustomerUpdated, _: CloudEvent) -> None:
    customer = await _customer(uow, data.customer_id, data.name)
    if data.version <= customer.dossier_version:
        return  # stale news
    if customer.name != data.name:  # payers keep using the old name for a while
        await add_alias(uow, data.customer_id, customer.name, "former_name")
    customer.name, customer.salesperson = data.name, data.salesperson
    customer.legal_representative = data.legal_representative
    customer.dossier_version = data.version
    await add_alias(uow, data.customer_id, data.name, "dossier")
    await add_alias(uow, data.customer_id, data.legal_representative, "legal_representative")


async def on_terms_changed(uow: UnitOfWork, data: ev.TermsChanged, _: CloudEvent) -> None:
    customer = await _customer(uow, data.customer_id, data.customer_id)
    if data.version > customer.terms_version:
        customer.terms, customer.terms_version = data.terms.model_dump(mode="json"), data.version


# --- collection-plan -------------------------------------------------------------------------
async def on_agreement_signed(uow: UnitOfWork, data: ev.AgreementSigned, _: CloudEvent) -> None:
    existing = await uow.session.get(Agreement, data.agreement_id)
    instalments = [i.model_dump(mode="json") for i in data.instalments]
    if existing is None:
        uow.session.add(Agreement(agreement_id=data.agreement_id, customer_id=data.customer_id,
                                  currency=data.currency, invoice_ids=data.invoice_ids,
                                  instalments=instalments))
    else:  # its end arrived first: keep the status, learn the plan
        existing.invoice_ids, existing.instalments = data.invoice_ids, instalments
        existing.currency = data.currency


async def _agreement_ended(uow: UnitOfWork, data: Any, status: str) -> None:
    existing = await uow.session.get(Agreement, data.agreement_id)
    if existing is None:
        uow.session.add(Agreement(agreement_id=data.agreement_id, customer_id=data.customer_id,
                                  currency=getattr(data, "currency", "XXX"),
                                  invoice_ids=data.invoice_ids, instalments=[], status=status))
    else:
        existing.status = status


async def on_agreement_broken(uow: UnitOfWork, data: ev.AgreementBroken, _: CloudEvent) -> None:
    await _agreement_ended(uow, data, "broken")


async def on_agreement_completed(uow: UnitOfWork, data: ev.AgreementCompleted, _: CloudEvent) -> None:
    await _agreement_ended(uow, data, "completed")


