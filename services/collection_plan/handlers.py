"""Cases open on the first missed payment, climb the ladder with the sweeps, and close
when the customer has nothing overdue. The caller's unit of work commits."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import select

from services.collection_plan.domain.ladder import step_for
from services.collection_plan.tables import Case, CaseInvoice, CustomerView, Task
from shared.clock import now
from shared.db import UnitOfWork
from shared.events import CloudEvent
from shared.events import contracts as ev


async def _customer(uow: UnitOfWork, customer_id: str) -> CustomerView:
    view = (await uow.session.execute(
        select(CustomerView).where(CustomerView.customer_id == customer_id).with_for_update()
    )).scalar_one_or_none()
    if view is None:  # ledger news may overtake the registration: start a view anyway
        view = CustomerView(customer_id=customer_id)
        uow.session.add(view)
    return view


async def open_case_of(uow: UnitOfWork, customer_id: str) -> Case | None:
    return (await uow.session.execute(
        select(Case).where(Case.customer_id == customer_id, Case.status == "open")
    )).scalar_one_or_none()


async def on_customer_registered(uow: UnitOfWork, data: ev.CustomerRegistered, _: CloudEvent) -> None:
    view = await _customer(uow, data.customer_id)
    view.name, view.salesperson = data.name, data.salesperson
    # Overdue news can overtake the registration: give such tasks their collector now.
    for task in (await uow.session.execute(
        select(Task).where(Task.customer_id == data.customer_id, Task.collector.is_(None))
    )).scalars():
        task.collector = data.salesperson


async def on_overdue(uow: UnitOfWork, data: Any, event: CloudEvent) -> None:
    """ledger.payment.missed and ledger.invoice.aged."""
    view = await _customer(uow, data.customer_id)
    if data.balance_version < view.balance_version and not any(view.overdue.values()):
        return  # older than a position with nothing overdue: already paid
    case = await open_case_of(uow, data.customer_id)
    if case is None:
        case = Case(id=str(uuid.uuid4()), customer_id=data.customer_id, status="open",
                    receivable_class="dunning", opened_on=data.as_of)
        uow.session.add(case)
        uow.emit(ev.CaseOpened(customer_id=data.customer_id, case_id=case.id, opened_on=data.as_of))
    item = await uow.session.get(CaseInvoice, (case.id, data.invoice_id))
    if item is None:
        item = CaseInvoice(case_id=case.id, invoice_id=data.invoice_id, currency=data.currency,
                           open_amount=data.open_amount, due_date=data.due_date, days_past_due=0)
        uow.session.add(item)
    item.open_amount = data.open_amount
    item.days_past_due = max(item.days_past_due, data.days_past_due)
    await _escalate(uow, case, view, data.days_past_due, data.as_of, data.balance_version)


async def _escalate(uow: UnitOfWork, case: Case, view: CustomerView, days: int, as_of: date,
                    balance_version: int | None) -> None:
    case.max_days_past_due = max(case.max_days_past_due, days)
    step = step_for(case.max_days_past_due)
    if step is None or step.level <= case.level:
        return
    previous, case.level, case.receivable_class = case.level, step.level, step.receivable_class
    for action in step.tasks:
        uow.session.add(Task(
            id=str(uuid.uuid4()), case_id=case.id, customer_id=case.customer_id,
            collector=view.salesperson, level=step.level, step=step.name, action=action,
            status="open", created_on=as_of, created_at=now(),
        ))
    uow.emit(ev.CaseEscalated(
        customer_id=case.customer_id, case_id=case.id, level=step.level, previous_level=previous,
        receivable_class=step.receivable_class, step=step.name, days_past_due=case.max_days_past_due,
        as_of=as_of, balance_version=balance_version,
    ))


async def on_money_allocated(uow: UnitOfWork, data: Any, _: CloudEvent) -> None:
    """ledger.payment.received, .credit_note.posted, .credit.applied, .invoice.written_off:
    what a case still chases shrinks with every allocation, partial ones included."""
    reductions = [*getattr(data, "allocations", ()), *getattr(data, "discounts", ())]
    if isinstance(data, ev.CreditApplied | ev.InvoiceWrittenOff):
        reductions.append(ev.Allocation(invoice_id=data.invoice_id, amount=data.amount))
    for allocation in reductions:
        for item in (await uow.session.execute(
            select(CaseInvoice).where(CaseInvoice.invoice_id == allocation.invoice_id,
                                      CaseInvoice.settled.is_(False))
        )).scalars():
            item.open_amount = max(item.open_amount - allocation.amount, 0)
            item.settled = item.open_amount == 0


async def on_invoice_settled(uow: UnitOfWork, data: ev.InvoiceSettled, _: CloudEvent) -> None:
    for item in (await uow.session.execute(
        select(CaseInvoice).where(CaseInvoice.invoice_id == data.invoice_id)
    )).scalars():
        item.settled, item.open_amount = True, 0


async def on_balance_changed(uow: UnitOfWork, data: ev.BalanceChanged, _: CloudEvent) -> None:
    view = await _customer(uow, data.customer_id)
    if data.version <= view.balance_version:
        return  # stale
    view.balance_version = data.version
    view.overdue = {b.currency: b.overdue for b in data.balances}
    case = await open_case_of(uow, data.customer_id)
    if case is None or any(view.overdue.values()):
        return
    case.status, case.closed_on, case.close_reason = "closed", data.as_of, "nothing overdue any more"
    for task in (await uow.session.execute(
        select(Task).where(Task.case_id == case.id, Task.status == "open")
    )).scalars():
        task.status = "cancelled"
    uow.emit(ev.CaseClosed(customer_id=case.customer_id, case_id=case.id, closed_on=data.as_of,
                           reason=case.close_reason))
