"""Promises to pay: recorded on a case; kept as soon as that money is in, challenged at once
when a payment falls short of it, broken (and the case escalated) when the sweep finds the
date passed without the money. Money of a payment that bounced never came: it keeps
nothing, and a promise it kept is open again, or broken once its date has passed."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import select

from services.collection_plan.domain.promises import check_new_promise, is_broken, paid_towards
from services.collection_plan.domain.strategy import CHALLENGE_STEP, TaskTemplate
from services.collection_plan.handlers import cases, common
from services.collection_plan.tables import Case, CustomerView, PaymentView, Promise
from shared.clock import now
from shared.db import UnitOfWork
from shared.errors import Conflict, NotFound
from shared.events import contracts as ev


async def make(uow: UnitOfWork, case_id: str, *, amount: int, currency: str, promised_on: date,
               as_of: date, note: str | None = None) -> Promise:
    case = await uow.session.get(Case, case_id)
    if case is None:
        raise NotFound(f"case {case_id!r} not found")
    await common.customer(uow, case.customer_id)  # the customer first, like every writer
    await uow.session.refresh(case)
    if case.status != "open":
        raise Conflict(f"case {case_id} is closed", field="case_id")
    items = await common.case_invoices(uow, case)
    check_new_promise(amount=amount, currency=currency, promised_on=promised_on, as_of=as_of,
                      overdue=common.overdue_by_currency(items),
                      policy=common.config(uow).promise_policy())
    running = (await uow.session.execute(
        select(Promise).where(Promise.case_id == case.id, Promise.currency == currency,
                              Promise.status == "open"))).scalars().first()
    if running is not None:
        raise Conflict(f"promise {running.id} for {running.amount} {currency} on "
                       f"{running.promised_on.isoformat()} is still open", field="currency")
    promise = Promise(id=str(uuid.uuid4()), case_id=case.id, customer_id=case.customer_id,
                      amount=amount, currency=currency, made_on=as_of, promised_on=promised_on,
                      status="open", note=note, recorded_by=uow.actor, recorded_at=now())
    uow.session.add(promise)
    uow.emit(ev.PromiseMade(customer_id=case.customer_id, case_id=case.id, promise_id=promise.id,
                            amount=amount, currency=currency, promised_on=promised_on))
    common.record(uow, case, as_of, "promise_made",
                  f"{amount} {currency} promised for {promised_on.isoformat()}")
    return promise


async def _paid(uow: UnitOfWork, promise: Promise) -> int:
    payments = (await uow.session.execute(
        select(PaymentView.received_on, PaymentView.amount)
        .where(PaymentView.customer_id == promise.customer_id,
               PaymentView.currency == promise.currency,
               PaymentView.received_on >= promise.made_on,
               PaymentView.received_on <= promise.promised_on,
               PaymentView.reversed_on.is_(None))
    )).all()
    return paid_towards(((on, a) for on, a in payments), promise.made_on, promise.promised_on)


async def _open_promises(uow: UnitOfWork, customer_id: str, currency: str | None = None) -> list[Promise]:
    query = select(Promise).where(Promise.customer_id == customer_id, Promise.status == "open")
    if currency is not None:
        query = query.where(Promise.currency == currency)
    return list((await uow.session.execute(query.order_by(Promise.promised_on))).scalars())


def _kept(uow: UnitOfWork, case: Case, promise: Promise, on: date) -> None:
    promise.status, promise.resolved_on = "kept", on
    uow.emit(ev.PromiseKept(customer_id=promise.customer_id, case_id=promise.case_id,
                            promise_id=promise.id, amount=promise.amount,
                            currency=promise.currency, promised_on=promise.promised_on,
                            kept_on=on))
    common.record(uow, case, on, "promise_kept", f"{promise.paid} {promise.currency} in by {on}")


def _broken(uow: UnitOfWork, case: Case, promise: Promise, as_of: date) -> None:
    promise.status, promise.resolved_on = "broken", as_of
    case.broken_commitments += 1
    uow.emit(ev.PromiseBroken(customer_id=promise.customer_id, case_id=promise.case_id,
                              promise_id=promise.id, amount=promise.amount,
                              currency=promise.currency, promised_on=promise.promised_on,
                              as_of=as_of, paid=promise.paid))
    common.record(uow, case, as_of, "promise_broken",
                  f"{promise.paid} of {promise.amount} {promise.currency} in by "
                  f"{promise.promised_on.isoformat()}")


async def on_payment(uow: UnitOfWork, view: CustomerView, currency: str, amount: int,
                     received_on: date) -> None:
    """A payment came in: a promise it completes is kept; one it falls short of is
    challenged at once, with a task for the collector."""
    for promise in await _open_promises(uow, view.customer_id, currency):
        if not promise.made_on <= received_on <= promise.promised_on:
            continue
        case = await uow.session.get(Case, promise.case_id)
        assert case is not None
        promise.paid = await _paid(uow, promise)
        if promise.paid >= promise.amount:
            _kept(uow, case, promise, received_on)
        elif promise.short_on is None and case.status == "open":
            promise.short_on = received_on
            common.record(uow, case, received_on, "promise_short",
                          f"{amount} {currency} received, {promise.paid} of the "
                          f"{promise.amount} promised")
            await common.add_tasks(
                uow, view=view, case=case, level=case.level, step=CHALLENGE_STEP, as_of=received_on,
                templates=(TaskTemplate("call", f"challenge the partial payment: "
                                                f"{promise.paid} of {promise.amount} {currency} "
                                                f"promised for {promise.promised_on.isoformat()}"),))


async def counted_by(uow: UnitOfWork, payment: PaymentView) -> list[Promise]:
    """The promises the (bounced) payment's money counted towards: those still open, and
    the kept ones that fall short without it; with what is in towards them now."""
    found = []
    for promise in (await uow.session.execute(
        select(Promise).where(Promise.customer_id == payment.customer_id,
                              Promise.currency == payment.currency,
                              Promise.status.in_(("open", "kept")),
                              Promise.made_on <= payment.received_on,
                              Promise.promised_on >= payment.received_on)
        .order_by(Promise.promised_on, Promise.id))).scalars():
        promise.paid = await _paid(uow, promise)
        if promise.status == "open" or promise.paid < promise.amount:
            found.append(promise)
    return found


async def payment_bounced(uow: UnitOfWork, view: CustomerView, case: Case, promise: Promise,
                          payment_id: str, on: date) -> None:
    """A payment towards the promise bounced. A promise it kept is open again (the rest
    still to come) while its date has not passed, else broken, which escalates at once.
    `case` is where the debt is chased now: the promise goes on there, so that the sweep
    breaks it if the money does not come."""
    if promise.case_id != case.id:
        old = await uow.session.get(Case, promise.case_id)
        assert old is not None
        common.record(uow, old, on, "promise_moved", f"payment {payment_id} bounced: promise "
                                                     f"{promise.id} goes on in case {case.id}")
        promise.case_id = case.id
    broken = promise.status == "kept" and is_broken(
        amount=promise.amount, paid=promise.paid, promised_on=promise.promised_on, as_of=on,
        policy=common.config(uow).promise_policy())
    now = "broken" if broken else "open again" if promise.status == "kept" else "still open"
    common.record(uow, case, on, "payment_bounced",
                  f"payment {payment_id} bounced: the promise of {promise.amount} "
                  f"{promise.currency} for {promise.promised_on.isoformat()} is {now}, "
                  f"{promise.paid} in")
    if broken:
        _broken(uow, case, promise, on)
        await cases.evaluate(uow, case, view, on, event="promise_broken")
    else:
        promise.status, promise.resolved_on = "open", None


async def sweep(uow: UnitOfWork, view: CustomerView, as_of: date) -> tuple[int, int]:
    """Promises whose date has passed: (kept, broken). A broken one escalates at once; one
    whose case closed short of it is no longer needed (nothing overdue was left to pay)."""
    kept = broken = 0
    policy = common.config(uow).promise_policy()
    for promise in await _open_promises(uow, view.customer_id):
        case = await uow.session.get(Case, promise.case_id)
        assert case is not None
        promise.paid = await _paid(uow, promise)
        if promise.paid >= promise.amount:
            _kept(uow, case, promise, min(as_of, promise.promised_on))
            kept += 1
        elif not is_broken(amount=promise.amount, paid=promise.paid,
                           promised_on=promise.promised_on, as_of=as_of, policy=policy):
            continue
        elif case.status != "open":
            promise.status, promise.resolved_on = "cancelled", as_of
        else:
            _broken(uow, case, promise, as_of)
            broken += 1
            await cases.evaluate(uow, case, view, as_of, event="promise_broken")
    return kept, broken


async def settle_on_close(uow: UnitOfWork, case: Case, on: date) -> None:
    """The case closes: its promises the money covers are kept. The others stay open: the
    payment that closed the case may still be on its way (news overtakes news), and
    counts when it comes; the sweep lets them go after their date, unbroken, since
    nothing overdue was left to pay."""
    for promise in await _open_promises(uow, case.customer_id):
        if promise.case_id != case.id:
            continue
        promise.paid = await _paid(uow, promise)
        if promise.paid >= promise.amount:
            _kept(uow, case, promise, min(on, promise.promised_on))
