"""What collection-plan tells credit: case escalations and closures, promises to pay,
repayment agreements."""

from __future__ import annotations

from datetime import date

from services.credit.domain.holds import Want
from services.credit.handlers import holds, rating
from services.credit.handlers.common import balances, by_event, find_customer
from services.credit.handlers.ledger_events import stale
from services.credit.tables import Agreement, Promise
from shared.db import UnitOfWork
from shared.events import CloudEvent
from shared.events import contracts as ev

# A promise's and an agreement's life: a later status never goes back to an earlier one
# (news may overtake). Broken is last: a payment that kept a promise or completed an
# agreement may bounce, and then the same promise or agreement breaks.
PROMISE_ORDER = {"made": 0, "kept": 1, "broken": 2}
AGREEMENT_ORDER = {"kept": 0, "completed": 1, "broken": 2}


async def on_case_escalated(uow: UnitOfWork, data: ev.CaseEscalated, event: CloudEvent) -> None:
    customer = await find_customer(uow, data.customer_id, lock=True)
    if customer is None:
        return
    views = await balances(uow, customer.id)
    if stale(customer, data.balance_version, sum(b.overdue for b in views)):
        return
    customer.receivable_class = data.receivable_class
    if data.requested_holds:
        holds.request_holds(customer, data.requested_holds, Want(
            f"collection step {data.step} (level {data.level})", data.level))
    await holds.apply_overdue_policy(uow, customer, by=by_event(event), asking=True,
                                     overdue=await holds.overdue_of(uow, customer, views))


async def on_case_closed(uow: UnitOfWork, data: ev.CaseClosed, event: CloudEvent) -> None:
    customer = await find_customer(uow, data.customer_id, lock=True)
    if customer is None:
        return
    customer.receivable_class = None
    await holds.end_collection(uow, customer, by=by_event(event),
                               reason=f"collection case closed: {data.reason}")
    await holds.apply_overdue_policy(uow, customer, by=by_event(event))


async def _promise(uow: UnitOfWork, data: ev.PromiseMade | ev.PromiseKept | ev.PromiseBroken,
                   status: str, on: date | None = None) -> bool:
    """Record the promise's news; answers whether it moved the promise on."""
    promise = await uow.session.get(Promise, data.promise_id, with_for_update=True)
    if promise is None:
        promise = Promise(id=data.promise_id, customer_id=data.customer_id, amount=data.amount,
                          currency=data.currency, promised_on=data.promised_on, status="made")
        uow.session.add(promise)
    if PROMISE_ORDER[status] <= PROMISE_ORDER[promise.status]:
        return False
    promise.status, promise.settled_on = status, on
    return True


async def on_promise_made(uow: UnitOfWork, data: ev.PromiseMade, _: CloudEvent) -> None:
    await _promise(uow, data, "made")


async def on_promise_kept(uow: UnitOfWork, data: ev.PromiseKept, _: CloudEvent) -> None:
    await _promise(uow, data, "kept", data.kept_on)


async def on_promise_broken(uow: UnitOfWork, data: ev.PromiseBroken, event: CloudEvent) -> None:
    """A broken promise escalates at once: the ladder treats it as 15 days in default. A
    kept one breaks too when the payment that kept it bounced."""
    customer = await find_customer(uow, data.customer_id, lock=True)  # the customer first, always
    on = data.as_of or data.promised_on
    if not await _promise(uow, data, "broken", on):
        return
    if customer is None:
        return
    customer.broken_promise = True
    overdue = await holds.apply_overdue_policy(uow, customer, by=by_event(event))
    await rating.rerate_on_news(uow, customer, event, on, overdue=overdue)


async def _agreement(uow: UnitOfWork, data: ev.AgreementSigned | ev.AgreementBroken | ev.AgreementCompleted,
                     status: str, event: CloudEvent, on: date | None) -> None:
    customer = await find_customer(uow, data.customer_id, lock=True)
    agreement = await uow.session.get(Agreement, data.agreement_id, with_for_update=True)
    if agreement is None:
        agreement = Agreement(id=data.agreement_id, customer_id=data.customer_id,
                              invoice_ids=list(data.invoice_ids), status=status)
        uow.session.add(agreement)
    elif AGREEMENT_ORDER[status] <= AGREEMENT_ORDER[agreement.status]:
        return  # stale: the agreement already ended
    agreement.status = status
    if isinstance(data, ev.AgreementSigned):
        agreement.signed_on = on
    else:
        agreement.ended_on = on
    if customer is None:
        return
    overdue = await holds.apply_overdue_policy(uow, customer, by=by_event(event))
    await rating.rerate_on_news(uow, customer, event, on, overdue=overdue)


async def on_agreement_signed(uow: UnitOfWork, data: ev.AgreementSigned, event: CloudEvent) -> None:
    await _agreement(uow, data, "kept", event, data.signed_on)


async def on_agreement_broken(uow: UnitOfWork, data: ev.AgreementBroken, event: CloudEvent) -> None:
    await _agreement(uow, data, "broken", event, data.as_of)


async def on_agreement_completed(uow: UnitOfWork, data: ev.AgreementCompleted, event: CloudEvent) -> None:
    await _agreement(uow, data, "completed", event, data.completed_on)
