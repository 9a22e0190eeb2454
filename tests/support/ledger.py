"""The ledger's customers, as the credit service's registration would bring them."""

from __future__ import annotations

from typing import Any

from services.ledger.handlers import on_customer_terms
from shared.events import contracts as ev
from shared.events import new_event


async def register_customers(runtime: Any, *customer_ids: str, limit: int = 10**9,
                             salesperson: str | None = None, terms: ev.Terms | None = None) -> None:
    """Customers on net 30 (or `terms`) with a CNY limit, in one unit of work."""
    async with runtime.unit_of_work() as uow:
        for customer_id in customer_ids:
            registered = ev.CustomerRegistered(
                customer_id=customer_id, name="Dealer", salesperson=salesperson,
                terms=terms or ev.Terms(mode="net_days", days=30),
                credit_limit=ev.MoneyField(amount=limit, currency="CNY"))
            await on_customer_terms(uow, registered, new_event("test", registered))
        await uow.commit()
