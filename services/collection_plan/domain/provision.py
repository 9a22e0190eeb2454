"""The provision matrix (DOMAIN.md: expected loss by aging bucket from the company's own
recovery history): at each month-end of a look-back window, what each aging bucket held,
and how much of that was later written off or is still unpaid; that share, applied to what
each bucket holds today, is the expected loss. Per currency: never converted."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction

from services.collection_plan.domain.metrics import month_start
from services.collection_plan.domain.receivables import WRITE_OFF, InvoiceHistory
from shared.aging import BUCKETS, LABELS, bucket_for


@dataclass(frozen=True)
class BucketLoss:
    bucket: str
    observed: int  # held by the bucket, summed over the observation dates
    lost: int  # of that, written off since or still open today
    loss_rate_bp: int | None  # lost / observed in basis points, rounded half up
    open_now: int
    expected_loss: int  # open_now x the exact loss rate, rounded half up


@dataclass(frozen=True)
class Matrix:
    currency: str
    observation_dates: tuple[date, ...]
    buckets: tuple[BucketLoss, ...]

    @property
    def expected_loss(self) -> int:
        return sum(b.expected_loss for b in self.buckets)


def observation_dates(as_of: date, months: int, horizon_months: int) -> tuple[date, ...]:
    """`months` month-ends, the newest at least `horizon_months` before `as_of`, so that
    each observation has had time to be paid or lost."""
    newest_start = month_start(as_of, horizon_months)
    ends = []
    for back in range(months):
        start = month_start(newest_start, back)
        ends.append(month_start(start, -1) - timedelta(days=1))
    return tuple(sorted(e for e in ends if e < as_of))


def _half_up(value: Fraction) -> int:
    return int(value + Fraction(1, 2))


def provision_matrix(invoices: Iterable[InvoiceHistory], as_of: date, months: int,
                     horizon_months: int) -> list[Matrix]:
    dates = observation_dates(as_of, months, horizon_months)
    observed: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    lost: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    now: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for inv in invoices:
        open_today = inv.open_on(as_of)
        if open_today:
            now[inv.currency][bucket_for((as_of - inv.due_date).days, BUCKETS)] += open_today
        for t in dates:
            held = inv.open_on(t)
            if not held:
                continue
            bucket = bucket_for((t - inv.due_date).days, BUCKETS)
            observed[inv.currency][bucket] += held
            gone = inv.reduced_between(t, as_of, (WRITE_OFF,)) + open_today
            lost[inv.currency][bucket] += min(gone, held)
    matrices = []
    for currency in sorted(set(observed) | set(now)):
        rows = []
        for label in LABELS:
            seen, gone, held_now = (observed[currency][label], lost[currency][label],
                                    now[currency][label])
            rate = Fraction(gone, seen) if seen else None
            rows.append(BucketLoss(
                bucket=label, observed=seen, lost=gone,
                loss_rate_bp=_half_up(rate * 10_000) if rate is not None else None,
                open_now=held_now,
                expected_loss=_half_up(held_now * rate) if rate is not None else 0,
            ))
        matrices.append(Matrix(currency, dates, tuple(rows)))
    return matrices
