"""Stories that cross services, through HTTP only, with all five running for real in the
embedded mode: what one service decides, another books or obeys."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from tests.e2e.collections_steps import case_of, check, invoice, night, register
from tests.support.api import Api, eventually
from tests.support.bank_files import Row, camt053
from tests.support.collections import (
    APPROVER_KEY,
    COLLECTOR_KEY,
    collections_api,
    dead_letters,
    quiet,
)
from tests.support.webhook_receiver import Receiver, webhook_receiver


@pytest.fixture
def policy(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """Late interest at 12 % a year, and webhooks to a receiver on loopback."""
    monkeypatch.setenv("RECOUP_COLLECTIONS_INTEREST_RATE_BASIS_POINTS", "1200")
    for name, value in {"ALLOW_HTTP": "true", "ALLOW_PRIVATE_ADDRESSES": "true",
                        "POLL_SECONDS": "0.05"}.items():
        monkeypatch.setenv(f"RECOUP_WEBHOOKS_{name}", value)
    return monkeypatch


@pytest.fixture
async def system(policy: pytest.MonkeyPatch, tmp_path: Path
                 ) -> AsyncIterator[tuple[Api, FastAPI]]:
    async with collections_api(tmp_path) as pair:
        yield pair
        assert await dead_letters(pair[1]) == []


async def ledger_invoice(api: Api, invoice_id: str) -> dict[str, Any]:
    return await api.ok("GET", f"/ledger/v1/invoices/{invoice_id}")


async def holds_of(api: Api, customer_id: str) -> set[str]:
    return {h["kind"] for h in await api.ok("GET", f"/credit/v1/customers/{customer_id}/holds")}


async def test_an_approved_write_off_is_booked_and_the_case_closes(system: tuple[Api, FastAPI]) -> None:
    api, app = system
    await register(api, "W")
    await invoice(api, "W", "W-1", 500_000, "2026-01-01")  # due 2026-01-31
    await night(api, app, "2026-08-01")  # 182 days: bad debt, shipments stopped
    assert (await case_of(api, "W"))["class"] == "bad_debt"
    assert "stop_shipments" in await holds_of(api, "W")

    proposal = await api.ok("POST", "/collections/v1/write-offs", {
        "invoice_id": "W-1", "reason": "debtor gone, no assets", "as_of": "2026-08-02"},
        key=COLLECTOR_KEY)
    await api.ok("POST", f"/collections/v1/write-offs/{proposal['id']}/approve",
                 {"as_of": "2026-08-03", "note": "board approved"}, key=APPROVER_KEY)
    await quiet(app)

    # The ledger booked it under collection-plan's id, for all that was open.
    booked = await api.ok("GET", f"/ledger/v1/write-offs/{proposal['id']}")
    assert (booked["amount"], booked["invoice_id"]) == (500_000, "W-1")
    assert (await ledger_invoice(api, "W-1"))["open_amount"] == 0
    (shown,) = await api.ok("GET", "/collections/v1/write-offs?customer_id=W")
    assert shown["status"] == "booked"
    # Nothing overdue any more: the case closes and credit lifts the overdue holds.
    assert await api.ok("GET", "/collections/v1/cases?customer_id=W&status=open") == []

    async def lifted() -> None:
        assert await holds_of(api, "W") == set()
    await eventually(lifted)


async def test_late_interest_is_booked_and_earns_no_interest_itself(system: tuple[Api, FastAPI]) -> None:
    api, app = system
    await register(api, "I")
    await invoice(api, "I", "I-1", 300_000, "2026-01-01")  # due 2026-01-31
    await night(api, app, "2026-02-20")  # 20 days: a visit, with the written notice
    (notice,) = [t for t in (await case_of(api, "I"))["open_tasks"] if t["kind"] == "written_notice"]
    await api.ok("POST", f"/collections/v1/tasks/{notice['id']}/outcome",
                 {"outcome": "reached", "as_of": "2026-02-21"})  # handed over the next day
    notice_on = (await case_of(api, "I"))["notice_on"]
    assert notice_on == "2026-02-21"

    await night(api, app, "2026-03-01")  # February has ended: its interest is charged
    await night(api, app, "2026-04-01")  # and March's
    account = await api.ok("GET", "/ledger/v1/customers/I/account?as_of=2026-04-01")
    charges = sorted((i["amount"], i["invoice_id"]) for i in account["open_invoices"]
                     if i["invoice_id"] != "I-1")
    feb_days = 28 - int(notice_on[-2:])  # the days after the notice, to the month's end
    # Only the invoice earns interest: 300,000 x 12 % x days / 365, rounded down.
    assert [amount for amount, _ in charges] == sorted(
        [300_000 * 1200 * feb_days // (10_000 * 365), 300_000 * 1200 * 31 // (10_000 * 365)])
    for _, charge_id in charges:
        charge = await ledger_invoice(api, charge_id)
        assert (charge["kind"], charge["reference_id"]) == ("interest", "I-1")
    assert await night(api, app, "2026-04-01") is not None  # again: nothing new
    account_again = await api.ok("GET", "/ledger/v1/customers/I/account?as_of=2026-04-01")
    assert account_again["balance"] == account["balance"]


async def test_a_reminder_sends_the_customer_a_balance_confirmation_link(
        system: tuple[Api, FastAPI]) -> None:
    api, app = system
    async with webhook_receiver() as receiver:
        await api.ok("POST", "/webhooks/v1/subscriptions", {
            "url": receiver.url, "event_types": ["reconciliation.confirmation.requested"]})
        await register(api, "R")
        await invoice(api, "R", "R-1", 120_000, "2026-01-01")  # due 2026-01-31
        await night(api, app, "2026-01-28")  # three days before: the reminder

        async def sent(receiver: Receiver = receiver) -> dict[str, Any]:
            assert len(receiver.received) == 1
            return receiver.received[0].body
        body = await eventually(sent)
    link = json.loads(body)["data"]
    assert link["customer_id"] == "R" and link["purpose"] == "balance_reminder"
    page = await api.request("GET", link["link"], headers={"Accept": "application/json"},
                             key="no-key-needed")
    assert page.status_code == 200, page.text
    assert "120000" in page.text or "1,200.00" in page.text


async def test_a_broken_promise_puts_cash_only_at_once(system: tuple[Api, FastAPI]) -> None:
    api, app = system
    await register(api, "P")
    await invoice(api, "P", "P-1", 100_000, "2026-01-01")  # due 2026-01-31
    await night(api, app, "2026-02-04")
    assert (await check(api, "P"))["decision"] == "approve"  # 4 days: a call, no hold yet
    case = await case_of(api, "P")
    await api.ok("POST", f"/collections/v1/cases/{case['id']}/promises", {
        "amount": 100_000, "currency": "CNY", "promised_on": "2026-02-07", "as_of": "2026-02-04"})
    await night(api, app, "2026-02-08")

    async def cash_only() -> None:
        assert (await check(api, "P"))["decision"] == "cash_only"
    await eventually(cash_only)


async def test_an_invoice_for_an_order_ends_its_reservation(system: tuple[Api, FastAPI]) -> None:
    api, app = system
    await register(api, "O", limit=1_000_000)
    reserved = await api.ok("POST", "/credit/v1/checks", {
        "customer_id": "O", "amount": 400_000, "currency": "CNY", "order_id": "SO-1"})
    assert reserved["decision"] == "approve"
    assert (await api.ok("GET", "/credit/v1/customers/O"))["exposure"]["amount"] == 400_000
    await api.ok("POST", "/credit/v1/reservations/SO-1/shipment", {})
    await api.ok("POST", "/ledger/v1/invoices", {
        "id": "O-1", "customer_id": "O", "amount": 400_000, "currency": "CNY",
        "issue_date": "2026-03-01", "order_id": "SO-1"})
    await quiet(app)
    assert (await api.ok("GET", "/credit/v1/reservations/SO-1"))["status"] == "invoiced"
    # Counted once: as a receivable now, no longer as a reservation.
    assert (await api.ok("GET", "/credit/v1/customers/O"))["exposure"]["amount"] == 400_000


async def test_a_bankruptcy_opens_a_bad_debt_case_before_anything_is_overdue(
        system: tuple[Api, FastAPI]) -> None:
    api, app = system
    await register(api, "B")
    await invoice(api, "B", "B-1", 100_000, "2026-03-01")  # due 2026-03-31
    await api.ok("POST", "/credit/v1/customers/B/signals", {
        "kind": "bankruptcy", "observed_on": "2026-03-05", "note": "court notice"})
    await quiet(app)
    case = await case_of(api, "B")
    assert case["class"] == "bad_debt"
    assert (await check(api, "B"))["decision"] == "block"


async def test_a_new_salesperson_reaches_the_ledger_and_the_worklist(system: tuple[Api, FastAPI]) -> None:
    api, app = system
    await register(api, "S", salesperson="li.na")
    await invoice(api, "S", "S-1", 100_000, "2026-01-01")
    await night(api, app, "2026-02-05")
    await api.ok("PATCH", "/credit/v1/customers/S", {"salesperson": "zhao.lei"})
    await quiet(app)
    aging = await api.ok("GET", "/ledger/v1/aging?as_of=2026-02-05&group_by=salesperson")
    assert [row["salesperson"] for row in aging["salespeople"]] == ["zhao.lei"]
    tasks = await api.ok("GET", "/collections/v1/worklist?as_of=2026-02-05&collector=zhao.lei")
    assert tasks and all(t["customer_id"] == "S" for t in tasks)


async def test_a_bank_statement_pays_the_invoice_and_lifts_everything(system: tuple[Api, FastAPI]) -> None:
    api, app = system
    await register(api, "K")
    await invoice(api, "K", "INV-2026-0042", 250_000, "2026-01-01")  # due 2026-01-31
    await night(api, app, "2026-02-20")
    assert (await check(api, "K"))["decision"] == "cash_only"

    statement = camt053([Row(date(2026, 2, 21), 250_000, payer="Dealer K",
                             reference="INV-2026-0042", bank_reference="B-77")])
    imported = await api.ok("POST", "/reconciliation/v1/bank-statements", content=statement,
                            headers={"Content-Type": "application/xml"})
    (line,) = imported["lines"]
    assert (line["status"], line["customer_id"]) == ("matched", "K")
    await quiet(app)

    assert (await ledger_invoice(api, "INV-2026-0042"))["open_amount"] == 0
    assert (await check(api, "K"))["decision"] == "approve"
    assert await api.ok("GET", "/collections/v1/cases?customer_id=K&status=open") == []
    booked = await api.ok("GET", f"/reconciliation/v1/bank-lines/{line['id']}")
    assert booked["booked_on"] == "2026-02-21"


async def test_a_kept_agreement_lifts_the_collection_holds_and_a_broken_one_brings_them_back(
        system: tuple[Api, FastAPI]) -> None:
    api, app = system
    await register(api, "G")
    await invoice(api, "G", "G-1", 300_000, "2026-01-01")  # due 2026-01-31
    await night(api, app, "2026-02-20")  # 20 days: the visit step asks for cash only
    assert (await case_of(api, "G"))["level"] == 2
    causes = {(h["kind"], h["cause"]) for h in await api.ok("GET", "/credit/v1/customers/G/holds")}
    assert ("cash_only", "collection") in causes
    assert (await check(api, "G"))["decision"] == "cash_only"

    # Everything overdue goes into a signed plan: new business runs under the terms.
    await api.ok("POST", "/collections/v1/agreements", {
        "customer_id": "G", "invoice_ids": ["G-1"], "as_of": "2026-02-20", "instalments": [
            {"due_date": "2026-03-01", "amount": 150_000},
            {"due_date": "2026-03-25", "amount": 150_000}]})
    await quiet(app)
    assert await holds_of(api, "G") == set()
    answer = await check(api, "G")
    assert (answer["decision"], answer["reasons"]) == ("approve", ["within credit limit"])

    # The first instalment is missed: the agreement breaks, and the holds come back.
    assert (await night(api, app, "2026-03-02"))["agreements_broken"] == 1
    causes = {(h["kind"], h["cause"]) for h in await api.ok("GET", "/credit/v1/customers/G/holds")}
    assert ("cash_only", "collection") in causes
    assert (await check(api, "G"))["decision"] in ("cash_only", "block")
