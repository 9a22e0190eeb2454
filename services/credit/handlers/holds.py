"""Holds: placed and released by the policy for each automatic cause, or by people."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import and_, or_, select, update

from services.credit.domain import holds as policy
from services.credit.domain.commands import PlaceHold, ReleaseHold
from services.credit.domain.holds import CAUSE_COLLECTION, CAUSE_MANUAL, CAUSE_OVERDUE, Want
from services.credit.handlers.common import balances, config, get_customer
from services.credit.tables import Agreement, BalanceView, Customer, Hold, InvoiceView
from shared.clock import now
from shared.db import UnitOfWork
from shared.errors import Conflict, Invalid, NotFound
from shared.events import contracts as ev


async def place(uow: UnitOfWork, customer_id: str, kind: str, want: Want, *, cause: str,
                placed_by: str, cause_ref: str | None = None,
                incentives: Iterable[str] = ()) -> Hold:
    if kind == "suspend_incentives" and not incentives:
        incentives = config(uow).incentives
    hold = Hold(id=str(uuid.uuid4()), customer_id=customer_id, kind=kind, reason=want.reason,
                cause=cause, cause_ref=cause_ref, stage=want.stage,
                incentives=list(incentives) if kind == "suspend_incentives" else [],
                automatic=cause != CAUSE_MANUAL, placed_by=placed_by, placed_at=now())
    uow.session.add(hold)
    uow.emit(ev.HoldPlaced(customer_id=customer_id, hold_id=hold.id, kind=kind, reason=want.reason,
                           cause=cause, placed_by=placed_by, incentives=hold.incentives or None))
    return hold


def release(uow: UnitOfWork, hold: Hold, *, by: str, reason: str, override: bool = False) -> None:
    hold.released_at, hold.released_by, hold.release_reason = now(), by, reason
    hold.override = override
    uow.emit(ev.HoldReleased(customer_id=hold.customer_id, hold_id=hold.id, kind=hold.kind,
                             reason=reason, released_by=by, override=override))


async def _lapse_overrides(uow: UnitOfWork, customer_id: str, cause: str) -> None:
    """The cause cleared: a later default is a new one, and the policy acts on it again."""
    await uow.session.execute(update(Hold).where(
        Hold.customer_id == customer_id, Hold.cause == cause, Hold.override.is_(True),
        Hold.override_lapsed.is_(False)).values(override_lapsed=True))


async def enact(uow: UnitOfWork, customer: Customer, cause: str, wanted: dict[str, Want], *,
                by: str, release_reason: str, cause_ref: str | None = None) -> None:
    """Bring one cause's holds in line with what it asks for now."""
    ref = Hold.cause_ref.is_(None) if cause_ref is None else Hold.cause_ref == cause_ref
    held = list((await uow.session.execute(select(Hold).where(
        Hold.customer_id == customer.id, Hold.cause == cause, ref,
        or_(Hold.released_at.is_(None), and_(Hold.override.is_(True), Hold.override_lapsed.is_(False))),
    ).order_by(Hold.placed_at, Hold.id))).scalars())
    mine = [h for h in held if h.released_at is None]
    overrides = [policy.Held(h.id, h.kind, h.stage) for h in held if h.released_at is not None]
    steps = policy.plan(wanted, [policy.Held(h.id, h.kind, h.stage) for h in mine], overrides)
    for hold in mine:
        if hold.id in steps.release:
            release(uow, hold, by=by, reason=release_reason)
        elif hold.kind in wanted and wanted[hold.kind].stage > hold.stage:
            hold.stage = wanted[hold.kind].stage  # the default worsened under it
    for kind, want in steps.place.items():
        await place(uow, customer.id, kind, want, cause=cause, placed_by=by, cause_ref=cause_ref)


# --- the overdue cause --------------------------------------------------------------------
async def shielded_invoices(uow: UnitOfWork, customer_id: str) -> set[str]:
    """Invoices under a repayment agreement that is being kept (or was completed: paid in
    full, its invoices settle with the same news, in whatever order it arrives)."""
    rows = (await uow.session.execute(select(Agreement.invoice_ids).where(
        Agreement.customer_id == customer_id, Agreement.status.in_(("kept", "completed"))
    ))).scalars()
    return {invoice_id for ids in rows for invoice_id in ids}


@dataclass(frozen=True)
class Overdue:
    """What is overdue for a customer: the open invoices the ledger declared overdue, and
    which of them a kept agreement shields. Read once per transaction and handed on."""

    invoices: tuple[InvoiceView, ...]
    shielded: frozenset[str]
    unheard_of: bool  # the ledger's position shows overdue invoices whose news is on its way

    @property
    def worst_days(self) -> int:
        return max((r.days_past_due for r in self.invoices if r.id not in self.shielded), default=0)


async def overdue_of(uow: UnitOfWork, customer: Customer,
                     views: list[BalanceView] | None = None) -> Overdue:
    """An invoice counts while the ledger's latest position credit knows still shows
    something overdue in its currency, or while its news is newer than that position.
    `views`: the customer's balances, if the caller has them already."""
    views = await balances(uow, customer.id) if views is None else views
    overdue_currencies = {b.currency for b in views if b.overdue > 0}
    rows = tuple(r for r in (await uow.session.execute(select(InvoiceView).where(
        InvoiceView.customer_id == customer.id, InvoiceView.settled_on.is_(None),
        InvoiceView.overdue_since.is_not(None),
    ).order_by(InvoiceView.due_date, InvoiceView.id))).scalars()
        if r.currency in overdue_currencies or (r.declared_version or 0) > customer.balance_version)
    if not rows:
        return Overdue((), frozenset(), bool(overdue_currencies))
    shielded = await shielded_invoices(uow, customer.id) & {r.id for r in rows}
    return Overdue(rows, frozenset(shielded), False)


async def apply_overdue_policy(uow: UnitOfWork, customer: Customer, *, by: str,
                               overdue: Overdue | None = None, asking: bool = False) -> Overdue:
    """The ladder on the worst overdue invoice not under a kept agreement, and whether the
    holds collection asked for are in force (`collection_in_force`; `asking`: a collection
    step asks now). Answers what is overdue, for what runs next in the same transaction."""
    cfg = config(uow)
    overdue = overdue or await overdue_of(uow, customer)
    if overdue.unheard_of:
        # Wait for the news: neither place nor release on half the story (but what a
        # collection step asks for now).
        if asking:
            await collection_in_force(uow, customer, overdue, by=by, asking=True)
        return overdue
    days = overdue.worst_days
    # Over: nothing overdue, or all of it under kept agreements.
    if days == 0:
        customer.broken_promise = False
    wanted = policy.overdue_holds(policy.Default(
        worst_days_past_due=days, terms_mode=customer.terms["mode"],
        receivable_class=customer.receivable_class, broken_promise=customer.broken_promise,
    ), cfg.rungs, cfg.broken_promise_days)
    reason = ("nothing overdue any more" if not overdue.invoices else
              "what is overdue is under a repayment agreement that is being kept" if days == 0 else
              f"no longer called for at {days} days past due")
    await enact(uow, customer, CAUSE_OVERDUE, wanted, by=by, release_reason=reason)
    if days == 0:
        await _lapse_overrides(uow, customer.id, CAUSE_OVERDUE)
    await collection_in_force(uow, customer, overdue, by=by, asking=asking)
    return overdue


def _asked(customer: Customer) -> dict[str, Want]:
    return {kind: Want(w["reason"], w["stage"]) for kind, w in (customer.collection_holds or {}).items()}


async def collection_in_force(uow: UnitOfWork, customer: Customer, overdue: Overdue, *,
                              by: str, asking: bool = False) -> None:
    """The holds collection asked for are lifted while everything overdue is under kept
    agreements, and placed again (new holds, at the stage they were) once it is not."""
    asked = _asked(customer)
    if not asked:
        return
    wanted = policy.collection_holds(asked, (r.id for r in overdue.invoices), overdue.shielded,
                                     asking=asking)
    if wanted is not None:
        await enact(uow, customer, CAUSE_COLLECTION, wanted, by=by, release_reason=(
            policy.AGREED if not wanted else "no longer asked for by the collection case"))


async def end_cause(uow: UnitOfWork, customer: Customer, cause: str, *, by: str, reason: str,
                    cause_ref: str | None = None) -> None:
    await enact(uow, customer, cause, {}, by=by, release_reason=reason, cause_ref=cause_ref)
    if cause_ref is None:
        await _lapse_overrides(uow, customer.id, cause)


def request_holds(customer: Customer, kinds: Iterable[str], want: Want) -> None:
    """Holds a collection step asks for, on top of those it asked for before; placed by
    `apply_overdue_policy` (unless kept agreements cover everything overdue)."""
    asked = policy.asked_more(_asked(customer), kinds, want)
    customer.collection_holds = {k: {"reason": w.reason, "stage": w.stage} for k, w in asked.items()}


async def end_collection(uow: UnitOfWork, customer: Customer, *, by: str, reason: str) -> None:
    """The case closed: what it asked for is over."""
    customer.collection_holds = {}
    await end_cause(uow, customer, CAUSE_COLLECTION, by=by, reason=reason)


# --- people -------------------------------------------------------------------------------
async def place_hold(uow: UnitOfWork, cmd: PlaceHold) -> Hold:
    await get_customer(uow, cmd.customer_id, lock=True)
    unknown = set(cmd.incentives) - set(config(uow).incentives)
    if unknown:
        raise Invalid(f"unknown incentives {sorted(unknown)}; known: {config(uow).incentives}",
                      field="incentives")
    if cmd.incentives and cmd.kind != "suspend_incentives":
        raise Invalid("incentives go with a suspend_incentives hold", field="incentives")
    return await place(uow, cmd.customer_id, cmd.kind, Want(cmd.reason, 0), cause=CAUSE_MANUAL,
                       placed_by=uow.actor, incentives=cmd.incentives)


async def release_hold(uow: UnitOfWork, cmd: ReleaseHold) -> Hold:
    hold = await uow.session.get(Hold, cmd.hold_id)
    if hold is None:
        raise NotFound(f"hold {cmd.hold_id!r} not found")
    # The customer's lock first, as every handler deciding on holds takes it: the release
    # never slips in between a handler's read of the holds and its write.
    await get_customer(uow, hold.customer_id, lock=True)
    await uow.session.refresh(hold, with_for_update=True)
    if hold.released_at is not None:
        raise Conflict(f"hold {cmd.hold_id} was already released")
    # An automatic hold released by hand while its cause remains: an override.
    release(uow, hold, by=uow.actor, reason=cmd.reason, override=hold.automatic)
    return hold
