"""Pre-due reminders: the strategy's days before the due date, the customer is asked to
confirm the amount (a task for the collector, and `collections.reminder.issued` so that
reconciliation sends its confirmation link). One reminder per invoice, ever."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import date, timedelta

from sqlalchemy import select, update

from services.collection_plan.handlers import common, strategies
from services.collection_plan.tables import CustomerView, InvoiceView, Reminder, Task
from shared.db import UnitOfWork
from shared.events import contracts as ev


async def sweep(uow: UnitOfWork, view: CustomerView, as_of: date, after: date) -> int:
    """Reminders of what falls due after `after` (as_of, or a later night already swept)
    within the strategy's days of `as_of`."""
    # A reminder not done by the due date has nothing left to remind of.
    await uow.session.execute(update(Task).where(
        Task.customer_id == view.customer_id, Task.case_id.is_(None), Task.status == "open",
        Task.due_date < as_of).values(status="cancelled"))
    strategy = await strategies.for_customer(uow, view, view.overdue)
    if strategy.reminder is None:
        return 0
    horizon = as_of + timedelta(days=strategy.reminder.days_before_due)
    reminded = select(Reminder.invoice_id).where(Reminder.invoice_id == InvoiceView.invoice_id)
    invoices = (await uow.session.execute(
        select(InvoiceView).where(
            InvoiceView.customer_id == view.customer_id, InvoiceView.kind == "invoice",
            InvoiceView.open_amount > 0, InvoiceView.due_date > after,
            InvoiceView.due_date <= horizon, ~reminded.exists())
        .order_by(InvoiceView.due_date, InvoiceView.invoice_id))).scalars().all()
    paused = await common.paused_invoices(uow, [i.invoice_id for i in invoices])
    groups: dict[tuple[date, str], list[InvoiceView]] = defaultdict(list)
    for invoice in invoices:
        if invoice.invoice_id not in paused:
            groups[(invoice.due_date, invoice.currency)].append(invoice)
    for (due_date, currency), items in sorted(groups.items()):
        reminder_id = str(uuid.uuid4())
        ids = [i.invoice_id for i in items]
        amount = sum(i.open_amount for i in items)
        uow.session.add_all(Reminder(invoice_id=i, reminder_id=reminder_id,
                                     customer_id=view.customer_id, as_of=as_of) for i in ids)
        await common.add_tasks(uow, view=view, case=None, level=0, step="reminder",
                               templates=strategy.reminder.tasks, as_of=as_of, invoice_ids=ids,
                               due_date=due_date)
        uow.emit(ev.ReminderIssued(customer_id=view.customer_id, reminder_id=reminder_id,
                                   invoice_ids=ids, amount=amount, currency=currency,
                                   due_date=due_date, as_of=as_of))
    return len(groups)
