"""The headline story (ARCHITECTURE.md), through HTTP only: a missed payment puts holds
on the customer and opens a collection case; the money coming in lifts both."""

from __future__ import annotations

from typing import Any

from tests.support.api import Api, eventually


async def check(api: Api, customer_id: str, amount: int, **extra: Any) -> dict[str, Any]:
    return await api.ok("POST", "/credit/v1/checks",
                        {"customer_id": customer_id, "amount": amount, "currency": "CNY", **extra})


async def case_of(api: Api, customer_id: str) -> dict[str, Any]:
    cases = await api.ok("GET", f"/collections/v1/cases?customer_id={customer_id}")
    assert len(cases) == 1, cases
    return cases[0]


async def play_missed_payment_flow(api: Api, customer_id: str) -> None:
    # Register: net 30 days, a limit of 10,000.00 CNY.
    await api.ok("POST", "/credit/v1/customers", {
        "id": customer_id, "name": "Dealer Wang", "salesperson": "li.na",
        "terms": {"mode": "net_days", "days": 30},
        "credit_limit": {"amount": 1_000_000, "currency": "CNY"},
    })

    async def ledger_knows_customer() -> None:
        response = await api.get(f"/ledger/v1/customers/{customer_id}/account?as_of=2026-01-01")
        assert response.status_code == 200, response.text
    await eventually(ledger_knows_customer)

    # An invoice of 3,000.00: the due date comes from the terms.
    invoice = await api.ok("POST", "/ledger/v1/invoices", {
        "id": f"{customer_id}-INV-1", "customer_id": customer_id, "amount": 300_000,
        "currency": "CNY", "issue_date": "2026-01-01",
    })
    assert invoice["due_date"] == "2026-01-31"

    async def exposure_known() -> None:
        answer = await check(api, customer_id, 800_000)
        assert answer["decision"] == "reduce", answer
        assert answer["max_amount"] == 700_000
    await eventually(exposure_known)

    # 20 days past due: the sweep announces the missed payment and the 15-day threshold.
    sweep = await api.ok("POST", "/ledger/v1/sweeps", {"as_of": "2026-02-20"})
    assert sweep["payment_missed"] == 1 and sweep["invoice_aged"] == 1

    async def cash_only() -> None:
        answer = await check(api, customer_id, 100_000)
        assert answer["decision"] == "cash_only", answer
        assert {h["kind"] for h in answer["holds"]} == {"cash_only", "suspend_incentives"}
    await eventually(cash_only)

    async def case_open_at_visit_level() -> None:
        case = await case_of(api, customer_id)
        assert case["status"] == "open" and case["class"] == "dunning" and case["level"] == 2, case
        assert case["overdue"] == [{"amount": 300_000, "currency": "CNY"}]
        assert any("visit" in t["action"] for t in case["open_tasks"])
    await eventually(case_open_at_visit_level)

    # The same date again announces nothing new.
    again = await api.ok("POST", "/ledger/v1/sweeps", {"as_of": "2026-02-20"})
    assert again["events"] == 0

    # 64 days past due: final demand, shipments stop.
    await api.ok("POST", "/ledger/v1/sweeps", {"as_of": "2026-04-05"})

    async def blocked() -> None:
        answer = await check(api, customer_id, 100_000)
        assert answer["decision"] == "block", answer
        assert (await case_of(api, customer_id))["level"] == 4
    await eventually(blocked)

    # A partial payment leaves the cause in place: holds and case stay.
    await api.ok("POST", "/ledger/v1/payments", {
        "id": f"{customer_id}-PAY-1", "customer_id": customer_id, "amount": 100_000,
        "currency": "CNY", "received_on": "2026-04-06",
    })

    async def partial_seen() -> None:
        customer = await api.ok("GET", f"/credit/v1/customers/{customer_id}")
        assert customer["exposure"]["amount"] == 200_000, customer
        case = await case_of(api, customer_id)
        assert case["overdue"] == [{"amount": 200_000, "currency": "CNY"}], case
    await eventually(partial_seen)
    assert (await check(api, customer_id, 100_000))["decision"] == "block"
    assert (await case_of(api, customer_id))["status"] == "open"

    # The rest comes in: holds lift, the case closes.
    await api.ok("POST", "/ledger/v1/payments", {
        "id": f"{customer_id}-PAY-2", "customer_id": customer_id, "amount": 200_000,
        "currency": "CNY", "received_on": "2026-04-07",
    })

    async def released() -> None:
        answer = await check(api, customer_id, 100_000)
        assert answer["decision"] == "approve", answer
        assert answer["holds"] == []
        assert await api.ok("GET", f"/credit/v1/customers/{customer_id}/holds") == []
        case = await case_of(api, customer_id)
        assert case["status"] == "closed" and case["open_tasks"] == [], case
    await eventually(released)

    account = await api.ok("GET", f"/ledger/v1/customers/{customer_id}/account?as_of=2026-04-07")
    assert account["balance"] == [{"amount": 0, "currency": "CNY"}]
    assert account["open_invoices"] == []

    async def statement_agrees() -> None:
        statement = await api.ok("POST", "/reconciliation/v1/statements",
                                 {"customer_id": customer_id, "period": "2026-04"})
        assert statement["opening_balance"] == 300_000, statement
        assert statement["closing_balance"] == 0
        assert [line["document_id"] for line in statement["lines"]] == [
            f"{customer_id}-PAY-1", f"{customer_id}-PAY-2"]
    await eventually(statement_agrees)
