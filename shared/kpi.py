"""Receivables metrics credit managers expect (DOMAIN.md), as pure arithmetic.

- DSO by the count-back method: how many days of the latest sales the receivables
  represent, walking back month by month (the current month to date first).
- Best possible DSO: the same for receivables not yet due only.
- Average days delinquent = DSO - best possible DSO.
- CEI, collection effectiveness index, over a period:
  (opening + sales - closing total) / (opening + sales - closing current) x 100.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Period:
    days: int
    sales: int


def count_back_dso(receivables: int, periods: list[Period]) -> float | None:
    """`periods` newest first. None when there were no sales to count back against."""
    if receivables <= 0:
        return 0.0
    days = 0.0
    remaining = receivables
    for period in periods:
        if period.sales <= 0:
            days += period.days
            continue
        if remaining <= period.sales:
            return round(days + period.days * remaining / period.sales, 1)
        remaining -= period.sales
        days += period.days
    return None  # receivables older than every period looked at


def collection_effectiveness(opening: int, sales: int, closing_total: int,
                             closing_current: int) -> float | None:
    collectible = opening + sales - closing_current
    if collectible <= 0:
        return None
    return round(100 * (opening + sales - closing_total) / collectible, 1)
