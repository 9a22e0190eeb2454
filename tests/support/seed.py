"""Data the integration tests start from, written through the services' own handlers."""

from __future__ import annotations

from typing import Any

from services.credit import handlers
from services.credit.domain.commands import RegisterCustomer
from services.credit.domain.terms import Terms


async def register_dealer(runtime: Any, customer_id: str = "C1", *, limit: int = 100_000) -> None:
    """A customer on net 30 days with a CNY credit limit, registered with credit."""
    async with runtime.unit_of_work("test") as uow:
        await handlers.register_customer(uow, RegisterCustomer(
            id=customer_id, name="Dealer", terms=Terms("net_days", days=30),
            credit_limit_amount=limit, credit_limit_currency="CNY"))
        await uow.commit()
