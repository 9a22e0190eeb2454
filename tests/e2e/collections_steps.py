"""Steps the collection-plan stories share, through HTTP (and events another service's
side would send, where that side is not built here yet)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from tests.support.api import Api, eventually
from tests.support.collections import quiet


async def register(api: Api, customer_id: str, *, salesperson: str = "li.na",
                   terms: dict[str, Any] | None = None, limit: int = 10_000_000,
                   distance_km: int | None = None) -> None:
    await api.ok("POST", "/credit/v1/customers", {
        "id": customer_id, "name": f"Dealer {customer_id}", "salesperson": salesperson,
        "terms": terms or {"mode": "net_days", "days": 30}, "distance_km": distance_km,
        "credit_limit": {"amount": limit, "currency": "CNY"}})

    async def known() -> None:
        assert (await api.get(f"/ledger/v1/customers/{customer_id}/account")).status_code == 200
        assert (await api.get(f"/collections/v1/customers/{customer_id}")).status_code == 200
    await eventually(known)


async def invoice(api: Api, customer_id: str, invoice_id: str, amount: int, issue_date: str,
                  currency: str = "CNY") -> dict[str, Any]:
    posted = await api.ok("POST", "/ledger/v1/invoices", {
        "id": invoice_id, "customer_id": customer_id, "amount": amount, "currency": currency,
        "issue_date": issue_date})

    async def heard() -> None:
        customer = await api.ok("GET", f"/collections/v1/customers/{customer_id}")
        assert customer["last_order_on"] is not None and customer["last_order_on"] >= issue_date
    await eventually(heard)
    return posted


async def pay(api: Api, customer_id: str, payment_id: str, amount: int, received_on: str,
              **extra: Any) -> None:
    await api.ok("POST", "/ledger/v1/payments", {
        "id": payment_id, "customer_id": customer_id, "amount": amount, "currency": "CNY",
        "received_on": received_on, **extra})

    async def heard() -> None:
        customer = await api.ok("GET", f"/collections/v1/customers/{customer_id}")
        assert customer["last_payment_on"] is not None and customer["last_payment_on"] >= received_on
    await eventually(heard)


async def night(api: Api, app: FastAPI, as_of: str) -> dict[str, Any]:
    """The night's sweeps: the ledger's overdue sweep, then collection-plan's once the
    ledger's news has arrived; answers collection-plan's sweep, after what it caused."""
    await api.ok("POST", "/ledger/v1/sweeps", {"as_of": as_of})
    await quiet(app)
    result = await api.ok("POST", "/collections/v1/sweeps", {"as_of": as_of})
    await quiet(app)
    return result


async def case_of(api: Api, customer_id: str) -> dict[str, Any]:
    cases = await api.ok("GET", f"/collections/v1/cases?customer_id={customer_id}&status=open")
    assert len(cases) == 1, cases
    return await api.ok("GET", f"/collections/v1/cases/{cases[0]['id']}")


async def check(api: Api, customer_id: str, amount: int = 100_000) -> dict[str, Any]:
    return await api.ok("POST", "/credit/v1/checks",
                        {"customer_id": customer_id, "amount": amount, "currency": "CNY"})
