"""The API takes amounts up to 10**15 minor units (10 trillion in a currency of two
decimals); PostgreSQL's INTEGER stops at 2**31 - 1 (21,474,836.47). Large invoices and
their sums must book and report exactly, on the real PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared.events import contracts as ev
from tests.support.api import Api
from tests.support.collections import collections_alone, feed
from tests.support.embedded import service_on
from tests.support.ledger import register_customers

pytestmark = pytest.mark.postgres
BIG = 9 * 10**14  # 9 trillion in minor units, far beyond 32 bits


@pytest.fixture
async def ledger(tmp_path: Path) -> AsyncIterator[Api]:
    async with service_on("postgres", tmp_path, "ledger") as (app, runtime):
        await register_customers(runtime, "C1", limit=10**15)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ledger") as client:
            yield Api({"/": client})


def amounts(rows: list[dict[str, Any]]) -> list[Any]:
    return [row["amount"] for row in rows]


async def test_invoices_payments_and_reports_beyond_32_bits(ledger: Api) -> None:
    for n in (1, 2):
        await ledger.ok("POST", "/ledger/v1/invoices", {
            "id": f"I{n}", "customer_id": "C1", "amount": BIG, "currency": "CNY",
            "issue_date": "2026-01-01"})
    paid = await ledger.ok("POST", "/ledger/v1/payments", {
        "id": "P1", "customer_id": "C1", "amount": BIG + 1, "currency": "CNY",
        "received_on": "2026-01-10"})
    assert paid["allocations"] == [{"invoice_id": "I1", "amount": BIG},
                                   {"invoice_id": "I2", "amount": 1}]

    account = await ledger.ok("GET", "/ledger/v1/customers/C1/account?as_of=2026-03-01")
    assert amounts(account["balance"]) == amounts(account["overdue"]) == [BIG - 1]
    assert isinstance(account["balance"][0]["amount"], int)
    aging = await ledger.ok("GET", "/ledger/v1/aging?as_of=2026-03-01")
    assert aging["totals"][0]["total"] == BIG - 1
    history = await ledger.ok("GET", "/ledger/v1/customers/C1/history?from=2026-01-01&to=2026-03-01")
    assert history["currencies"][0]["closing_balance"] == BIG - 1
    swept = await ledger.ok("POST", "/ledger/v1/sweeps", {"as_of": "2026-03-01"})
    assert swept["payment_missed"] == 1


async def test_collection_plan_chases_amounts_beyond_32_bits(tmp_path: Path) -> None:
    async with collections_alone("postgres", tmp_path) as (runtime, client):
        await feed(runtime, ev.CustomerRegistered(
            customer_id="C1", name="Distributor", salesperson="li.na",
            terms=ev.Terms(mode="net_days", days=30),
            credit_limit=ev.MoneyField(amount=10**15, currency="CNY")))
        await feed(runtime, ev.InvoicePosted(
            customer_id="C1", invoice_id="I1", amount=BIG, currency="CNY",
            issue_date=date(2026, 1, 1), due_date=date(2026, 1, 31), balance_version=1))
        await feed(runtime, ev.PaymentMissed(
            customer_id="C1", invoice_id="I1", currency="CNY", open_amount=BIG,
            due_date=date(2026, 1, 31), as_of=date(2026, 2, 5), days_past_due=5,
            balance_version=2))
        (case,) = (await client.get("/v1/cases?customer_id=C1")).json()
        assert case["overdue"] == [{"amount": BIG, "currency": "CNY"}]
        promised = await client.post(f"/v1/cases/{case['id']}/promises", json={
            "amount": BIG, "currency": "CNY", "promised_on": "2026-02-10", "as_of": "2026-02-05"})
        assert promised.status_code == 201, promised.text
        kpis = (await client.get("/v1/kpis?as_of=2026-02-05")).json()
        assert kpis["total"]["currencies"][0]["receivables"] == {"amount": BIG, "currency": "CNY"}
