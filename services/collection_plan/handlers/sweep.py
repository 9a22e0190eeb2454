"""The daily sweep for an `as_of` date: promises due, instalments due, dormancy, escalation
by days past due, late interest and fees, pre-due reminders. A few set queries first find
the customers each part has news for; then one transaction per customer,
so one customer's failure stops nobody else and a re-run finishes the rest; every part is
idempotent per date, so running a date twice changes nothing the second time."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, union

from services.collection_plan.domain.classes import is_dormant
from services.collection_plan.handlers import (
    agreements,
    cases,
    charges,
    common,
    promises,
    reminders,
    strategies,
)
from services.collection_plan.tables import (
    Agreement,
    Case,
    Charge,
    CustomerView,
    InvoiceView,
    Promise,
    Reminder,
    SweepRun,
    Task,
)
from shared.clock import now
from shared.db import UnitOfWork, conflict_insert
from shared.runtime import ServiceRuntime

COUNTS = ("customers", "promises_kept", "promises_broken", "agreements_broken", "dormant",
          "escalated", "interest_charged", "fees_charged", "reminders")


async def _plan(runtime: ServiceRuntime, as_of: date
                ) -> tuple[dict[str, set[str]], list[Any], date]:
    """Which customers each part of the sweep has news for, in a few set queries, so that a
    customer with nothing due costs nothing; the active strategies, read once; and the day
    after which an invoice may still be reminded of."""
    last_month_end = as_of.replace(day=1) - timedelta(days=1)
    async with runtime.unit_of_work(read_only=True) as uow:
        cfg = common.config(uow)
        dormant_cutoff = as_of - timedelta(days=cfg.dormant_days)
        active = await strategies.active(uow)
        # A night swept after a later one reminds of nothing that later night saw due.
        latest = (await uow.session.execute(select(func.max(SweepRun.as_of)))).scalar()
        remind_after = max(as_of, latest or as_of)
        reminder_days = max((s.reminder.days_before_due for s in active if s.reminder), default=0)
        owing = select(InvoiceView.customer_id).where(InvoiceView.open_amount > 0)
        # A fee a dispute or an agreement held back is charged once the shield goes.
        fee_waiting = and_(
            InvoiceView.currency.in_(sorted(cfg.late_fees)), InvoiceView.open_amount > 0,
            ~select(Charge.id).where(Charge.invoice_id == InvoiceView.invoice_id,
                                     Charge.kind == "fee").exists())
        queries = {
            "promises": select(Promise.customer_id).where(Promise.status == "open",
                                                           Promise.promised_on < as_of),
            "agreements": select(Agreement.customer_id).where(Agreement.status == "active"),
            "cases": select(Case.customer_id).where(Case.status == "open"),
            "charges": select(InvoiceView.customer_id).where(
                InvoiceView.kind == "invoice", InvoiceView.notice_on.is_not(None),
                InvoiceView.notice_on < as_of,
                or_(InvoiceView.interest_through.is_(None),
                    InvoiceView.interest_through < last_month_end,
                    fee_waiting),
                or_(InvoiceView.settled_on.is_(None), InvoiceView.interest_through.is_(None),
                    InvoiceView.interest_through < InvoiceView.settled_on)),
            "reminders": union(
                select(InvoiceView.customer_id).where(
                    InvoiceView.kind == "invoice", InvoiceView.open_amount > 0,
                    InvoiceView.due_date > remind_after,
                    InvoiceView.due_date <= as_of + timedelta(days=reminder_days),
                    ~select(Reminder.invoice_id).where(
                        Reminder.invoice_id == InvoiceView.invoice_id).exists()),
                select(Task.customer_id).where(Task.case_id.is_(None), Task.status == "open",
                                               Task.due_date < as_of)),
            "dormancy": select(CustomerView.customer_id).where(
                CustomerView.customer_id.in_(owing),
                or_(CustomerView.last_order_on.is_not(None),
                    CustomerView.last_payment_on.is_not(None)),
                or_(CustomerView.last_order_on.is_(None),
                    CustomerView.last_order_on <= dormant_cutoff),
                or_(CustomerView.last_payment_on.is_(None),
                    CustomerView.last_payment_on <= dormant_cutoff)),
        }
        return {part: set((await uow.session.execute(query)).scalars().all())
                for part, query in queries.items()}, active, remind_after


async def _dormancy(uow: UnitOfWork, view: CustomerView, as_of: date) -> int:
    cfg = common.config(uow)
    has_balance = any(v > 0 for v in view.balances.values()) or bool(
        await common.open_invoices(uow, view.customer_id))
    if not is_dormant(has_balance=has_balance, last_order_on=view.last_order_on,
                      last_payment_on=view.last_payment_on, as_of=as_of,
                      dormant_days=cfg.dormant_days):
        return 0
    case = await common.open_case_of(uow, view.customer_id)
    if case is not None and case.dormant_on is not None:
        return 0
    if case is None:
        case = await cases.open_case(uow, view.customer_id, as_of,
                                     f"dormant: no order and no payment for {cfg.dormant_days} days")
    case.dormant_on = as_of
    common.record(uow, case, as_of, "dormant",
                  f"no order since {view.last_order_on}, no payment since {view.last_payment_on}")
    await cases.chase_everything(uow, case, as_of)
    await cases.evaluate(uow, case, view, as_of, event="dormant")
    return 1


async def sweep_customer(uow: UnitOfWork, customer_id: str, as_of: date, parts: set[str],
                         remind_after: date | None = None) -> Counter[str]:
    counts: Counter[str] = Counter(customers=1)
    view = await common.customer(uow, customer_id)
    if "promises" in parts:
        counts["promises_kept"], counts["promises_broken"] = await promises.sweep(uow, view, as_of)
    if "agreements" in parts:
        counts["agreements_broken"] = await agreements.sweep(uow, view, as_of)
    if "dormancy" in parts:
        counts["dormant"] = await _dormancy(uow, view, as_of)
    case = await common.open_case_of(uow, customer_id)
    if case is not None:
        counts["escalated"] += await cases.evaluate(uow, case, view, as_of)
    if "charges" in parts:
        counts["interest_charged"], counts["fees_charged"] = await charges.sweep(uow, view, as_of)
    if "reminders" in parts:
        counts["reminders"] = await reminders.sweep(uow, view, as_of, remind_after or as_of)
    return counts


async def run_sweep(runtime: ServiceRuntime, as_of: date, actor: str = "scheduler") -> dict[str, Any]:
    totals: Counter[str] = Counter()
    plan, active, remind_after = await _plan(runtime, as_of)
    for customer_id in sorted(set().union(*plan.values())):
        async with runtime.unit_of_work(actor) as uow:
            uow.context[strategies.CACHE] = active  # a change takes effect at the next sweep
            await uow.take_turn(f"recoup-collections-sweep:{customer_id}")  # sweeps of a customer
            totals += await sweep_customer(
                uow, customer_id, as_of, {part for part, ids in plan.items() if customer_id in ids},
                remind_after)
            await uow.commit()
    async with runtime.unit_of_work(actor) as uow:
        moment = now()
        await uow.session.execute(conflict_insert(uow.session, SweepRun).values(
            as_of=as_of, runs=0, first_run_at=moment, last_run_at=moment, counts={}
        ).on_conflict_do_nothing())  # two sweeps of a date may finish at once
        run = (await uow.session.execute(select(SweepRun).where(SweepRun.as_of == as_of)
                                         .with_for_update())).scalar_one()
        run.runs, run.last_run_at = run.runs + 1, moment
        run.counts = {k: run.counts.get(k, 0) + totals[k] for k in COUNTS if k != "customers"}
        await uow.commit()
        runs = run.runs
    return {"as_of": as_of, "runs": runs, **{k: totals[k] for k in COUNTS}}
