"""Who to chase first (DOMAIN.md, collection plan): amount overdue, days past due, class,
the customer's credibility (rating), financial strength and distance, and the case's
history. Every point is given with its reason, so a collector can see why."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class PriorityPolicy:
    max_day_points: int = 365  # one point per day past due: time in default weighs most
    amount_step: int = 100_000  # minor units per point, unless the currency has its own
    amount_steps: Mapping[str, int] = field(default_factory=dict)  # e.g. {"JPY": 1_000}
    max_amount_points: int = 200
    class_points: Mapping[str, int] = field(default_factory=lambda: {
        "dunning": 0, "doubtful": 50, "dormant": 30, "bad_debt": 80})
    rating_points: Mapping[str, int] = field(default_factory=lambda: {
        "A": 0, "B": 10, "C": 20, "D": 35, "E": 50})
    unrated_points: int = 20
    strength_points: Mapping[str, int] = field(default_factory=lambda: {
        "strong": -20, "average": 0, "weak": 40})
    km_per_point: int = 10  # nearer customers first: one point off per this many km
    max_distance_points: int = 30
    broken_points: int = 15  # per broken promise or agreement
    max_broken_points: int = 45


@dataclass(frozen=True)
class PriorityInputs:
    overdue: Mapping[str, int]  # per currency, never added across currencies
    days_past_due: int
    receivable_class: str
    rating_class: str | None = None
    financial_strength: str | None = None  # strong | average | weak, set by a person
    recommended_limit: tuple[int, str] | None = None  # credit's view of what it can bear
    distance_km: int | None = None
    broken_commitments: int = 0
    amount_label: str = "overdue"  # a reminder's amount is "falling due"


@dataclass(frozen=True)
class Priority:
    score: int
    reasons: tuple[str, ...]


def _strength(inputs: PriorityInputs) -> tuple[str | None, str]:
    if inputs.financial_strength:
        return inputs.financial_strength, "as assessed"
    if inputs.recommended_limit:
        limit, currency = inputs.recommended_limit
        if inputs.overdue.get(currency, 0) > limit:
            return "weak", f"overdue beyond the {limit} {currency} limit credit recommends"
    return None, ""


def priority(inputs: PriorityInputs, policy: PriorityPolicy | None = None) -> Priority:
    policy = policy or PriorityPolicy()
    parts: list[tuple[int, str]] = []
    days = inputs.days_past_due
    parts.append((min(max(days, 0), policy.max_day_points), f"{days} days past due"))

    amount_points = 0
    for currency, amount in sorted(inputs.overdue.items()):
        step = policy.amount_steps.get(currency, policy.amount_step)
        points = min(amount // step, policy.max_amount_points - amount_points)
        amount_points += points
        parts.append((points, f"{amount} {currency} {inputs.amount_label} (minor units)"))

    class_points = policy.class_points.get(inputs.receivable_class, 0)
    if class_points:
        parts.append((class_points, f"classed {inputs.receivable_class.replace('_', ' ')}"))
    if inputs.rating_class in policy.rating_points:
        parts.append((policy.rating_points[inputs.rating_class], f"rated {inputs.rating_class}"))
    else:
        parts.append((policy.unrated_points, "not rated yet"))
    strength, why = _strength(inputs)
    if strength in policy.strength_points:
        parts.append((policy.strength_points[strength], f"financially {strength} ({why})"))
    if inputs.distance_km is not None and policy.km_per_point > 0:
        off = min(inputs.distance_km // policy.km_per_point, policy.max_distance_points)
        parts.append((-off, f"{inputs.distance_km} km away"))
    if inputs.broken_commitments:
        parts.append((min(inputs.broken_commitments * policy.broken_points,
                          policy.max_broken_points),
                      f"{inputs.broken_commitments} broken promises or agreements"))
    return Priority(sum(p for p, _ in parts),
                    tuple(f"{reason} ({points:+d})" for points, reason in parts))
