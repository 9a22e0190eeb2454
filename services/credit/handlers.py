"""Commands and events in, domain calls; the caller's unit of work commits."""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

from sqlalchemy import select

from services.credit.domain.check import CheckRequest, Decision, decide
from services.credit.domain.commands import (
    CheckCredit,
    PlaceHold,
    RecordSignal,
    RegisterCustomer,
    ReleaseHold,
)
from services.credit.domain.holds import (
    CAUSE_MANUAL,
    CAUSE_OVERDUE,
    CAUSE_SIGNAL,
    SERIOUS_SIGNALS,
    overdue_holds,
)
from services.credit.domain.rating import RatingInputs, rate
from services.credit.domain.terms import check_terms
from services.credit.tables import BalanceView, CreditCheck, Customer, Hold, Signal
from shared.clock import now
from shared.db import UnitOfWork
from shared.errors import Conflict, NotFound
from shared.events import CloudEvent
from shared.events import contracts as ev


def _terms_dict(cmd: RegisterCustomer) -> dict[str, Any]:
    """The terms as stored and announced (JSON: dates as ISO strings, no empty fields)."""
    return ev.Terms.model_validate(dataclasses.asdict(cmd.terms)).model_dump(
        mode="json", exclude_none=True)


async def get_customer(uow: UnitOfWork, customer_id: str, *, lock: bool = False) -> Customer:
    query = select(Customer).where(Customer.id == customer_id)
    customer = (await uow.session.execute(query.with_for_update() if lock else query)).scalar_one_or_none()
    if customer is None:
        raise NotFound(f"customer {customer_id!r} is not registered", field="customer_id")
    return customer


async def active_holds(uow: UnitOfWork, customer_id: str) -> list[Hold]:
    return list((await uow.session.execute(
        select(Hold).where(Hold.customer_id == customer_id, Hold.released_at.is_(None))
        .order_by(Hold.placed_at, Hold.id)
    )).scalars())


async def balances(uow: UnitOfWork, customer_id: str) -> list[BalanceView]:
    return list((await uow.session.execute(
        select(BalanceView).where(BalanceView.customer_id == customer_id).order_by(BalanceView.currency)
    )).scalars())


# --- dossier -------------------------------------------------------------------------------
async def register_customer(uow: UnitOfWork, cmd: RegisterCustomer) -> tuple[Customer, bool]:
    check_terms(cmd.terms)
    terms = _terms_dict(cmd)
    moment = now()
    customer = (await uow.session.execute(
        select(Customer).where(Customer.id == cmd.id).with_for_update()
    )).scalar_one_or_none()
    dossier = dict(
        name=cmd.name, salesperson=cmd.salesperson, region=cmd.region,
        distance_km=cmd.distance_km, legal_representative=cmd.legal_representative,
        financials=cmd.financials, credit_limit_amount=cmd.credit_limit_amount,
        credit_limit_currency=cmd.credit_limit_currency,
    )
    created = customer is None
    if customer is None:
        customer = Customer(id=cmd.id, **dossier, terms=terms, rating_class="C", rating_score=0,
                            created_at=moment, updated_at=moment, updated_by=uow.actor)
        uow.session.add(customer)
        uow.emit(ev.CustomerRegistered(
            customer_id=cmd.id, name=cmd.name, salesperson=cmd.salesperson, region=cmd.region,
            terms=ev.Terms(**terms),
            credit_limit=ev.MoneyField(amount=cmd.credit_limit_amount, currency=cmd.credit_limit_currency),
        ))
    else:
        for key, value in dossier.items():
            setattr(customer, key, value)
        customer.updated_at, customer.updated_by = moment, uow.actor
        if customer.terms != terms:
            customer.terms = terms
            customer.terms_version += 1
            uow.emit(ev.TermsChanged(customer_id=cmd.id, terms=ev.Terms(**terms),
                                     version=customer.terms_version))
    await rerate(uow, customer)
    return customer, created


async def rerate(uow: UnitOfWork, customer: Customer) -> None:
    signals = (await uow.session.execute(
        select(Signal.kind, Signal.serious).where(Signal.customer_id == customer.id)
    )).all()
    rating = rate(RatingInputs(
        max_days_past_due=customer.max_days_past_due,
        serious_signals=tuple(k for k, serious in signals if serious),
        other_signals=tuple(k for k, serious in signals if not serious),
        has_legal_representative=bool(customer.legal_representative),
    ))
    previous = customer.rating_class if customer.rating_reasons else None  # None: first rating
    customer.rating_class, customer.rating_score = rating.rating_class, rating.score
    customer.rating_reasons = list(rating.reasons)
    if previous != rating.rating_class:
        uow.emit(ev.RatingChanged(customer_id=customer.id, rating_class=rating.rating_class,
                                  previous_class=previous, score=rating.score,
                                  reasons=list(rating.reasons)))


# --- holds ---------------------------------------------------------------------------------
async def _place(uow: UnitOfWork, customer_id: str, kind: str, reason: str, *, cause: str,
                 placed_by: str) -> Hold:
    hold = Hold(id=str(uuid.uuid4()), customer_id=customer_id, kind=kind, reason=reason,
                cause=cause, automatic=cause != CAUSE_MANUAL, placed_by=placed_by, placed_at=now())
    uow.session.add(hold)
    uow.emit(ev.HoldPlaced(customer_id=customer_id, hold_id=hold.id, kind=kind, reason=reason,
                           cause=cause, placed_by=placed_by))
    return hold


def _release(uow: UnitOfWork, hold: Hold, *, by: str, reason: str, override: bool = False) -> None:
    hold.released_at, hold.released_by, hold.release_reason = now(), by, reason
    hold.override = override
    uow.emit(ev.HoldReleased(customer_id=hold.customer_id, hold_id=hold.id, kind=hold.kind,
                             reason=reason, released_by=by))


async def _apply_overdue_policy(uow: UnitOfWork, customer: Customer, days: int,
                                receivable_class: str | None, placed_by: str) -> None:
    customer.max_days_past_due = max(customer.max_days_past_due, days)
    wanted = overdue_holds(days, customer.terms["mode"], receivable_class)
    held = {h.kind for h in await active_holds(uow, customer.id)}
    for kind, reason in wanted.items():
        if kind not in held:
            await _place(uow, customer.id, kind, reason, cause=CAUSE_OVERDUE, placed_by=placed_by)
    await rerate(uow, customer)


async def place_hold(uow: UnitOfWork, cmd: PlaceHold) -> Hold:
    await get_customer(uow, cmd.customer_id, lock=True)
    return await _place(uow, cmd.customer_id, cmd.kind, cmd.reason, cause=CAUSE_MANUAL,
                        placed_by=uow.actor)


async def release_hold(uow: UnitOfWork, cmd: ReleaseHold) -> Hold:
    hold = (await uow.session.execute(
        select(Hold).where(Hold.id == cmd.hold_id).with_for_update()
    )).scalar_one_or_none()
    if hold is None:
        raise NotFound(f"hold {cmd.hold_id!r} not found")
    if hold.released_at is not None:
        raise Conflict(f"hold {cmd.hold_id} was already released")
    # Releasing an automatic hold by hand is allowed, and recorded as an override.
    _release(uow, hold, by=uow.actor, reason=cmd.reason, override=hold.automatic)
    return hold


# --- signals -------------------------------------------------------------------------------
async def record_signal(uow: UnitOfWork, cmd: RecordSignal) -> Signal:
    customer = await get_customer(uow, cmd.customer_id, lock=True)
    serious = cmd.kind in SERIOUS_SIGNALS
    signal = Signal(id=str(uuid.uuid4()), customer_id=cmd.customer_id, kind=cmd.kind,
                    observed_on=cmd.observed_on, note=cmd.note, serious=serious,
                    recorded_by=uow.actor, recorded_at=now())
    uow.session.add(signal)
    uow.emit(ev.SignalRecorded(customer_id=cmd.customer_id, signal_id=signal.id, kind=cmd.kind,
                               observed_on=cmd.observed_on, note=cmd.note, serious=serious))
    if serious and "stop_shipments" not in {h.kind for h in await active_holds(uow, customer.id)}:
        await _place(uow, customer.id, "stop_shipments", f"warning signal: {cmd.kind}",
                     cause=CAUSE_SIGNAL, placed_by=f"signal:{signal.id}")
    await uow.session.flush()
    await rerate(uow, customer)
    return signal


# --- the credit check ----------------------------------------------------------------------
async def check_credit(uow: UnitOfWork, cmd: CheckCredit, *, reduced_batch_percent: int
                       ) -> tuple[str, Decision, list[Hold]]:
    customer = await get_customer(uow, cmd.customer_id)
    holds = await active_holds(uow, customer.id)
    exposure = sum(b.balance for b in await balances(uow, customer.id)
                   if b.currency == customer.credit_limit_currency)
    decision = decide(CheckRequest(
        amount=cmd.amount, currency=cmd.currency, terms_mode=customer.terms["mode"],
        limit_amount=customer.credit_limit_amount, limit_currency=customer.credit_limit_currency,
        exposure=max(exposure, 0), active_holds={h.kind: h.reason for h in holds},
        lines=cmd.lines, reduced_batch_percent=reduced_batch_percent,
    ))
    check_id = str(uuid.uuid4())
    uow.session.add(CreditCheck(
        id=check_id, customer_id=customer.id, order_id=cmd.order_id, amount=cmd.amount,
        currency=cmd.currency, decision=decision.decision, max_amount=decision.max_amount,
        reasons=decision.reasons, as_of=cmd.as_of, checked_by=uow.actor, checked_at=now(),
    ))
    return check_id, decision, holds


# --- events from the ledger and collection-plan --------------------------------------------
def _stale(customer: Customer, version: int | None, overdue_now: int) -> bool:
    """News about default that predates a balance showing nothing overdue."""
    return version is not None and version < customer.balance_version and overdue_now == 0


async def on_balance_changed(uow: UnitOfWork, data: ev.BalanceChanged, event: CloudEvent) -> None:
    customer = await get_customer(uow, data.customer_id, lock=True)
    if data.version <= customer.balance_version:
        return  # stale: a later position is already known
    customer.balance_version = data.version
    known = {b.currency: b for b in await balances(uow, customer.id)}
    for item in data.balances:
        view = known.pop(item.currency, None) or BalanceView(customer_id=customer.id, currency=item.currency,
                                                              balance=0, overdue=0)
        view.balance, view.overdue = item.balance, item.overdue
        view.oldest_overdue_due_date = item.oldest_overdue_due_date
        uow.session.add(view)
    for gone in known.values():
        await uow.session.delete(gone)
    if all(item.overdue == 0 for item in data.balances):
        for hold in await active_holds(uow, customer.id):
            if hold.cause == CAUSE_OVERDUE:
                _release(uow, hold, by=f"event:{event.type}",
                         reason="nothing overdue any more")
        if customer.max_days_past_due:
            customer.max_days_past_due = 0
            await rerate(uow, customer)


async def on_overdue(uow: UnitOfWork, data: Any, event: CloudEvent) -> None:
    """ledger.payment.missed and ledger.invoice.aged."""
    customer = await get_customer(uow, data.customer_id, lock=True)
    overdue_now = sum(b.overdue for b in await balances(uow, customer.id))
    if _stale(customer, data.balance_version, overdue_now):
        return
    await _apply_overdue_policy(uow, customer, data.days_past_due, None, f"event:{event.type}")


async def on_case_escalated(uow: UnitOfWork, data: ev.CaseEscalated, event: CloudEvent) -> None:
    customer = await get_customer(uow, data.customer_id, lock=True)
    overdue_now = sum(b.overdue for b in await balances(uow, customer.id))
    if _stale(customer, data.balance_version, overdue_now):
        return
    await _apply_overdue_policy(uow, customer, data.days_past_due, data.receivable_class,
                                f"event:{event.type}")
