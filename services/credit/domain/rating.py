"""A first scorecard: points off for default and warning signs, a class A (best) to E.
Each deduction is a stated reason, largest first."""

from __future__ import annotations

from dataclasses import dataclass

CLASS_FLOORS = (("A", 85), ("B", 70), ("C", 55), ("D", 40), ("E", -(10**6)))
OVERDUE_PENALTIES = ((90, 60), (60, 45), (30, 30), (15, 20), (1, 10))  # (days, points)


@dataclass(frozen=True)
class RatingInputs:
    max_days_past_due: int
    serious_signals: tuple[str, ...] = ()
    other_signals: tuple[str, ...] = ()
    has_legal_representative: bool = True


@dataclass(frozen=True)
class Rating:
    rating_class: str
    score: int
    reasons: tuple[str, ...]


def rate(inputs: RatingInputs) -> Rating:
    deductions: list[tuple[int, str]] = []
    for days, points in OVERDUE_PENALTIES:
        if inputs.max_days_past_due >= days:
            deductions.append((points, f"payment {inputs.max_days_past_due} days past due"))
            break
    for kind in inputs.serious_signals:
        deductions.append((40, f"serious warning signal: {kind}"))
    for kind in inputs.other_signals:
        deductions.append((10, f"warning signal: {kind}"))
    if not inputs.has_legal_representative:
        deductions.append((5, "no legal representative on file"))
    deductions.sort(key=lambda d: -d[0])
    score = max(0, 100 - sum(points for points, _ in deductions))
    rating_class = next(c for c, floor in CLASS_FLOORS if score >= floor)
    reasons = tuple(f"-{p}: {r}" for p, r in deductions) or ("no adverse information",)
    return Rating(rating_class, score, reasons)
