"""Receivables KPIs per currency (formulas in shared/kpi.py), from invoice histories."""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from services.collection_plan.domain.receivables import CASH, WRITE_OFF, InvoiceHistory
from shared.kpi import Period, collection_effectiveness, count_back_dso

DSO_MONTHS = 12  # how far the count-back looks


@dataclass(frozen=True)
class Metrics:
    currency: str
    receivables: int
    overdue: int
    within_terms_percent: float | None
    dso: float | None
    best_possible_dso: float | None
    average_days_delinquent: float | None
    cei: float | None
    sales: int  # invoiced in the CEI window
    recovered: int  # received in the window on invoices already past due
    written_off: int  # written off in the window
    bad_debt_percent: float | None  # written off / sales of the window


def month_start(day: date, months_back: int) -> date:
    month = day.month - 1 - months_back
    return date(day.year + month // 12, month % 12 + 1, 1)


def _periods(sales_by_month: dict[date, int], as_of: date) -> list[Period]:
    """The current month to date, then whole months back, newest first."""
    periods = [Period(as_of.day, sales_by_month.get(month_start(as_of, 0), 0))]
    for back in range(1, DSO_MONTHS):
        start = month_start(as_of, back)
        periods.append(Period(calendar.monthrange(start.year, start.month)[1],
                              sales_by_month.get(start, 0)))
    return periods


def metrics(invoices: Iterable[InvoiceHistory], as_of: date, months: int) -> list[Metrics]:
    """One row per currency: receivables and overdue as of the date, DSO by count-back,
    CEI and recoveries over the `months` months up to it (the current one included)."""
    window_start = month_start(as_of, months - 1)
    before_window = window_start - timedelta(days=1)
    acc: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    sales: dict[str, dict[date, int]] = defaultdict(lambda: defaultdict(int))
    for inv in invoices:
        a = acc[inv.currency]
        open_now = inv.open_on(as_of)
        a["receivables"] += open_now
        a["overdue"] += open_now if inv.due_date < as_of else 0
        a["opening"] += inv.open_on(before_window)
        if inv.kind == "invoice" and inv.issue_date <= as_of:
            sales[inv.currency][inv.issue_date.replace(day=1)] += inv.amount
            if inv.issue_date >= window_start:
                a["sales"] += inv.amount
        elif window_start <= inv.issue_date <= as_of:
            a["sales"] += inv.amount  # charges are billed too: they count in CEI
        a["recovered"] += sum(r.amount for r in inv.reductions
                              if window_start <= r.on <= as_of and r.kind in CASH
                              and r.on > inv.due_date)
        a["written_off"] += inv.reduced_between(before_window, as_of, (WRITE_OFF,))
    rows = []
    for currency, a in sorted(acc.items()):
        current = a["receivables"] - a["overdue"]
        periods = _periods(sales[currency], as_of)
        dso = count_back_dso(a["receivables"], periods)
        best = count_back_dso(current, periods)
        rows.append(Metrics(
            currency=currency, receivables=a["receivables"], overdue=a["overdue"],
            within_terms_percent=round(100 * current / a["receivables"], 1)
            if a["receivables"] > 0 else None,
            dso=dso, best_possible_dso=best,
            average_days_delinquent=round(dso - best, 1)
            if dso is not None and best is not None else None,
            cei=collection_effectiveness(a["opening"], a["sales"], a["receivables"], current),
            sales=a["sales"], recovered=a["recovered"], written_off=a["written_off"],
            bad_debt_percent=round(100 * a["written_off"] / a["sales"], 1)
            if a["sales"] > 0 else None,
        ))
    return rows
