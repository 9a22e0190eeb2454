"""The collector's worklist: open tasks, highest priority first, each with the reasons for
its priority and a suggested contact window."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.collection_plan.config import CollectionsConfig
from services.collection_plan.domain.contact import ContactPreferences, suggested_contact
from services.collection_plan.domain.priority import PriorityInputs, priority
from services.collection_plan.domain.strategy import CHALLENGE_STEP, PAYMENT_CHECK_STEP
from services.collection_plan.queries.cases import money_list, task_out
from services.collection_plan.tables import (
    Case,
    CaseInvoice,
    CollectionProfile,
    CustomerView,
    InvoicePause,
    InvoiceView,
    Task,
)


def contact_preferences(defaults: ContactPreferences, profile: CollectionProfile | None
                        ) -> ContactPreferences:
    """The company's defaults, with what a person set for this customer."""
    return defaults.overridden(profile.contact) if profile is not None else defaults


async def _chased(session: AsyncSession, case_ids: list[str], as_of: date
                  ) -> dict[str, tuple[dict[str, int], int]]:
    """Per case: what it may escalate on (paused invoices left out), per currency, and the
    days past due of the oldest of those."""
    paused = select(InvoicePause.invoice_id).where(
        InvoicePause.invoice_id == CaseInvoice.invoice_id, InvoicePause.ends_on.is_(None))
    found: dict[str, tuple[dict[str, int], int]] = {}
    amounts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    days: dict[str, int] = defaultdict(int)
    for item in (await session.execute(select(CaseInvoice).where(
            CaseInvoice.case_id.in_(case_ids), CaseInvoice.settled.is_(False),
            ~paused.exists()))).scalars():
        amounts[item.case_id][item.currency] += item.open_amount
        days[item.case_id] = max(days[item.case_id], (as_of - item.due_date).days)
    for case_id in case_ids:
        found[case_id] = (dict(amounts[case_id]), days[case_id])
    return found


async def _reminder_amounts(session: AsyncSession, tasks: list[Task]) -> dict[str, dict[str, int]]:
    ids = sorted({i for t in tasks if t.case_id is None for i in t.invoice_ids})
    invoices = {i.invoice_id: i for i in (await session.execute(
        select(InvoiceView).where(InvoiceView.invoice_id.in_(ids)))).scalars()}
    due: dict[str, dict[str, int]] = {}
    for task in tasks:
        if task.case_id is None:
            totals: dict[str, int] = defaultdict(int)
            for invoice_id in task.invoice_ids:
                if (invoice := invoices.get(invoice_id)) is not None:
                    totals[invoice.currency] += invoice.open_amount
            due[task.id] = dict(totals)
    return due


async def worklist(session: AsyncSession, config: CollectionsConfig, as_of: date,
                   collector: str | None) -> list[dict[str, Any]]:
    query = (select(Task, Case, CustomerView, CollectionProfile)
             .outerjoin(Case, Case.id == Task.case_id)
             .outerjoin(CustomerView, CustomerView.customer_id == Task.customer_id)
             .outerjoin(CollectionProfile, CollectionProfile.customer_id == Task.customer_id)
             .where(Task.status == "open", or_(Task.case_id.is_(None), Case.status == "open"),
                    or_(Task.not_before.is_(None), Task.not_before <= as_of)))
    if collector:
        query = query.where(Task.collector == collector)
    rows = (await session.execute(query)).all()
    chased = await _chased(session, sorted({c.id for _, c, _, _ in rows if c is not None}), as_of)
    reminders = await _reminder_amounts(session, [t for t, *_ in rows])
    policy, defaults = config.priority_policy(), config.contact_defaults()
    items = []
    for task, case, view, profile in rows:
        if case is not None:
            amounts, days = chased[case.id]
            klass, broken = case.receivable_class, case.broken_commitments
        else:
            amounts, days, klass, broken = reminders.get(task.id, {}), 0, "not_due", 0
        limit = None
        if view is not None and view.recommended_limit_amount is not None \
                and view.recommended_limit_currency is not None:
            limit = (view.recommended_limit_amount, view.recommended_limit_currency)
        p = priority(PriorityInputs(
            overdue=amounts, days_past_due=days, receivable_class=klass,
            rating_class=view.rating_class if view else None,
            financial_strength=profile.financial_strength if profile else None,
            recommended_limit=limit,
            distance_km=view.distance_km if view else None, broken_commitments=broken,
            amount_label="overdue" if case is not None else "falling due"), policy)
        prefs = contact_preferences(defaults, profile)
        if case is None and task.due_date is not None:  # a reminder waits, but not past due
            can_wait = max((task.due_date - as_of).days - 1, 0)
        elif task.level <= 1 and task.step not in (CHALLENGE_STEP, PAYMENT_CHECK_STEP):
            can_wait = prefs.month_end_within_days  # the first call waits for the month-end
        else:  # later steps, and what news asks for (a short payment is challenged at once)
            can_wait = 0
        window = suggested_contact(as_of, prefs, can_wait_days=can_wait)
        items.append({
            **task_out(task), "case_id": task.case_id, "customer_id": task.customer_id,
            "customer_name": view.name if view else None, "class": klass,
            "days_past_due": days, "overdue": money_list(amounts) if case is not None else [],
            "falling_due": money_list(amounts) if case is None else [],
            "priority": p.score, "reasons": list(p.reasons),
            "suggested_contact": {"date": window.on, "from": window.start, "to": window.end,
                                  "why": window.why},
        })
    items.sort(key=sort_key)
    return items


def sort_key(item: dict[str, Any]) -> tuple[int, str, str]:
    return (-item["priority"], item["customer_id"], item["id"])
