"""The credit check and the reservations it makes: the only path that creates exposure."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select

from services.credit.domain import limits
from services.credit.domain import reservations as rsv
from services.credit.domain.check import (
    ActiveHold,
    CheckRequest,
    Decision,
    LinePolicy,
    decide,
    granted,
    reduced_batch_cap,
)
from services.credit.domain.commands import CancelReservation, CheckCredit, ConfirmShipment
from services.credit.domain.detection import months_before
from services.credit.handlers.common import active_holds, balances, config, get_customer, receivables
from services.credit.tables import CreditCheck, Customer, Hold, PurchaseMonth, Reservation
from shared.clock import now
from shared.db import UnitOfWork
from shared.errors import Conflict, NotFound


@dataclass
class CheckResult:
    check_id: str
    decision: Decision
    holds: list[Hold]
    limit: limits.AppliedLimit
    receivables: int
    reserved: int
    reservation: Reservation | None
    rating_class: str


async def open_reservations(uow: UnitOfWork, customer: Customer) -> list[Reservation]:
    """The approved orders that are exposure now."""
    moment = now()
    rows = (await uow.session.execute(select(Reservation).where(
        Reservation.customer_id == customer.id,
        Reservation.status.in_((rsv.RESERVED, rsv.SHIPPED))))).scalars()
    return [r for r in rows if rsv.counts(r.status, r.expires_at, moment, r.consumed_at_version,
                                          customer.balance_version)]


async def _average_order(uow: UnitOfWork, customer: Customer, on: date) -> int | None:
    window = months_before(on, 12)
    total, count = (await uow.session.execute(select(
        func.coalesce(func.sum(PurchaseMonth.amount), 0),
        func.coalesce(func.sum(PurchaseMonth.invoices), 0)).where(
        PurchaseMonth.customer_id == customer.id,
        PurchaseMonth.currency == customer.credit_limit_currency,
        PurchaseMonth.month >= window[0]))).one()
    return int(total) // int(count) if count else None


def applied_limit(uow: UnitOfWork, customer: Customer) -> limits.AppliedLimit:
    cfg = config(uow)
    return limits.applied_limit(
        customer.credit_limit_amount, customer.credit_limit_currency,
        has_history=customer.has_payment_history, recommended=customer.recommended_limit_amount,
        policy=cfg.limit_policy, starting_limits=cfg.starting_limits)


async def check_credit(uow: UnitOfWork, cmd: CheckCredit) -> CheckResult:
    cfg = config(uow)
    # An order that reserves credit takes its turn on the customer: two orders checked at
    # once cannot both spend the same available credit.
    customer = await get_customer(uow, cmd.customer_id, lock=cmd.order_id is not None)
    holds = await active_holds(uow, customer.id)
    views = await balances(uow, customer.id)
    existing = await uow.session.get(Reservation, cmd.order_id) if cmd.order_id else None
    if existing is not None and (existing.customer_id != customer.id or existing.status != rsv.RESERVED):
        raise Conflict(f"order {cmd.order_id} is {existing.status} for customer "
                       f"{existing.customer_id}; check a new order id", field="order_id")
    reserved = sum(r.amount for r in await open_reservations(uow, customer)
                   if r.order_id != cmd.order_id)  # a re-check replaces its own reservation
    limit = applied_limit(uow, customer)
    active = {h.kind: ActiveHold(h.reason, tuple(h.incentives)) for h in holds}
    cap, basis = None, ""
    if "reduced_batches" in active:
        cap, basis = reduced_batch_cap(
            await _average_order(uow, customer, cmd.as_of), limit.amount, cmd.currency,
            average_percent=cfg.reduced_batch_average_percent, limit_percent=cfg.reduced_batch_percent)
    owed = receivables(views, customer.credit_limit_currency)
    decision = decide(CheckRequest(
        amount=cmd.amount, currency=cmd.currency, terms_mode=customer.terms["mode"],
        limit_amount=limit.amount, limit_currency=customer.credit_limit_currency,
        receivables=owed, reserved=reserved, active_holds=active, lines=cmd.lines,
        batch_cap=cap, batch_basis=basis, owes_overdue=any(v.overdue > 0 for v in views),
        rating_class=customer.rating_class, cash_only_classes=frozenset(cfg.cash_only_classes),
        limit_reasons=limit.reasons, line_policy=LinePolicy(
            frozenset(cfg.key_product_classes), frozenset(cfg.debt_free_only_classes)),
    ))
    check_id = str(uuid.uuid4())
    moment = now()
    uow.session.add(CreditCheck(
        id=check_id, customer_id=customer.id, order_id=cmd.order_id, amount=cmd.amount,
        currency=cmd.currency, decision=decision.decision, max_amount=decision.max_amount,
        reasons=decision.reasons, exposure=owed + reserved, limit_amount=limit.amount,
        rating_class=customer.rating_class, as_of=cmd.as_of, checked_by=uow.actor,
        checked_at=moment))
    reservation = None
    if cmd.order_id is not None:
        reservation = _reserve(uow, customer, cmd, existing, check_id, granted(decision, cmd.amount))
    return CheckResult(check_id, decision, holds, limit, owed, reserved, reservation,
                       customer.rating_class)


def _reserve(uow: UnitOfWork, customer: Customer, cmd: CheckCredit, existing: Reservation | None,
             check_id: str, amount: int) -> Reservation | None:
    moment = now()
    if amount <= 0:
        if existing is not None:
            existing.status, existing.cancel_reason = rsv.CANCELLED, f"re-checked: no credit ({check_id})"
            existing.updated_at, existing.updated_by = moment, uow.actor
        return None
    expires = moment + timedelta(hours=config(uow).reservation_hours)
    if existing is None:
        existing = Reservation(order_id=cmd.order_id, customer_id=customer.id, check_id=check_id,
                               amount=amount, currency=cmd.currency, status=rsv.RESERVED,
                               expires_at=expires, created_at=moment, created_by=uow.actor,
                               updated_at=moment, updated_by=uow.actor)
        uow.session.add(existing)
    else:
        existing.check_id, existing.amount, existing.expires_at = check_id, amount, expires
        existing.updated_at, existing.updated_by = moment, uow.actor
    return existing


async def _reservation(uow: UnitOfWork, order_id: str) -> Reservation:
    reservation = await uow.session.get(Reservation, order_id, with_for_update=True)
    if reservation is None:
        raise NotFound(f"no credit check reserved order {order_id!r}", field="order_id")
    await get_customer(uow, reservation.customer_id, lock=True)
    return reservation


async def confirm_shipment(uow: UnitOfWork, cmd: ConfirmShipment) -> Reservation:
    """The goods left: the order counts until its invoice is in the balance, and no longer
    lapses (a lapsed approval that shipped anyway counts again: the goods are out)."""
    reservation = await _reservation(uow, cmd.order_id)
    if reservation.status not in (rsv.RESERVED, rsv.SHIPPED):
        raise Conflict(f"order {cmd.order_id} is {reservation.status}", field="order_id")
    reservation.status = rsv.SHIPPED
    reservation.updated_at, reservation.updated_by = now(), uow.actor
    return reservation


async def cancel_reservation(uow: UnitOfWork, cmd: CancelReservation) -> Reservation:
    reservation = await _reservation(uow, cmd.order_id)
    if reservation.status not in (rsv.RESERVED, rsv.SHIPPED):
        raise Conflict(f"order {cmd.order_id} is {reservation.status}", field="order_id")
    reservation.status, reservation.cancel_reason = rsv.CANCELLED, cmd.reason
    reservation.updated_at, reservation.updated_by = now(), uow.actor
    return reservation


async def consume_reservations(uow: UnitOfWork, customer: Customer) -> None:
    """Orders whose invoice the balance now includes are receivables, no longer reserved."""
    for reservation in (await uow.session.execute(select(Reservation).where(
            Reservation.customer_id == customer.id,
            Reservation.status.in_((rsv.RESERVED, rsv.SHIPPED)),
            Reservation.consumed_at_version <= customer.balance_version))).scalars():
        reservation.status = rsv.INVOICED
        reservation.updated_at, reservation.updated_by = now(), "event:ledger.balance.changed"
