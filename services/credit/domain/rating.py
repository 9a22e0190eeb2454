"""The scorecard: points per factor from the dossier and the customer's payment behaviour,
a score of 0-100 and a class A (best) to E, with the reasons, highest impact first.

Each factor earns a share (0 to 1) of its weight; the weights are configurable, the shares
are the rules below. Points are rounded half up to whole points; the score is the points
earned as a percentage of all weights, rounded half up. A serious warning sign is a
knock-out: class E whatever the score.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from services.credit.domain.dossier import ASSESSMENTS
from services.credit.domain.signals import describe

DEFAULT_WEIGHTS: dict[str, int] = {
    # the dossier: 40
    "financial_status": 10,
    "market_network": 6,
    "sales_ability": 6,
    "organisation": 6,
    "sales_agreement": 8,
    "legal_representative": 4,
    # payment behaviour: 60
    "timeliness": 20,
    "current_default": 15,
    "partial_payments": 5,
    "promises": 8,
    "disputes": 4,
    "signals": 8,
}
FACTORS = tuple(DEFAULT_WEIGHTS)
DEFAULT_CLASS_FLOORS: dict[str, int] = {"A": 85, "B": 70, "C": 55, "D": 40}  # E below D
CLASSES = ("A", "B", "C", "D", "E")

GRADE_SHARE = {"strong": Fraction(1), "sound": Fraction(7, 10), "weak": Fraction(3, 10),
               "poor": Fraction(0)}
UNASSESSED_SHARE = Fraction(4, 10)
AGREEMENT_SHARE = {"sealed": Fraction(1), "signed": Fraction(4, 10), "none": Fraction(0)}
NO_HISTORY_SHARE = Fraction(6, 10)  # timeliness of a customer who has settled nothing yet
# (at most this many days, share); beyond the last: 0.
LATENESS_SHARES = ((0, Fraction(1)), (5, Fraction(85, 100)), (15, Fraction(6, 10)),
                   (30, Fraction(35, 100)), (60, Fraction(15, 100)))
OVERDUE_SHARES = ((0, Fraction(1)), (14, Fraction(6, 10)), (29, Fraction(35, 100)),
                  (59, Fraction(15, 100)))
COUNT_SHARES = {  # factor -> shares for 0, 1, 2, ... occurrences; more than listed: 0
    "partial_payments": (Fraction(1), Fraction(7, 10), Fraction(4, 10)),
    "promises": (Fraction(1), Fraction(4, 10)),
    "disputes": (Fraction(1), Fraction(5, 10)),
}
SIGNAL_COST = Fraction(35, 100)  # share lost per ordinary warning sign


@dataclass(frozen=True)
class Behaviour:
    """Payment behaviour in the rating window (12 months up to the rating date)."""

    settled_days_late: tuple[int, ...] = ()  # per invoice settled: days beyond terms (<=0: on time)
    written_off: int = 0  # invoices written off: the worst kind of settlement
    worst_days_past_due: int = 0  # open and overdue now, not under a kept repayment agreement
    partial_payments: int = 0
    broken_promises: int = 0
    open_disputes: int = 0


@dataclass(frozen=True)
class RatingInputs:
    assessments: Mapping[str, str | None] = field(default_factory=dict)  # ASSESSMENTS -> grade
    sales_agreement: str = "none"  # none | signed | sealed
    has_legal_representative: bool = False
    behaviour: Behaviour = Behaviour()
    signals: tuple[str, ...] = ()  # open ordinary warning signs (kinds)
    serious_signals: tuple[str, ...] = ()


@dataclass(frozen=True)
class Factor:
    name: str
    points: int
    weight: int
    reason: str

    @property
    def lost(self) -> int:
        return self.weight - self.points


@dataclass(frozen=True)
class Rating:
    rating_class: str
    score: int
    factors: tuple[Factor, ...]
    reasons: tuple[str, ...]


TRIGGER_LENGTH = 128  # the rating's trigger column (tables.Rating)


def trigger_text(trigger: str, limit: int = TRIGGER_LENGTH) -> str:
    """What moved the rating, cut to fit its column (a dossier change names every field
    it changed: all of them are longer)."""
    return trigger if len(trigger) <= limit else trigger[:limit - 1] + "…"


def _round(value: Fraction | int) -> int:
    value = Fraction(value)
    return int((Decimal(value.numerator) / Decimal(value.denominator)).quantize(
        Decimal(1), rounding=ROUND_HALF_UP))


def _banded(value: int, bands: tuple[tuple[int, Fraction], ...]) -> Fraction:
    return next((share for most, share in bands if value <= most), Fraction(0))


def _counted(name: str, count: int) -> Fraction:
    shares = COUNT_SHARES[name]
    return shares[count] if count < len(shares) else Fraction(0)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def _shares(inputs: RatingInputs) -> dict[str, tuple[Fraction, str]]:
    b = inputs.behaviour
    shares: dict[str, tuple[Fraction, str]] = {}
    for name in ASSESSMENTS:
        grade = inputs.assessments.get(name)
        label = name.replace("_", " ")
        shares[name] = ((GRADE_SHARE[grade], f"{label} assessed {grade}") if grade
                        else (UNASSESSED_SHARE, f"{label} not assessed"))
    shares["sales_agreement"] = (AGREEMENT_SHARE[inputs.sales_agreement], {
        "sealed": "sales agreement on file with the company seal",
        "signed": "sales agreement on file only signed, not sealed (can be repudiated)",
        "none": "no signed sales agreement on file",
    }[inputs.sales_agreement])
    shares["legal_representative"] = (
        (Fraction(1), "legal representative on file") if inputs.has_legal_representative
        else (Fraction(0), "no legal representative on file"))

    settled = len(b.settled_days_late) + b.written_off
    if not settled:
        shares["timeliness"] = (NO_HISTORY_SHARE, "no payment history yet")
    elif b.written_off:
        shares["timeliness"] = (Fraction(0), f"{_plural(b.written_off, 'invoice')} written off")
    else:
        late = [max(d, 0) for d in b.settled_days_late]
        average = _round(Fraction(sum(late), len(late)))
        shares["timeliness"] = (_banded(average, LATENESS_SHARES), (
            f"{_plural(settled, 'invoice')} settled, on average {average} days beyond terms "
            f"(worst {max(late)})"))
    days = b.worst_days_past_due
    shares["current_default"] = (_banded(days, OVERDUE_SHARES),
                                 f"{days} days past due now" if days else "nothing overdue")
    for name, count, word in (("partial_payments", b.partial_payments, "partial payment"),
                              ("promises", b.broken_promises, "broken promise"),
                              ("disputes", b.open_disputes, "open dispute")):
        shares[name] = (_counted(name, count), _plural(count, word))
    if inputs.serious_signals:
        shares["signals"] = (Fraction(0), "serious warning sign: " + ", ".join(
            describe(k) for k in inputs.serious_signals))
    elif inputs.signals:
        shares["signals"] = (max(Fraction(0), 1 - SIGNAL_COST * len(inputs.signals)),
                             "warning signs: " + ", ".join(describe(k) for k in inputs.signals))
    else:
        shares["signals"] = (Fraction(1), "no warning signs")
    return shares


def rate(inputs: RatingInputs, weights: Mapping[str, int] = DEFAULT_WEIGHTS,
         floors: Mapping[str, int] = DEFAULT_CLASS_FLOORS) -> Rating:
    shares = _shares(inputs)
    factors = tuple(Factor(name, _round(weights[name] * share), weights[name], reason)
                    for name, (share, reason) in shares.items())
    total = sum(f.weight for f in factors)
    score = _round(Fraction(100 * sum(f.points for f in factors), total)) if total else 0
    rating_class = next((c for c in CLASSES[:-1] if score >= floors[c]), "E")
    # Highest impact first: the points a factor lost; ties keep the scorecard's order.
    lost = sorted((f for f in factors if f.lost > 0), key=lambda f: -f.lost)
    reasons = [f"-{f.lost} {f.name}: {f.reason}" for f in lost]
    if inputs.serious_signals:
        rating_class = "E"
        reasons.insert(0, "class E: serious warning sign (" + ", ".join(
            describe(k) for k in inputs.serious_signals) + ")")
    return Rating(rating_class, score, factors, tuple(reasons) or ("no adverse information",))
