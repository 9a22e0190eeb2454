"""Supply holds and the default hold policy (the ladder in ARCHITECTURE.md)."""

from __future__ import annotations

from dataclasses import dataclass

KINDS = (
    "stop_shipments",
    "cash_only",
    "reduced_batches",
    "withhold_key_products",
    "suspend_incentives",
    "debt_free_only",
)

# Causes of automatic holds. An automatic hold stays while its cause remains.
CAUSE_OVERDUE = "overdue"
CAUSE_SIGNAL = "signal"
CAUSE_MANUAL = "manual"

SERIOUS_SIGNALS = frozenset({"bankruptcy", "closure"})


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

STOP_ALL_CLASSES = frozenset({"doubtful", "bad_debt", "dormant"})


def overdue_holds(
    days_past_due: int,
    terms_mode: str,
    receivable_class: str | None = None,
    ladder: tuple[Rung, ...] = DEFAULT_LADDER,
) -> dict[str, str]:
    """The holds (kind -> reason) the policy asks for at this stage of default."""
    wanted: dict[str, str] = {}
    for rung in ladder:
        if days_past_due >= rung.min_days and rung.terms_mode in (None, terms_mode):
            for kind in rung.kinds:
                wanted[kind] = rung.reason
    if receivable_class in STOP_ALL_CLASSES:
        wanted["stop_shipments"] = f"receivable classed {receivable_class.replace('_', ' ')}"
    return wanted
