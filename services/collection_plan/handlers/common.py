"""What every area of collection-plan needs: the customer's read model, its open case, the
case's history, collectors, and tasks. The caller's unit of work commits."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import date

from sqlalchemy import select

from services.collection_plan.config import CollectionsConfig
from services.collection_plan.domain.strategy import TaskTemplate
from services.collection_plan.tables import (
    Case,
    CaseEvent,
    CaseInvoice,
    CollectionProfile,
    CustomerView,
    InvoicePause,
    InvoiceView,
    Task,
)
from shared.clock import now
from shared.db import UnitOfWork, conflict_insert


def config(uow: UnitOfWork) -> CollectionsConfig:
    # Handlers run with the service's config; tests that build a bare unit of work get defaults.
    return uow.config if isinstance(uow.config, CollectionsConfig) else CollectionsConfig()


async def customer(uow: UnitOfWork, customer_id: str) -> CustomerView:
    """The customer's read model, locked: every writer takes it first, so one customer's
    news is handled one transaction at a time. News may overtake the registration, so a
    view is started for any customer id (by an insert that a racing one cannot fail)."""
    locked = select(CustomerView).where(CustomerView.customer_id == customer_id).with_for_update()
    view = (await uow.session.execute(locked)).scalar_one_or_none()
    if view is None:
        await uow.session.execute(conflict_insert(uow.session, CustomerView).values(
            customer_id=customer_id, dossier_version=-1, terms_version=-1, balance_version=0,
            overdue={}, balances={}).on_conflict_do_nothing())
        view = (await uow.session.execute(locked)).scalar_one()
    return view


async def open_case_of(uow: UnitOfWork, customer_id: str) -> Case | None:
    return (await uow.session.execute(
        select(Case).where(Case.customer_id == customer_id, Case.status == "open")
    )).scalar_one_or_none()


def record(uow: UnitOfWork, case: Case, on: date, kind: str, detail: str) -> None:
    uow.session.add(CaseEvent(case_id=case.id, on=on, kind=kind, detail=detail,
                              actor=uow.actor, at=now()))


def collector(view: CustomerView, profile: CollectionProfile | None) -> str | None:
    """The customer's salesperson, unless a person assigned another collector."""
    return (profile.collector if profile is not None else None) or view.salesperson


async def collector_of(uow: UnitOfWork, view: CustomerView) -> str | None:
    return collector(view, await uow.session.get(CollectionProfile, view.customer_id))


async def add_tasks(uow: UnitOfWork, *, view: CustomerView, case: Case | None, level: int,
                    step: str, templates: tuple[TaskTemplate, ...], as_of: date,
                    invoice_ids: list[str] | None = None, due_date: date | None = None,
                    not_before: date | None = None) -> list[Task]:
    collector = await collector_of(uow, view)
    tasks = [Task(
        id=str(uuid.uuid4()), case_id=case.id if case else None, customer_id=view.customer_id,
        collector=collector, level=level, step=step, kind=t.action, action=t.text,
        status="open", created_on=as_of, created_at=now(), not_before=not_before,
        invoice_ids=invoice_ids or [], due_date=due_date,
    ) for t in templates]
    uow.session.add_all(tasks)
    return tasks


async def case_invoices(uow: UnitOfWork, case: Case, *, open_only: bool = True) -> list[CaseInvoice]:
    query = select(CaseInvoice).where(CaseInvoice.case_id == case.id)
    if open_only:
        query = query.where(CaseInvoice.settled.is_(False))
    return list((await uow.session.execute(query.order_by(CaseInvoice.due_date,
                                                          CaseInvoice.invoice_id))).scalars())


async def paused_invoices(uow: UnitOfWork, invoice_ids: list[str]) -> dict[str, list[str]]:
    """Invoice id -> the reasons (dispute, agreement) it is paused for now."""
    if not invoice_ids:
        return {}
    paused: dict[str, list[str]] = defaultdict(list)
    for invoice_id, reason in (await uow.session.execute(
        select(InvoicePause.invoice_id, InvoicePause.reason)
        .where(InvoicePause.invoice_id.in_(invoice_ids), InvoicePause.ends_on.is_(None))
    )).all():
        paused[invoice_id].append(reason)
    return paused


def overdue_by_currency(items: list[CaseInvoice]) -> dict[str, int]:
    totals: dict[str, int] = defaultdict(int)
    for item in items:
        if not item.settled:
            totals[item.currency] += item.open_amount
    return dict(totals)


async def open_invoices(uow: UnitOfWork, customer_id: str) -> list[InvoiceView]:
    return list((await uow.session.execute(
        select(InvoiceView).where(InvoiceView.customer_id == customer_id,
                                  InvoiceView.open_amount > 0)
        .order_by(InvoiceView.due_date, InvoiceView.invoice_id)
    )).scalars())


async def join_case(uow: UnitOfWork, case: Case, invoice: InvoiceView | None, *,
                    invoice_id: str, currency: str, open_amount: int, due_date: date,
                    as_of: date) -> CaseInvoice:
    """Add an invoice to the case (or refresh it). An invoice that joins a case after its
    written notice earns late interest from the day it joins."""
    item = await uow.session.get(CaseInvoice, (case.id, invoice_id))
    if item is None:
        item = CaseInvoice(case_id=case.id, invoice_id=invoice_id, currency=currency,
                           open_amount=open_amount, due_date=due_date, days_past_due=0)
        uow.session.add(item)
    # The invoice view has seen every reduction; the ledger's figure may be older.
    item.open_amount = invoice.open_amount if invoice is not None else open_amount
    item.settled = item.open_amount == 0
    item.days_past_due = max(item.days_past_due, (as_of - due_date).days)
    if case.notice_on is not None and invoice is not None and invoice.notice_on is None:
        invoice.notice_on = max(as_of, case.notice_on)
    return item
