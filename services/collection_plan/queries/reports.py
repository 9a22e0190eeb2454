"""Accountability: receivables KPIs per salesperson and in total, promises kept, money
recovered, and the provision matrix; all from the read models, as of a date."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.collection_plan.domain.metrics import metrics, month_start
from services.collection_plan.domain.provision import provision_matrix
from services.collection_plan.domain.receivables import InvoiceHistory, Reduction
from services.collection_plan.queries.cases import money
from services.collection_plan.tables import CustomerView, InvoiceReduction, InvoiceView, Promise

UNASSIGNED = "(none)"


async def histories(session: AsyncSession, as_of: date, salesperson: str | None = None
                    ) -> list[InvoiceHistory]:
    """Every invoice issued by `as_of` with its reductions; the salesperson is the
    invoice's, or else the customer's."""
    query = (select(InvoiceView, CustomerView.salesperson)
             .outerjoin(CustomerView, CustomerView.customer_id == InvoiceView.customer_id)
             .where(InvoiceView.issue_date <= as_of))
    found: dict[str, InvoiceHistory] = {}
    for invoice, customer_salesperson in (await session.execute(query)).all():
        owner = invoice.salesperson or customer_salesperson or UNASSIGNED
        if salesperson is not None and owner != salesperson:
            continue
        found[invoice.invoice_id] = InvoiceHistory(
            invoice_id=invoice.invoice_id, customer_id=invoice.customer_id,
            currency=invoice.currency, amount=invoice.amount, issue_date=invoice.issue_date,
            due_date=invoice.due_date, salesperson=owner, kind=invoice.kind)
    reductions = select(InvoiceReduction).where(InvoiceReduction.on <= as_of)
    for r in (await session.execute(reductions)).scalars():
        if (history := found.get(r.invoice_id)) is not None:
            history.reductions.append(Reduction(r.on, r.amount, r.kind))
    return list(found.values())


def _metrics_out(invoices: list[InvoiceHistory], as_of: date, months: int) -> list[dict[str, Any]]:
    out = []
    for m in metrics(invoices, as_of, months):
        row = asdict(m)
        currency = row.pop("currency")
        for name in ("receivables", "overdue", "sales", "recovered", "written_off"):
            row[name] = money(row[name], currency)
        out.append({"currency": currency, **row})
    return out


async def _promises(session: AsyncSession, since: date, as_of: date) -> dict[str, dict[str, int]]:
    """Promises resolved in the window, per salesperson: kept and broken."""
    counts: dict[str, dict[str, int]] = defaultdict(lambda: {"kept": 0, "broken": 0})
    for status, owner in (await session.execute(
        select(Promise.status, CustomerView.salesperson)
        .outerjoin(CustomerView, CustomerView.customer_id == Promise.customer_id)
        .where(Promise.status.in_(("kept", "broken")), Promise.resolved_on >= since,
               Promise.resolved_on <= as_of)
    )).all():
        counts[owner or UNASSIGNED][status] += 1
    return counts


def _promises_out(counts: dict[str, int]) -> dict[str, Any]:
    resolved = counts["kept"] + counts["broken"]
    return {**counts, "kept_percent": round(100 * counts["kept"] / resolved, 1) if resolved else None}


async def kpis(session: AsyncSession, as_of: date, months: int, salesperson: str | None) -> dict[str, Any]:
    invoices = await histories(session, as_of, salesperson)
    since = month_start(as_of, months - 1)
    promises = await _promises(session, since, as_of)
    by_owner: dict[str, list[InvoiceHistory]] = defaultdict(list)
    for invoice in invoices:
        by_owner[invoice.salesperson or UNASSIGNED].append(invoice)
    owners = sorted(set(by_owner) | ({salesperson} if salesperson else set(promises)))
    total_promises = {"kept": sum(p["kept"] for o, p in promises.items() if o in owners),
                      "broken": sum(p["broken"] for o, p in promises.items() if o in owners)}
    return {
        "as_of": as_of, "months": months, "window_from": since,
        "total": {"currencies": _metrics_out(invoices, as_of, months),
                  "promises": _promises_out(total_promises)},
        "by_salesperson": [{
            "salesperson": owner, "currencies": _metrics_out(by_owner[owner], as_of, months),
            "promises": _promises_out(promises.get(owner, {"kept": 0, "broken": 0})),
        } for owner in owners],
    }


async def provisions(session: AsyncSession, as_of: date, months: int, horizon_months: int
                     ) -> dict[str, Any]:
    matrices = provision_matrix(await histories(session, as_of), as_of, months, horizon_months)
    return {
        "as_of": as_of, "months": months, "horizon_months": horizon_months,
        "currencies": [{
            "currency": m.currency, "observation_dates": list(m.observation_dates),
            "expected_loss": money(m.expected_loss, m.currency),
            "buckets": [{
                "bucket": b.bucket, "observed": money(b.observed, m.currency),
                "lost": money(b.lost, m.currency), "loss_rate_bp": b.loss_rate_bp,
                "open_now": money(b.open_now, m.currency),
                "expected_loss": money(b.expected_loss, m.currency),
            } for b in m.buckets],
        } for m in matrices],
    }
