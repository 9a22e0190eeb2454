"""Warning signs: reported by people or detected from data; a serious one stops shipments,
re-rates the customer and asks collection-plan to collect at once."""

from __future__ import annotations

import uuid
from datetime import date

from services.credit.domain.commands import RecordSignal, ResolveSignal
from services.credit.domain.holds import CAUSE_SIGNAL, Want
from services.credit.domain.signals import (
    COLLECTION_CLASS,
    KINDS,
    ORIGIN_DETECTED,
    ORIGIN_REPORTED,
    Finding,
    describe,
)
from services.credit.handlers import holds, rating
from services.credit.handlers.common import config, get_customer
from services.credit.tables import Customer, Detection, Signal
from shared.clock import now
from shared.db import UnitOfWork
from shared.errors import Conflict, Invalid, NotFound
from shared.events import contracts as ev


async def record(uow: UnitOfWork, customer: Customer, kind: str, observed_on: date, *,
                 note: str | None = None, origin: str = ORIGIN_REPORTED,
                 evidence: tuple[str, ...] = (), by: str | None = None) -> Signal:
    if kind not in KINDS:
        raise Invalid(f"unknown kind {kind!r}; one of {', '.join(KINDS)}", field="kind")
    serious = kind in config(uow).serious_signals
    by = by or uow.actor
    signal = Signal(id=str(uuid.uuid4()), customer_id=customer.id, kind=kind,
                    observed_on=observed_on, note=note, serious=serious, origin=origin,
                    evidence=list(evidence), recorded_by=by, recorded_at=now())
    uow.session.add(signal)
    uow.emit(ev.SignalRecorded(customer_id=customer.id, signal_id=signal.id, kind=kind,
                               observed_on=observed_on, note=note, serious=serious,
                               origin=origin, evidence=list(evidence)))
    if serious:
        reason = f"serious warning sign: {describe(kind)}"
        await holds.place(uow, customer.id, "stop_shipments", Want(reason, 0), cause=CAUSE_SIGNAL,
                          placed_by=f"signal:{signal.id}", cause_ref=signal.id)
        uow.emit(ev.CollectionRequested(customer_id=customer.id, reason=reason, as_of=observed_on,
                                        signal_id=signal.id, signal_kind=kind,
                                        receivable_class=COLLECTION_CLASS.get(kind)))
    await rating.rerate(uow, customer, trigger=f"signal:{kind}", as_of=observed_on, by=by)
    return signal


async def record_signal(uow: UnitOfWork, cmd: RecordSignal) -> Signal:
    customer = await get_customer(uow, cmd.customer_id, lock=True)
    return await record(uow, customer, cmd.kind, cmd.observed_on, note=cmd.note)


async def _resolve(uow: UnitOfWork, customer: Customer, signal: Signal, *, by: str, reason: str,
                   on: date) -> None:
    signal.resolved_at, signal.resolved_by, signal.resolution = now(), by, reason
    await holds.end_cause(uow, customer, CAUSE_SIGNAL, by=by, cause_ref=signal.id,
                          reason=f"warning sign resolved: {reason}")
    await rating.rerate(uow, customer, trigger=f"signal resolved:{signal.kind}", as_of=on, by=by)


async def resolve_signal(uow: UnitOfWork, cmd: ResolveSignal, on: date) -> Signal:
    signal = await uow.session.get(Signal, cmd.signal_id)
    if signal is None:
        raise NotFound(f"signal {cmd.signal_id!r} not found")
    # The customer's lock first, as the handlers take it (a detector resolves signs too):
    # the other order could deadlock with them.
    customer = await get_customer(uow, signal.customer_id, lock=True)
    await uow.session.refresh(signal, with_for_update=True)
    if signal.resolved_at is not None:
        raise Conflict(f"signal {cmd.signal_id} was already resolved")
    await _resolve(uow, customer, signal, by=uow.actor, reason=cmd.reason, on=on)
    return signal


async def detect(uow: UnitOfWork, customer: Customer, detector: str, finding: Finding | None,
                 on: date) -> Signal | None:
    """Record a detected sign when the detector's condition starts to hold; when it stops
    holding, the sign it recorded resolves itself (its evidence is gone). A look as of a
    day before the last change (news booked late) changes nothing: that change was found
    on what happened since."""
    state = await uow.session.get(Detection, (customer.id, detector), with_for_update=True)
    if state is not None and on < state.changed_on:
        return None
    if finding is not None and (state is None or not state.active):
        signal = await record(uow, customer, finding.kind, on, origin=ORIGIN_DETECTED,
                              evidence=finding.evidence, by=f"detector:{detector}")
        if state is None:
            uow.session.add(Detection(customer_id=customer.id, detector=detector, active=True,
                                      signal_id=signal.id, changed_on=on))
        else:
            state.active, state.signal_id, state.changed_on = True, signal.id, on
        return signal
    if finding is None and state is not None and state.active:
        state.active, state.changed_on = False, on
        signal = await uow.session.get(Signal, state.signal_id) if state.signal_id else None
        if signal is not None and signal.resolved_at is None:
            await _resolve(uow, customer, signal, by=f"detector:{detector}", on=on,
                           reason="the condition no longer holds")
    return None


async def dossier_signs(uow: UnitOfWork, customer: Customer, signs: list[Finding], on: date) -> None:
    for sign in signs:
        await record(uow, customer, sign.kind, on, origin=ORIGIN_DETECTED, evidence=sign.evidence,
                     by=uow.actor)

