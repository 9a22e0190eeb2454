"""Commands and events in, domain calls, the unit of work commits (callers commit)."""

from __future__ import annotations

import uuid
import zlib
from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import func, insert, select, text

from services.ledger.domain import allocation as alloc
from services.ledger.domain.aging import days_past_due, thresholds_crossed
from services.ledger.domain.commands import (
    ApplyCredit,
    PostCreditNote,
    PostInvoice,
    PostPayment,
    ReversePayment,
    RunSweep,
    WriteOff,
)
from services.ledger.domain.terms import Terms, TermsError, due_date_for
from services.ledger.tables import (
    Allocation,
    CreditDocument,
    Invoice,
    JournalEntry,
    JournalLine,
    LedgerCustomer,
    OverdueNotice,
)
from shared.clock import now
from shared.db import UnitOfWork
from shared.errors import Conflict, Invalid, NotFound
from shared.events import CloudEvent
from shared.events import contracts as ev


async def _customer(uow: UnitOfWork, customer_id: str) -> LedgerCustomer:
    """The customer's row, locked: postings for one customer take turns (PostgreSQL)."""
    customer = (
        await uow.session.execute(
            select(LedgerCustomer).where(LedgerCustomer.customer_id == customer_id).with_for_update()
        )
    ).scalar_one_or_none()
    if customer is None:
        raise Invalid(
            f"customer {customer_id!r} is unknown to the ledger; register it with credit first",
            field="customer_id",
        )
    return customer


async def _journal(uow: UnitOfWork, kind: str, doc_id: str, customer_id: str, currency: str,
                   booked_on: date, lines: list[tuple[str, int]]) -> None:
    """Book the lines, then seal them with their entry: in that order, because the
    database checks the balance when the entry arrives and refuses later lines."""
    entry_id = f"{kind}:{doc_id}"
    rows = [dict(entry_id=entry_id, document_kind=kind, document_id=doc_id,
                 customer_id=customer_id, account=account, currency=currency, amount=amount,
                 booked_on=booked_on) for account, amount in lines if amount]
    await uow.session.execute(insert(JournalLine), rows)
    await uow.session.execute(insert(JournalEntry).values(
        id=entry_id, document_kind=kind, document_id=doc_id, customer_id=customer_id,
        booked_on=booked_on, recorded_by=uow.actor, recorded_at=now()))


def _same(existing: Any, fields: dict[str, Any]) -> bool:
    return all(getattr(existing, k) == v for k, v in fields.items())


# --- invoices, charges and refunds ----------------------------------------------------------
# Where the other side of a debit document goes.
INCOME_ACCOUNTS = {"invoice": "revenue", "interest": "interest_income", "fee": "fee_income",
                   "refund": "cash", "reversal": "cash"}


async def post_invoice(uow: UnitOfWork, cmd: PostInvoice) -> tuple[Invoice, bool]:
    """Book what the customer owes: an invoice, an interest or fee charge, or a refund of
    its unapplied credit. Answers (document, created); re-posting the same is a no-op."""
    if cmd.due_date is not None and cmd.due_date < cmd.issue_date and cmd.kind != "reversal":
        raise Invalid("the due date is before the issue date", field="due_date")
    customer = await _customer(uow, cmd.customer_id)
    content = dict(kind=cmd.kind, customer_id=cmd.customer_id, amount=cmd.amount,
                   currency=cmd.currency, issue_date=cmd.issue_date, shipment_id=cmd.shipment_id,
                   salesperson=cmd.salesperson, reference_id=cmd.reference_id, memo=cmd.memo)
    existing = await uow.session.get(Invoice, cmd.id)
    if existing is not None:
        # A retry without due_date matches whatever the terms gave the first time.
        if _same(existing, content) and cmd.due_date in (None, existing.due_date):
            return existing, False
        raise Conflict(f"{cmd.kind} {cmd.id} exists with different content", field="id")
    due = cmd.due_date
    if due is None and cmd.kind != "invoice":
        due = cmd.issue_date  # charges and refunds are due at once
    if due is None:
        try:
            due = due_date_for(_terms(customer), cmd.issue_date)
        except TermsError as exc:
            raise Invalid(str(exc), field="due_date") from exc

    invoice = Invoice(
        id=cmd.id, **content, due_date=due, open_amount=cmd.amount,
        recorded_by=uow.actor, recorded_at=now(),
    )
    uow.session.add(invoice)
    await _journal(uow, cmd.kind, cmd.id, cmd.customer_id, cmd.currency, cmd.issue_date,
                   [("receivable", cmd.amount), (INCOME_ACCOUNTS[cmd.kind], -cmd.amount)])
    uow.emit(ev.InvoicePosted(
        customer_id=cmd.customer_id, invoice_id=cmd.id, amount=cmd.amount,
        currency=cmd.currency, issue_date=cmd.issue_date, due_date=due,
        salesperson=cmd.salesperson, shipment_id=cmd.shipment_id, kind=cmd.kind,
        reference_id=cmd.reference_id,
    ))
    await _apply_unapplied_credit(uow, invoice)
    if cmd.kind == "refund" and invoice.open_amount:
        raise Invalid(f"a refund pays back credit the customer has with us; "
                      f"{cmd.amount - invoice.open_amount} {cmd.currency} is all there is",
                      field="amount")
    await _emit_balance(uow, customer, as_of=cmd.issue_date)
    return invoice, True


def _terms(customer: LedgerCustomer) -> Terms:
    return Terms(customer.terms_mode, customer.terms_days, customer.terms_day_of_month,
                 customer.terms_due_date, customer.discount_percent, customer.discount_within_days)


# --- payments and credit notes -------------------------------------------------------------
async def post_payment(uow: UnitOfWork, cmd: PostPayment) -> tuple[CreditDocument, bool]:
    return await _post_credit(
        uow, "payment", cmd.id, cmd.customer_id, cmd.amount, cmd.currency, cmd.received_on,
        method=cmd.method,
        requested=list(cmd.allocations) if cmd.allocations is not None else None,
        only_invoices=cmd.invoice_ids,
    )


async def post_credit_note(uow: UnitOfWork, cmd: PostCreditNote) -> tuple[CreditDocument, bool]:
    await _customer(uow, cmd.customer_id)  # lock first: the invoice's open amount is read below
    requested = None
    if cmd.invoice_id is not None:
        invoice = await uow.session.get(Invoice, cmd.invoice_id, populate_existing=True)
        if invoice is None or invoice.customer_id != cmd.customer_id:
            raise Invalid(f"invoice {cmd.invoice_id} is not an invoice of this customer",
                          field="invoice_id")
        if invoice.currency != cmd.currency:
            raise Invalid(f"invoice {cmd.invoice_id} is in {invoice.currency}", field="currency")
        share = min(cmd.amount, invoice.open_amount)
        requested = [alloc.Allocation(cmd.invoice_id, share)] if share else []
    return await _post_credit(
        uow, "credit_note", cmd.id, cmd.customer_id, cmd.amount, cmd.currency, cmd.issue_date,
        invoice_id=cmd.invoice_id, requested=requested,
    )


async def reverse_payment(uow: UnitOfWork, cmd: ReversePayment) -> tuple[Invoice, bool]:
    """A payment that bounced: the customer owes its amount again. The payment and what it
    settled stay on the books; a reversal item is added, due when the oldest invoice the
    payment had settled was due, so the debt keeps its age (for aging, sweep, collection)."""
    payment = await uow.session.get(CreditDocument, ("payment", cmd.payment_id))
    if payment is None:
        raise NotFound(f"payment {cmd.payment_id!r} not found")
    if cmd.reversed_on < payment.document_date:
        raise Invalid("a payment cannot bounce before it was received", field="reversed_on")
    oldest_due = (await uow.session.execute(
        select(func.min(Invoice.due_date)).join(Allocation, Allocation.invoice_id == Invoice.id)
        .where(Allocation.document_kind == "payment", Allocation.document_id == payment.id)
    )).scalar_one()
    return await post_invoice(uow, PostInvoice(
        id=f"REV-{payment.id}", customer_id=payment.customer_id, amount=payment.amount,
        currency=payment.currency, issue_date=cmd.reversed_on,
        due_date=min(oldest_due or cmd.reversed_on, cmd.reversed_on), kind="reversal",
        reference_id=payment.id, memo=cmd.reason))


async def write_off(uow: UnitOfWork, cmd: WriteOff) -> tuple[CreditDocument, bool]:
    """Book an invoice (or part of it) as bad debt, with the reason: a document of its own,
    never an edit of the invoice."""
    invoice = await uow.session.get(Invoice, cmd.invoice_id)
    if invoice is None:
        raise NotFound(f"invoice {cmd.invoice_id!r} not found", field="invoice_id")
    await _customer(uow, invoice.customer_id)  # lock, then read the invoice as it is now
    await uow.session.refresh(invoice)
    existing = await uow.session.get(CreditDocument, ("write_off", cmd.id))
    amount = cmd.amount if cmd.amount is not None else (
        existing.amount if existing is not None else invoice.open_amount)
    if existing is None and amount == 0:
        raise Invalid(f"invoice {cmd.invoice_id} has nothing open to write off", field="invoice_id")
    return await _post_credit(
        uow, "write_off", cmd.id, invoice.customer_id, amount, invoice.currency,
        cmd.written_off_on, invoice_id=cmd.invoice_id, memo=cmd.reason,
        requested=[alloc.Allocation(cmd.invoice_id, amount)],
    )


# The account a credit document's money comes from.
DEBIT_ACCOUNTS = {"payment": "cash", "credit_note": "sales_returns",
                  "write_off": "bad_debt_expense"}


async def _post_credit(
    uow: UnitOfWork, kind: str, doc_id: str, customer_id: str, amount: int, currency: str,
    on: date, *, method: str | None = None, invoice_id: str | None = None,
    memo: str | None = None,
    requested: list[alloc.Allocation] | None, only_invoices: tuple[str, ...] | None = None,
) -> tuple[CreditDocument, bool]:
    customer = await _customer(uow, customer_id)
    content = dict(customer_id=customer_id, amount=amount, currency=currency, document_date=on,
                   method=method, invoice_id=invoice_id, memo=memo)
    existing = await uow.session.get(CreditDocument, (kind, doc_id))
    if existing is not None:
        if _same(existing, content) and (
            requested is None or kind != "payment"  # their allocations were derived, not sent
            or await _allocated(uow, kind, doc_id) == sorted((a.invoice_id, a.amount) for a in requested)
        ):
            return existing, False
        raise Conflict(f"{kind.replace('_', ' ')} {doc_id} exists with different content",
                       field="id")

    open_invoices = {
        i.id: i for i in (await uow.session.execute(
            select(Invoice).where(Invoice.customer_id == customer_id,
                                  Invoice.currency == currency, Invoice.open_amount > 0)
            .execution_options(populate_existing=True)  # as of now, under the customer's lock
        )).scalars()
    }
    terms = _terms(customer)
    views = {
        i.id: alloc.OpenInvoice(
            i.id, i.issue_date, i.due_date, i.open_amount,
            discount=terms.early_payment_discount(i.amount, i.issue_date, on)
            if kind == "payment" else 0)
        for i in open_invoices.values()
    }
    if requested is None:
        eligible = [v for i, v in views.items() if only_invoices is None or i in only_invoices]
        allocations = alloc.allocate_oldest_first(amount, eligible)
    else:
        allocations = alloc.check_explicit(amount, requested, views)

    settled = []
    for a in allocations:
        invoice = open_invoices[a.invoice_id]
        invoice.open_amount -= a.amount
        uow.session.add(Allocation(document_kind=kind, document_id=doc_id,
                                   invoice_id=a.invoice_id, amount=a.amount, effective_on=on))
        if a.discount:
            await _book_discount(uow, invoice, a.discount, on)
        if invoice.open_amount == 0:
            invoice.settled_on = on
            settled.append(invoice)
    allocated = sum(a.amount for a in allocations)
    document = CreditDocument(
        kind=kind, id=doc_id, **content,
        unapplied=amount - allocated, recorded_by=uow.actor, recorded_at=now(),
    )
    uow.session.add(document)
    await _journal(uow, kind, doc_id, customer_id, currency, on, [
        (DEBIT_ACCOUNTS[kind], amount), ("receivable", -allocated),
        ("customer_credit", -(amount - allocated)),
    ])

    allocation_data = [ev.Allocation(invoice_id=a.invoice_id, amount=a.amount) for a in allocations]
    if kind == "payment":
        uow.emit(ev.PaymentReceived(
            customer_id=customer_id, payment_id=doc_id, amount=amount, currency=currency,
            received_on=on, method=method, allocations=allocation_data,
            unapplied=document.unapplied,
            discounts=[ev.Allocation(invoice_id=a.invoice_id, amount=a.discount)
                       for a in allocations if a.discount],
        ))
    elif kind == "credit_note":
        uow.emit(ev.CreditNotePosted(
            customer_id=customer_id, credit_note_id=doc_id, amount=amount, currency=currency,
            issue_date=on, invoice_id=invoice_id, allocations=allocation_data,
        ))
    else:
        uow.emit(ev.InvoiceWrittenOff(
            customer_id=customer_id, write_off_id=doc_id, invoice_id=invoice_id or "",
            amount=amount, currency=currency, written_off_on=on, reason=memo or "",
        ))
    for invoice in settled:
        uow.emit(ev.InvoiceSettled(customer_id=customer_id, invoice_id=invoice.id,
                                   currency=currency, settled_on=on))
    await _emit_balance(uow, customer, as_of=on)
    return document, True


async def _book_discount(uow: UnitOfWork, invoice: Invoice, discount: int, on: date) -> None:
    """The early-payment discount as a document of its own (id = the invoice's)."""
    invoice.open_amount -= discount
    uow.session.add(CreditDocument(
        kind="discount", id=invoice.id, customer_id=invoice.customer_id, amount=discount,
        currency=invoice.currency, document_date=on, invoice_id=invoice.id, unapplied=0,
        recorded_by=uow.actor, recorded_at=now()))
    uow.session.add(Allocation(document_kind="discount", document_id=invoice.id,
                               invoice_id=invoice.id, amount=discount, effective_on=on))
    await _journal(uow, "discount", invoice.id, invoice.customer_id, invoice.currency, on,
             [("sales_discounts", discount), ("receivable", -discount)])


async def _apply_unapplied_credit(uow: UnitOfWork, invoice: Invoice) -> None:
    """Money the customer already has with us pays a new invoice, oldest credit first."""
    credits = (await uow.session.execute(
        select(CreditDocument).where(
            CreditDocument.customer_id == invoice.customer_id,
            CreditDocument.currency == invoice.currency, CreditDocument.unapplied > 0)
        .order_by(CreditDocument.document_date, CreditDocument.kind, CreditDocument.id)
        .execution_options(populate_existing=True)
    )).scalars().all()
    for credit in credits:
        if invoice.open_amount == 0:
            break
        await _apply(uow, credit, invoice, min(credit.unapplied, invoice.open_amount),
                     max(invoice.issue_date, credit.document_date))


async def apply_credit(uow: UnitOfWork, cmd: ApplyCredit) -> CreditDocument:
    """Apply a payment's or credit note's unapplied rest to the invoices the customer names."""
    credit = await uow.session.get(CreditDocument, (cmd.document_kind, cmd.document_id))
    if credit is None or cmd.document_kind not in ("payment", "credit_note"):
        raise NotFound(f"{cmd.document_kind} {cmd.document_id!r} not found", field="document_id")
    await _customer(uow, credit.customer_id)  # lock, then read everything as it is now
    await uow.session.refresh(credit)
    if cmd.applied_on < credit.document_date:
        raise Invalid("credit cannot be applied before it was received", field="applied_on")
    invoices = {i.id: i for i in (await uow.session.execute(
        select(Invoice).where(Invoice.customer_id == credit.customer_id,
                              Invoice.currency == credit.currency, Invoice.open_amount > 0)
        .execution_options(populate_existing=True))).scalars()}
    allocations = alloc.check_explicit(credit.unapplied, list(cmd.allocations), {
        i.id: alloc.OpenInvoice(i.id, i.issue_date, i.due_date, i.open_amount)
        for i in invoices.values()})
    for a in allocations:
        await _apply(uow, credit, invoices[a.invoice_id], a.amount, cmd.applied_on)
    await _emit_balance(uow, await _customer(uow, credit.customer_id), as_of=cmd.applied_on)
    return credit


async def _apply(uow: UnitOfWork, credit: CreditDocument, invoice: Invoice, share: int,
                 on: date) -> None:
    credit.unapplied -= share
    invoice.open_amount -= share
    uow.session.add(Allocation(document_kind=credit.kind, document_id=credit.id,
                               invoice_id=invoice.id, amount=share, effective_on=on))
    await _journal(uow, "application", uuid.uuid4().hex,  # credit and invoice in the allocation
                   invoice.customer_id, invoice.currency, on,
                   [("customer_credit", share), ("receivable", -share)])
    uow.emit(ev.CreditApplied(
        customer_id=invoice.customer_id, document_kind=credit.kind, document_id=credit.id,
        invoice_id=invoice.id, amount=share, currency=invoice.currency, applied_on=on))
    if invoice.open_amount == 0:
        invoice.settled_on = on
        uow.emit(ev.InvoiceSettled(customer_id=invoice.customer_id, invoice_id=invoice.id,
                                   currency=invoice.currency, settled_on=on))


async def _allocated(uow: UnitOfWork, kind: str, doc_id: str) -> list[tuple[str, int]]:
    return sorted(tuple(row) for row in (await uow.session.execute(
        select(Allocation.invoice_id, Allocation.amount)
        .where(Allocation.document_kind == kind, Allocation.document_id == doc_id)
    )).all())


# --- the customer's position ---------------------------------------------------------------
DEFERRED_POSITIONS = "ledger.deferred_positions"


def defer_positions(uow: UnitOfWork) -> None:
    """From now on in this transaction, announce each customer's position once, by
    `announce_deferred_positions` before the commit (a batch of many rows)."""
    uow.context[DEFERRED_POSITIONS] = {}


async def announce_deferred_positions(uow: UnitOfWork) -> None:
    pending: dict[str, date] = uow.context.pop(DEFERRED_POSITIONS, {})
    for customer_id, as_of in sorted(pending.items()):
        await _emit_balance(uow, await _customer(uow, customer_id), as_of=as_of)


async def _emit_balance(uow: UnitOfWork, customer: LedgerCustomer, *, as_of: date) -> None:
    """Tell the others the customer's whole position. `overdue` counts the open invoices
    the sweep has declared missed: the cause of automatic holds and collection cases."""
    deferred = uow.context.get(DEFERRED_POSITIONS)
    if deferred is not None:
        deferred[customer.customer_id] = max(as_of, deferred.get(customer.customer_id, as_of))
        return
    await uow.session.flush()
    customer.balance_version += 1
    s = uow.session
    declared = (  # the sweep has announced this invoice's missed payment (uses its index)
        select(OverdueNotice.id)
        .where(OverdueNotice.invoice_id == Invoice.id, OverdueNotice.threshold_days == 1)
        .exists()
    )
    open_rows = (await s.execute(
        select(
            Invoice.currency,
            func.sum(Invoice.open_amount),
            func.sum(Invoice.open_amount).filter(declared),
            func.min(Invoice.due_date).filter(declared),
        )
        .where(Invoice.customer_id == customer.customer_id, Invoice.open_amount > 0)
        .group_by(Invoice.currency)
    )).all()
    credit_rows = (await s.execute(
        select(CreditDocument.currency, func.sum(CreditDocument.unapplied))
        .where(CreditDocument.customer_id == customer.customer_id, CreditDocument.unapplied > 0)
        .group_by(CreditDocument.currency)
    )).all()
    positions: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"balance": 0, "overdue": 0, "oldest_overdue_due_date": None}
    )
    for currency, open_total, overdue, oldest in open_rows:
        positions[currency].update(balance=open_total, overdue=overdue or 0,
                                   oldest_overdue_due_date=oldest)
    for currency, unapplied in credit_rows:
        positions[currency]["balance"] -= unapplied
    uow.emit(ev.BalanceChanged(
        customer_id=customer.customer_id, version=customer.balance_version, as_of=as_of,
        balances=[ev.CurrencyBalance(currency=c, **p) for c, p in sorted(positions.items())],
    ))


# --- the overdue sweep ---------------------------------------------------------------------
async def run_sweep(uow: UnitOfWork, cmd: RunSweep) -> dict[str, Any]:
    """Announce every open invoice past its due date as of `cmd.as_of`: the missed payment
    once per invoice, then each age threshold once. Re-running changes nothing."""
    s = uow.session
    if s.bind.dialect.name == "postgresql":  # concurrent sweeps take turns
        await s.execute(text("SELECT pg_advisory_xact_lock(:k)"),
                        {"k": zlib.crc32(b"recoup-ledger-sweep")})
    customer_ids = (await s.execute(
        select(Invoice.customer_id).where(Invoice.open_amount > 0, Invoice.due_date < cmd.as_of)
        .distinct().order_by(Invoice.customer_id)
    )).scalars().all()
    missed = aged = positions = 0
    for customer_id in customer_ids:
        # Under the customer's lock a payment cannot slip between reading and announcing.
        customer = await _customer(uow, customer_id)
        news = await _overdue_news(uow, customer_id, cmd.as_of)
        if any(kind is ev.PaymentMissed for kind, _ in news):
            # The new position goes first, so the news below carries its version.
            await _emit_balance(uow, customer, as_of=cmd.as_of)
            positions += 1
        for kind, data in news:
            uow.emit(kind(**data, balance_version=customer.balance_version))
            missed += kind is ev.PaymentMissed
            aged += kind is ev.InvoiceAged
    return {"as_of": cmd.as_of, "payment_missed": missed, "invoice_aged": aged,
            "balance_changed": positions, "events": missed + aged + positions}


async def _overdue_news(
    uow: UnitOfWork, customer_id: str, as_of: date
) -> list[tuple[type[ev.EventData], dict[str, Any]]]:
    """Record and answer what is news about this customer's overdue invoices: the missed
    payment once per invoice, and the highest age threshold newly crossed."""
    s = uow.session
    invoices = (await s.execute(
        select(Invoice).where(Invoice.customer_id == customer_id, Invoice.open_amount > 0,
                              Invoice.due_date < as_of)
        .order_by(Invoice.due_date, Invoice.id).execution_options(populate_existing=True)
    )).scalars().all()
    announced: dict[str, set[int]] = defaultdict(set)
    for invoice_id, threshold in (await s.execute(
        select(OverdueNotice.invoice_id, OverdueNotice.threshold_days)
        .where(OverdueNotice.invoice_id.in_([i.id for i in invoices]))
    )).all():
        announced[invoice_id].add(threshold)
    news: list[tuple[type[ev.EventData], dict[str, Any]]] = []
    notices: list[dict[str, Any]] = []
    for invoice in invoices:
        days = days_past_due(invoice.due_date, as_of)
        new = [t for t in thresholds_crossed(days) if t not in announced[invoice.id]]
        notices += [dict(invoice_id=invoice.id, threshold_days=t, as_of=as_of) for t in new]
        common = dict(customer_id=customer_id, invoice_id=invoice.id, currency=invoice.currency,
                      open_amount=invoice.open_amount, due_date=invoice.due_date, as_of=as_of,
                      days_past_due=days)
        if 1 in new:
            news.append((ev.PaymentMissed, common))
        if later := [t for t in new if t > 1]:
            news.append((ev.InvoiceAged, {**common, "threshold_days": max(later)}))
    if notices:  # plain rows in one statement: an ORM object per notice is costly at scale
        await s.execute(insert(OverdueNotice), notices)
    return news


# --- events from reconciliation ----------------------------------------------------------
async def on_payment_identified(uow: UnitOfWork, data: ev.PaymentIdentified, _: CloudEvent) -> None:
    """A bank line matched to a customer (and invoices): booked like any payment."""
    await post_payment(uow, PostPayment(
        id=data.bank_line_id, customer_id=data.customer_id, amount=data.amount,
        currency=data.currency, received_on=data.received_on, method="bank_transfer",
        invoice_ids=tuple(data.invoice_ids) or None,
    ))


# --- events from credit ----------------------------------------------------------------------
async def on_customer_terms(uow: UnitOfWork, data: Any, _event: CloudEvent) -> None:
    """credit.customer.registered and credit.terms.changed: keep the terms we date by."""
    version = getattr(data, "version", 0)
    customer = await uow.session.get(LedgerCustomer, data.customer_id)
    if customer is None:
        customer = LedgerCustomer(customer_id=data.customer_id, terms_mode=data.terms.mode,
                                  terms_version=-1)
        uow.session.add(customer)
    if isinstance(data, ev.CustomerRegistered):
        customer.salesperson = data.salesperson
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
