"""The daily run for a date: each customer's periodic review once a month, the detectors
that need a calendar (drops, silence, late payers), and the ladder on overdue invoices
growing older between the ledger's thresholds. Idempotent per date: a review runs once
per period, a detector records a sign once while its condition lasts."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

from sqlalchemy import select

from services.credit.domain.commands import RateCustomer
from services.credit.domain.reviews import review_for
from services.credit.handlers import detectors, holds, rating
from services.credit.handlers.common import config, find_customer, get_customer
from services.credit.tables import Customer, InvoiceView, Rating
from shared.db import UnitOfWork
from shared.runtime import ServiceRuntime


async def review_customer(uow: UnitOfWork, customer: Customer, as_of: date) -> dict[str, int]:
    done: Counter[str] = Counter()
    # Overdue invoices age by the calendar too (a ladder may have rungs between thresholds).
    for view in (await uow.session.execute(select(InvoiceView).where(
            InvoiceView.customer_id == customer.id, InvoiceView.settled_on.is_(None),
            InvoiceView.overdue_since.is_not(None), InvoiceView.due_date < as_of))).scalars():
        view.days_past_due = max(view.days_past_due, (as_of - view.due_date).days)  # type: ignore[operator]
    overdue = await holds.apply_overdue_policy(uow, customer, by="job:credit-review")
    found = [*await detectors.purchase_drop(uow, customer, as_of),
             await detectors.paying_late(uow, customer, as_of, overdue),
             await detectors.gone_silent(uow, customer, as_of)]
    done["signals"] = sum(1 for signal in found if signal is not None)
    period, kind = review_for(as_of, config(uow).annual_review_month)
    reviewed = (await uow.session.execute(select(Rating.id).where(
        Rating.customer_id == customer.id, Rating.review_period == period))).first()
    if reviewed is None:
        await rating.rerate(uow, customer, trigger=kind, as_of=as_of, by=f"job:{kind}",
                            review=(period, kind), overdue=overdue)
        done[kind] += 1
    return dict(done)


async def run_reviews(runtime: ServiceRuntime, as_of: date) -> dict[str, Any]:
    """Every customer, one transaction each (a failure stops the run; the next run
    carries on where this one stopped, because what is done is not done again)."""
    async with runtime.unit_of_work(read_only=True) as uow:
        ids = (await uow.session.execute(select(Customer.id).order_by(Customer.id))).scalars().all()
    totals: Counter[str] = Counter()
    for customer_id in ids:
        async with runtime.unit_of_work("job:credit-review") as uow:
            customer = await find_customer(uow, customer_id, lock=True)
            if customer is not None:
                totals.update(await review_customer(uow, customer, as_of))
            await uow.commit()
    return {"as_of": as_of.isoformat(), "customers": len(ids), **dict(totals)}


async def rate_customer(uow: UnitOfWork, cmd: RateCustomer) -> Rating | None:
    customer = await get_customer(uow, cmd.customer_id, lock=True)
    return await rating.rerate(uow, customer, trigger="requested", as_of=cmd.as_of, keep=True)

