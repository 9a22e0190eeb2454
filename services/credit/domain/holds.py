"""Supply holds and the hold policy (by default the ladder in ARCHITECTURE.md).

Every automatic hold has a cause; it stays while its cause remains and goes when the
cause is gone:
- `overdue`: the ladder, from the worst overdue invoice that is not under a kept
  repayment agreement (and a broken promise, and the receivable class); gone when
  nothing such is overdue;
- `collection`: holds a collection step asked for; gone when the case closes, and not in
  force while everything overdue is under kept repayment agreements (they come back
  when an agreement breaks: escalation resumes where it was);
- `signal`: a serious warning sign; gone when the sign is resolved.
Manual holds are placed and released by people.

A person may release an automatic hold while its cause remains: that is an override. The
policy then does not place that kind again for that cause until the default worsens
(a higher stage of the ladder asks for it), or until the cause has cleared and comes back.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

KINDS = (
    "stop_shipments",
    "cash_only",
    "reduced_batches",
    "withhold_key_products",
    "suspend_incentives",
    "debt_free_only",
)
INCENTIVES = ("promotions", "samples", "year_end_rebates", "bonuses")

CAUSE_OVERDUE = "overdue"
CAUSE_COLLECTION = "collection"
CAUSE_SIGNAL = "signal"
CAUSE_MANUAL = "manual"


@dataclass(frozen=True)
class Rung:
    min_days: int
    kinds: tuple[str, ...]
    reason: str
    terms_mode: str | None = None  # the rung applies only to customers on these terms


DEFAULT_LADDER: tuple[Rung, ...] = (
    Rung(1, ("stop_shipments",), "deliver two, settle one: a shipment is unpaid past its due date",
         terms_mode="deliver_two_settle_one"),
    Rung(15, ("cash_only", "suspend_incentives"), "15 or more days past due"),
    Rung(30, ("reduced_batches", "withhold_key_products"), "30 or more days past due"),
    Rung(60, ("stop_shipments",), "60 or more days past due: final demand"),
)
BROKEN_PROMISE_DAYS = 15  # a broken promise counts as this far into default
# Receivable classes (collection-plan) that stop all shipments, with their stage.
STOP_ALL_CLASSES = {"doubtful": 90, "bad_debt": 180, "dormant": 180}


@dataclass(frozen=True)
class Want:
    reason: str
    stage: int  # how far into default the policy is (days); an override holds up to it


@dataclass(frozen=True)
class Default:
    """What the `overdue` cause sees of a customer."""

    worst_days_past_due: int  # overdue invoices not under a kept repayment agreement
    terms_mode: str
    receivable_class: str | None = None
    broken_promise: bool = False  # a promise broken while this default lasts


def overdue_holds(state: Default, ladder: Iterable[Rung] = DEFAULT_LADDER,
                  broken_promise_days: int = BROKEN_PROMISE_DAYS) -> dict[str, Want]:
    """The holds (kind -> why) the policy asks for, all at the stage the default reached:
    the highest rung (or receivable class) that applies."""
    days = state.worst_days_past_due
    if days <= 0:
        return {}  # nothing overdue: neither a promise nor a class keeps a hold
    effective, promise = days, ""
    if state.broken_promise and broken_promise_days > days:
        effective, promise = broken_promise_days, " (a promise to pay was broken)"
    reached = [r for r in sorted(ladder, key=lambda r: r.min_days)
               if effective >= r.min_days and r.terms_mode in (None, state.terms_mode)]
    reasons = {kind: rung.reason + (promise if days < rung.min_days else "")
               for rung in reached for kind in rung.kinds}
    stage = max((r.min_days for r in reached), default=0)
    class_stage = STOP_ALL_CLASSES.get(state.receivable_class or "")
    if class_stage is not None:
        reasons.setdefault("stop_shipments", "receivable classed "
                           + (state.receivable_class or "").replace("_", " "))
        stage = max(stage, class_stage)
    return {kind: Want(reason, stage) for kind, reason in reasons.items()}


AGREED = "everything overdue is under a repayment agreement that is being kept"


def collection_holds(asked: dict[str, Want], overdue: Iterable[str], shielded: Iterable[str],
                     *, asking: bool = False) -> dict[str, Want] | None:
    """What the `collection` cause asks for now: what the case's steps asked for, while
    anything overdue is outside a kept repayment agreement; nothing while all of it is
    inside one (new business runs under the terms). With nothing overdue (known) the case
    is closing, and its closing ends them: None, leave them as they are, unless a step is
    asking now (a case escalated by an event, before anything is overdue)."""
    overdue = set(overdue)
    if not overdue:
        return dict(asked) if asking else None
    return {} if overdue <= set(shielded) else dict(asked)


def asked_more(asked: dict[str, Want], kinds: Iterable[str], want: Want) -> dict[str, Want]:
    """A collection step's request on top of what the case asked before; a kind asked again
    at a higher stage takes it (an override of it holds only up to the stage it saw)."""
    merged = dict(asked)
    for kind in kinds:
        if kind in KINDS and (kind not in merged or merged[kind].stage < want.stage):
            merged[kind] = want
    return merged


@dataclass(frozen=True)
class Held:
    """An active hold (or an override: a released automatic hold) as the policy sees it."""

    id: str
    kind: str
    stage: int


@dataclass(frozen=True)
class Plan:
    place: dict[str, Want]
    release: tuple[str, ...]  # hold ids whose cause no longer asks for them


def plan(wanted: dict[str, Want], active: Iterable[Held], overrides: Iterable[Held]) -> Plan:
    """Place what the cause asks for and is not held; release what it no longer asks for.
    `active` and `overrides` are this cause's own."""
    active = list(active)
    held = {h.kind for h in active}
    overridden: dict[str, int] = {}
    for o in overrides:
        overridden[o.kind] = max(o.stage, overridden.get(o.kind, -1))
    place = {kind: want for kind, want in wanted.items()
             if kind not in held and want.stage > overridden.get(kind, -1)}
    release = tuple(h.id for h in active if h.kind not in wanted)
    return Plan(place, release)
