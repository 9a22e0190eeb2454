"""The credit check and the reservations it makes: the only path that creates exposure."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import String, and_, bindparam, func, insert, or_, select, update
from sqlalchemy.engine import Row
from sqlalchemy.orm import aliased
from sqlalchemy.sql import Executable

from services.credit.config import CreditConfig
from services.credit.domain import limits
from services.credit.domain import reservations as rsv
from services.credit.domain.check import (
    CheckRequest,
    Decision,
    LinePolicy,
    decide,
    granted,
    in_force,
    reduced_batch_cap,
)
from services.credit.domain.commands import CancelReservation, CheckCredit, ConfirmShipment
from services.credit.domain.detection import months_before
from services.credit.handlers.common import config
from services.credit.tables import BalanceView, CreditCheck, Customer, Hold, PurchaseMonth, Reservation
from shared.clock import now
from shared.db import UnitOfWork
from shared.errors import Conflict, NotFound

Reads = Callable[[Executable, dict[str, Any]], Awaitable[Sequence[Row[Any]]]]
Writes = Callable[[Executable, Any], Awaitable[Any]]


@dataclass
class CheckResult:
    check_id: str
    decision: Decision
    holds: list[dict[str, Any]]
    limit: limits.AppliedLimit
    receivables: int
    reserved: int
    reservation: dict[str, Any] | None
    rating_class: str
    audit: dict[str, Any]  # the audit row (credit_check)


@dataclass(frozen=True)
class Snapshot:
    """Everything the check decides from, read at once."""

    customer_id: str
    terms_mode: str
    granted_limit: int
    currency: str
    rating_class: str
    has_payment_history: bool
    recommended_limit: int | None
    receivables: int
    owes_overdue: bool
    other_currencies: int  # how many other currencies than the limit's have money owed
    reserved: int  # other orders' reservations
    order_status: str | None  # of this order's reservation, if it has one
    order_customer: str | None
    order_created_at: datetime | None
    order_created_by: str | None
    holds: tuple[dict[str, Any], ...]


# The check's statements are built once: building a statement costs more than running it.
# Parameters: customer_id, order_id (or None), now.
def _counted(customer_id: Any, balance_version: Any) -> Any:
    """The approved orders that are exposure now (domain/reservations.py)."""
    return and_(
        Reservation.customer_id == customer_id,
        or_(Reservation.status == rsv.SHIPPED,
            and_(Reservation.status == rsv.RESERVED, Reservation.expires_at > bindparam("now"))),
        or_(Reservation.consumed_at_version.is_(None),
            Reservation.consumed_at_version > balance_version))


def _reserved(customer_id: Any, balance_version: Any) -> Any:
    """What approved orders not yet invoiced hold, but the order being checked (`invoiced`:
    the parts already in the balance, consume_reservations keeps it in step with it)."""
    return select(func.coalesce(func.sum(Reservation.amount - Reservation.invoiced), 0)).where(
        _counted(customer_id, balance_version),
        Reservation.order_id != func.coalesce(bindparam("order_id", type_=String), ""))


_c = Customer.__table__.c
_h = Hold.__table__.c
_order = aliased(Reservation, name="ordered")  # the reservation of the order checked, if any
SNAPSHOT = select(
    _c.id, _c.terms, _c.credit_limit_amount, _c.credit_limit_currency, _c.rating_class,
    _c.has_payment_history, _c.recommended_limit_amount,
    select(func.coalesce(func.sum(BalanceView.balance), 0)).where(
        BalanceView.customer_id == _c.id, BalanceView.currency == _c.credit_limit_currency
    ).scalar_subquery().label("receivables"),
    select(func.count()).select_from(BalanceView).where(
        BalanceView.customer_id == _c.id, BalanceView.overdue > 0
    ).scalar_subquery().label("overdue_currencies"),
    select(func.count()).select_from(BalanceView).where(
        BalanceView.customer_id == _c.id, BalanceView.currency != _c.credit_limit_currency,
        BalanceView.balance > 0
    ).scalar_subquery().label("other_currencies"),
    _reserved(_c.id, _c.balance_version).scalar_subquery().label("reserved"),
    _order.status.label("order_status"), _order.customer_id.label("order_customer"),
    _order.created_at.label("order_created_at"), _order.created_by.label("order_created_by"),
    # The holds in force, one row each (the customer's columns repeat): one statement is
    # one consistent read, with no transaction around it.
    *(column.label(f"hold_{column.name}") for column in _h),
).select_from(Customer).outerjoin(_order, _order.order_id == bindparam("order_id")).outerjoin(
    Hold, and_(Hold.customer_id == _c.id, Hold.released_at.is_(None))
).where(_c.id == bindparam("customer_id")).order_by(Hold.placed_at, Hold.id)
AVERAGE_ORDER = select(
    func.coalesce(func.sum(PurchaseMonth.amount), 0), func.coalesce(func.sum(PurchaseMonth.invoices), 0),
).where(PurchaseMonth.customer_id == bindparam("customer_id"),
        PurchaseMonth.currency == bindparam("currency"), PurchaseMonth.month >= bindparam("since"))
LOCK = select(Customer.id).where(Customer.id == bindparam("customer_id")).with_for_update()


async def reserved_amount(uow: UnitOfWork, customer: Customer) -> int:
    """What approved orders not yet invoiced hold."""
    return int((await uow.session.execute(
        _reserved(customer.id, customer.balance_version), {"now": now(), "order_id": None}
    )).scalar_one())


async def snapshot(read: Reads, customer_id: str, order_id: str | None) -> Snapshot:
    params = {"customer_id": customer_id, "order_id": order_id, "now": now()}
    rows = await read(SNAPSHOT, params)
    if not rows:
        raise NotFound(f"customer {customer_id!r} is not registered", field="customer_id")
    row = rows[0]
    holds = tuple({column.name: hold[f"hold_{column.name}"] for column in _h}
                  for hold in (r._mapping for r in rows) if hold["hold_id"] is not None)
    return Snapshot(
        customer_id=row.id, terms_mode=row.terms["mode"], granted_limit=row.credit_limit_amount,
        currency=row.credit_limit_currency, rating_class=row.rating_class,
        has_payment_history=row.has_payment_history, recommended_limit=row.recommended_limit_amount,
        receivables=max(int(row.receivables), 0), owes_overdue=row.overdue_currencies > 0,
        other_currencies=int(row.other_currencies),
        reserved=int(row.reserved), order_status=row.order_status, order_customer=row.order_customer,
        order_created_at=row.order_created_at, order_created_by=row.order_created_by,
        holds=holds,
    )


async def _average_order(read: Reads, customer_id: str, currency: str, on: date) -> int | None:
    (total, count), = await read(AVERAGE_ORDER, {
        "customer_id": customer_id, "currency": currency, "since": months_before(on, 12)[0]})
    return int(total) // int(count) if count else None


def _applied(cfg: CreditConfig, granted_limit: int, currency: str, has_history: bool,
             recommended: int | None) -> limits.AppliedLimit:
    return limits.applied_limit(granted_limit, currency, has_history=has_history,
                                recommended=recommended, policy=cfg.limit_policy,
                                starting_limits=cfg.starting_limits)


def applied_limit(uow: UnitOfWork, customer: Customer) -> limits.AppliedLimit:
    return _applied(config(uow), customer.credit_limit_amount, customer.credit_limit_currency,
                    customer.has_payment_history, customer.recommended_limit_amount)


async def _evaluate(read: Reads, cfg: CreditConfig, cmd: CheckCredit, snap: Snapshot, actor: str
                    ) -> CheckResult:
    """The one evaluation every check goes through (and so every reservation)."""
    if snap.order_status is not None and (snap.order_customer != snap.customer_id
                                          or snap.order_status != rsv.RESERVED):
        raise Conflict(f"order {cmd.order_id} is {snap.order_status} for customer "
                       f"{snap.order_customer}; check a new order id", field="order_id")
    limit = _applied(cfg, snap.granted_limit, snap.currency, snap.has_payment_history,
                     snap.recommended_limit)
    active = in_force((h["kind"], h["reason"], h["incentives"]) for h in snap.holds)
    cap, basis = None, ""
    if "reduced_batches" in active:
        cap, basis = reduced_batch_cap(
            await _average_order(read, snap.customer_id, snap.currency, cmd.as_of), limit.amount,
            snap.currency, average_percent=cfg.reduced_batch_average_percent,
            limit_percent=cfg.reduced_batch_percent)
    decision = decide(CheckRequest(
        amount=cmd.amount, currency=cmd.currency, terms_mode=snap.terms_mode,
        limit_amount=limit.amount, limit_currency=snap.currency, receivables=snap.receivables,
        reserved=snap.reserved, active_holds=active, lines=cmd.lines, batch_cap=cap,
        batch_basis=basis, owes_overdue=snap.owes_overdue, rating_class=snap.rating_class,
        other_currencies=snap.other_currencies,
        cash_only_classes=frozenset(cfg.cash_only_classes), limit_reasons=limit.reasons,
        line_policy=LinePolicy(frozenset(cfg.key_product_classes),
                               frozenset(cfg.debt_free_only_classes)),
        incentives=frozenset(cfg.incentives),
    ))
    check_id = str(uuid.uuid4())
    audit = dict(
        id=check_id, customer_id=snap.customer_id, order_id=cmd.order_id, amount=cmd.amount,
        currency=cmd.currency, decision=decision.decision, max_amount=decision.max_amount,
        reasons=decision.reasons, exposure=snap.receivables + snap.reserved,
        limit_amount=limit.amount, rating_class=snap.rating_class, as_of=cmd.as_of,
        checked_by=actor, checked_at=now())
    return CheckResult(check_id, decision, list(snap.holds), limit, snap.receivables, snap.reserved,
                       None, snap.rating_class, audit)


async def quick_check(read: Reads, cfg: CreditConfig, cmd: CheckCredit, actor: str) -> CheckResult:
    """A check that reserves nothing (no order id): reads only; the caller writes the
    answer's audit row (`result.audit`)."""
    if cmd.order_id is not None:
        raise ValueError("a check with an order id reserves credit: use reserving_check")
    return await _evaluate(read, cfg, cmd, await snapshot(read, cmd.customer_id, None), actor)


async def reserving_check(read: Reads, write: Writes, cfg: CreditConfig, cmd: CheckCredit,
                          actor: str) -> CheckResult:
    """A check in the caller's write transaction, with its audit row; with an order id it
    reserves what it grants, under the customer's lock, so two orders cannot spend the same
    credit (SQLite: the transaction holds the database's write lock already)."""
    if cmd.order_id is not None:
        # The lock first, alone: a statement that waited for it would read with the
        # snapshot it took before waiting (PostgreSQL), missing the reservation just made.
        await read(LOCK, {"customer_id": cmd.customer_id})
    snap = await snapshot(read, cmd.customer_id, cmd.order_id)
    result = await _evaluate(read, cfg, cmd, snap, actor)
    await write(insert(CreditCheck), [result.audit])
    if cmd.order_id is not None:
        result.reservation = await _reserve(write, cfg, snap, cmd, result, actor)
    return result


async def check_credit(uow: UnitOfWork, cmd: CheckCredit) -> CheckResult:
    """`reserving_check` in a unit of work."""

    async def read(statement: Executable, params: dict[str, Any]) -> Sequence[Row[Any]]:
        return (await uow.session.execute(statement, params)).all()

    async def write(statement: Executable, params: Any) -> None:
        await uow.session.execute(statement, params)

    return await reserving_check(read, write, config(uow), cmd, uow.actor)


async def _reserve(write: Writes, cfg: CreditConfig, snap: Snapshot, cmd: CheckCredit,
                   result: CheckResult, actor: str) -> dict[str, Any] | None:
    """Hold what the answer grants for the order (a re-check replaces the amount); an
    answer that grants nothing cancels an earlier reservation of the order."""
    amount, moment = granted(result.decision, cmd.amount), now()
    mine = Reservation.order_id == cmd.order_id
    if amount <= 0:
        if snap.order_status is not None:
            await write(update(Reservation).where(mine).values(
                status=rsv.CANCELLED, cancel_reason=f"re-checked: no credit ({result.check_id})",
                updated_at=moment, updated_by=actor), {})
        return None
    held = dict(check_id=result.check_id, amount=amount, status=rsv.RESERVED,
                expires_at=moment + timedelta(hours=cfg.reservation_hours), updated_at=moment,
                updated_by=actor)
    if snap.order_status is None:
        row = dict(order_id=cmd.order_id, customer_id=snap.customer_id, currency=cmd.currency,
                   created_at=moment, created_by=actor, invoice_id=None, cancel_reason=None,
                   invoices=[], invoiced=0, **held)
        await write(insert(Reservation), [row])
        return row
    await write(update(Reservation).where(mine).values(**held), {})
    return dict(order_id=cmd.order_id, customer_id=snap.customer_id, currency=cmd.currency,
                created_at=snap.order_created_at, created_by=snap.order_created_by, invoice_id=None,
                cancel_reason=None, **held)


async def _reservation(uow: UnitOfWork, order_id: str) -> Reservation:
    found = await uow.session.get(Reservation, order_id)
    if found is None:
        raise NotFound(f"no credit check reserved order {order_id!r}", field="order_id")
    # The customer's lock first, as the check takes it: the same order, never a deadlock.
    await uow.session.execute(LOCK, {"customer_id": found.customer_id})
    await uow.session.refresh(found, with_for_update=True)
    return found


async def confirm_shipment(uow: UnitOfWork, cmd: ConfirmShipment) -> Reservation:
    """The goods left: the order counts until its invoice is in the balance, and no longer
    lapses. A lapsed approval cannot be confirmed: the credit it held went back, so the
    order must be checked again (the check is the only way to create exposure)."""
    reservation = await _reservation(uow, cmd.order_id)
    state = rsv.state(reservation.status, reservation.expires_at, now())
    if state == "expired":
        raise Conflict(f"the approval of order {cmd.order_id} lapsed at "
                       f"{reservation.expires_at.isoformat()}; check the order again", field="order_id")
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


async def consume_reservations(uow: UnitOfWork, customer: Customer, *, by: str) -> None:
    """The parts of orders whose invoices the balance now includes are receivables, no
    longer reserved; an order all invoiced is over."""
    for reservation in (await uow.session.execute(select(Reservation).where(
            Reservation.customer_id == customer.id,
            Reservation.status.in_((rsv.RESERVED, rsv.SHIPPED)),
            Reservation.invoice_id.is_not(None)))).scalars():
        absorbed, whole = rsv.invoiced(reservation.amount, reservation.invoices, customer.balance_version)
        if absorbed != reservation.invoiced or whole:
            reservation.invoiced = absorbed
            reservation.status = rsv.INVOICED if whole else reservation.status
            reservation.updated_at, reservation.updated_by = now(), by
