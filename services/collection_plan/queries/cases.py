"""Cases as the API shows them: the list (CONTRACT.md fields) and one case in full."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.collection_plan.tables import (
    Agreement,
    Case,
    CaseEvent,
    CaseInvoice,
    Charge,
    InvoicePause,
    InvoiceView,
    Promise,
    Task,
    WriteOff,
)
from shared.pagination import PageRequest, keyset


def money(amount: int, currency: str) -> dict[str, Any]:
    return {"amount": amount, "currency": currency}


def money_list(totals: dict[str, int]) -> list[dict[str, Any]]:
    return [money(a, c) for c, a in sorted(totals.items())]


async def overdue_by_case(session: AsyncSession, case_ids: list[str]) -> dict[str, dict[str, int]]:
    totals: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for item in (await session.execute(
        select(CaseInvoice).where(CaseInvoice.case_id.in_(case_ids), CaseInvoice.settled.is_(False))
    )).scalars():
        totals[item.case_id][item.currency] += item.open_amount
    return totals


def task_out(task: Task) -> dict[str, Any]:
    return {"id": task.id, "kind": task.kind, "action": task.action, "step": task.step,
            "level": task.level, "collector": task.collector, "status": task.status,
            "created_on": task.created_on, "not_before": task.not_before,
            "attempts": task.attempts, "outcome": task.outcome, "done_on": task.done_on,
            "invoice_ids": task.invoice_ids, "due_date": task.due_date}


def _summary(c: Case, overdue: dict[str, int], tasks: list[Task]) -> dict[str, Any]:
    closed = c.status != "open"
    return {
        "id": c.id, "customer_id": c.customer_id, "status": c.status,
        "class": "not_due" if closed else c.receivable_class,
        "class_reasons": [] if closed else c.class_reasons,
        "level": 0 if closed else c.level, "strategy_id": c.strategy_id,
        "max_days_past_due": c.max_days_past_due, "opened_on": c.opened_on,
        "closed_on": c.closed_on, "close_reason": c.close_reason, "notice_on": c.notice_on,
        "broken_commitments": c.broken_commitments,
        "overdue": money_list(overdue),
        "open_tasks": [task_out(t) for t in tasks],
    }


def case_query(customer_id: str | None, status: str | None, receivable_class: str | None,
               page: PageRequest) -> Select[Any]:
    query = select(Case)
    if customer_id:
        query = query.where(Case.customer_id == customer_id)
    if status:
        query = query.where(Case.status == status)
    if receivable_class:
        query = query.where(Case.receivable_class == receivable_class, Case.status == "open")
    return keyset(query, [Case.opened_on, Case.id], page, descending=True)


async def cases(session: AsyncSession, query: Select[Any]) -> list[dict[str, Any]]:
    rows = list((await session.execute(query)).scalars())
    ids = [c.id for c in rows]
    overdue = await overdue_by_case(session, ids)
    tasks: dict[str, list[Task]] = defaultdict(list)
    for task in (await session.execute(
        select(Task).where(Task.case_id.in_(ids), Task.status == "open")
        .order_by(Task.created_at, Task.id)
    )).scalars():
        tasks[task.case_id or ""].append(task)
    return [_summary(c, overdue[c.id], tasks[c.id]) for c in rows]


async def case_detail(session: AsyncSession, case: Case, as_of: date) -> dict[str, Any]:
    """The case with what it chases, what was promised and agreed, charged and proposed,
    and its history."""
    items = list((await session.execute(
        select(CaseInvoice, InvoiceView).outerjoin(
            InvoiceView, InvoiceView.invoice_id == CaseInvoice.invoice_id)
        .where(CaseInvoice.case_id == case.id).order_by(CaseInvoice.due_date, CaseInvoice.invoice_id)
    )).all())
    ids = [item.invoice_id for item, _ in items]
    pauses: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for p in (await session.execute(select(InvoicePause).where(
            InvoicePause.invoice_id.in_(ids), InvoicePause.ends_on.is_(None)))).scalars():
        pauses[p.invoice_id].append({"reason": p.reason, "reference_id": p.reference_id,
                                     "since": p.starts_on})
    all_tasks = list((await session.execute(
        select(Task).where(Task.case_id == case.id).order_by(Task.created_at, Task.id))).scalars())
    overdue: dict[str, int] = defaultdict(int)  # from the items above, not a query more
    for item, _ in items:
        if not item.settled:
            overdue[item.currency] += item.open_amount

    async def rows(model: Any, *order: Any) -> list[Any]:
        return list((await session.execute(
            select(model).where(model.case_id == case.id).order_by(*order))).scalars())

    return {
        **_summary(case, overdue, [t for t in all_tasks if t.status == "open"]),
        "invoices": [{
            "invoice_id": item.invoice_id, "due_date": item.due_date,
            "open": money(item.open_amount, item.currency),
            "days_past_due": max((as_of - item.due_date).days, 0), "settled": item.settled,
            "issue_date": invoice.issue_date if invoice else None,
            "notice_on": invoice.notice_on if invoice else None,
            "paused": pauses[item.invoice_id],
        } for item, invoice in items],
        "tasks": [task_out(t) for t in all_tasks],
        "promises": [promise_out(p) for p in await rows(Promise, Promise.made_on, Promise.id)],
        "agreements": [{"id": a.id, "status": a.status, "signed_on": a.signed_on,
                        "total": money(a.total, a.currency), "invoice_ids": a.invoice_ids}
                       for a in await rows(Agreement, Agreement.signed_on, Agreement.id)],
        "charges": [{"id": c.id, "kind": c.kind, "invoice_id": c.invoice_id, "period": c.period,
                     "amount": c.amount, "currency": c.currency, "issue_date": c.issue_date,
                     "days": c.days, "status": c.status, "refused_reason": c.refused_reason}
                    for c in await rows(Charge, Charge.issue_date, Charge.id)],
        "write_offs": [write_off_out(w) for w in await rows(WriteOff, WriteOff.proposed_on, WriteOff.id)],
        "history": [{"on": e.on, "kind": e.kind, "detail": e.detail, "actor": e.actor, "at": e.at}
                    for e in await rows(CaseEvent, CaseEvent.id)],
    }


def promise_out(p: Promise) -> dict[str, Any]:
    return {"id": p.id, "case_id": p.case_id, "customer_id": p.customer_id, "amount": p.amount,
            "currency": p.currency, "made_on": p.made_on, "promised_on": p.promised_on,
            "status": p.status, "paid": p.paid, "short_on": p.short_on,
            "resolved_on": p.resolved_on, "note": p.note, "recorded_by": p.recorded_by}


def write_off_out(w: WriteOff) -> dict[str, Any]:
    return {"id": w.id, "customer_id": w.customer_id, "case_id": w.case_id,
            "invoice_id": w.invoice_id, "amount": w.amount, "currency": w.currency,
            "reason": w.reason, "status": w.status, "proposed_by": w.proposed_by,
            "proposed_on": w.proposed_on, "decided_by": w.decided_by,
            "decided_on": w.decided_on, "note": w.note}
