"""The worklist order follows the priority rules (amount overdue per currency, days past
due, class, rating, financial strength, distance), with the reasons shown, per collector,
page by page; the contact window follows the customer's preferences."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared.events import contracts as ev
from tests.support.collections import collections_alone, feed, registered
from tests.support.collections import overdue as support_overdue

AS_OF = date(2026, 4, 1)  # a Wednesday, and the 1st of the month


def overdue(customer_id: str, invoice_id: str, amount: int, days: int,
            currency: str = "CNY") -> list[ev.EventData]:
    return support_overdue(customer_id, invoice_id, amount, due=AS_OF - timedelta(days=days),
                           as_of=AS_OF, currency=currency)


def rated(customer_id: str, rating: str) -> ev.RatingChanged:
    return ev.RatingChanged(customer_id=customer_id, rating_class=rating, score=50, reasons=[],
                            as_of=AS_OF)


async def test_the_worklist_follows_the_priority_rules(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECOUP_COLLECTIONS_PRIORITY_AMOUNT_STEPS", '{"JPY": 10000}')
    async with collections_alone("sqlite", tmp_path) as (runtime, client):
        await feed(runtime,
                   registered("O1"), rated("O1", "C"), *overdue("O1", "O1-1", 50_000, 90),
                   registered("O2"), rated("O2", "C"), *overdue("O2", "O2-1", 5_000_000, 5),
                   registered("O3", distance_km=300), rated("O3", "C"),
                   *overdue("O3", "O3-1", 5_000_000, 5),
                   registered("O4"), rated("O4", "C"), *overdue("O4", "O4-1", 2_000_000, 5),
                   *overdue("O4", "O4-2", 200_000, 5, "JPY"),
                   registered("X", salesperson="wang.wei"), *overdue("X", "X-1", 9_000_000, 200))
        async def worklist(collector: str = "li.na", **params: Any) -> list[dict[str, Any]]:
            response = await client.get("/v1/worklist", params={
                "as_of": AS_OF.isoformat(), "collector": collector, **params})
            assert response.status_code == 200, response.text
            return response.json()

        tasks = await worklist()
        # O1: 90 days (+90), doubtful at 90 days (+50), rated C (+20), 500.00 (+0).
        # O2: 5 days (+5), 50,000.00 (+50), C (+20). O3: as O2, 300 km away (-30).
        # O4: 5 days, 20,000.00 CNY (+20) and 200,000 JPY on its own scale (+20), C.
        # (O1's case opened at 90 days: the written notice of the visit it passed comes too.)
        assert [(t["customer_id"], t["priority"]) for t in tasks] == [
            ("O1", 160), ("O1", 160), ("O1", 160), ("O2", 75), ("O4", 65), ("O3", 45)]
        o4 = next(t for t in tasks if t["customer_id"] == "O4")
        assert o4["reasons"] == ["5 days past due (+5)",
                                 "2000000 CNY overdue (minor units) (+20)",
                                 "200000 JPY overdue (minor units) (+20)", "rated C (+20)"]
        assert o4["overdue"] == [{"amount": 2_000_000, "currency": "CNY"},
                                 {"amount": 200_000, "currency": "JPY"}]
        o3 = next(t for t in tasks if t["customer_id"] == "O3")
        assert "300 km away (-30)" in o3["reasons"]
        # Not on the 1st of the month; mid-afternoon.
        assert o3["suggested_contact"]["date"] == "2026-04-02"
        assert (o3["suggested_contact"]["from"], o3["suggested_contact"]["to"]) == ("15:30", "16:30")
        assert [t["customer_id"] for t in await worklist("wang.wei")] == ["X", "X", "X"]

        # A person finds O3 financially weak and wants it called at 12:30: ahead of O2,
        # and the call is moved out of lunch.
        response = await client.put("/v1/customers/O3/profile", json={
            "financial_strength": "weak", "contact": {"preferred_time": "12:30"}})
        assert response.status_code == 200, response.text
        tasks = await worklist()
        assert [t["customer_id"] for t in tasks] == ["O1", "O1", "O1", "O3", "O2", "O4"]
        o3 = tasks[3]
        assert o3["priority"] == 85 and "financially weak (as assessed) (+40)" in o3["reasons"]
        assert o3["suggested_contact"]["from"] == "14:00"

        # Page by page: every task once, in order.
        seen: list[str] = []
        url: str | None = f"/collections/v1/worklist?as_of={AS_OF}&collector=li.na&limit=2"
        while url:
            response = await client.get(httpx.URL("http://recoup").join(url))
            seen += [t["id"] for t in response.json()]
            link = response.headers.get("link")
            url = link[1:link.index(">")] if link else None
        assert seen == [t["id"] for t in tasks]

        # Another collector takes O3 over: its tasks move with it.
        await client.put("/v1/customers/O3/profile", json={"collector": "zhao.min"})
        assert [t["customer_id"] for t in await worklist("zhao.min")] == ["O3"]


async def test_a_short_payment_is_challenged_at_once_not_at_the_month_end(tmp_path: Path) -> None:
    as_of = date(2026, 6, 27)  # a Saturday; the month's last good day is Tuesday the 30th
    async with collections_alone("sqlite", tmp_path) as (runtime, client):
        await feed(runtime, registered("C1"), *support_overdue(
            "C1", "I1", 100_000, due=date(2026, 6, 20), as_of=as_of))
        (case,) = (await client.get("/v1/cases?customer_id=C1")).json()
        assert case["level"] == 1
        response = await client.post(f"/v1/cases/{case['id']}/promises", json={
            "amount": 100_000, "currency": "CNY", "promised_on": "2026-07-03",
            "as_of": as_of.isoformat()})
        assert response.status_code == 201, response.text
        await feed(runtime, ev.PaymentReceived(
            customer_id="C1", payment_id="P1", amount=30_000, currency="CNY", received_on=as_of,
            allocations=[ev.Allocation(invoice_id="I1", amount=30_000)], unapplied=0))
        tasks = (await client.get("/v1/worklist", params={"as_of": as_of.isoformat()})).json()
        by_step = {t["step"]: t["suggested_contact"]["date"] for t in tasks}
        assert by_step == {"call": "2026-06-30",  # the first call can wait for the month-end
                           "promise": "2026-06-27"}  # the challenge cannot
