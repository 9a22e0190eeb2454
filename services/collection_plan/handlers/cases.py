"""Cases: opened on the first missed payment (or at once on a serious warning signal, or
when a customer in debt falls silent), moved up their strategy's ladder by days past due
and by events, closed when nothing is overdue any more."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import select

from services.collection_plan.domain import strategy as ladder
from services.collection_plan.domain.classes import ClassInputs, classify
from services.collection_plan.handlers import common, strategies, write_offs
from services.collection_plan.tables import Case, CaseInvoice, CustomerView, InvoiceView, Promise, Task
from shared.db import UnitOfWork
from shared.events import CloudEvent
from shared.events import contracts as ev


async def open_case(uow: UnitOfWork, customer_id: str, as_of: date, why: str) -> Case:
    case = Case(id=str(uuid.uuid4()), customer_id=customer_id, status="open",
                receivable_class="dunning", opened_on=as_of)
    uow.session.add(case)
    uow.emit(ev.CaseOpened(customer_id=customer_id, case_id=case.id, opened_on=as_of))
    common.record(uow, case, as_of, "opened", why)
    return case


async def effective_days(uow: UnitOfWork, items: list[CaseInvoice], as_of: date) -> int:
    """Days past due of the oldest open invoice the case may escalate on: disputed invoices
    and those in a kept agreement wait."""
    paused = await common.paused_invoices(uow, [i.invoice_id for i in items])
    return max(((as_of - i.due_date).days for i in items if i.invoice_id not in paused),
               default=0)


async def _promise_running(uow: UnitOfWork, case: Case, as_of: date) -> bool:
    return (await uow.session.execute(
        select(Promise.id).where(Promise.case_id == case.id, Promise.status == "open",
                                 Promise.promised_on >= as_of).limit(1)
    )).first() is not None


async def evaluate(uow: UnitOfWork, case: Case, view: CustomerView, as_of: date, *,
                   event: str | None = None, signal_class: str | None = None,
                   balance_version: int | None = None) -> bool:
    """Move the case as far as its days past due and `event` take it on the strategy of the
    customer's segment; answers whether it escalated. Level and class only ever go up."""
    if case.status != "open":
        return False
    cfg = common.config(uow)
    case.last_seen_on = max(as_of, case.last_seen_on or as_of)
    items = await common.case_invoices(uow, case)
    strategy = await strategies.for_customer(uow, view, common.overdue_by_currency(items))
    if case.strategy_id != strategy.id:
        if case.strategy_id is not None:
            common.record(uow, case, as_of, "strategy",
                          f"now on strategy {strategy.id} (the customer's segment changed)")
        case.strategy_id = strategy.id
    # A case beyond the last step of a shorter ladder stays at that step.
    case.level = level = min(case.level, len(strategy.steps))
    days = await effective_days(uow, items, as_of)
    case.max_days_past_due = max(case.max_days_past_due, days)
    trigger = None
    by_days = ladder.level_for_days(strategy, days)
    if by_days > level and not (cfg.promise_pauses_escalation
                                and await _promise_running(uow, case, as_of)):
        level, trigger = by_days, f"{days} days past due"
    if event is not None:
        by_event = ladder.level_for_event(strategy, level, event, signal_class)
        if by_event > level:
            level, trigger = by_event, event.replace("_", " ")
    klass, reasons = classify(ClassInputs(
        days_past_due=days, signal_class=case.signal_class,
        dormant=case.dormant_on is not None,
        broken_commitments=case.broken_commitments), cfg.class_policy())
    step = strategy.step(level)
    new_class = ladder.worst(case.receivable_class, klass,
                             step.receivable_class if step else "not_due")
    if level <= case.level and ladder.severity(new_class) <= ladder.severity(case.receivable_class):
        return False
    previous = case.level
    case.level, case.receivable_class = max(level, case.level), new_class
    case.class_reasons = list(reasons) or ([f"step {step.name}"] if step else [])
    if step is not None and level > previous:
        await _take_step(uow, case, view, strategy, previous, level, days, as_of)
    current = strategy.step(case.level)
    uow.emit(ev.CaseEscalated(
        customer_id=case.customer_id, case_id=case.id, level=case.level,
        previous_level=previous, receivable_class=case.receivable_class,
        step=current.name if current else "", days_past_due=case.max_days_past_due,
        as_of=as_of, balance_version=balance_version,
        requested_holds=ladder.requested_holds(strategy, case.level,
                                               (view.terms or {}).get("mode")),
        trigger=trigger or "; ".join(reasons),
    ))
    common.record(uow, case, as_of, "escalated",
                  f"level {previous} -> {case.level} ({current.name if current else '-'}), "
                  f"class {case.receivable_class}: {trigger or '; '.join(reasons)}")
    return True


def _carried(strategy: ladder.Strategy, step: ladder.Step, steps: slice, days: int,
             action: str) -> list[ladder.TaskTemplate]:
    """The first task doing `action` of the `steps` the days passed, unless `step` has one.
    Some tasks outlive their step (the notice late interest runs after, the write-off
    proposal a person approves): a case that jumps a step by days still needs them."""
    if action in step.actions:
        return []
    for passed in strategy.steps[steps]:
        if passed.days_past_due is not None and days >= passed.days_past_due:
            for task in passed.tasks:
                if task.action == action:
                    return [task]
    return []


async def _notice_asked(uow: UnitOfWork, case: Case) -> bool:
    return (await uow.session.execute(select(Task.id).where(
        Task.case_id == case.id, Task.status == "open", Task.kind == "written_notice").limit(1)
    )).first() is not None


async def _take_step(uow: UnitOfWork, case: Case, view: CustomerView, strategy: ladder.Strategy,
                     previous: int, level: int, days: int, as_of: date) -> None:
    step = strategy.step(level)
    assert step is not None
    carried = _carried(strategy, step, slice(previous, level - 1), days, "write_off_proposal")
    if case.notice_on is None and not await _notice_asked(uow, case):
        # Until the notice is handed over, every step that its days passed asks for it
        # (also after the customer could not be found to hand it over).
        carried += _carried(strategy, step, slice(0, level - 1), days, "written_notice")
    templates = (*carried, *step.tasks)
    await common.add_tasks(uow, view=view, case=case, level=level, step=step.name,
                           templates=templates, as_of=as_of)
    if "write_off_proposal" in {t.action for t in templates}:
        await write_offs.propose_for_case(uow, case, as_of)


async def give_notice(uow: UnitOfWork, case: Case, on: date) -> None:
    """The written notice was handed over: late interest and fees run for the days after it,
    on what the case chases (and what joins it later, from the day it joins)."""
    if case.notice_on is not None:
        return
    case.notice_on = on
    for item in await common.case_invoices(uow, case):
        invoice = await uow.session.get(InvoiceView, item.invoice_id)
        if invoice is not None and invoice.notice_on is None:
            invoice.notice_on = on
    common.record(uow, case, on, "notice", "written notice of late interest handed over")


async def cancel_tasks(uow: UnitOfWork, case: Case) -> None:
    for task in (await uow.session.execute(
        select(Task).where(Task.case_id == case.id, Task.status == "open")
    )).scalars():
        task.status = "cancelled"


# --- events --------------------------------------------------------------------------------------
async def on_overdue(uow: UnitOfWork, data: Any, _: CloudEvent) -> None:
    """ledger.payment.missed and ledger.invoice.aged."""
    view = await common.customer(uow, data.customer_id)
    if data.balance_version < view.balance_version and not any(view.overdue.values()):
        return  # older than a position with nothing overdue: already paid
    invoice = await uow.session.get(InvoiceView, data.invoice_id)
    if invoice is not None and invoice.open_amount == 0:
        return  # paid since the ledger looked
    case = await common.open_case_of(uow, data.customer_id)
    if case is None:
        case = await open_case(uow, data.customer_id, data.as_of,
                               f"invoice {data.invoice_id} missed its due date")
    await common.join_case(uow, case, invoice, invoice_id=data.invoice_id,
                           currency=data.currency, open_amount=data.open_amount,
                           due_date=data.due_date, as_of=data.as_of)
    await evaluate(uow, case, view, data.as_of, balance_version=data.balance_version)


async def chase_everything(uow: UnitOfWork, case: Case, as_of: date) -> None:
    """A case that collects at once (a signal, dormancy) chases every open invoice."""
    for invoice in await common.open_invoices(uow, case.customer_id):
        await common.join_case(uow, case, invoice, invoice_id=invoice.invoice_id,
                               currency=invoice.currency, open_amount=invoice.open_amount,
                               due_date=invoice.due_date, as_of=as_of)


async def on_collection_requested(uow: UnitOfWork, data: ev.CollectionRequested, _: CloudEvent) -> None:
    """A serious warning signal (bankruptcy, closure, ...): collect at once, and take the
    receivable to the class the cause calls for."""
    view = await common.customer(uow, data.customer_id)
    case = await common.open_case_of(uow, data.customer_id)
    if case is None:
        if not any(v > 0 for v in view.balances.values()) and not await common.open_invoices(
                uow, data.customer_id):
            return  # nothing is owed: nothing to collect
        case = await open_case(uow, data.customer_id, data.as_of, f"credit asks: {data.reason}")
    hint = data.receivable_class if data.receivable_class in ladder.CLASSES else None
    if hint and ladder.severity(hint) > ladder.severity(case.signal_class or "not_due"):
        case.signal_class = hint
    common.record(uow, case, data.as_of, "signal",
                  f"{data.signal_kind or 'warning signal'}: {data.reason}")
    await chase_everything(uow, case, data.as_of)
    await evaluate(uow, case, view, data.as_of, event="signal", signal_class=hint)
