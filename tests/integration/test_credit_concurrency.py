"""Racing requests on PostgreSQL: the loser of a race gets a 409 to retry, never a 500."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from tests.support.api import Api
from tests.support.embedded import service_on

pytestmark = pytest.mark.postgres


async def test_the_same_new_customer_registered_four_times_at_once(tmp_path: Path) -> None:
    async with service_on("postgres", tmp_path, "credit") as (app, _):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://credit") as client:
            api = Api({"/": client})
            body = {"id": "NEW", "name": "Dealer", "terms": {"mode": "cash"},
                    "credit_limit": {"amount": 1, "currency": "CNY"}}
            answers = await asyncio.gather(*(api.post("/credit/v1/customers", body)
                                             for _ in range(4)))
            assert (await api.get("/credit/v1/customers/NEW")).status_code == 200
    codes = [a.status_code for a in answers]
    assert codes.count(201) == 1 and set(codes) <= {200, 201, 409}, [a.text for a in answers]


async def test_orders_checked_at_once_never_spend_the_same_credit_twice(tmp_path: Path) -> None:
    async with service_on("postgres", tmp_path, "credit") as (app, _):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://credit") as client:
            api = Api({"/": client})
            await api.ok("POST", "/credit/v1/customers", {
                "id": "D1", "name": "Dealer", "terms": {"mode": "net_days", "days": 30},
                "credit_limit": {"amount": 1_000_000, "currency": "CNY"}})
            answers = await asyncio.gather(*(api.post("/credit/v1/checks", {
                "customer_id": "D1", "amount": 300_000, "currency": "CNY", "order_id": f"SO-{n}"})
                for n in range(10)))
            customer = await api.ok("GET", "/credit/v1/customers/D1")
    assert all(a.status_code == 200 for a in answers), [a.text for a in answers]
    decisions = sorted(a.json()["decision"] for a in answers)
    assert decisions == ["approve"] * 3 + ["cash_only"] * 6 + ["reduce"]
    reserved = sum(a.json()["reservation"]["amount"] for a in answers if a.json()["reservation"])
    assert reserved == customer["reserved"]["amount"] == 1_000_000
