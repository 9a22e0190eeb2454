from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from services.reconciliation.domain.statement import (
    Item,
    Settlement,
    build_statement,
    period_bounds,
)
from services.reconciliation.tables import AccountItem, ItemSettlement, Statement
from shared.clock import now
from shared.db import UnitOfWork
from shared.errors import Invalid, NotFound
from shared.events import CloudEvent
from shared.events import contracts as ev


async def _record(uow: UnitOfWork, kind: str, doc_id: str, customer_id: str, currency: str,
                  on: Any, amount: int, due_date: Any = None,
                  allocations: list[ev.Allocation] = ()) -> None:
    if await uow.session.get(AccountItem, (kind, doc_id)) is not None:
        return
    uow.session.add(AccountItem(kind=kind, doc_id=doc_id, customer_id=customer_id,
                                currency=currency, doc_date=on, amount=amount, due_date=due_date))
    for a in allocations:
        uow.session.add(ItemSettlement(doc_kind=kind, doc_id=doc_id, invoice_id=a.invoice_id,
                                       amount=a.amount, settled_on=on))


async def on_invoice_posted(uow: UnitOfWork, data: ev.InvoicePosted, _: CloudEvent) -> None:
    await _record(uow, data.kind, data.invoice_id, data.customer_id, data.currency,
                  data.issue_date, data.amount, data.due_date)


async def on_invoice_written_off(uow: UnitOfWork, data: ev.InvoiceWrittenOff, _: CloudEvent) -> None:
    await _record(uow, "write_off", data.write_off_id, data.customer_id, data.currency,
                  data.written_off_on, data.amount,
                  allocations=[ev.Allocation(invoice_id=data.invoice_id, amount=data.amount)])


async def on_payment_received(uow: UnitOfWork, data: ev.PaymentReceived, _: CloudEvent) -> None:
    await _record(uow, "payment", data.payment_id, data.customer_id, data.currency,
                  data.received_on, data.amount, allocations=data.allocations)
    for discount in data.discounts:  # a line of its own on the statement
        await _record(uow, "discount", discount.invoice_id, data.customer_id, data.currency,
                      data.received_on, discount.amount, allocations=[discount])


async def on_credit_applied(uow: UnitOfWork, data: ev.CreditApplied, _: CloudEvent) -> None:
    """Earlier credit settles a new invoice: no new line, but the invoice ages no more."""
    if await uow.session.get(ItemSettlement, (data.document_kind, data.document_id,
                                              data.invoice_id)) is None:
        uow.session.add(ItemSettlement(doc_kind=data.document_kind, doc_id=data.document_id,
                                       invoice_id=data.invoice_id, amount=data.amount,
                                       settled_on=data.applied_on))


async def on_credit_note_posted(uow: UnitOfWork, data: ev.CreditNotePosted, _: CloudEvent) -> None:
    await _record(uow, "credit_note", data.credit_note_id, data.customer_id, data.currency,
                  data.issue_date, data.amount, allocations=data.allocations)


async def issue_statement(uow: UnitOfWork, customer_id: str, period: str,
                          currency: str | None) -> Statement:
    _, last = period_bounds(period)
    rows = list((await uow.session.execute(
        select(AccountItem).where(AccountItem.customer_id == customer_id,
                                  AccountItem.doc_date <= last)
    )).scalars())
    currencies = sorted({r.currency for r in rows})
    if currency is None:
        if len(currencies) > 1:
            raise Invalid(f"the customer trades in {', '.join(currencies)}: name one currency",
                          field="currency")
        if not currencies:
            raise NotFound(f"no documents for customer {customer_id!r} up to {period}",
                           field="customer_id")
        currency = currencies[0]
    rows = [r for r in rows if r.currency == currency]
    settlements = (await uow.session.execute(
        select(ItemSettlement).join(AccountItem, (AccountItem.kind == ItemSettlement.doc_kind)
                                    & (AccountItem.doc_id == ItemSettlement.doc_id))
        .where(AccountItem.customer_id == customer_id, AccountItem.currency == currency)
    )).scalars()
    content = build_statement(
        customer_id, period, currency,
        [Item(r.kind, r.doc_id, r.doc_date, r.amount, r.due_date) for r in rows],
        [Settlement(s.invoice_id, s.amount, s.settled_on) for s in settlements],
    )
    statement = Statement(id=str(uuid.uuid4()), customer_id=customer_id, period=period,
                          currency=currency, content=content, digest=content["digest"],
                          issued_at=now(), issued_by=uow.actor)
    uow.session.add(statement)
    uow.emit(ev.StatementIssued(customer_id=customer_id, statement_id=statement.id, period=period,
                                currency=currency, closing_balance=content["closing_balance"],
                                digest=statement.digest))
    return statement
