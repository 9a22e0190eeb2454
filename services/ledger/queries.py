"""Read side: the books as they stood at the end of any date."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import case, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.ledger.domain.aging import BUCKETS, bucket_earliest_due_dates, days_past_due
from services.ledger.tables import Allocation, CreditDocument, Invoice, LedgerCustomer
from shared.errors import NotFound


def _open_invoices_as_of(as_of: date) -> Any:
    paid = (
        select(Allocation.invoice_id, func.sum(Allocation.amount).label("paid"))
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
               func.sum(Allocation.amount).label("used"))
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


async def account(session: AsyncSession, customer_id: str, as_of: date) -> dict[str, Any]:
    if await session.get(LedgerCustomer, customer_id) is None:
        raise NotFound(f"customer {customer_id!r} has no account in the ledger")
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


async def aging(session: AsyncSession, as_of: date) -> dict[str, Any]:
    """Open amounts per customer and currency in the aging buckets, bucketed by the
    database through date boundaries (one pass, no per-row Python)."""
    open_rows = _open_invoices_as_of(as_of).subquery()
    whens = [(open_rows.c.due_date >= earliest, literal(label))
             for label, earliest in bucket_earliest_due_dates(as_of)]
    bucket = case(*whens, else_=literal(BUCKETS[-1][0])).label("bucket")
    rows = (await session.execute(
        select(open_rows.c.customer_id, open_rows.c.currency, bucket,
               func.sum(open_rows.c.open_amount))
        .group_by(open_rows.c.customer_id, open_rows.c.currency, bucket)
        .order_by(open_rows.c.customer_id, open_rows.c.currency)
    )).all()
    labels = [label for label, _, _ in BUCKETS]
    per_customer: dict[tuple[str, str], dict[str, int]] = {}
    totals: dict[str, dict[str, int]] = {}
    for customer_id, currency, label, amount in rows:
        per_customer.setdefault((customer_id, currency), dict.fromkeys(labels, 0))[label] += amount
        totals.setdefault(currency, dict.fromkeys(labels, 0))[label] += amount
    return {
        "as_of": as_of,
        "buckets": labels,
        "customers": [
            {"customer_id": c, "currency": cur, "buckets": b, "total": sum(b.values())}
            for (c, cur), b in per_customer.items()
        ],
        "totals": [
            {"currency": cur, "buckets": b, "total": sum(b.values())}
            for cur, b in sorted(totals.items())
        ],
    }
