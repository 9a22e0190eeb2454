"""Warning signs detected from what credit already hears from the ledger. Each detector
answers a Finding (kind and evidence) while its condition holds, None otherwise; the
service records a sign when a condition starts to hold, not again while it lasts.

Purchases are per calendar month in one currency ("YYYY-MM" -> minor units)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from services.credit.domain.money import show
from services.credit.domain.signals import Finding


def month_key(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def months_before(day: date, count: int) -> list[str]:
    """The `count` calendar months before `day`'s month, oldest first."""
    year, month = day.year, day.month
    keys = []
    for _ in range(count):
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
        keys.append(f"{year:04d}-{month:02d}")
    return keys[::-1]


def _span(keys: Sequence[str]) -> str:
    return f"{keys[0]}..{keys[-1]}" if len(keys) > 1 else keys[0]


@dataclass(frozen=True)
class Thresholds:
    drop_percent: int = 50  # recent purchases this much below the customer's own average
    drop_recent_months: int = 3
    drop_baseline_months: int = 9
    drop_min_baseline_months: int = 6  # months traded in the baseline before it counts
    large_factor_percent: int = 300  # a month's purchases at least 3x the monthly average
    season_percent: int = 150  # the same month a year before this far above average: the season
    partial_payments: int = 3  # partial payments ...
    partial_window_days: int = 90  # ... within this many days
    punctual_settlements: int = 4  # settled on time before ...
    late_settlements: int = 2  # ... this many in a row late
    on_time_grace_days: int = 3  # days beyond terms that still count as on time
    late_days: int = 7  # days beyond terms that count as late
    silent_days: int = 180  # no order and no payment for this long, with a balance


def purchase_drop(months: Mapping[str, int], first_month: str, as_of: date, currency: str,
                  t: Thresholds) -> Finding | None:
    """The last complete months far below the months before them."""
    keys = months_before(as_of, t.drop_recent_months + t.drop_baseline_months)
    baseline, recent = keys[:t.drop_baseline_months], keys[t.drop_baseline_months:]
    traded = [k for k in baseline if k >= first_month]
    if len(traded) < t.drop_min_baseline_months:
        return None
    before = sum(months.get(k, 0) for k in traded) // len(traded)
    now = sum(months.get(k, 0) for k in recent) // len(recent)
    if before <= 0 or now * 100 > before * (100 - t.drop_percent):
        return None
    fall = 100 - now * 100 // before
    return Finding("purchase_drop", (
        f"average monthly purchases {show(now, currency)} in {_span(recent)} against "
        f"{show(before, currency)} in {_span(traded)} (-{fall}%)",))


def large_purchase_out_of_season(months: Mapping[str, int], first_month: str, month: date,
                                 currency: str, t: Thresholds) -> Finding | None:
    """A month buying far more than usual, in a month that was no season a year before."""
    key, trailing = month_key(month), months_before(month, 12)
    if first_month > trailing[0]:
        return None  # less than a year of history: no season to compare with
    average = sum(months.get(k, 0) for k in trailing) // 12
    this_month, last_year = months.get(key, 0), months.get(trailing[0], 0)
    if average <= 0 or this_month * 100 < average * t.large_factor_percent:
        return None
    if last_year * 100 >= average * t.season_percent:
        return None  # the same month last year was busy too: the season
    return Finding("large_purchase_out_of_season", (
        f"purchases in {key}: {show(this_month, currency)}, {this_month * 100 // average}% of "
        f"the monthly average {show(average, currency)} over {_span(trailing)}",
        f"the same month a year before: {show(last_year, currency)}, no season",
    ))


@dataclass(frozen=True)
class PartialPayment:
    payment_id: str
    received_on: date
    invoice_id: str


@dataclass(frozen=True)
class PaymentLine:
    payment_id: str
    received_on: date
    invoice_id: str
    amount: int  # what the payment settled on the invoice, its early-payment discount included
    invoice_amount: int | None  # None until the invoice's news arrives
    settled_on: date | None  # the invoice's, once heard
    issued_on: date | None = None  # the invoice's, once heard


def partial_lines(lines: Sequence[PaymentLine]) -> list[PartialPayment]:
    """The payments that left the invoice they paid open: settled later, or (the settlement
    not heard yet, news may come in any order) paid less than the invoice in total so far."""
    paid: dict[str, int] = {}
    partial = []
    for line in sorted(lines, key=lambda p: (p.received_on, p.payment_id)):
        paid[line.invoice_id] = paid.get(line.invoice_id, 0) + line.amount
        if line.settled_on is not None:
            # Money dated before its invoice settles it on the issue date (the ledger's
            # allocation takes effect then): settled then, it left nothing open.
            left_open = line.settled_on > max(line.received_on, line.issued_on or line.received_on)
        else:
            left_open = line.invoice_amount is not None and paid[line.invoice_id] < line.invoice_amount
        if left_open:
            partial.append(PartialPayment(line.payment_id, line.received_on, line.invoice_id))
    return partial


def repeated_partial_payments(partials: Sequence[PartialPayment], as_of: date,
                              t: Thresholds) -> Finding | None:
    since = as_of - timedelta(days=t.partial_window_days)
    recent = sorted((p for p in partials if since < p.received_on <= as_of),
                    key=lambda p: (p.received_on, p.payment_id))
    payments = list(dict.fromkeys(p.payment_id for p in recent))
    if len(payments) < t.partial_payments:
        return None
    return Finding("partial_payments", (
        f"{len(payments)} payments in the {t.partial_window_days} days to {as_of} left the "
        "invoices they paid open: " + ", ".join(
            f"{p.payment_id} ({p.received_on}, towards {p.invoice_id})"
            for p in {p.payment_id: p for p in recent}.values()),))


@dataclass(frozen=True)
class Settlement:
    invoice_id: str
    due_date: date
    days_late: int  # days beyond terms when settled, or past due now if still open
    open: bool = False


def started_paying_late(settlements: Sequence[Settlement], t: Thresholds) -> Finding | None:
    """A run of late payments (or overdue invoices) after a record of paying on time."""
    ordered = sorted(settlements, key=lambda s: (s.due_date, s.invoice_id))
    recent = ordered[-t.late_settlements:]
    record = ordered[-(t.late_settlements + t.punctual_settlements):-t.late_settlements]
    if len(recent) < t.late_settlements or len(record) < t.punctual_settlements:
        return None
    if any(s.days_late < t.late_days for s in recent):
        return None
    if any(s.days_late > t.on_time_grace_days for s in record):
        return None
    return Finding("paying_late", (
        f"{len(record)} invoices before paid on time ({', '.join(s.invoice_id for s in record)})",
        *(f"{s.invoice_id} {'still open, ' if s.open else 'settled '}{s.days_late} days "
          f"{'past due' if s.open else 'beyond terms'}" for s in recent),
    ))


def gone_silent(balances: Mapping[str, int], last_order_on: date | None,
                last_payment_on: date | None, as_of: date, t: Thresholds) -> Finding | None:
    owed = {c: b for c, b in balances.items() if b > 0}
    known = [d for d in (last_order_on, last_payment_on) if d is not None]
    if not owed or not known:
        return None
    last = max(known)
    quiet = (as_of - last).days
    if quiet < t.silent_days:
        return None
    return Finding("gone_silent", (
        "balance " + ", ".join(show(b, c) for c, b in sorted(owed.items())),
        f"last order {last_order_on or 'never'}, last payment {last_payment_on or 'never'}: "
        f"{quiet} days without either",
    ))
