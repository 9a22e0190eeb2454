"""Read side: the books as they stood at the end of any date."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from sqlalchemy import case, func, literal, null, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from services.ledger.domain.aging import bucket_earliest_due_dates, days_past_due
from services.ledger.tables import Allocation, CreditDocument, Invoice, JournalLine, LedgerCustomer
from shared.aging import BUCKETS, Bucket
from shared.db import money_sum
from shared.errors import NotFound
from shared.kpi import Period, collection_effectiveness, count_back_dso


def _open_invoices_as_of(as_of: date) -> Any:
    paid = (
        select(Allocation.invoice_id, money_sum(Allocation.amount).label("paid"))
        .where(Allocation.effective_on <= as_of)
        .group_by(Allocation.invoice_id)
        .subquery()
    )
    open_amount = (Invoice.amount - func.coalesce(paid.c.paid, 0)).label("open_amount")
    return (
        select(Invoice.id, Invoice.customer_id, Invoice.currency, Invoice.issue_date,
               Invoice.due_date, Invoice.amount, Invoice.salesperson, open_amount)
        .outerjoin(paid, paid.c.invoice_id == Invoice.id)
        .where(Invoice.issue_date <= as_of, open_amount > 0)
    )


def _unapplied_as_of(as_of: date) -> Any:
    used = (
        select(Allocation.document_kind, Allocation.document_id,
               money_sum(Allocation.amount).label("used"))
        .where(Allocation.effective_on <= as_of)
        .group_by(Allocation.document_kind, Allocation.document_id)
        .subquery()
    )
    unapplied = (CreditDocument.amount - func.coalesce(used.c.used, 0)).label("unapplied")
    return (
        select(CreditDocument.customer_id, CreditDocument.currency, unapplied)
        .outerjoin(used, (used.c.document_kind == CreditDocument.kind)
                   & (used.c.document_id == CreditDocument.id))
        .where(CreditDocument.document_date <= as_of, unapplied > 0)
    )


async def _known(session: AsyncSession, customer_id: str) -> None:
    """404 unless the ledger knows the customer and its terms (a dossier update that came
    before the registration does not open an account)."""
    customer = await session.get(LedgerCustomer, customer_id)
    if customer is None or customer.terms_mode is None:
        raise NotFound(f"customer {customer_id!r} has no account in the ledger")


async def account(session: AsyncSession, customer_id: str, as_of: date) -> dict[str, Any]:
    await _known(session, customer_id)
    invoices = (await session.execute(
        _open_invoices_as_of(as_of).where(Invoice.customer_id == customer_id)
        .order_by(Invoice.due_date, Invoice.id)
    )).all()
    credits = (await session.execute(
        _unapplied_as_of(as_of).where(CreditDocument.customer_id == customer_id)
    )).all()
    totals: dict[str, dict[str, int]] = defaultdict(lambda: {"balance": 0, "overdue": 0, "unapplied": 0})
    for currency in (await session.execute(  # a settled account still shows 0 per currency
        select(Invoice.currency).where(Invoice.customer_id == customer_id,
                                       Invoice.issue_date <= as_of).distinct()
    )).scalars():
        totals[currency]
    items = []
    for row in invoices:
        days = days_past_due(row.due_date, as_of)
        totals[row.currency]["balance"] += row.open_amount
        if days > 0:
            totals[row.currency]["overdue"] += row.open_amount
        items.append({
            "invoice_id": row.id, "currency": row.currency, "amount": row.amount,
            "open_amount": row.open_amount, "issue_date": row.issue_date,
            "due_date": row.due_date, "days_past_due": max(days, 0),
        })
    for row in credits:
        totals[row.currency]["balance"] -= row.unapplied
        totals[row.currency]["unapplied"] += row.unapplied
    currencies = sorted(totals)
    return {
        "customer_id": customer_id,
        "as_of": as_of,
        "balance": [{"amount": totals[c]["balance"], "currency": c} for c in currencies],
        "overdue": [{"amount": totals[c]["overdue"], "currency": c} for c in currencies],
        "unapplied": [{"amount": totals[c]["unapplied"], "currency": c} for c in currencies
                      if totals[c]["unapplied"]],
        "open_invoices": items,
    }


async def aging(session: AsyncSession, as_of: date, *, group_by: str = "customer",
                buckets: tuple[Bucket, ...] = BUCKETS) -> dict[str, Any]:
    """An aged trial balance: per customer (or salesperson) and currency, the open amounts
    in the aging buckets (`total`), the unapplied credit (`unapplied`, a positive amount)
    and the net (`balance`, what the account shows), never converted. One statement, so
    that the invoices and the credit are read from the same snapshot; the database buckets
    through date boundaries (no per-row Python). Credit is the customer's salesperson's."""
    open_rows = _open_invoices_as_of(as_of).add_columns(
        func.coalesce(Invoice.salesperson, LedgerCustomer.salesperson).label("owner")
    ).join(LedgerCustomer, LedgerCustomer.customer_id == Invoice.customer_id).subquery()
    credit_rows = _unapplied_as_of(as_of).add_columns(LedgerCustomer.salesperson.label("owner")) \
        .join(LedgerCustomer, LedgerCustomer.customer_id == CreditDocument.customer_id).subquery()
    whens = [(open_rows.c.due_date >= earliest, literal(label))
             for label, earliest in bucket_earliest_due_dates(as_of, buckets)]
    bucket = case(*whens, else_=literal(buckets[-1][0])).label("bucket")
    key = open_rows.c.customer_id if group_by == "customer" else open_rows.c.owner
    credit_key = credit_rows.c.customer_id if group_by == "customer" else credit_rows.c.owner
    rows = (await session.execute(union_all(
        select(key, open_rows.c.currency, bucket, money_sum(open_rows.c.open_amount))
        .group_by(key, open_rows.c.currency, bucket),
        # bucket NULL: unapplied credit
        select(credit_key, credit_rows.c.currency, null(), money_sum(credit_rows.c.unapplied))
        .group_by(credit_key, credit_rows.c.currency),
    ))).all()
    labels = [label for label, _, _ in buckets]
    groups: dict[tuple[str | None, str], _AgedRow] = {}
    totals: dict[str, _AgedRow] = {}
    for owner, currency, label, amount in rows:
        for row in (groups.setdefault((owner, currency), _AgedRow(labels)),
                    totals.setdefault(currency, _AgedRow(labels))):
            row.add(label, amount)
    rows_key, id_key = ("customers", "customer_id") if group_by == "customer" else (
        "salespeople", "salesperson")
    return {
        "as_of": as_of,
        "buckets": labels,
        rows_key: [
            {id_key: owner, "currency": cur, **row.out()}
            for (owner, cur), row in sorted(groups.items(), key=lambda g: (g[0][0] or "", g[0][1]))
        ],
        "totals": [{"currency": cur, **row.out()} for cur, row in sorted(totals.items())],
    }


class _AgedRow:
    """One line of the aged trial balance: open amounts per bucket, and unapplied credit."""

    def __init__(self, labels: list[str]) -> None:
        self.buckets = dict.fromkeys(labels, 0)
        self.unapplied = 0

    def add(self, label: str | None, amount: int) -> None:
        if label is None:
            self.unapplied += amount
        else:
            self.buckets[label] += amount

    def out(self) -> dict[str, Any]:
        total = sum(self.buckets.values())
        return {"buckets": self.buckets, "total": total, "unapplied": self.unapplied,
                "balance": total - self.unapplied}


# The accounts that make up what the customer owes us (or we owe the customer).
CUSTOMER_ACCOUNTS = ("receivable", "customer_credit")


async def history(session: AsyncSession, customer_id: str, date_from: date,
                  date_to: date) -> dict[str, Any]:
    """Every entry on the customer's account between two dates, with a running balance
    per currency; an application of earlier credit moves nothing and is left out."""
    await _known(session, customer_id)
    on_account = (JournalLine.customer_id == customer_id) & JournalLine.account.in_(CUSTOMER_ACCOUNTS)
    opening = dict((await session.execute(
        select(JournalLine.currency, money_sum(JournalLine.amount))
        .where(on_account, JournalLine.booked_on < date_from).group_by(JournalLine.currency)
    )).all())
    entries = (await session.execute(
        select(JournalLine.currency, JournalLine.booked_on, JournalLine.document_kind,
               JournalLine.document_id, money_sum(JournalLine.amount), func.min(JournalLine.id))
        .where(on_account, JournalLine.booked_on >= date_from, JournalLine.booked_on <= date_to)
        .group_by(JournalLine.currency, JournalLine.booked_on, JournalLine.document_kind,
                  JournalLine.document_id)
        .having(money_sum(JournalLine.amount) != 0)
        .order_by(JournalLine.booked_on, func.min(JournalLine.id))
    )).all()
    per_currency: dict[str, list[dict[str, Any]]] = defaultdict(list)
    running = dict(opening)
    for currency, booked_on, kind, document_id, amount, _ in entries:
        running[currency] = running.get(currency, 0) + amount
        per_currency[currency].append({
            "date": booked_on, "document_kind": kind, "document_id": document_id,
            "debit": max(amount, 0), "credit": max(-amount, 0), "balance": running[currency],
        })
    return {
        "customer_id": customer_id, "from": date_from, "to": date_to,
        "currencies": [
            {"currency": c, "opening_balance": opening.get(c, 0), "entries": per_currency[c],
             "closing_balance": running.get(c, 0)}
            for c in sorted(set(opening) | set(per_currency))
        ],
    }


# What was sold or charged. A bounced payment's reversal and a refund are debit items too,
# but no sale: counted as sales they made money that never came look collected (CEI) and
# shortened DSO.
BILLED = ("invoice", "interest", "fee")


async def metrics(session: AsyncSession, as_of: date, *, months: int = 3,
                  customer_id: str | None = None, salesperson: str | None = None
                  ) -> dict[str, Any]:
    """DSO (count-back), best possible DSO, average days delinquent and CEI over the last
    `months` calendar months (the current one to date included), per currency, for all
    customers or one customer or one salesperson; with the inputs, for collection-plan."""
    periods = _month_periods(as_of, months)
    start = periods[-1][0]

    def scoped(query: Any) -> Any:
        if customer_id:
            query = query.where(Invoice.customer_id == customer_id)
        if salesperson:
            query = query.join(LedgerCustomer, LedgerCustomer.customer_id == Invoice.customer_id) \
                .where(func.coalesce(Invoice.salesperson, LedgerCustomer.salesperson) == salesperson)
        return query

    async def receivables(on: date) -> dict[str, tuple[int, int]]:
        """(total, not yet due) per currency, as the books stood at the end of `on`."""
        open_rows = scoped(_open_invoices_as_of(on)).subquery()
        rows = (await session.execute(
            select(open_rows.c.currency, money_sum(open_rows.c.open_amount),
                   money_sum(open_rows.c.open_amount, open_rows.c.due_date >= on))
            .group_by(open_rows.c.currency))).all()
        return {currency: (total, current or 0) for currency, total, current in rows}

    sales = defaultdict(lambda: [0] * len(periods))
    for index, (first, last) in enumerate(periods):
        for currency, amount in (await session.execute(scoped(
            select(Invoice.currency, money_sum(Invoice.amount))
            .where(Invoice.issue_date >= first, Invoice.issue_date <= last,
                   Invoice.kind.in_(BILLED))
            .group_by(Invoice.currency)))).all():
            sales[currency][index] = amount
    closing = await receivables(as_of)
    opening = await receivables(start - timedelta(days=1))
    figures = []
    for currency in sorted(set(closing) | set(opening) | set(sales)):
        total, current = closing.get(currency, (0, 0))
        month_sales = [Period((last - first).days + 1, amount)
                       for (first, last), amount in zip(periods, sales[currency], strict=True)]
        dso = count_back_dso(total, month_sales)
        best = count_back_dso(current, month_sales)
        period_sales = sum(sales[currency])
        figures.append({
            "currency": currency,
            "receivables": total, "current": current, "overdue": total - current,
            "within_terms_percent": round(100 * current / total, 1) if total else None,
            "dso_days": dso, "best_possible_dso_days": best,
            "average_days_delinquent": round(dso - best, 1) if dso is not None
            and best is not None else None,
            "cei_percent": collection_effectiveness(opening.get(currency, (0, 0))[0], period_sales,
                                                    total, current),
            "cei_inputs": {"opening_receivables": opening.get(currency, (0, 0))[0],
                           "sales": period_sales, "closing_receivables": total,
                           "closing_current": current},
        })
    return {"as_of": as_of, "period_start": start, "months": months, "customer_id": customer_id,
            "salesperson": salesperson, "currencies": figures}


def _month_periods(as_of: date, months: int) -> list[tuple[date, date]]:
    """The current month to date, then whole months before it, newest first."""
    periods = [(as_of.replace(day=1), as_of)]
    while len(periods) < months:
        last = periods[-1][0] - timedelta(days=1)
        periods.append((last.replace(day=1), last))
    return periods
