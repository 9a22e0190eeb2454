"""The default collection ladder (ARCHITECTURE.md): days past due -> class, level, step."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Step:
    level: int
    min_days: int
    receivable_class: str
    name: str
    tasks: tuple[str, ...]


DEFAULT_LADDER: tuple[Step, ...] = (
    Step(1, 1, "dunning", "call", ("call the customer about the overdue amount",)),
    Step(2, 15, "dunning", "visit",
         ("visit the customer", "hand over a written notice of late interest")),
    Step(3, 30, "dunning", "supply_pressure",
         ("apply supply pressure: smaller batches, key products withheld",)),
    Step(4, 60, "dunning", "final_demand", ("send the final demand",)),
    Step(5, 90, "doubtful", "take_back_goods",
         ("take back unsold goods", "prepare the legal file")),
    Step(6, 180, "bad_debt", "pre_litigation",
         ("start pre-litigation preservation of the debtor's assets",)),
)


def step_for(days_past_due: int, ladder: tuple[Step, ...] = DEFAULT_LADDER) -> Step | None:
    reached = [s for s in ladder if days_past_due >= s.min_days]
    return reached[-1] if reached else None
