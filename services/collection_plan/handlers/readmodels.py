"""The read models collection-plan keeps from credit's and the ledger's events: customers
(dossier, terms, rating, position) and invoices (dates, amounts, every reduction). News may
come twice, late or out of order: versions and dates decide, stale news is ignored."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import func, select

from services.collection_plan.handlers import agreements, bounces, common, promises, write_offs
from services.collection_plan.handlers.cases import cancel_tasks
from services.collection_plan.tables import (
    CaseInvoice,
    CollectionProfile,
    CustomerView,
    InvoiceReduction,
    InvoiceView,
    PaymentView,
    Task,
)
from shared.db import UnitOfWork, money_sum
from shared.events import CloudEvent
from shared.events import contracts as ev


# --- credit ------------------------------------------------------------------------------------
async def _reassign(uow: UnitOfWork, view: CustomerView, old: str | None) -> None:
    """Open tasks follow the customer's collector (tasks made before the registration have
    none yet)."""
    profile = await uow.session.get(CollectionProfile, view.customer_id)
    if profile is not None and profile.collector:
        return  # a person chose the collector: the salesperson does not matter
    for task in (await uow.session.execute(
        select(Task).where(Task.customer_id == view.customer_id, Task.status == "open")
    )).scalars():
        if task.collector is None or task.collector == old:
            task.collector = view.salesperson


async def on_customer_registered(uow: UnitOfWork, data: ev.CustomerRegistered, _: CloudEvent) -> None:
    view = await common.customer(uow, data.customer_id)
    if view.dossier_version < 0:  # an update may have overtaken the registration
        old = view.salesperson
        view.name, view.salesperson, view.distance_km = data.name, data.salesperson, data.distance_km
        view.dossier_version = 0
        await _reassign(uow, view, old)
    if view.terms_version < 0:
        view.terms, view.terms_version = data.terms.model_dump(mode="json", exclude_none=True), 0


async def on_customer_updated(uow: UnitOfWork, data: ev.CustomerUpdated, _: CloudEvent) -> None:
    view = await common.customer(uow, data.customer_id)
    if data.version <= view.dossier_version:
        return  # stale: a later dossier is known
    old = view.salesperson
    view.name, view.salesperson, view.distance_km = data.name, data.salesperson, data.distance_km
    view.dossier_version = data.version
    if old != view.salesperson:
        await _reassign(uow, view, old)


async def on_terms_changed(uow: UnitOfWork, data: ev.TermsChanged, _: CloudEvent) -> None:
    view = await common.customer(uow, data.customer_id)
    if data.version <= view.terms_version:
        return
    view.terms, view.terms_version = data.terms.model_dump(mode="json", exclude_none=True), data.version


async def on_rating_changed(uow: UnitOfWork, data: ev.RatingChanged, _: CloudEvent) -> None:
    view = await common.customer(uow, data.customer_id)
    if data.as_of is not None:
        if view.rating_as_of is not None and data.as_of < view.rating_as_of:
            return  # a rating as of an earlier date than the one we have
        view.rating_as_of = data.as_of
    view.rating_class, view.rating_score = data.rating_class, data.score
    limit = data.recommended_limit
    view.recommended_limit_amount = limit.amount if limit else None
    view.recommended_limit_currency = limit.currency if limit else None


# --- ledger: invoices and what reduces them ----------------------------------------------------
async def _refresh(uow: UnitOfWork, invoice: InvoiceView) -> None:
    """The open amount from the invoice and every reduction heard of so far."""
    await uow.session.flush()
    reduced, last = (await uow.session.execute(
        select(func.coalesce(money_sum(InvoiceReduction.amount), 0), func.max(InvoiceReduction.on))
        .where(InvoiceReduction.invoice_id == invoice.invoice_id)
    )).one()
    if invoice.settled_on is None:
        invoice.open_amount = max(invoice.amount - reduced, 0)
        if invoice.open_amount == 0:
            invoice.settled_on = last or invoice.issue_date
    for item in (await uow.session.execute(
        select(CaseInvoice).where(CaseInvoice.invoice_id == invoice.invoice_id)
    )).scalars():
        item.open_amount = invoice.open_amount
        item.settled = invoice.open_amount == 0


async def on_invoice_posted(uow: UnitOfWork, data: ev.InvoicePosted, _: CloudEvent) -> None:
    view = await common.customer(uow, data.customer_id)
    if data.kind == "invoice" and (view.last_order_on is None or data.issue_date > view.last_order_on):
        view.last_order_on = data.issue_date
    if await uow.session.get(InvoiceView, data.invoice_id) is not None:
        return
    invoice = InvoiceView(
        invoice_id=data.invoice_id, customer_id=data.customer_id, kind=data.kind,
        amount=data.amount, currency=data.currency, issue_date=data.issue_date,
        due_date=data.due_date, salesperson=data.salesperson or view.salesperson,
        open_amount=data.amount)
    uow.session.add(invoice)
    await _refresh(uow, invoice)
    if data.kind == "reversal" and data.reference_id:
        payment = await uow.session.get(PaymentView, data.reference_id)
        if payment is not None:  # else the payment, when it comes, finds its reversal
            await bounces.payment_bounced(uow, view, payment, invoice)


def _reductions(data: Any, event: CloudEvent
                ) -> tuple[date, str | None, list[tuple[str, str, str, int]]]:
    """(date, the payment whose money it is, [(invoice_id, kind, document_id, amount)]) of a
    ledger event."""
    if isinstance(data, ev.PaymentReceived):
        return data.received_on, data.payment_id, [
            *((a.invoice_id, "payment", data.payment_id, a.amount) for a in data.allocations),
            *((a.invoice_id, "discount", data.payment_id, a.amount) for a in data.discounts)]
    if isinstance(data, ev.CreditNotePosted):
        return data.issue_date, None, [(a.invoice_id, "credit_note", data.credit_note_id, a.amount)
                                       for a in data.allocations]
    if isinstance(data, ev.CreditApplied):
        kind = "credit" if data.document_kind == "payment" else "credit_note"
        payment_id = data.document_id if kind == "credit" else None
        # The same document may be applied to the same invoice more than once: key by event.
        return data.applied_on, payment_id, [(data.invoice_id, kind, event.id, data.amount)]
    assert isinstance(data, ev.InvoiceWrittenOff)
    return data.written_off_on, None, [(data.invoice_id, "write_off", data.write_off_id, data.amount)]


async def on_money_allocated(uow: UnitOfWork, data: Any, event: CloudEvent) -> None:
    """ledger.payment.received, .credit_note.posted, .credit.applied, .invoice.written_off:
    what is open shrinks with every reduction, partial ones included."""
    on, payment_id, reductions = _reductions(data, event)
    merged: dict[tuple[str, str, str], int] = defaultdict(int)
    for invoice_id, kind, document_id, amount in reductions:
        merged[(invoice_id, kind, document_id)] += amount
    for (invoice_id, kind, document_id), amount in merged.items():
        if await uow.session.get(InvoiceReduction, (invoice_id, kind, document_id)) is None:
            uow.session.add(InvoiceReduction(invoice_id=invoice_id, kind=kind,
                                             document_id=document_id, customer_id=data.customer_id,
                                             on=on, amount=amount, payment_id=payment_id))
    touched = sorted({invoice_id for invoice_id, *_ in reductions})
    reversal_paid = False
    for invoice_id in touched:
        invoice = await uow.session.get(InvoiceView, invoice_id)
        if invoice is not None:
            await _refresh(uow, invoice)
            reversal_paid |= invoice.kind == "reversal" and invoice.open_amount == 0
        else:  # the invoice is not known yet: the case still sees its figure shrink
            for item in (await uow.session.execute(
                select(CaseInvoice).where(CaseInvoice.invoice_id == invoice_id,
                                          CaseInvoice.settled.is_(False))
            )).scalars():
                item.open_amount = max(item.open_amount - sum(
                    a for i, _, _, a in reductions if i == invoice_id), 0)
                item.settled = item.open_amount == 0
    if isinstance(data, ev.PaymentReceived):
        await _payment(uow, data)
    if isinstance(data, ev.InvoiceWrittenOff):
        await write_offs.booked(uow, data.write_off_id, on)
    await agreements.check_completion(uow, data.customer_id, touched, on)
    if reversal_paid:  # the position may have told of it first, and kept the case open
        await close_if_nothing_overdue(uow, await common.customer(uow, data.customer_id), on)


async def _payment(uow: UnitOfWork, data: ev.PaymentReceived) -> None:
    payment = await uow.session.get(PaymentView, data.payment_id)
    if payment is None:
        payment = PaymentView(payment_id=data.payment_id, customer_id=data.customer_id,
                              amount=data.amount, currency=data.currency,
                              received_on=data.received_on)
        uow.session.add(payment)
    view = await common.customer(uow, data.customer_id)
    if view.last_payment_on is None or data.received_on > view.last_payment_on:
        view.last_payment_on = data.received_on
    reversal = await uow.session.get(InvoiceView, ev.reversal_id(data.payment_id))
    if reversal is not None and reversal.kind == "reversal":
        # The bounce was heard first: this money never came, it keeps no promise.
        await bounces.payment_bounced(uow, view, payment, reversal)
        return
    await uow.session.flush()
    await promises.on_payment(uow, view, data.currency, data.amount, data.received_on)


async def on_invoice_settled(uow: UnitOfWork, data: ev.InvoiceSettled, _: CloudEvent) -> None:
    invoice = await uow.session.get(InvoiceView, data.invoice_id)
    if invoice is not None:
        invoice.open_amount = 0
        invoice.settled_on = invoice.settled_on or data.settled_on
    for item in (await uow.session.execute(
        select(CaseInvoice).where(CaseInvoice.invoice_id == data.invoice_id)
    )).scalars():
        item.settled, item.open_amount = True, 0
    await agreements.check_completion(uow, data.customer_id, [data.invoice_id], data.settled_on)


# --- ledger: the customer's position -----------------------------------------------------------
async def on_balance_changed(uow: UnitOfWork, data: ev.BalanceChanged, _: CloudEvent) -> None:
    view = await common.customer(uow, data.customer_id)
    if data.version <= view.balance_version:
        return  # stale
    view.balance_version = data.version
    view.overdue = {b.currency: b.overdue for b in data.balances}
    view.balances = {b.currency: b.balance for b in data.balances}
    await close_if_nothing_overdue(uow, view, data.as_of)


async def close_if_nothing_overdue(uow: UnitOfWork, view: CustomerView, on: date) -> None:
    case = await common.open_case_of(uow, view.customer_id)
    if case is None or any(view.overdue.values()):
        return
    owes = any(v > 0 for v in view.balances.values())
    active_since = max((d for d in (view.last_order_on, view.last_payment_on) if d), default=None)
    still_dormant = case.dormant_on is not None and (active_since is None
                                                     or active_since <= case.dormant_on)
    if owes and (case.signal_class or still_dormant):
        return  # collecting everything owed, due or not, until it is paid
    case.status, case.closed_on, case.close_reason = "closed", on, "nothing overdue any more"
    await cancel_tasks(uow, case)
    await promises.settle_on_close(uow, case, on)
    common.record(uow, case, on, "closed", case.close_reason)
    uow.emit(ev.CaseClosed(customer_id=case.customer_id, case_id=case.id, closed_on=on,
                           reason=case.close_reason))
