"""A payment that kept a promise or paid an instalment bounces, through HTTP with every
service embedded: the ledger reverses it (a reversal item owes its amount again) and
collection-plan counts the promise or instalment as never paid: open again while its date
is to come, broken (escalating at once) once it has passed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from tests.e2e.collections_steps import case_of, check, invoice, night, pay, register
from tests.support.api import Api
from tests.support.collections import collections_api, dead_letters, emitted, quiet


@pytest.fixture
async def system(tmp_path: Path) -> AsyncIterator[tuple[Api, FastAPI]]:
    async with collections_api(tmp_path) as pair:
        yield pair
        assert await dead_letters(pair[1]) == []


async def promise(api: Api, customer_id: str, amount: int, promised_on: str) -> None:
    (call,) = (await case_of(api, customer_id))["open_tasks"]
    await api.ok("POST", f"/collections/v1/tasks/{call['id']}/outcome", {
        "outcome": "promised", "as_of": "2026-02-05",
        "promise": {"amount": amount, "currency": "CNY", "promised_on": promised_on}})


async def bounce(api: Api, app: FastAPI, payment_id: str, on: str) -> None:
    await api.ok("POST", f"/ledger/v1/payments/{payment_id}/reversal",
                 {"reversed_on": on, "reason": "cheque returned unpaid"})
    await quiet(app)


async def promises_kpi(api: Api) -> dict[str, Any]:
    return (await api.ok("GET", "/collections/v1/kpis?as_of=2026-02-28"))["total"]["promises"]


def history(case: dict[str, Any], kind: str) -> list[str]:
    return [e["detail"] for e in case["history"] if e["kind"] == kind]


async def test_a_promise_kept_by_a_payment_that_bounces_after_the_date_is_broken(
        system: tuple[Api, FastAPI]) -> None:
    api, app = system
    await register(api, "K")
    await invoice(api, "K", "K-1", 200_000, "2026-01-01")  # due 31 January
    await night(api, app, "2026-02-05")
    await promise(api, "K", 200_000, "2026-02-10")
    await pay(api, "K", "K-PAY", 200_000, "2026-02-09")
    await quiet(app)
    (closed,) = await api.ok("GET", "/collections/v1/cases?customer_id=K")
    assert closed["status"] == "closed"
    assert await promises_kpi(api) == {"kept": 1, "broken": 0, "kept_percent": 100.0}
    assert (await check(api, "K"))["decision"] == "approve"

    # Two days after the promised date the cheque comes back unpaid.
    await bounce(api, app, "K-PAY", "2026-02-12")
    case = await case_of(api, "K")  # a new case chases what the reversal owes again
    assert case["id"] != closed["id"]
    assert [(i["invoice_id"], i["open"]["amount"]) for i in case["invoices"]] == [
        ("REV-K-PAY", 200_000)]
    (kept,) = case["promises"]
    assert (kept["status"], kept["paid"], kept["resolved_on"]) == ("broken", 0, "2026-02-12")
    assert history(case, "payment_bounced") == [
        "payment K-PAY bounced: the promise of 200000 CNY for 2026-02-10 is broken, 0 in"]
    # Broken escalates at once: the visit (level 2) at 12 days, not at 15.
    assert (case["level"], case["broken_commitments"]) == (2, 1)
    (broken,) = await emitted(app, "collections.promise.broken")
    assert (broken["promise_id"], broken["paid"], broken["as_of"]) == (kept["id"], 0, "2026-02-12")
    assert (await check(api, "K"))["decision"] == "cash_only"
    assert await promises_kpi(api) == {"kept": 0, "broken": 1, "kept_percent": 0.0}
    old = await api.ok("GET", f"/collections/v1/cases/{closed['id']}")
    assert old["promises"] == []
    assert history(old, "promise_moved") == [
        f"payment K-PAY bounced: promise {kept['id']} goes on in case {case['id']}"]

    # The ledger's night and the sweep find nothing more to break or announce.
    assert (await night(api, app, "2026-02-13"))["promises_broken"] == 0
    assert len(await emitted(app, "collections.promise.broken")) == 1


async def test_a_promise_whose_payment_bounces_before_the_date_is_open_again(
        system: tuple[Api, FastAPI]) -> None:
    api, app = system
    await register(api, "R")
    await invoice(api, "R", "R-1", 200_000, "2026-01-01")
    await night(api, app, "2026-02-05")
    await promise(api, "R", 200_000, "2026-02-12")
    await pay(api, "R", "R-PAY", 200_000, "2026-02-09")
    await quiet(app)

    await bounce(api, app, "R-PAY", "2026-02-10")
    case = await case_of(api, "R")
    (reopened,) = case["promises"]
    assert (reopened["status"], reopened["paid"], reopened["resolved_on"]) == ("open", 0, None)
    assert history(case, "payment_bounced") == [
        "payment R-PAY bounced: the promise of 200000 CNY for 2026-02-12 is open again, 0 in"]
    assert await emitted(app, "collections.promise.broken") == []
    assert await promises_kpi(api) == {"kept": 0, "broken": 0, "kept_percent": None}

    # The date passes without the money: broken like any promise, and escalated at once.
    assert (await night(api, app, "2026-02-13"))["promises_broken"] == 1
    case = await case_of(api, "R")
    assert case["promises"][0]["status"] == "broken" and case["level"] == 2
    assert await promises_kpi(api) == {"kept": 0, "broken": 1, "kept_percent": 0.0}


async def test_an_instalment_paid_by_a_payment_that_bounces_after_its_date_breaks_the_agreement(
        system: tuple[Api, FastAPI]) -> None:
    api, app = system
    await register(api, "A")
    await invoice(api, "A", "A-OLD", 300_000, "2026-01-01")  # due 31 January
    await night(api, app, "2026-02-05")
    agreement = await api.ok("POST", "/collections/v1/agreements", {
        "customer_id": "A", "invoice_ids": ["A-OLD"], "as_of": "2026-02-05", "instalments": [
            {"due_date": "2026-02-20", "amount": 150_000},
            {"due_date": "2026-03-15", "amount": 150_000}]})
    await pay(api, "A", "A-PAY-1", 150_000, "2026-02-19")
    await night(api, app, "2026-02-21")
    assert (await case_of(api, "A"))["level"] == 1  # in the plan: A-OLD waits

    await bounce(api, app, "A-PAY-1", "2026-02-24")
    (broken,) = await emitted(app, "collections.agreement.broken")
    assert (broken["missed_due_date"], broken["missed_amount"], broken["as_of"]) == (
        "2026-02-20", 150_000, "2026-02-24")
    assert broken["invoice_ids"] == ["A-OLD", "REV-A-PAY-1"]
    shown = await api.ok("GET", f"/collections/v1/agreements/{agreement['id']}?as_of=2026-02-24")
    assert shown["status"] == "broken" and shown["paid"]["amount"] == 0
    assert [i["status"] for i in shown["instalments"]] == ["missed", "due"]
    case = await case_of(api, "A")
    assert history(case, "payment_bounced") == [
        f"agreement {agreement['id']}: payment A-PAY-1 bounced: REV-A-PAY-1 owes its 150000 "
        "CNY again, the instalment of 2026-02-20 is missed"]
    # Escalation resumes at once: A-OLD and the reversal item are 24 days late.
    assert (case["level"], case["broken_commitments"]) == (2, 1)
    assert all(i["paused"] == [] for i in case["invoices"])
    assert (await night(api, app, "2026-02-25"))["agreements_broken"] == 0


async def test_a_completed_agreement_whose_last_payment_bounces_runs_on_until_missed(
        system: tuple[Api, FastAPI]) -> None:
    api, app = system
    await register(api, "P")
    await invoice(api, "P", "P-1", 100_000, "2026-01-01")
    await night(api, app, "2026-02-05")
    agreement = await api.ok("POST", "/collections/v1/agreements", {
        "customer_id": "P", "invoice_ids": ["P-1"], "as_of": "2026-02-05", "instalments": [
            {"due_date": "2026-02-20", "amount": 50_000}, {"due_date": "2026-03-10", "amount": 50_000}]})
    await pay(api, "P", "P-PAY-1", 50_000, "2026-02-19")
    await pay(api, "P", "P-PAY-2", 50_000, "2026-03-05")
    await quiet(app)
    assert len(await emitted(app, "collections.agreement.completed")) == 1

    # Before the last instalment's date: the agreement runs again and shields what is owed.
    await bounce(api, app, "P-PAY-2", "2026-03-08")
    shown = await api.ok("GET", f"/collections/v1/agreements/{agreement['id']}?as_of=2026-03-08")
    assert (shown["status"], shown["ended_on"], shown["paid"]["amount"]) == ("active", None, 50_000)
    assert [i["status"] for i in shown["instalments"]] == ["paid", "due"]
    case = await case_of(api, "P")
    (reversal,) = [i for i in case["invoices"] if i["invoice_id"] == "REV-P-PAY-2"]
    assert [p["reason"] for p in reversal["paused"]] == ["agreement"]
    assert case["level"] == 0 and [a["id"] for a in case["agreements"]] == [agreement["id"]]
    assert history(case, "payment_bounced") == [
        f"agreement {agreement['id']}: payment P-PAY-2 bounced: REV-P-PAY-2 owes its 50000 CNY "
        "again, the agreement runs on"]
    assert await emitted(app, "collections.agreement.broken") == []

    # The date passes unpaid: the agreement's rule for a missed instalment applies.
    assert (await night(api, app, "2026-03-11"))["agreements_broken"] == 1
    (broken,) = await emitted(app, "collections.agreement.broken")
    assert (broken["missed_due_date"], broken["missed_amount"]) == ("2026-03-10", 50_000)
    case = await case_of(api, "P")
    assert case["level"] == 3  # the reversal item is as old as P-1: 39 days, supply pressure
