"""The read side: a customer as the API shows it, and the lists (history, ratings,
checks, reservations, signals, holds)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.credit.domain import reservations as rsv
from services.credit.handlers.check import applied_limit, reserved_amount
from services.credit.handlers.common import active_holds, balances, receivables
from services.credit.handlers.holds import overdue_of
from services.credit.schemas import HoldOut
from services.credit.tables import (
    CreditCheck,
    Customer,
    DossierChange,
    Hold,
    Rating,
    Reservation,
    Signal,
)
from shared.clock import now
from shared.db import UnitOfWork
from shared.errors import NotFound
from shared.pagination import PageRequest, keyset

DOSSIER = ("id", "name", "salesperson", "region", "address", "distance_km", "legal_representative",
           "financials", "financial_status", "market_network", "sales_ability", "organisation",
           "documents", "dossier_version", "terms", "has_payment_history")


def money(amount: int, currency: str) -> dict[str, Any]:
    return {"amount": amount, "currency": currency}


def holds_out(holds: list[Hold]) -> list[HoldOut]:
    return [HoldOut.model_validate(h, from_attributes=True) for h in holds]


async def customer_out(uow: UnitOfWork, customer: Customer) -> dict[str, Any]:
    views = await balances(uow, customer.id)
    currency = customer.credit_limit_currency
    reserved = await reserved_amount(uow, customer)
    exposure = receivables(views, currency) + reserved
    limit = applied_limit(uow, customer)
    overdue = await overdue_of(uow, customer)
    return {
        **{f: getattr(customer, f) for f in DOSSIER},
        "credit_limit": money(customer.credit_limit_amount, currency),
        "applied_limit": {**money(limit.amount, currency), "reasons": list(limit.reasons)},
        "recommended_limit": None if customer.recommended_limit_amount is None
        else money(customer.recommended_limit_amount, currency),
        "rating": {"rating_class": customer.rating_class, "score": customer.rating_score,
                   "reasons": customer.rating_reasons, "as_of": customer.rated_as_of},
        "exposure": money(exposure, currency),
        "reserved": money(reserved, currency),
        "available": money(max(limit.amount - exposure, 0), currency),
        "balances": [{"currency": b.currency, "balance": b.balance, "overdue": b.overdue}
                     for b in views],
        "overdue_invoices": [{"invoice_id": r.id, "currency": r.currency, "due_date": r.due_date,
                              "days_past_due": r.days_past_due,
                              "under_agreement": r.id in overdue.shielded} for r in overdue.invoices],
        "holds": holds_out(await active_holds(uow, customer.id)),
    }


# Lists answer plain rows: a read-only session's objects expire when it closes.
async def history(session: AsyncSession, customer_id: str, page: PageRequest,
                  field: str | None) -> list[dict[str, Any]]:
    query = select(DossierChange).where(DossierChange.customer_id == customer_id)
    if field:
        query = query.where(DossierChange.field == field)
    rows = (await session.execute(keyset(query, [DossierChange.id], page))).scalars()
    return [r.model_dump() for r in rows]


def ratings_out(rows: Iterable[Rating]) -> list[dict[str, Any]]:
    return [{**r.model_dump(), "recommended_limit": None if r.recommended_limit_amount is None
             else money(r.recommended_limit_amount, r.currency)} for r in rows]


async def ratings(session: AsyncSession, customer_id: str, page: PageRequest) -> list[dict[str, Any]]:
    return ratings_out((await session.execute(keyset(
        select(Rating).where(Rating.customer_id == customer_id), [Rating.id], page))).scalars())


async def checks(session: AsyncSession, customer_id: str, page: PageRequest) -> list[dict[str, Any]]:
    query = select(CreditCheck).where(CreditCheck.customer_id == customer_id)
    return [r.model_dump() for r in (await session.execute(keyset(
        query, [CreditCheck.checked_at, CreditCheck.id], page, descending=True))).scalars()]


async def reservation(session: AsyncSession, order_id: str) -> Reservation:
    found = await session.get(Reservation, order_id)
    if found is None:
        raise NotFound(f"no credit check reserved order {order_id!r}")
    return found


def reservation_out(r: Reservation | dict[str, Any]) -> dict[str, Any]:
    row = r if isinstance(r, dict) else r.model_dump(exclude={"consumed_at_version"})
    return {**row, "status": rsv.state(row["status"], row["expires_at"], now()),
            "invoice_ids": [i["invoice_id"] for i in row.get("invoices") or ()]}


async def reservations(session: AsyncSession, customer_id: str, page: PageRequest,
                       status: str | None) -> list[dict[str, Any]]:
    query = select(Reservation).where(Reservation.customer_id == customer_id)
    if status == "expired":
        query = query.where(Reservation.status == rsv.RESERVED, Reservation.expires_at <= now())
    elif status == rsv.RESERVED:
        query = query.where(Reservation.status == rsv.RESERVED, Reservation.expires_at > now())
    elif status:
        query = query.where(Reservation.status == status)
    rows = (await session.execute(keyset(query, [Reservation.order_id], page))).scalars()
    return [reservation_out(r) for r in rows]


async def signals(session: AsyncSession, customer_id: str, page: PageRequest) -> list[dict[str, Any]]:
    query = select(Signal).where(Signal.customer_id == customer_id)
    return [r.model_dump() for r in (await session.execute(keyset(
        query, [Signal.recorded_at, Signal.id], page, descending=True))).scalars()]


async def holds(session: AsyncSession, customer_id: str, page: PageRequest) -> list[HoldOut]:
    query = select(Hold).where(Hold.customer_id == customer_id)
    return holds_out(list((await session.execute(keyset(
        query, [Hold.placed_at, Hold.id], page, descending=True))).scalars()))
