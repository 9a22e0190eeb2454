"""Aging as an aged trial balance: next to the open amounts per bucket, the credit received
but not applied and the net, so that each line ties to the customer's account balance,
today and as of a past date, and the totals add up (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.api import Api
from tests.support.embedded import service_on
from tests.support.ledger import register_customers

L = "/ledger/v1"
BOTH = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
FIGURES = ("total", "unapplied", "balance")


@pytest.fixture(params=BOTH)
async def api(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Api]:
    async with service_on(request.param, tmp_path, "ledger") as (app, runtime):
        await register_customers(runtime, "C1", "C2", salesperson="li.na")
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ledger") as client:
            yield Api({"/": client})


async def book(api: Api) -> None:
    """C1 (li.na's): I1 10,000 due 01-31, I2 5,000 due 03-03 that names wang.wei; P1 12,000
    on 02-10 pays I1 and leaves 2,000 unapplied until it is applied to I2 on 03-10; P2 500
    on 03-12 and 100 USD unapplied. C2: only 700 CNY unapplied, nothing billed."""
    for body in (
        {"id": "I1", "customer_id": "C1", "amount": 10_000, "issue_date": "2026-01-01"},
        {"id": "I2", "customer_id": "C1", "amount": 5_000, "issue_date": "2026-02-01",
         "salesperson": "wang.wei"},
    ):
        await api.ok("POST", f"{L}/invoices", {"currency": "CNY", **body})
    for body in (
        {"id": "P1", "customer_id": "C1", "amount": 12_000, "received_on": "2026-02-10",
         "allocations": [{"invoice_id": "I1", "amount": 10_000}]},
        {"id": "P2", "customer_id": "C1", "amount": 500, "received_on": "2026-03-12"},
        {"id": "P3", "customer_id": "C1", "amount": 100, "currency": "USD",
         "received_on": "2026-03-12"},
        {"id": "P4", "customer_id": "C2", "amount": 700, "received_on": "2026-03-12"},
    ):
        await api.ok("POST", f"{L}/payments", {"currency": "CNY", "allocations": [], **body})
    await api.ok("POST", f"{L}/applications", {
        "document_kind": "payment", "document_id": "P1", "applied_on": "2026-03-10",
        "allocations": [{"invoice_id": "I2", "amount": 2_000}]})


async def aging(api: Api, as_of: str | None, **params: str) -> dict[str, Any]:
    query = "&".join(f"{k}={v}" for k, v in (({"as_of": as_of} if as_of else {}) | params).items())
    return await api.ok("GET", f"{L}/aging?{query}")


async def account_balances(api: Api, customer_id: str, as_of: str | None) -> dict[str, int]:
    account = await api.ok("GET", f"{L}/customers/{customer_id}/account"
                                  + (f"?as_of={as_of}" if as_of else ""))
    return {b["currency"]: b["amount"] for b in account["balance"]}


def figures(row: dict[str, Any]) -> tuple[int, ...]:
    return tuple(row[f] for f in FIGURES)


def assert_totals_add_up(report: dict[str, Any], rows_key: str) -> None:
    summed: dict[str, list[int]] = defaultdict(lambda: [0] * (len(report["buckets"]) + 3))
    for row in report[rows_key]:
        assert row["balance"] == row["total"] - row["unapplied"]
        assert row["total"] == sum(row["buckets"].values())
        values = [*row["buckets"].values(), *figures(row)]
        summed[row["currency"]] = [a + b for a, b in zip(summed[row["currency"]], values,
                                                         strict=True)]
    assert {t["currency"]: [*t["buckets"].values(), *figures(t)] for t in report["totals"]} == summed


async def test_each_line_ties_to_the_account_balance_now_and_as_of_a_past_date(api: Api) -> None:
    await book(api)
    expected = {
        # 02-15: I2 5,000 not yet due, P1's 2,000 not applied yet
        "2026-02-15": {("C1", "CNY"): (5_000, 2_000, 3_000)},
        # 03-15: I2's 3,000 twelve days past due; P2, P3 and P4 unapplied
        "2026-03-15": {("C1", "CNY"): (3_000, 500, 2_500), ("C1", "USD"): (0, 100, -100),
                       ("C2", "CNY"): (0, 700, -700)},
        None: {("C1", "CNY"): (3_000, 500, 2_500), ("C1", "USD"): (0, 100, -100),
               ("C2", "CNY"): (0, 700, -700)},
    }
    for as_of, lines in expected.items():
        report = await aging(api, as_of)
        got = {(r["customer_id"], r["currency"]): figures(r) for r in report["customers"]}
        assert got == lines, as_of
        for (customer_id, currency), (_, _, balance) in lines.items():
            assert (await account_balances(api, customer_id, as_of))[currency] == balance
        assert_totals_add_up(report, "customers")
    march = await aging(api, "2026-03-15")
    (c1_cny,) = [r for r in march["customers"] if (r["customer_id"], r["currency"]) == ("C1", "CNY")]
    assert c1_cny["buckets"]["1-30"] == 3_000  # the buckets keep their meaning
    assert {t["currency"]: figures(t) for t in march["totals"]} == {
        "CNY": (3_000, 1_200, 1_800), "USD": (0, 100, -100)}


async def test_by_salesperson_credit_is_the_customers_salespersons(api: Api) -> None:
    await book(api)
    report = await aging(api, "2026-03-15", group_by="salesperson", buckets="30,60")
    assert {(r["salesperson"], r["currency"]): figures(r) for r in report["salespeople"]} == {
        ("li.na", "CNY"): (0, 1_200, -1_200), ("li.na", "USD"): (0, 100, -100),
        ("wang.wei", "CNY"): (3_000, 0, 3_000)}
    assert_totals_add_up(report, "salespeople")
    # The totals are the whole book's, whichever way it is grouped.
    by_customer = await aging(api, "2026-03-15")
    assert [figures(t) for t in report["totals"]] == [figures(t) for t in by_customer["totals"]]
