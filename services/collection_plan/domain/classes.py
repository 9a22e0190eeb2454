"""Receivable classes (DOMAIN.md): not due, dunning, doubtful, bad debt, dormant; from the
days past due, warning signals, inactivity and the case's history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from services.collection_plan.domain.strategy import CLASSES, severity


@dataclass(frozen=True)
class ClassPolicy:
    doubtful_days: int = 90
    bad_debt_days: int = 180
    dormant_days: int = 180
    # Broken promises and agreements in one case that make its receivable doubtful.
    doubtful_after_broken: int = 2


@dataclass(frozen=True)
class ClassInputs:
    days_past_due: int
    signal_class: str | None = None  # what a serious warning signal calls for
    dormant: bool = False
    broken_commitments: int = 0


def classify(inputs: ClassInputs, policy: ClassPolicy) -> tuple[str, tuple[str, ...]]:
    """The most severe class any rule gives, with the reasons behind it."""
    found: list[tuple[str, str]] = []
    days = inputs.days_past_due
    if days >= policy.bad_debt_days:
        found.append(("bad_debt", f"{days} days past due (bad debt from {policy.bad_debt_days})"))
    elif days >= policy.doubtful_days:
        found.append(("doubtful", f"{days} days past due (doubtful from {policy.doubtful_days})"))
    elif days >= 1:
        found.append(("dunning", f"{days} days past due"))
    if inputs.signal_class in CLASSES:
        found.append((inputs.signal_class, f"a warning signal calls for {inputs.signal_class}"))
    if inputs.dormant:
        found.append(("dormant", f"no order and no payment for {policy.dormant_days} days "
                                 "with a balance"))
    if inputs.broken_commitments >= policy.doubtful_after_broken:
        found.append(("doubtful", f"{inputs.broken_commitments} broken promises or agreements"))
    if not found:
        return "not_due", ()
    top = max(severity(c) for c, _ in found)
    return CLASSES[top], tuple(reason for c, reason in found if severity(c) == top)


def is_dormant(*, has_balance: bool, last_order_on: date | None, last_payment_on: date | None,
               as_of: date, dormant_days: int) -> bool:
    """A customer in debt who has gone silent: neither an order nor a payment for
    `dormant_days`. Without any dated activity there is nothing to judge by."""
    activity = [d for d in (last_order_on, last_payment_on) if d is not None]
    return has_balance and bool(activity) and max(activity) <= as_of - timedelta(days=dormant_days)
