"""Whole collection cases through HTTP over days of `as_of` sweeps, in the embedded mode
(credit and the ledger run for real; reconciliation's dispute events are fed in)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from pathlib import Path

import pytest
from fastapi import FastAPI

from shared.events import contracts as ev
from tests.e2e.collections_steps import case_of, check, invoice, night, pay, register
from tests.support.api import Api
from tests.support.collections import (
    APPROVER_KEY,
    COLLECTOR_KEY,
    collections_api,
    dead_letters,
    emitted,
    publish,
    quiet,
)


@asynccontextmanager
async def _system(tmp_path: Path) -> AsyncIterator[tuple[Api, FastAPI]]:
    async with collections_api(tmp_path) as pair:
        yield pair
        assert await dead_letters(pair[1]) == []


@pytest.fixture
async def system(tmp_path: Path) -> AsyncIterator[tuple[Api, FastAPI]]:
    async with _system(tmp_path) as pair:
        yield pair


@pytest.fixture
async def system_charging_interest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                   ) -> AsyncIterator[tuple[Api, FastAPI]]:
    """A company whose contracts give 12 % a year of late interest (none is charged unset)."""
    monkeypatch.setenv("RECOUP_COLLECTIONS_INTEREST_RATE_BASIS_POINTS", "1200")
    async with _system(tmp_path) as pair:
        yield pair


async def test_a_customer_slides_from_reminder_to_stopped_shipments(
        system_charging_interest: tuple[Api, FastAPI]) -> None:
    api, app = system_charging_interest
    await register(api, "D1")
    await invoice(api, "D1", "D1-INV-1", 300_000, "2026-01-01")  # due 2026-01-31

    # Three days before the due date: the customer is asked to confirm the amount.
    swept = await night(api, app, "2026-01-28")
    assert swept["reminders"] == 1
    (reminder,) = await emitted(app, "collections.reminder.issued")
    assert reminder["invoice_ids"] == ["D1-INV-1"] and reminder["amount"] == 300_000
    assert reminder["due_date"] == "2026-01-31"
    (task,) = await api.ok("GET", "/collections/v1/worklist?as_of=2026-01-28&collector=li.na")
    assert task["kind"] == "reminder" and task["falling_due"] == [{"amount": 300_000, "currency": "CNY"}]
    assert (await night(api, app, "2026-01-29"))["reminders"] == 0  # once per invoice

    # A day late: a call; shipping goes on. The reminder is over.
    await night(api, app, "2026-02-01")
    assert [t["kind"] for t in await api.ok("GET", "/collections/v1/worklist?as_of=2026-02-01")] == [
        "call"]
    case = await case_of(api, "D1")
    assert (case["level"], case["class"]) == (1, "dunning")
    assert [t["kind"] for t in case["open_tasks"]] == ["call"]
    assert (await check(api, "D1"))["decision"] == "approve"

    # 15 days: visit and written notice; cash only, incentives suspended.
    await night(api, app, "2026-02-15")
    case = await case_of(api, "D1")
    assert case["level"] == 2
    assert {"visit", "written_notice"} <= {t["kind"] for t in case["open_tasks"]}
    escalated = await emitted(app, "collections.case.escalated")
    assert escalated[-1]["requested_holds"] == ["cash_only", "suspend_incentives"]
    assert (await check(api, "D1"))["decision"] == "cash_only"
    # The collector hands the notice over the next day: late interest runs after that.
    notice = next(t for t in case["open_tasks"] if t["kind"] == "written_notice")
    await api.ok("POST", f"/collections/v1/tasks/{notice['id']}/outcome",
                 {"outcome": "reached", "as_of": "2026-02-16"}, key=COLLECTOR_KEY)
    assert (await case_of(api, "D1"))["notice_on"] == "2026-02-16"

    # 30 days: supply pressure; 60: final demand, shipments stop.
    await night(api, app, "2026-03-02")
    assert (await case_of(api, "D1"))["level"] == 3
    await night(api, app, "2026-04-01")
    case = await case_of(api, "D1")
    assert (case["level"], case["class"]) == (4, "dunning")
    last = (await emitted(app, "collections.case.escalated"))[-1]
    assert last["step"] == "final_demand" and "stop_shipments" in last["requested_holds"]
    assert (await check(api, "D1"))["decision"] == "block"

    # The same night again changes nothing.
    events = len(await emitted(app, "collections.case.escalated"))
    again = await night(api, app, "2026-04-01")
    assert again["escalated"] == 0 and again["runs"] == 2
    assert len(await emitted(app, "collections.case.escalated")) == events
    history = [e["kind"] for e in case["history"]]
    assert history.count("escalated") == 4 and history[0] == "opened"

    # Late interest ran from the day after the written notice was handed over: 17-28
    # February, 12 days of 3,000.00 at 12 % a year = 11.8356..., rounded down; charged once,
    # at the month's end.
    interest = await emitted(app, "collections.interest.charged")
    assert [(c["amount"], c["kind"], c["invoice_id"], c["reason"][:21]) for c in interest] == [
        (1183, "interest", "D1-INV-1", "late interest 2026-02"),
        (3057, "interest", "D1-INV-1", "late interest 2026-03"),  # 31 days; once, despite the re-run
    ]


async def test_a_promise_kept_and_one_broken(system: tuple[Api, FastAPI]) -> None:
    api, app = system
    for customer_id in ("K", "B"):
        await register(api, customer_id)
        await invoice(api, customer_id, f"{customer_id}-1", 200_000, "2026-01-01")
    await night(api, app, "2026-02-05")

    for customer_id, amount in (("K", 200_000), ("B", 100_000)):
        (call,) = (await case_of(api, customer_id))["open_tasks"]
        await api.ok("POST", f"/collections/v1/tasks/{call['id']}/outcome", {
            "outcome": "promised", "as_of": "2026-02-05", "note": "will pay on Tuesday",
            "promise": {"amount": amount, "currency": "CNY", "promised_on": "2026-02-10"}})
    assert len(await emitted(app, "collections.promise.made")) == 2

    # K pays all it promised before the date: kept at once, and the case closes.
    await pay(api, "K", "K-PAY", 200_000, "2026-02-09")
    await quiet(app)
    (kept,) = await emitted(app, "collections.promise.kept")
    assert kept["customer_id"] == "K" and kept["kept_on"] == "2026-02-09"
    cases = await api.ok("GET", "/collections/v1/cases?customer_id=K")
    assert cases[0]["status"] == "closed"

    # B pays less than it promised: flagged at once, with a task to challenge it.
    await pay(api, "B", "B-PAY", 40_000, "2026-02-08")
    await quiet(app)
    case = await case_of(api, "B")
    (promise,) = case["promises"]
    assert promise["short_on"] == "2026-02-08" and promise["paid"] == 40_000
    assert any("challenge the partial payment: 40000 of 100000" in t["action"]
               for t in case["open_tasks"])

    # The date passes short: broken, and the case escalates at once (11 days, not 15).
    swept = await night(api, app, "2026-02-11")
    assert swept["promises_broken"] == 1
    (broken,) = await emitted(app, "collections.promise.broken")
    assert (broken["customer_id"], broken["paid"], broken["as_of"]) == ("B", 40_000, "2026-02-11")
    case = await case_of(api, "B")
    assert case["level"] == 2 and case["broken_commitments"] == 1
    assert case["promises"][0]["status"] == "broken"
    assert (await night(api, app, "2026-02-11"))["promises_broken"] == 0


async def test_agreements_accepted_refused_and_broken_by_a_missed_instalment(
        system: tuple[Api, FastAPI]) -> None:
    api, app = system
    await register(api, "A")
    await invoice(api, "A", "A-OLD", 300_000, "2026-01-01")  # due 31 January
    await invoice(api, "A", "A-NEW", 100_000, "2026-02-01")  # due 3 March
    await night(api, app, "2026-02-05")
    assert (await case_of(api, "A"))["level"] == 1

    async def refused(body: dict, field: str, words: str) -> None:
        response = await api.post("/collections/v1/agreements", {
            "customer_id": "A", "as_of": "2026-02-05", **body})
        assert response.status_code == 422, response.text
        problem = response.json()
        assert problem["errors"][0]["field"] == field, problem
        assert words in problem["detail"], problem

    plan = [{"due_date": "2026-02-20", "amount": 150_000},
            {"due_date": "2026-03-15", "amount": 150_000}]
    # New business is never folded into the arrears.
    await refused({"invoice_ids": ["A-OLD", "A-NEW"], "instalments": plan}, "invoice_ids[1]",
                  "not overdue")
    # It covers what it names, exactly.
    await refused({"invoice_ids": ["A-OLD"], "instalments": plan[:1]}, "instalments",
                  "add up to 150000")
    # No longer between instalments than the terms give new business (net 30).
    await refused({"invoice_ids": ["A-OLD"], "instalments": [
        {"due_date": "2026-02-20", "amount": 150_000},
        {"due_date": "2026-03-25", "amount": 150_000}]}, "instalments[1].due_date", "30 days")
    await refused({"invoice_ids": ["A-OLD"], "instalments": [
        {"due_date": "2026-02-01", "amount": 300_000}]}, "instalments[0].due_date",
        "before the signing")
    assert await emitted(app, "collections.agreement.signed") == []

    agreement = await api.ok("POST", "/collections/v1/agreements", {
        "customer_id": "A", "invoice_ids": ["A-OLD"], "instalments": plan, "as_of": "2026-02-05"})
    assert agreement["total"] == {"amount": 300_000, "currency": "CNY"}
    (signed,) = await emitted(app, "collections.agreement.signed")
    assert signed["invoice_ids"] == ["A-OLD"] and signed["signed_on"] == "2026-02-05"
    assert [i["amount"] for i in signed["instalments"]] == [150_000, 150_000]

    # The first instalment comes in. A-OLD stops escalating; A-NEW runs under the terms.
    await pay(api, "A", "A-PAY-1", 150_000, "2026-02-19",
              allocations=[{"invoice_id": "A-OLD", "amount": 150_000}])
    await night(api, app, "2026-03-10")  # A-OLD 38 days late, A-NEW 7
    case = await case_of(api, "A")
    assert case["level"] == 1, "A-OLD's 38 days would be supply pressure, but it is in the plan"
    paused = {i["invoice_id"]: [p["reason"] for p in i["paused"]] for i in case["invoices"]}
    assert paused == {"A-OLD": ["agreement"], "A-NEW": []}
    shown = await api.ok("GET", f"/collections/v1/agreements/{agreement['id']}?as_of=2026-03-10")
    assert [i["status"] for i in shown["instalments"]] == ["paid", "due"]
    assert shown["paid"] == {"amount": 150_000, "currency": "CNY"}

    # The second instalment is missed: broken, and escalation resumes where it was.
    swept = await night(api, app, "2026-03-16")
    assert swept["agreements_broken"] == 1
    (broken,) = await emitted(app, "collections.agreement.broken")
    assert (broken["missed_due_date"], broken["missed_amount"]) == ("2026-03-15", 150_000)
    case = await case_of(api, "A")
    assert case["level"] == 3  # A-OLD is 44 days late: supply pressure
    assert all(i["paused"] == [] for i in case["invoices"])
    assert case["agreements"][0]["status"] == "broken"


async def test_an_agreement_paid_in_full_is_completed(system: tuple[Api, FastAPI]) -> None:
    api, app = system
    await register(api, "P")
    await invoice(api, "P", "P-1", 100_000, "2026-01-01")
    await night(api, app, "2026-02-05")
    await api.ok("POST", "/collections/v1/agreements", {
        "customer_id": "P", "invoice_ids": ["P-1"], "as_of": "2026-02-05", "instalments": [
            {"due_date": "2026-02-20", "amount": 50_000}, {"due_date": "2026-03-10", "amount": 50_000}]})
    await pay(api, "P", "P-PAY-1", 50_000, "2026-02-19")
    await pay(api, "P", "P-PAY-2", 50_000, "2026-03-09")
    await quiet(app)
    (completed,) = await emitted(app, "collections.agreement.completed")
    assert completed["completed_on"] == "2026-03-09"
    assert (await api.ok("GET", "/collections/v1/cases?customer_id=P"))[0]["status"] == "closed"
    assert (await night(api, app, "2026-03-20"))["agreements_broken"] == 0


async def test_a_dispute_pauses_the_disputed_invoice_only(system: tuple[Api, FastAPI]) -> None:
    api, app = system
    await register(api, "S")
    await invoice(api, "S", "S-X", 100_000, "2026-01-01")
    await invoice(api, "S", "S-Y", 100_000, "2026-01-01")
    await night(api, app, "2026-02-05")
    await publish(app, ev.StatementDisputed(
        customer_id="S", statement_id="ST-1", dispute_id="DSP-1", invoice_ids=[],
        lines=[ev.DisputedLine(document_id="S-X", reason="goods returned")],
        reason="S-X was returned"))
    await pay(api, "S", "S-PAY", 100_000, "2026-02-06",
              allocations=[{"invoice_id": "S-Y", "amount": 100_000}])
    await quiet(app)

    # Only the disputed S-X is overdue: at 20 days it would be a visit, but it waits.
    await night(api, app, "2026-02-20")
    case = await case_of(api, "S")
    assert case["level"] == 1
    assert [p["reason"] for p in case["invoices"][0]["paused"]] == ["dispute"]

    await publish(app, ev.DisputeResolved(
        customer_id="S", statement_id="ST-1", dispute_id="DSP-1", invoice_ids=["S-X"],
        resolution="rejected", note="the goods were not returned", resolved_by="key:x"))
    await quiet(app)
    assert (await case_of(api, "S"))["level"] == 2  # resumes at once, at the case's date


async def test_bad_debt_is_written_off_with_a_persons_approval(system: tuple[Api, FastAPI]) -> None:
    api, app = system
    await register(api, "W")
    await invoice(api, "W", "W-1", 500_000, "2026-01-01")
    await invoice(api, "W", "W-2", 80_000, "2026-01-05")
    await night(api, app, "2026-02-05")

    # Not bad debt yet: nothing to propose.
    response = await api.post("/collections/v1/write-offs", {
        "invoice_id": "W-1", "reason": "hopeless", "as_of": "2026-02-05"}, key=COLLECTOR_KEY)
    assert response.status_code == 422 and "classed dunning" in response.text

    # Credit hears of a bankruptcy and asks to collect at once: bad debt, shipments stop.
    await publish(app, ev.CollectionRequested(
        customer_id="W", reason="bankruptcy filed", as_of=date(2026, 2, 6),
        signal_kind="bankruptcy", receivable_class="bad_debt"))
    await quiet(app)
    case = await case_of(api, "W")
    assert (case["class"], case["level"]) == ("bad_debt", 7)
    assert {"pre_litigation", "court"} <= {t["kind"] for t in case["open_tasks"]}
    assert (await emitted(app, "collections.case.escalated"))[-1]["requested_holds"][-1] == "stop_shipments"
    assert (await check(api, "W"))["decision"] == "block"

    proposal = await api.ok("POST", "/collections/v1/write-offs", {
        "invoice_id": "W-1", "reason": "debtor bankrupt, no assets", "as_of": "2026-02-10"},
        key=COLLECTOR_KEY)
    assert proposal["status"] == "proposed" and proposal["amount"] == 500_000
    approve = f"/collections/v1/write-offs/{proposal['id']}/approve"
    # A collector may propose, not approve.
    assert (await api.post(approve, {"as_of": "2026-02-11"}, key=COLLECTOR_KEY)).status_code == 403
    approved = await api.ok("POST", approve, {"as_of": "2026-02-11", "note": "court confirmed"},
                            key=APPROVER_KEY)
    assert approved["status"] == "approved" and approved["decided_by"].startswith("key:")
    (order,) = await emitted(app, "collections.write_off.approved")
    assert (order["write_off_id"], order["invoice_id"], order["amount"], order["written_off_on"]) == (
        proposal["id"], "W-1", 500_000, "2026-02-11")
    assert (await api.post(approve, {"as_of": "2026-02-11"}, key=APPROVER_KEY)).status_code == 409

    # Four eyes: whoever proposed does not approve.
    own = await api.ok("POST", "/collections/v1/write-offs", {
        "invoice_id": "W-2", "reason": "bankrupt", "as_of": "2026-02-10"})
    response = await api.post(f"/collections/v1/write-offs/{own['id']}/approve", {})
    assert response.status_code == 409 and "four eyes" in response.text

    # The ledger's rules refuse it: nothing booked, and the case shows why.
    await publish(app, ev.PostingRefused(
        customer_id="W", document_kind="write_off", document_id=proposal["id"],
        reason="the period is closed", source_event_id="x",
        source_event_type="collections.write_off.approved"))
    await quiet(app)
    (shown,) = await api.ok("GET", "/collections/v1/write-offs?customer_id=W&status=refused")
    assert shown["note"] == "the ledger refused: the period is closed"
    assert "write_off_refused" in [e["kind"] for e in (await case_of(api, "W"))["history"]]


async def test_a_year_past_due_the_strategy_proposes_the_write_off(system: tuple[Api, FastAPI]) -> None:
    api, app = system
    await register(api, "Y")
    await invoice(api, "Y", "Y-1", 70_000, "2025-01-01")  # due 31 January 2025
    await night(api, app, "2026-02-01")  # 366 days
    case = await case_of(api, "Y")
    assert (case["class"], case["level"]) == ("bad_debt", 8)
    (proposal,) = await api.ok("GET", "/collections/v1/write-offs?status=proposed")
    assert (proposal["invoice_id"], proposal["proposed_by"], proposal["amount"]) == (
        "Y-1", "strategy", 70_000)
    await api.ok("POST", f"/collections/v1/write-offs/{proposal['id']}/approve", {"as_of": "2026-02-02"},
                 key=APPROVER_KEY)
    assert len(await emitted(app, "collections.write_off.approved")) == 1
