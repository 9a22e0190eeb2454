from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.collection_plan.domain.priority import priority, suggested_contact
from services.collection_plan.tables import Case, CaseInvoice, CustomerView, Task


async def _overdue_by_case(session: AsyncSession, case_ids: list[str]) -> dict[str, dict[str, int]]:
    totals: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for item in (await session.execute(
        select(CaseInvoice).where(CaseInvoice.case_id.in_(case_ids), CaseInvoice.settled.is_(False))
    )).scalars():
        totals[item.case_id][item.currency] += item.open_amount
    return totals


def _task_out(task: Task) -> dict[str, Any]:
    return {"id": task.id, "action": task.action, "step": task.step, "level": task.level,
            "collector": task.collector, "status": task.status, "created_on": task.created_on}


async def cases(session: AsyncSession, customer_id: str | None, status: str | None) -> list[dict[str, Any]]:
    query = select(Case).order_by(Case.opened_on.desc(), Case.id)
    if customer_id:
        query = query.where(Case.customer_id == customer_id)
    if status:
        query = query.where(Case.status == status)
    rows = list((await session.execute(query)).scalars())
    overdue = await _overdue_by_case(session, [c.id for c in rows])
    tasks: dict[str, list[Task]] = defaultdict(list)
    for task in (await session.execute(
        select(Task).where(Task.case_id.in_([c.id for c in rows]), Task.status == "open")
        .order_by(Task.created_at, Task.id)
    )).scalars():
        tasks[task.case_id].append(task)
    return [{
        "id": c.id, "customer_id": c.customer_id, "status": c.status,
        "class": c.receivable_class if c.status == "open" else "not_due",
        "level": c.level if c.status == "open" else 0,
        "max_days_past_due": c.max_days_past_due, "opened_on": c.opened_on,
        "closed_on": c.closed_on, "close_reason": c.close_reason,
        "overdue": [{"amount": a, "currency": cur} for cur, a in sorted(overdue[c.id].items())],
        "open_tasks": [_task_out(t) for t in tasks[c.id]],
    } for c in rows]


async def worklist(session: AsyncSession, as_of: date, collector: str | None) -> list[dict[str, Any]]:
    query = (select(Task, Case, CustomerView.name)
             .join(Case, Case.id == Task.case_id)
             .outerjoin(CustomerView, CustomerView.customer_id == Task.customer_id)
             .where(Task.status == "open", Case.status == "open"))
    if collector:
        query = query.where(Task.collector == collector)
    rows = (await session.execute(query)).all()
    overdue = await _overdue_by_case(session, [case.id for _, case, _ in rows])
    window = suggested_contact(as_of)
    items = []
    for task, case, name in rows:
        amount = sum(overdue[case.id].values())
        p = priority(amount, case.max_days_past_due, case.receivable_class)
        items.append({
            **_task_out(task), "case_id": case.id, "customer_id": case.customer_id,
            "customer_name": name, "class": case.receivable_class,
            "overdue": [{"amount": a, "currency": cur} for cur, a in sorted(overdue[case.id].items())],
            "priority": p.score, "reasons": list(p.reasons),
            "suggested_contact": {"date": window.on, "from": window.start, "to": window.end,
                                  "why": window.why},
        })
    items.sort(key=lambda i: (-i["priority"], i["customer_id"], i["id"]))
    return items
