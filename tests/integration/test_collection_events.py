"""Collection-plan when news comes twice, late or out of order, refers to what it does not
know yet, or is a refusal: nothing is dead-lettered, stale news changes nothing."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from services.collection_plan.tables import Charge, CustomerView, InvoiceView, Promise, Task
from shared.events import contracts as ev
from shared.events import new_event
from tests.support.collections import (
    collections_alone,
    feed,
    hand_over_notice,
    overdue,
    registered,
)
from tests.support.outbox import emitted as announced

D = date.fromisoformat


async def rows(runtime: Any, model: Any, *where: Any) -> list[Any]:
    async with runtime.read_sessions() as session:
        return list((await session.execute(select(model).where(*where))).scalars())


async def no_dead_letters(runtime: Any) -> None:
    table = runtime.infra.dead_letters
    async with runtime.read_sessions() as session:
        assert (await session.execute(select(table.c.type, table.c.error))).all() == []


def updated(version: int, salesperson: str) -> ev.CustomerUpdated:
    return ev.CustomerUpdated(customer_id="C1", version=version, name=f"Dealer v{version}",
                              salesperson=salesperson, changed=["salesperson"])


async def test_dossier_news_is_version_ordered_and_tasks_follow_the_salesperson(tmp_path: Path) -> None:
    async with collections_alone("sqlite", tmp_path) as (runtime, _):
        await feed(runtime, *overdue("C1", "I1", 1_000, due=D("2026-01-31"), as_of=D("2026-02-05")),
                   updated(2, "wang.wei"), registered("C1", salesperson="li.na"), updated(1, "old"))
        (view,) = await rows(runtime, CustomerView)
        assert (view.salesperson, view.name, view.dossier_version) == ("wang.wei", "Dealer v2", 2)
        assert {t.collector for t in await rows(runtime, Task)} == {"wang.wei"}
        await feed(runtime, updated(3, "zhao.min"))
        assert {t.collector for t in await rows(runtime, Task)} == {"zhao.min"}
        await no_dead_letters(runtime)


async def test_a_payment_heard_before_its_invoice_still_counts(tmp_path: Path) -> None:
    async with collections_alone("sqlite", tmp_path) as (runtime, _):
        payment = ev.PaymentReceived(
            customer_id="C1", payment_id="P1", amount=400, currency="CNY",
            received_on=D("2026-01-10"), allocations=[ev.Allocation(invoice_id="I1", amount=400)],
            unapplied=0)
        event = new_event("recoup/ledger", payment)
        await runtime.transport.publish(event)
        await runtime.transport.publish(event)  # redelivered: the inbox drops it
        await feed(runtime, ev.InvoicePosted(
            customer_id="C1", invoice_id="I1", amount=1_000, currency="CNY",
            issue_date=D("2026-01-01"), due_date=D("2026-01-31")))
        (invoice,) = await rows(runtime, InvoiceView)
        assert (invoice.open_amount, invoice.settled_on) == (600, None)
        await no_dead_letters(runtime)


async def test_a_rating_as_of_an_earlier_date_is_ignored(tmp_path: Path) -> None:
    async with collections_alone("sqlite", tmp_path) as (runtime, _):
        def rating(klass: str, on: str | None) -> ev.RatingChanged:
            return ev.RatingChanged(customer_id="C1", rating_class=klass, score=1, reasons=[],
                                    as_of=D(on) if on else None)
        await feed(runtime, rating("B", "2026-03-01"), rating("E", "2026-02-01"))
        assert (await rows(runtime, CustomerView))[0].rating_class == "B"
        await feed(runtime, rating("D", None))  # undated: the newest delivered counts
        assert (await rows(runtime, CustomerView))[0].rating_class == "D"


async def test_news_about_the_unknown_is_no_failure(tmp_path: Path) -> None:
    async with collections_alone("sqlite", tmp_path) as (runtime, client):
        await feed(
            runtime,
            ev.DisputeResolved(customer_id="C9", statement_id="S", dispute_id="DSP", invoice_ids=["I9"],
                               resolution="upheld", note="", resolved_by="x"),
            ev.StatementDisputed(customer_id="C9", statement_id="S", dispute_id="DSP",
                                 invoice_ids=["I9"], reason="late news"),
            ev.PostingRefused(customer_id="C9", document_kind="interest", document_id="nope",
                              reason="closed", source_event_id="e", source_event_type="t"),
            ev.CollectionRequested(customer_id="C9", reason="closure", as_of=D("2026-03-01")),
            ev.InvoiceSettled(customer_id="C9", invoice_id="I404", currency="CNY",
                              settled_on=D("2026-03-01")),
        )
        await no_dead_letters(runtime)
        # The resolution came first: the late dispute pauses nothing.
        detail = await client.get("/v1/cases?customer_id=C9")
        assert detail.json() == []  # nothing owed: a signal opens no case


async def test_dormant_customers_are_found_by_the_sweep_once(tmp_path: Path) -> None:
    async with collections_alone("sqlite", tmp_path) as (runtime, client):
        await feed(runtime, registered("Z"), ev.InvoicePosted(
            customer_id="Z", invoice_id="Z1", amount=9_000, currency="CNY",
            issue_date=D("2026-01-01"), due_date=D("2026-09-30")),  # long terms: not yet due
            ev.BalanceChanged(customer_id="Z", version=1, as_of=D("2026-01-01"), balances=[
                ev.CurrencyBalance(currency="CNY", balance=9_000, overdue=0)]))
        first = (await client.post("/v1/sweeps", json={"as_of": "2026-06-29"})).json()
        assert first["dormant"] == 0  # 179 days
        second = (await client.post("/v1/sweeps", json={"as_of": "2026-06-30"})).json()
        assert second["dormant"] == 1
        (case,) = (await client.get("/v1/cases?customer_id=Z")).json()
        assert (case["class"], case["level"]) == ("dormant", 5)
        assert [t["kind"] for t in case["open_tasks"]] == ["problem_account_review"]
        assert (await client.post("/v1/sweeps", json={"as_of": "2026-07-01"})).json()["dormant"] == 0


async def test_a_sweep_for_a_day_that_has_not_come_is_refused(tmp_path: Path) -> None:
    async with collections_alone("sqlite", tmp_path) as (runtime, client):
        await feed(runtime, registered("C1"),
                   *overdue("C1", "I1", 100_000, due=D("2026-01-31"), as_of=D("2026-02-20")))
        before = (await client.get("/v1/cases?customer_id=C1")).json()
        response = await client.post("/v1/sweeps", json={"as_of": "2999-01-01"})
        assert response.status_code == 422 and response.json()["errors"][0]["field"] == "as_of"
        assert (await client.get("/v1/cases?customer_id=C1")).json() == before  # nothing moved


async def test_no_late_interest_is_charged_until_the_company_sets_its_rate(tmp_path: Path) -> None:
    async with collections_alone("sqlite", tmp_path) as (runtime, client):
        await feed(runtime, registered("C1"),
                   *overdue("C1", "I1", 100_000, due=D("2026-01-31"), as_of=D("2026-02-20")))
        swept = (await client.post("/v1/sweeps", json={"as_of": "2026-03-02"})).json()
        assert (swept["interest_charged"], swept["fees_charged"]) == (0, 0)
        assert await rows(runtime, Charge) == []


async def test_interest_and_fees_are_charged_once_and_a_refusal_shows_on_the_case(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECOUP_COLLECTIONS_LATE_FEES", '{"CNY": 5000}')
    monkeypatch.setenv("RECOUP_COLLECTIONS_INTEREST_RATE_BASIS_POINTS", "1200")
    async with collections_alone("sqlite", tmp_path) as (runtime, client):
        await feed(runtime, registered("C1"),
                   *overdue("C1", "I1", 100_000, due=D("2026-01-31"), as_of=D("2026-02-20")))
        await hand_over_notice(client, "C1", "2026-02-20")
        sweeps = [(await client.post("/v1/sweeps", json={"as_of": day})).json()
                  for day in ("2026-03-02", "2026-03-02", "2026-02-25", "2026-03-03")]
        assert [s["interest_charged"] for s in sweeps] == [1, 0, 0, 0]  # once per month, ever
        assert [s["fees_charged"] for s in sweeps] == [1, 0, 0, 0]  # once per notice
        fee, charge = sorted(await rows(runtime, Charge), key=lambda c: c.kind)
        assert (fee.kind, fee.amount, fee.period) == ("fee", 5_000, "notice")
        # 8 days (21-28 February) of 1,000.00 at 12 % a year: 263.01..., rounded down.
        assert (charge.kind, charge.amount, charge.days, charge.period) == ("interest", 263, 8, "2026-02")
        await feed(runtime, ev.PostingRefused(
            customer_id="C1", document_kind="interest", document_id=charge.id,
            reason="interest is not charged to this customer", source_event_id="e",
            source_event_type="collections.interest.charged"))
        (case,) = (await client.get("/v1/cases?customer_id=C1")).json()
        detail = (await client.get(f"/v1/cases/{case['id']}")).json()
        assert sorted((c["kind"], c["status"], c["refused_reason"]) for c in detail["charges"]) == [
            ("fee", "charged", None), ("interest", "refused", "interest is not charged to this customer")]
        assert detail["history"][-1]["kind"] == "interest_refused"
        await no_dead_letters(runtime)


async def test_outcomes_move_the_case(tmp_path: Path) -> None:
    async with collections_alone("sqlite", tmp_path) as (runtime, client):
        await feed(runtime, registered("C1"),
                   *overdue("C1", "I1", 100_000, due=D("2026-01-31"), as_of=D("2026-02-03")))

        async def case() -> dict[str, Any]:
            (found,) = (await client.get("/v1/cases?customer_id=C1")).json()
            return found

        async def outcome(task_id: str, what: str, **body: Any) -> Any:
            return await client.post(f"/v1/tasks/{task_id}/outcome",
                                     json={"outcome": what, "as_of": "2026-02-03", **body})

        (call,) = (await case())["open_tasks"]
        # No answer: tried again the next day, escalated after the third attempt.
        assert (await outcome(call["id"], "no_answer")).json()["not_before"] == "2026-02-04"
        await outcome(call["id"], "no_answer")
        assert (await case())["level"] == 1
        assert (await outcome(call["id"], "no_answer")).json()["status"] == "done"
        assert (await case())["level"] == 2
        # A refusal escalates at once.
        visit = next(t for t in (await case())["open_tasks"] if t["kind"] == "visit")
        await outcome(visit["id"], "refused", note="says it owes nothing")
        assert (await case())["level"] == 3
        # "We paid": the payment gets checked a few days later.
        pressure = next(t for t in (await case())["open_tasks"] if t["kind"] == "supply_pressure")
        await outcome(pressure["id"], "paid")
        check = next(t for t in (await case())["open_tasks"] if t["step"] == "payment_check")
        assert check["not_before"] == "2026-02-06"
        worklist = (await client.get("/v1/worklist?as_of=2026-02-03")).json()
        assert check["id"] not in [t["id"] for t in worklist]
        # A promise needs its terms; a task is done once.
        response = await outcome(check["id"], "promised")
        assert response.status_code == 422 and response.json()["errors"][0]["field"] == "promise"
        response = await outcome(pressure["id"], "reached")
        assert response.status_code == 409


async def test_the_daily_job_sweeps_a_date_and_twice_changes_nothing(tmp_path: Path) -> None:
    async with collections_alone("sqlite", tmp_path) as (runtime, _):
        await feed(runtime, registered("C1"),
                   *overdue("C1", "I1", 100_000, due=D("2026-01-31"), as_of=D("2026-02-01")))
        (job,) = runtime.definition.jobs
        assert job.name == "collection-sweep"
        first = await job.run(runtime, D("2026-02-16"))
        again = await job.run(runtime, D("2026-02-16"))
        assert (first["escalated"], again["escalated"], again["runs"]) == (1, 0, 2)


async def test_a_case_that_jumps_steps_still_gets_the_notice_and_the_write_off_it_passed(
        tmp_path: Path) -> None:
    """Nights skipped, or a case opened late: the steps its days passed still give their
    written notice (late interest runs after it) and their write-off proposal."""
    async with collections_alone("sqlite", tmp_path) as (runtime, client):
        response = await client.post("/v1/strategies", json={
            "id": "short", "name": "Write off early", "rank": 10,
            "segment": {"rating_classes": ["E"]}, "steps": [
                {"name": "call", "trigger": {"days_past_due": 1}, "receivable_class": "dunning",
                 "tasks": [{"action": "call", "text": "call"}]},
                {"name": "write_off", "trigger": {"days_past_due": 100},
                 "receivable_class": "bad_debt",
                 "tasks": [{"action": "write_off_proposal", "text": "review the proposal"}]},
                {"name": "court", "trigger": {"days_past_due": 200}, "receivable_class": "bad_debt",
                 "tasks": [{"action": "court", "text": "file the claim"}]}]})
        assert response.status_code == 201, response.text
        await feed(runtime, registered("C1"),
                   *overdue("C1", "I1", 100_000, due=D("2026-01-31"), as_of=D("2026-02-01")),
                   registered("E1"), ev.RatingChanged(customer_id="E1", rating_class="E", score=1,
                                                      reasons=[], as_of=D("2026-01-01")),
                   *overdue("E1", "E1-1", 70_000, due=D("2025-01-31"), as_of=D("2025-02-01")))
        # Nobody swept from 1 February to 10 March: C1 jumps from the call to supply pressure.
        await client.post("/v1/sweeps", json={"as_of": "2026-03-10"})
        (case,) = (await client.get("/v1/cases?customer_id=C1")).json()
        assert case["level"] == 3
        assert [t["kind"] for t in case["open_tasks"]] == ["call", "written_notice",
                                                           "supply_pressure"]
        (case,) = (await client.get("/v1/cases?customer_id=E1")).json()
        assert case["level"] == 3
        (proposal,) = (await client.get("/v1/write-offs?status=proposed")).json()
        assert (proposal["invoice_id"], proposal["proposed_by"]) == ("E1-1", "strategy")


async def test_late_interest_runs_after_the_notice_is_handed_over_not_when_it_is_asked_for(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECOUP_COLLECTIONS_INTEREST_RATE_BASIS_POINTS", "3650")  # 100 a day on 100,000
    async with collections_alone("sqlite", tmp_path) as (runtime, client):
        await feed(runtime, registered("C1"),
                   *overdue("C1", "I1", 100_000, due=D("2026-01-31"), as_of=D("2026-02-15")))

        async def case() -> dict[str, Any]:
            (found,) = (await client.get("/v1/cases?customer_id=C1")).json()
            return found

        async def notice_task() -> dict[str, Any]:
            (task,) = [t for t in (await case())["open_tasks"] if t["kind"] == "written_notice"]
            return task

        async def outcome(task_id: str, what: str, as_of: str) -> Any:
            return await client.post(f"/v1/tasks/{task_id}/outcome",
                                     json={"outcome": what, "as_of": as_of})

        assert ((await case())["level"], (await case())["notice_on"]) == (2, None)
        # Nobody has handed the notice over: February earns nothing.
        assert (await client.post("/v1/sweeps", json={"as_of": "2026-03-02"})).json()[
            "interest_charged"] == 0
        # Not found three times: the case escalates, and the notice is still to be handed over.
        task = await notice_task()
        for _ in range(3):
            await outcome(task["id"], "no_answer", "2026-03-03")
        assert (await case())["level"] == 4  # supply pressure since 2 March, then one more
        task = await notice_task()
        response = await outcome(task["id"], "reached", "2026-03-02")  # before it was asked for
        assert response.status_code == 422 and response.json()["errors"][0]["field"] == "as_of"
        assert (await outcome(task["id"], "reached", "2026-03-05")).status_code == 200
        assert (await case())["notice_on"] == "2026-03-05"
        await client.post("/v1/sweeps", json={"as_of": "2026-04-01"})
        (charge,) = await rows(runtime, Charge)
        assert (charge.period, charge.days, charge.amount) == ("2026-03", 26, 2_600)  # 6-31 March


async def test_no_late_fee_on_an_invoice_under_a_dispute_or_an_agreement(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECOUP_COLLECTIONS_LATE_FEES", '{"CNY": 5000}')
    async with collections_alone("sqlite", tmp_path) as (runtime, client):
        await feed(runtime, registered("C1"), *[
            e for i in ("I1", "I2", "I3", "I4")
            for e in overdue("C1", i, 100_000, due=D("2026-01-31"), as_of=D("2026-02-01"))])
        await feed(runtime, ev.StatementDisputed(customer_id="C1", statement_id="S",
                                                 dispute_id="DSP", invoice_ids=["I2"], reason="x"),
                   ev.StatementDisputed(customer_id="C1", statement_id="S", dispute_id="DSP4",
                                        invoice_ids=["I4"], reason="never delivered"))
        response = await client.post("/v1/agreements", json={
            "customer_id": "C1", "invoice_ids": ["I3"], "as_of": "2026-02-05",
            "instalments": [{"due_date": "2026-03-05", "amount": 100_000}]})
        assert response.status_code == 201, response.text
        await client.post("/v1/sweeps", json={"as_of": "2026-02-15"})
        await hand_over_notice(client, "C1", "2026-02-15")
        assert (await client.post("/v1/sweeps", json={"as_of": "2026-02-16"})).json()[
            "fees_charged"] == 1
        assert [c.invoice_id for c in await rows(runtime, Charge)] == ["I1"]
        await client.post("/v1/sweeps", json={"as_of": "2026-03-02"})  # February ends
        # I2's dispute is rejected: it was owed all along, and its fee follows. I4's is upheld
        # and credited: nothing was owed, so no fee.
        await feed(runtime, ev.DisputeResolved(customer_id="C1", statement_id="S", dispute_id="DSP",
                                               invoice_ids=["I2"], resolution="rejected", note="",
                                               resolved_by="x"),
                   ev.CreditNotePosted(customer_id="C1", credit_note_id="CN4", amount=100_000,
                                       currency="CNY", issue_date=D("2026-03-02"), invoice_id="I4",
                                       allocations=[ev.Allocation(invoice_id="I4", amount=100_000)]),
                   ev.DisputeResolved(customer_id="C1", statement_id="S", dispute_id="DSP4",
                                      invoice_ids=["I4"], resolution="upheld", note="",
                                      resolved_by="x"))
        await client.post("/v1/sweeps", json={"as_of": "2026-03-03"})
        assert sorted(c.invoice_id for c in await rows(runtime, Charge)) == ["I1", "I2"]


async def test_a_night_swept_late_sends_no_reminder_for_what_is_already_due(tmp_path: Path) -> None:
    """A missed night run after a later one: its pre-due reminders are past (the customer
    would be asked to confirm an amount already overdue)."""
    async with collections_alone("sqlite", tmp_path) as (runtime, client):
        await feed(runtime, registered("C1"), ev.InvoicePosted(
            customer_id="C1", invoice_id="I1", amount=1_000, currency="CNY",
            issue_date=D("2026-01-01"), due_date=D("2026-02-02")))
        assert (await client.post("/v1/sweeps", json={"as_of": "2026-02-05"})).json()[
            "reminders"] == 0
        assert (await client.post("/v1/sweeps", json={"as_of": "2026-02-01"})).json()[
            "reminders"] == 0
        assert await rows(runtime, Task) == []


async def test_an_agreement_dated_back_over_interest_already_charged_is_refused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """It would shield days the customer has been charged for."""
    monkeypatch.setenv("RECOUP_COLLECTIONS_INTEREST_RATE_BASIS_POINTS", "1200")
    async with collections_alone("sqlite", tmp_path) as (runtime, client):
        await feed(runtime, registered("C1"),
                   *overdue("C1", "I1", 100_000, due=D("2026-01-31"), as_of=D("2026-02-15")))
        await hand_over_notice(client, "C1", "2026-02-15")
        await client.post("/v1/sweeps", json={"as_of": "2026-03-01"})  # February charged

        async def sign(signed_on: str) -> Any:
            return await client.post("/v1/agreements", json={
                "customer_id": "C1", "invoice_ids": ["I1"], "signed_on": signed_on,
                "as_of": "2026-03-03", "instalments": [{"due_date": "2026-03-20", "amount": 100_000}]})

        response = await sign("2026-02-27")
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["field"] == "signed_on"
        assert "charged through 2026-02-28" in response.json()["detail"]
        assert (await sign("2026-03-01")).status_code == 201


async def test_a_promise_paid_is_kept_when_the_position_overtakes_the_payment(tmp_path: Path) -> None:
    """Competing consumers: the ledger's new position (nothing overdue) is handled before
    the payment that made it so; the case closes, and the promise is still kept."""
    async with collections_alone("sqlite", tmp_path) as (runtime, client):
        for customer_id in ("C1", "C2"):
            await feed(runtime, registered(customer_id), *overdue(
                customer_id, f"{customer_id}-1", 100_000, due=D("2026-01-31"), as_of=D("2026-02-05")))
            (case,) = (await client.get(f"/v1/cases?customer_id={customer_id}")).json()
            response = await client.post(f"/v1/cases/{case['id']}/promises", json={
                "amount": 100_000, "currency": "CNY", "promised_on": "2026-02-10",
                "as_of": "2026-02-05"})
            assert response.status_code == 201, response.text
        # C1's position on the day it paid; C2's a few days later (a credit note since).
        for customer_id, position_on in (("C1", "2026-02-09"), ("C2", "2026-02-12")):
            await feed(runtime, ev.BalanceChanged(
                customer_id=customer_id, version=2, as_of=D(position_on),
                balances=[ev.CurrencyBalance(currency="CNY", balance=0, overdue=0)]))
            (case,) = (await client.get(f"/v1/cases?customer_id={customer_id}")).json()
            assert case["status"] == "closed"
            await feed(runtime, ev.PaymentReceived(
                customer_id=customer_id, payment_id=f"P-{customer_id}", amount=100_000,
                currency="CNY", received_on=D("2026-02-09"), unapplied=0,
                allocations=[ev.Allocation(invoice_id=f"{customer_id}-1", amount=100_000)]))
        assert (await client.post("/v1/sweeps", json={"as_of": "2026-02-20"})).json()[
            "promises_broken"] == 0
        async with runtime.read_sessions() as session:
            found = (await session.execute(
                select(Promise.customer_id, Promise.status, Promise.resolved_on)
                .order_by(Promise.customer_id))).all()
        assert found == [("C1", "kept", D("2026-02-09")), ("C2", "kept", D("2026-02-09"))]
        await no_dead_letters(runtime)


def _paid(customer_id: str, on: str = "2026-02-08") -> ev.PaymentReceived:
    return ev.PaymentReceived(
        customer_id=customer_id, payment_id=f"P-{customer_id}", amount=100_000, currency="CNY",
        received_on=D(on), unapplied=0,
        allocations=[ev.Allocation(invoice_id=f"{customer_id}-1", amount=100_000)])


def _reversed(customer_id: str, on: str = "2026-02-12") -> ev.InvoicePosted:
    """The ledger's reversal item of the payment above: owed again, as old as the invoice."""
    return ev.InvoicePosted(customer_id=customer_id, invoice_id=f"REV-P-{customer_id}",
                            amount=100_000, currency="CNY", issue_date=D(on),
                            due_date=D("2026-01-31"), kind="reversal",
                            reference_id=f"P-{customer_id}")


def _position(customer_id: str, version: int, balance: int) -> ev.BalanceChanged:
    # The reversal is past due when booked: the ledger declares it at once, so what is owed
    # is overdue.
    return ev.BalanceChanged(customer_id=customer_id, version=version, as_of=D("2026-02-12"),
                             balances=[ev.CurrencyBalance(currency="CNY", balance=balance,
                                                          overdue=balance)])


@pytest.mark.parametrize("db", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def test_a_bounced_payment_keeps_no_promise_whatever_the_order_and_counts_once(
        db: str, tmp_path: Path) -> None:
    """C1: the payment keeps the promise, then its reversal comes, twice and replayed. C2:
    the reversal and the position overtake the payment, which comes twice."""
    async with collections_alone(db, tmp_path) as (runtime, client):
        for customer_id in ("C1", "C2"):
            await feed(runtime, registered(customer_id), *overdue(
                customer_id, f"{customer_id}-1", 100_000, due=D("2026-01-31"), as_of=D("2026-02-05")))
            (case,) = (await client.get(f"/v1/cases?customer_id={customer_id}")).json()
            assert (await client.post(f"/v1/cases/{case['id']}/promises", json={
                "amount": 100_000, "currency": "CNY", "promised_on": "2026-02-10",
                "as_of": "2026-02-05"})).status_code == 201

        await feed(runtime, _paid("C1"), _position("C1", 2, 0))
        bounce = new_event("recoup/ledger", _reversed("C1"))
        await runtime.transport.publish(bounce)
        await runtime.transport.publish(bounce)  # redelivered: the inbox drops it
        await feed(runtime, _reversed("C1"), _position("C1", 3, 100_000))  # a replay, then the position

        await feed(runtime, _reversed("C2"), _position("C2", 3, 100_000))
        await feed(runtime, _paid("C2"), _paid("C2"))

        assert [k["customer_id"] for k in await announced(runtime, "collections.promise.kept")] == ["C1"]
        assert [b["customer_id"] for b in await announced(runtime, "collections.promise.broken")] == ["C1"]
        for customer_id in ("C1", "C2"):
            (case,) = (await client.get(f"/v1/cases?customer_id={customer_id}&status=open")).json()
            detail = (await client.get(f"/v1/cases/{case['id']}")).json()
            # C1's payment closed its case, and the reversal opened one; C2's case, told of
            # the reversal overdue first, never closed. Either chases the reversal item.
            assert [i["invoice_id"] for i in detail["invoices"] if not i["settled"]] == [
                f"REV-P-{customer_id}"]
            bounced = [e["detail"] for e in detail["history"] if e["kind"] == "payment_bounced"]
            assert bounced == [f"payment P-{customer_id} bounced: the promise of 100000 CNY for "
                               f"2026-02-10 is {'broken' if customer_id == 'C1' else 'still open'}, 0 in"]
            assert not [t for t in detail["open_tasks"] if "partial payment" in t["action"]]

        # C2's promise, never kept, breaks on the next night like any other.
        assert (await client.post("/v1/sweeps", json={"as_of": "2026-02-13"})).json()[
            "promises_broken"] == 1
        statuses = await rows(runtime, Promise)
        assert sorted((p.customer_id, p.status, p.paid) for p in statuses) == [
            ("C1", "broken", 0), ("C2", "broken", 0)]
        kpis = (await client.get("/v1/kpis?as_of=2026-02-28")).json()
        assert kpis["total"]["promises"] == {"kept": 0, "broken": 2, "kept_percent": 0.0}
        await no_dead_letters(runtime)


@pytest.mark.parametrize("db", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def test_an_instalment_paid_by_a_payment_already_reversed_is_not_paid(
        db: str, tmp_path: Path) -> None:
    async with collections_alone(db, tmp_path) as (runtime, client):
        await feed(runtime, registered("C3"),
                   *overdue("C3", "C3-1", 100_000, due=D("2026-01-31"), as_of=D("2026-02-05")))
        response = await client.post("/v1/agreements", json={
            "customer_id": "C3", "invoice_ids": ["C3-1"], "as_of": "2026-02-05",
            "instalments": [{"due_date": "2026-02-20", "amount": 100_000}]})
        assert response.status_code == 201, response.text
        agreement_id = response.json()["id"]

        bounce = new_event("recoup/ledger", _reversed("C3", "2026-02-18"))
        await runtime.transport.publish(bounce)
        await feed(runtime, _paid("C3", "2026-02-15"), ev.InvoiceSettled(
            customer_id="C3", invoice_id="C3-1", currency="CNY", settled_on=D("2026-02-15")))
        await runtime.transport.publish(bounce)

        assert await announced(runtime, "collections.agreement.completed") == []
        shown = (await client.get(f"/v1/agreements/{agreement_id}?as_of=2026-02-18")).json()
        assert (shown["status"], shown["paid"]["amount"]) == ("active", 0)
        assert shown["invoice_ids"] == ["C3-1", "REV-P-C3"]
        (case,) = (await client.get("/v1/cases?customer_id=C3&status=open")).json()
        detail = (await client.get(f"/v1/cases/{case['id']}")).json()
        (reversal,) = [i for i in detail["invoices"] if i["invoice_id"] == "REV-P-C3"]
        assert [p["reason"] for p in reversal["paused"]] == ["agreement"]

        assert (await client.post("/v1/sweeps", json={"as_of": "2026-02-21"})).json()[
            "agreements_broken"] == 1
        (broken,) = await announced(runtime, "collections.agreement.broken")
        assert (broken["missed_due_date"], broken["missed_amount"]) == ("2026-02-20", 100_000)
        await no_dead_letters(runtime)
