"""Credit limits: the limit a rating recommends, and the limit the check applies.

- Recommended: a customer with a payment history gets months of cover of its own trading
  volume, more months for a better class (average monthly purchases over the last 12
  months, or since the first purchase if later); a customer without one gets the small
  starting limit of its currency ("the more is owed, the harder it is to recover").
- Applied by the check: the granted limit (set by a person), never more than the starting
  limit while the customer has no payment history, and (policy `cap`) never more than
  the recommendation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from services.credit.domain.money import show

# How the recommendation becomes the limit (documented in docs/credit.md).
LIMIT_POLICIES = ("advise", "cap", "annual_review", "apply")
DEFAULT_COVER_MONTHS = {"A": Decimal(3), "B": Decimal(2), "C": Decimal("1.5"), "D": Decimal(1),
                        "E": Decimal(0)}
DEFAULT_STARTING_LIMITS = {"CNY": 1_000_000, "EUR": 150_000, "USD": 150_000}
ROUND_TO = 100  # recommendations are rounded down to 100 minor units


@dataclass(frozen=True)
class Volume:
    purchases: int  # in the window, in the limit's currency
    months: int  # months of the window the customer has traded in (first purchase on), >= 1


@dataclass(frozen=True)
class Recommendation:
    amount: int | None  # None: nothing to recommend (no starting limit for the currency)
    currency: str
    reason: str


def recommend(rating_class: str, currency: str, volume: Volume, *, has_history: bool,
              cover_months: Mapping[str, Decimal] = DEFAULT_COVER_MONTHS,
              starting_limits: Mapping[str, int] = DEFAULT_STARTING_LIMITS) -> Recommendation:
    if not has_history:
        start = starting_limits.get(currency)
        if start is None:
            return Recommendation(None, currency, "no payment history yet, and no starting "
                                  f"limit configured for {currency}")
        return Recommendation(start, currency, "starting limit: no payment history yet")
    monthly = Decimal(volume.purchases) / max(volume.months, 1)
    months = cover_months[rating_class]
    amount = int((monthly * months / ROUND_TO).to_integral_value(rounding=ROUND_DOWN)) * ROUND_TO
    return Recommendation(amount, currency, (
        f"class {rating_class}: {months} months of average purchases "
        f"({show(int(monthly), currency)} a month over {volume.months} months)"))


@dataclass(frozen=True)
class AppliedLimit:
    amount: int
    reasons: tuple[str, ...]  # why it is lower than the granted limit, if it is


def applied_limit(granted: int, currency: str, *, has_history: bool,
                  recommended: int | None, policy: str,
                  starting_limits: Mapping[str, int] = DEFAULT_STARTING_LIMITS) -> AppliedLimit:
    amount, reasons = granted, []
    start = starting_limits.get(currency)
    if not has_history and start is not None and start < amount:
        amount = start
        reasons.append(f"new customer: starting limit {show(start, currency)} until there is "
                       "a payment history")
    if policy == "cap" and recommended is not None and recommended < amount:
        amount = recommended
        reasons.append(f"limit capped at the rating's recommendation {show(recommended, currency)}")
    return AppliedLimit(amount, tuple(reasons))
