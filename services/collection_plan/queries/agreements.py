"""Agreements with their progress: what has come in towards the plan, instalment by
instalment."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.collection_plan.tables import Agreement, InvoiceReduction, PaymentView
from shared.pagination import PageRequest, keyset


def agreement_query(customer_id: str | None, status: str | None, page: PageRequest) -> Select[Any]:
    query = select(Agreement)
    if customer_id:
        query = query.where(Agreement.customer_id == customer_id)
    if status:
        query = query.where(Agreement.status == status)
    return keyset(query, [Agreement.signed_on, Agreement.id], page, descending=True)


async def payments_towards(session: AsyncSession, agreement: Agreement,
                           through: date | None = None) -> list[tuple[date, int]]:
    """(date, amount) of what came in towards the plan since the signing: no write-off, and
    no money of a payment that bounced."""
    bounced = select(PaymentView.payment_id).where(PaymentView.reversed_on.is_not(None))
    query = (select(InvoiceReduction.on, InvoiceReduction.amount)
             .where(InvoiceReduction.invoice_id.in_(agreement.invoice_ids),
                    InvoiceReduction.on >= agreement.signed_on,
                    InvoiceReduction.kind != "write_off",
                    or_(InvoiceReduction.payment_id.is_(None),
                        InvoiceReduction.payment_id.not_in(bounced))))
    if through is not None:
        query = query.where(InvoiceReduction.on <= through)
    return [(on, amount) for on, amount in (await session.execute(query)).all()]


async def agreement_out(session: AsyncSession, agreement: Agreement, as_of: date) -> dict[str, Any]:
    paid = await payments_towards(session, agreement, as_of)
    total_paid = sum(a for _, a in paid)
    due_so_far = 0
    instalments = []
    for item in agreement.instalments:
        due_date = date.fromisoformat(item["due_date"])
        due_so_far += item["amount"]
        by_then = sum(a for on, a in paid if on <= due_date)
        status = ("paid" if by_then >= due_so_far
                  else "due" if as_of <= due_date
                  else "missed")
        instalments.append({"due_date": due_date, "amount": item["amount"], "status": status})
    return {
        "id": agreement.id, "customer_id": agreement.customer_id, "case_id": agreement.case_id,
        "status": agreement.status, "signed_on": agreement.signed_on,
        "invoice_ids": agreement.invoice_ids,
        "total": {"amount": agreement.total, "currency": agreement.currency},
        "paid": {"amount": total_paid, "currency": agreement.currency},
        "instalments": instalments, "terms_when_signed": agreement.terms,
        "ended_on": agreement.ended_on, "missed_due_date": agreement.missed_due_date,
        "missed_amount": agreement.missed_amount, "recorded_by": agreement.recorded_by,
    }
