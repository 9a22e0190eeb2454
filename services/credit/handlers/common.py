"""What every credit handler reads: the customer, its holds, its balances, the policy."""

from __future__ import annotations

from sqlalchemy import select

from services.credit.config import CreditConfig
from services.credit.tables import BalanceView, Customer, Hold
from shared.db import UnitOfWork
from shared.errors import NotFound
from shared.events import CloudEvent


def config(uow: UnitOfWork) -> CreditConfig:
    # The runtime builds it at start (ServiceDefinition.config); a bare unit of work in a
    # test gets the defaults.
    return uow.config if isinstance(uow.config, CreditConfig) else CreditConfig()


def by_event(event: CloudEvent) -> str:
    """The author recorded for what a handler does on an event (holds, ratings)."""
    return f"event:{event.type}"


async def find_customer(uow: UnitOfWork, customer_id: str, *, lock: bool = False) -> Customer | None:
    query = select(Customer).where(Customer.id == customer_id)
    return (await uow.session.execute(query.with_for_update() if lock else query)).scalar_one_or_none()


async def get_customer(uow: UnitOfWork, customer_id: str, *, lock: bool = False,
                       field: str = "customer_id") -> Customer:
    customer = await find_customer(uow, customer_id, lock=lock)
    if customer is None:
        raise NotFound(f"customer {customer_id!r} is not registered", field=field)
    return customer


async def active_holds(uow: UnitOfWork, customer_id: str) -> list[Hold]:
    return list((await uow.session.execute(
        select(Hold).where(Hold.customer_id == customer_id, Hold.released_at.is_(None))
        .order_by(Hold.placed_at, Hold.id)
    )).scalars())


async def balances(uow: UnitOfWork, customer_id: str) -> list[BalanceView]:
    return list((await uow.session.execute(
        select(BalanceView).where(BalanceView.customer_id == customer_id).order_by(BalanceView.currency)
    )).scalars())


def receivables(views: list[BalanceView], currency: str) -> int:
    """Open receivables in one currency; unapplied credit does not count as negative exposure."""
    return max(sum(v.balance for v in views if v.currency == currency), 0)
