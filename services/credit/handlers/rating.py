"""Rating a customer: gather the scorecard's inputs, rate, recommend a limit, keep the
rating with its inputs, and announce a change of class."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select

from services.credit.domain import limits
from services.credit.domain.detection import month_key
from services.credit.domain.dossier import ASSESSMENTS, agreement_status
from services.credit.domain.rating import Behaviour, RatingInputs, rate, trigger_text
from services.credit.domain.reviews import ANNUAL
from services.credit.handlers.common import by_event, config
from services.credit.handlers.holds import Overdue, overdue_of
from services.credit.tables import (
    Customer,
    Dispute,
    InvoiceView,
    PaymentLine,
    Promise,
    PurchaseMonth,
    Rating,
    Signal,
)
from shared.clock import now, today
from shared.db import UnitOfWork
from shared.events import CloudEvent
from shared.events import contracts as ev


async def _behaviour(uow: UnitOfWork, customer: Customer, since: date, as_of: date,
                     overdue: Overdue) -> tuple[Behaviour, int, bool]:
    """Payment behaviour in the window, the purchases in it (in the limit's currency), and
    whether the customer has a payment history: two statements."""
    cfg, c = config(uow), customer.id
    settled = (await uow.session.execute(select(
        InvoiceView.settled_on, InvoiceView.due_date, InvoiceView.written_off).where(
        InvoiceView.customer_id == c, InvoiceView.kind == "invoice",
        InvoiceView.settled_on > since, InvoiceView.settled_on <= as_of,
        InvoiceView.due_date.is_not(None)))).all()
    counts = (await uow.session.execute(select(
        # A payment that left an invoice it paid open (settled later, or not yet) was partial.
        select(func.count(func.distinct(PaymentLine.payment_id))).select_from(PaymentLine)
        .join(InvoiceView, InvoiceView.id == PaymentLine.invoice_id).where(
            PaymentLine.customer_id == c, PaymentLine.received_on > since,
            PaymentLine.received_on <= as_of,
            or_(InvoiceView.settled_on.is_(None), InvoiceView.settled_on > PaymentLine.received_on),
        ).scalar_subquery(),
        select(func.count()).select_from(Promise).where(
            Promise.customer_id == c, Promise.status == "broken",
            Promise.settled_on > since, Promise.settled_on <= as_of).scalar_subquery(),
        select(func.count()).select_from(Dispute).where(
            Dispute.customer_id == c, Dispute.resolved.is_(False)).scalar_subquery(),
        select(func.count()).select_from(InvoiceView).where(
            InvoiceView.customer_id == c, InvoiceView.kind == "invoice",
            InvoiceView.settled_on.is_not(None), InvoiceView.written_off.is_(False)).scalar_subquery(),
        select(func.coalesce(func.sum(PurchaseMonth.amount), 0)).where(
            PurchaseMonth.customer_id == c, PurchaseMonth.currency == customer.credit_limit_currency,
            PurchaseMonth.month >= month_key(since + timedelta(days=1)),
            PurchaseMonth.month <= month_key(as_of)).scalar_subquery(),
    ))).one()
    partial, broken, disputes, settled_ever, purchases = counts
    behaviour = Behaviour(
        settled_days_late=tuple((on - due).days for on, due, off in settled if not off),
        written_off=sum(1 for *_, off in settled if off),
        worst_days_past_due=overdue.worst_days,
        partial_payments=partial, broken_promises=broken, open_disputes=disputes,
    )
    return behaviour, int(purchases), settled_ever >= cfg.history_min_settled


def _volume(customer: Customer, purchases: int, since: date, as_of: date) -> limits.Volume:
    start = max(since + timedelta(days=1), customer.first_purchase_on or as_of)
    months = (as_of.year - start.year) * 12 + as_of.month - start.month + 1
    return limits.Volume(purchases, max(1, min(months, 12)))


async def inputs_of(uow: UnitOfWork, customer: Customer, as_of: date, overdue: Overdue
                    ) -> tuple[RatingInputs, int, bool]:
    since = as_of - timedelta(days=config(uow).rating_window_days)
    signals = (await uow.session.execute(select(Signal.kind, Signal.serious).where(
        Signal.customer_id == customer.id, Signal.resolved_at.is_(None),
        and_(Signal.observed_on > since, Signal.observed_on <= as_of),
    ).order_by(Signal.observed_on, Signal.id))).all()
    behaviour, purchases, has_history = await _behaviour(uow, customer, since, as_of, overdue)
    return RatingInputs(
        assessments={name: (getattr(customer, name) or {}).get("grade") for name in ASSESSMENTS},
        sales_agreement=agreement_status(customer.documents),
        has_legal_representative=bool(customer.legal_representative),
        behaviour=behaviour,
        signals=tuple(k for k, serious in signals if not serious),
        serious_signals=tuple(dict.fromkeys(k for k, serious in signals if serious)),
    ), purchases, has_history


async def rerate(uow: UnitOfWork, customer: Customer, *, trigger: str, as_of: date | None = None,
                 by: str | None = None, review: tuple[str, str] | None = None,
                 keep: bool = False, overdue: Overdue | None = None) -> Rating | None:
    """Rate the customer as of a date (news: its business date, so a replay rates alike;
    a person's change: today); keep the rating if anything in it moved, or always for a
    review or `keep`. Answers the kept row."""
    cfg = config(uow)
    as_of = as_of or today()
    trigger = trigger_text(trigger)
    inputs, purchases, customer.has_payment_history = await inputs_of(
        uow, customer, as_of, overdue or await overdue_of(uow, customer))
    result = rate(inputs, cfg.weights, cfg.class_floors)
    since = as_of - timedelta(days=cfg.rating_window_days)
    advice = limits.recommend(result.rating_class, customer.credit_limit_currency,
                              _volume(customer, purchases, since, as_of),
                              has_history=customer.has_payment_history,
                              cover_months=cfg.cover_months, starting_limits=cfg.starting_limits)
    first = customer.rated_as_of is None
    previous = None if first else customer.rating_class
    moved = first or (result.rating_class, result.score, list(result.reasons),
                      advice.amount) != (customer.rating_class, customer.rating_score,
                                         customer.rating_reasons, customer.recommended_limit_amount)
    customer.rated_worst_days = inputs.behaviour.worst_days_past_due
    customer.rating_class, customer.rating_score = result.rating_class, result.score
    customer.rating_reasons = list(result.reasons)
    customer.recommended_limit_amount = advice.amount
    customer.rated_as_of = as_of
    row = None
    if moved or review or keep:
        row = Rating(
            customer_id=customer.id, as_of=as_of, trigger=review[1] if review else trigger,
            review_period=review[0] if review else None, rating_class=result.rating_class,
            previous_class=previous, score=result.score, reasons=list(result.reasons),
            factors=[dataclasses.asdict(f) for f in result.factors],
            inputs=_json(dataclasses.asdict(inputs)), recommended_limit_amount=advice.amount,
            currency=customer.credit_limit_currency, rated_by=by or uow.actor, rated_at=now(),
        )
        row.inputs["recommendation"] = advice.reason
        row.inputs["has_payment_history"] = customer.has_payment_history
        uow.session.add(row)
    if previous != result.rating_class:
        uow.emit(ev.RatingChanged(
            customer_id=customer.id, rating_class=result.rating_class, previous_class=previous,
            score=result.score, reasons=list(result.reasons), as_of=as_of,
            recommended_limit=None if advice.amount is None else ev.MoneyField(
                amount=advice.amount, currency=customer.credit_limit_currency),
        ))
    if advice.amount is not None and advice.amount != customer.credit_limit_amount and (
            cfg.limit_policy == "apply" or (cfg.limit_policy == "annual_review" and review
                                            and review[1] == ANNUAL)):
        from services.credit.handlers.dossier import set_limit  # dossier re-rates: no cycle at import

        await set_limit(uow, customer, advice.amount,
                        by=trigger_text(f"rating:{review[1] if review else trigger}"),
                        note=f"limit policy {cfg.limit_policy}: {advice.reason}")
    return row


async def rerate_when_default_moved(uow: UnitOfWork, customer: Customer, event: CloudEvent,
                                    on: date | None, overdue: Overdue) -> Rating | None:
    """News that can change only what is overdue (the sweep's, positions) re-rates only
    when it did: a sweep's position, missed payment and threshold rate once, not thrice."""
    if overdue.unheard_of or overdue.worst_days == customer.rated_worst_days:
        return None
    return await rerate_on_news(uow, customer, event, on, overdue=overdue)


async def rerate_on_news(uow: UnitOfWork, customer: Customer, event: CloudEvent, on: date | None,
                         *, overdue: Overdue | None = None) -> Rating | None:
    """Re-rate on news from another service, as of its business date, never earlier than
    news already rated on (news may arrive out of order; a replay rates alike)."""
    dates = [d for d in (on, customer.news_as_of) if d is not None]
    as_of = max(dates) if dates else today()
    rated = await rerate(uow, customer, trigger=event.type, as_of=as_of, by=by_event(event),
                         overdue=overdue)
    customer.news_as_of = as_of  # set last: a change before the queries would flush at once
    return rated


def _json(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json(v) for v in value]
    return value
