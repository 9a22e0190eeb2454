"""Defects found reviewing the ledger, each shown through what a user sees: the ERP
integrator's postings and retries, the auditor's reports as of a date, the credit
manager's metrics."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared.events import contracts as ev
from tests.support.api import Api
from tests.support.embedded import service_on
from tests.support.ledger import register_customers

L = "/ledger/v1"


class Ledger:
    def __init__(self, api: Api, runtime: Any) -> None:
        self.api = api
        self.runtime = runtime

    async def customer(self, customer_id: str = "C1", **terms: Any) -> None:
        discount = terms.pop("discount", None)
        await register_customers(self.runtime, customer_id, terms=ev.Terms(
            **(terms or {"mode": "net_days", "days": 30}), early_payment_discount=discount))

    async def invoice(self, invoice_id: str, amount: int, issued: str, **extra: Any) -> Any:
        return await self.api.ok("POST", f"{L}/invoices", {
            "id": invoice_id, "customer_id": "C1", "amount": amount, "currency": "CNY",
            "issue_date": issued, **extra})

    async def payment(self, payment_id: str, amount: int, received: str, **extra: Any
                      ) -> httpx.Response:
        return await self.api.post(f"{L}/payments", {
            "id": payment_id, "customer_id": "C1", "amount": amount, "currency": "CNY",
            "received_on": received, **extra})

    async def account(self, as_of: str) -> Any:
        return await self.api.ok("GET", f"{L}/customers/C1/account?as_of={as_of}")


@pytest.fixture
async def ledger(tmp_path: Path) -> AsyncIterator[Ledger]:
    async with service_on("sqlite", tmp_path, "ledger") as (app, runtime):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ledger") as client:
            yield Ledger(Api({"/": client}), runtime)


async def test_money_received_before_the_invoice_was_issued_shows_until_the_invoice_comes(
        ledger: Ledger) -> None:
    """A prepayment booked after the invoice it pays (an ERP backfill, cash before delivery):
    as of the days between, the customer had the money with us and owed nothing."""
    await ledger.customer()
    await ledger.invoice("I1", 10_000, "2026-02-01")
    paid = (await ledger.payment("P1", 10_000, "2026-01-15")).json()
    assert paid["allocations"] == [{"invoice_id": "I1", "amount": 10_000}]

    between = await ledger.account("2026-01-20")
    assert between["balance"] == [{"amount": -10_000, "currency": "CNY"}]
    assert between["unapplied"] == [{"amount": 10_000, "currency": "CNY"}]
    history = await ledger.api.ok("GET", f"{L}/customers/C1/history?from=2026-01-01&to=2026-01-20")
    assert history["currencies"][0]["closing_balance"] == -10_000  # the journal agrees

    after = await ledger.account("2026-02-01")
    assert after["balance"] == [{"amount": 0, "currency": "CNY"}]
    assert after["unapplied"] == [] and after["open_invoices"] == []


async def test_a_write_off_or_an_application_cannot_come_before_the_invoice(ledger: Ledger) -> None:
    await ledger.customer()
    await ledger.invoice("I1", 10_000, "2026-02-01")
    early = await ledger.api.post(f"{L}/write-offs", {
        "id": "W1", "invoice_id": "I1", "written_off_on": "2026-01-31", "reason": "bankrupt"})
    assert early.status_code == 422
    assert early.json()["errors"][0]["field"] == "written_off_on"

    assert (await ledger.payment("P1", 5_000, "2026-01-10", allocations=[])).status_code == 201
    applied = await ledger.api.post(f"{L}/applications", {
        "document_kind": "payment", "document_id": "P1", "applied_on": "2026-01-20",
        "allocations": [{"invoice_id": "I1", "amount": 5_000}]})
    assert applied.status_code == 422
    assert applied.json()["errors"][0]["field"] == "applied_on"
    assert (await ledger.account("2026-02-01"))["balance"] == [{"amount": 5_000, "currency": "CNY"}]


async def test_a_payment_sent_again_is_the_same_after_its_rest_paid_later_invoices(
        ledger: Ledger) -> None:
    """The ERP retries a payment with the allocations it named; meanwhile the unapplied rest
    paid a new invoice. Still the same payment (200), not a conflict; other allocations are."""
    await ledger.customer()
    await ledger.invoice("I1", 10_000, "2026-01-01")
    named = {"allocations": [{"invoice_id": "I1", "amount": 6_000}]}
    assert (await ledger.payment("P1", 10_000, "2026-01-15", **named)).status_code == 201
    await ledger.invoice("I2", 3_000, "2026-01-20")  # paid by P1's rest

    again = await ledger.payment("P1", 10_000, "2026-01-15", **named)
    assert again.status_code == 200
    assert again.json()["allocations"] == [{"invoice_id": "I1", "amount": 6_000},
                                           {"invoice_id": "I2", "amount": 3_000}]
    for other in ([], [{"invoice_id": "I1", "amount": 5_000}],
                  [{"invoice_id": "I1", "amount": 6_000}, {"invoice_id": "I2", "amount": 3_000}]):
        conflict = await ledger.payment("P1", 10_000, "2026-01-15", allocations=other)
        assert conflict.status_code == 409, other
        assert conflict.json()["errors"][0]["field"] == "id"

    # Nothing named at first: a retry naming nothing, or nothing again, is the same one.
    assert (await ledger.payment("P2", 1_000, "2026-01-16", allocations=[])).status_code == 201
    await ledger.invoice("I3", 500, "2026-01-21")
    assert (await ledger.payment("P2", 1_000, "2026-01-16", allocations=[])).status_code == 200


async def test_bounced_payments_and_refunds_are_not_sales_in_dso_and_cei(ledger: Ledger) -> None:
    """One invoice of 10,000 in January, its payment bounced, an overpayment refunded: the
    month sold 10,000 and collected nothing of it."""
    await ledger.customer()
    await ledger.invoice("I1", 10_000, "2026-01-05")
    assert (await ledger.payment("P1", 10_000, "2026-01-10")).status_code == 201
    await ledger.api.ok("POST", f"{L}/payments/P1/reversal",
                        {"reversed_on": "2026-01-12", "reason": "cheque returned unpaid"})
    assert (await ledger.payment("P2", 5_000, "2026-01-20", allocations=[])).status_code == 201
    await ledger.api.ok("POST", f"{L}/refunds", {
        "id": "R1", "customer_id": "C1", "amount": 5_000, "currency": "CNY",
        "refunded_on": "2026-01-21", "reason": "paid twice"})

    (cny,) = (await ledger.api.ok("GET", f"{L}/metrics?as_of=2026-01-31&months=1"))["currencies"]
    assert cny["cei_inputs"] == {"opening_receivables": 0, "sales": 10_000,
                                 "closing_receivables": 10_000, "closing_current": 0}
    assert cny["cei_percent"] == 0.0
    assert cny["dso_days"] == 31.0  # all of January's sales are still owed


async def test_aging_buckets_beyond_the_calendar_are_refused_naming_the_parameter(
        ledger: Ledger) -> None:
    for buckets in ("30,99999999999", "30,1000000000000000000000"):
        answer = await ledger.api.get(f"{L}/aging?as_of=2026-01-01&buckets={buckets}")
        assert answer.status_code == 422, answer.text
        assert answer.json()["errors"][0]["field"] == "query.buckets"
    assert (await ledger.api.get(f"{L}/aging?as_of=2026-01-01&buckets=30,3650")).status_code == 200


async def test_a_refused_write_off_names_its_own_fields(ledger: Ledger) -> None:
    """A write-off has no `allocations`: its refusals name `amount` and `invoice_id`."""
    await ledger.customer()
    await ledger.invoice("I1", 10_000, "2026-01-01")

    async def write_off(write_off_id: str, **extra: Any) -> httpx.Response:
        return await ledger.api.post(f"{L}/write-offs", {
            "id": write_off_id, "invoice_id": "I1", "written_off_on": "2026-06-30",
            "reason": "bankrupt", **extra})

    too_much = await write_off("W1", amount=10_001)
    assert too_much.status_code == 422 and too_much.json()["errors"][0]["field"] == "amount"
    assert (await write_off("W2")).status_code == 201  # all that is open
    nothing_left = await write_off("W3", amount=1)
    assert nothing_left.status_code == 422
    assert nothing_left.json()["errors"][0]["field"] == "invoice_id"


async def test_the_early_payment_discount_is_on_what_is_billed_after_credit_notes(
        ledger: Ledger) -> None:
    """2 % within 10 days. Half the invoice is credited: the discount is 2 % of the 5,000
    left to pay (100), not of the 10,000 first billed (200)."""
    await ledger.customer(mode="net_days", days=30, discount={"percent": 2, "within_days": 10})
    await ledger.invoice("I1", 10_000, "2026-01-01")
    await ledger.api.ok("POST", f"{L}/credit-notes", {
        "id": "CN1", "customer_id": "C1", "amount": 5_000, "currency": "CNY",
        "issue_date": "2026-01-02", "invoice_id": "I1"})

    short = (await ledger.payment("P1", 4_800, "2026-01-05")).json()
    assert short["allocations"] == [{"invoice_id": "I1", "amount": 4_800}]
    assert (await ledger.account("2026-01-05"))["open_invoices"][0]["open_amount"] == 200

    settling = (await ledger.payment("P2", 100, "2026-01-06")).json()
    assert settling["unapplied"] == 0
    account = await ledger.account("2026-01-06")
    assert account["open_invoices"] == [] and account["balance"] == [
        {"amount": 0, "currency": "CNY"}]
    history = await ledger.api.ok("GET", f"{L}/customers/C1/history?from=2026-01-01&to=2026-01-06")
    (discount,) = [e for e in history["currencies"][0]["entries"]
                   if e["document_kind"] == "discount"]
    assert discount["credit"] == 100


async def test_a_bounced_payment_loses_the_discount_it_earned(ledger: Ledger) -> None:
    """9,800 paid in time settled 10,000 less a 2 % discount; the cheque bounced: no money
    came in time, so all 10,000 is owed again, and the discount's expense is taken back."""
    await ledger.customer(mode="net_days", days=30, discount={"percent": 2, "within_days": 10})
    await ledger.invoice("I1", 10_000, "2026-01-01")
    await ledger.invoice("I2", 5_000, "2026-01-02")
    paid = (await ledger.payment("P1", 9_800, "2026-01-05",
                                 allocations=[{"invoice_id": "I1", "amount": 9_800}])).json()
    assert paid["unapplied"] == 0
    await ledger.payment("P2", 4_900, "2026-01-05")  # earns I2's discount: stays earned

    reversal = await ledger.api.ok("POST", f"{L}/payments/P1/reversal",
                                   {"reversed_on": "2026-01-08", "reason": "cheque returned"})
    assert reversal["amount"] == reversal["open_amount"] == 10_000
    account = await ledger.account("2026-01-08")
    assert account["balance"] == [{"amount": 10_000, "currency": "CNY"}]
    again = await ledger.api.post(f"{L}/payments/P1/reversal",
                                  {"reversed_on": "2026-01-08", "reason": "cheque returned"})
    assert again.status_code == 200 and again.json()["amount"] == 10_000


async def test_money_cannot_be_booked_as_received_on_a_day_that_has_not_come(
        ledger: Ledger) -> None:
    """A payment typed with next year's date settled the invoice at once for the sweep and
    the position credit sees, while the account as of today still showed it owed."""
    await ledger.customer()
    today = date.today()
    await ledger.invoice("I1", 10_000, (today - timedelta(days=60)).isoformat())
    later = (today + timedelta(days=365)).isoformat()

    future = await ledger.payment("P1", 10_000, later)
    assert future.status_code == 422 and future.json()["errors"][0]["field"] == "received_on"
    for path, body, field in (
        ("credit-notes", {"id": "CN1", "customer_id": "C1", "amount": 1, "currency": "CNY",
                          "issue_date": later}, "issue_date"),
        ("write-offs", {"id": "W1", "invoice_id": "I1", "written_off_on": later,
                        "reason": "bankrupt"}, "written_off_on"),
    ):
        refused = await ledger.api.post(f"{L}/{path}", body)
        assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == field
    assert (await ledger.api.ok("POST", f"{L}/sweeps", {"as_of": today.isoformat()})
            )["payment_missed"] == 1
    # Tomorrow is allowed: it is already tomorrow east of UTC.
    tomorrow = (today + timedelta(days=1)).isoformat()
    assert (await ledger.payment("P2", 10_000, tomorrow)).status_code == 201


async def test_a_history_that_ends_before_it_begins_is_refused(ledger: Ledger) -> None:
    await ledger.customer()
    await ledger.invoice("I1", 10_000, "2026-01-05")
    answer = await ledger.api.get(f"{L}/customers/C1/history?from=2026-03-01&to=2026-01-01")
    assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == "query.to"


async def test_a_csv_payment_for_more_than_its_invoice_keeps_the_rest_unapplied(
        ledger: Ledger) -> None:
    await ledger.customer()
    await ledger.invoice("I1", 10_000, "2026-01-05")
    csv = ("type,id,customer_id,amount,currency,received_on,invoice_id\n"
           "payment,P1,C1,15000,CNY,2026-01-20,I1\n")
    answer = await ledger.api.post(f"{L}/batches", content=csv.encode(),
                                   headers={"Content-Type": "text/csv"})
    assert answer.status_code == 200, answer.text
    payment = await ledger.api.ok("GET", f"{L}/payments/P1")
    assert payment["allocations"] == [{"invoice_id": "I1", "amount": 10_000}]
    assert payment["unapplied"] == 5_000



async def test_only_invoices_earn_the_early_payment_discount(ledger: Ledger) -> None:
    """Late interest or a bounced payment brought back, paid within the discount window of
    its own date, is paid in full: the reward is for paying for goods in time."""
    await ledger.customer(mode="net_days", days=30, discount={"percent": 2, "within_days": 10})
    await ledger.invoice("I1", 10_000, "2026-01-01")
    await ledger.payment("P1", 9_800, "2026-01-05")  # earns I1's discount
    await ledger.api.ok("POST", f"{L}/payments/P1/reversal",
                        {"reversed_on": "2026-01-08", "reason": "cheque returned"})
    await ledger.api.ok("POST", f"{L}/charges", {
        "id": "INT-1", "customer_id": "C1", "kind": "interest", "amount": 1_000,
        "currency": "CNY", "issue_date": "2026-01-09", "invoice_id": "I1", "reason": "late"})

    paid = (await ledger.payment("P2", 10_780, "2026-01-10")).json()
    assert paid["allocations"] == [{"invoice_id": "REV-P1", "amount": 10_000},
                                   {"invoice_id": "INT-1", "amount": 780}]
    account = await ledger.account("2026-01-10")
    assert [(i["invoice_id"], i["open_amount"]) for i in account["open_invoices"]] == [
        ("INT-1", 220)]


async def test_a_batch_row_whose_type_is_not_a_string_is_that_rows_error(ledger: Ledger) -> None:
    await ledger.customer()
    body = b'{"type": ["invoice"], "id": "I1"}\n'
    answer = await ledger.api.post(f"{L}/batches", content=body,
                                   headers={"Content-Type": "application/x-ndjson"})
    assert answer.status_code == 422
    assert answer.json()["results"][0]["errors"][0]["field"] == "type"


async def test_money_paid_ahead_earns_the_discount_whichever_is_booked_first(
        ledger: Ledger) -> None:
    """Cash before delivery: 9,800 received on 1 January for the 10,000 invoice of the 2nd
    (2 % within 10 days). Booked before the invoice or after it, it settles the invoice
    with its discount."""
    await ledger.customer(mode="net_days", days=30, discount={"percent": 2, "within_days": 10})
    assert (await ledger.payment("P1", 9_800, "2026-01-01")).json()["unapplied"] == 9_800
    invoice = await ledger.invoice("I1", 10_000, "2026-01-02")
    assert invoice["open_amount"] == 0 and invoice["settled_on"] == "2026-01-02"
    account = await ledger.account("2026-01-02")
    assert account["balance"] == [{"amount": 0, "currency": "CNY"}]

    # Money that came too late for the window pays in full.
    assert (await ledger.payment("P2", 4_900, "2026-01-20")).status_code == 201
    late = await ledger.invoice("I2", 5_000, "2026-01-02")
    assert late["open_amount"] == 100
    await ledger.payment("P3", 100, "2026-01-20")

    # A credit note is no payment: it earns nothing.
    await ledger.api.ok("POST", f"{L}/credit-notes", {
        "id": "CN1", "customer_id": "C1", "amount": 1_960, "currency": "CNY",
        "issue_date": "2026-01-21"})
    credited = await ledger.invoice("I3", 2_000, "2026-01-21")
    assert credited["open_amount"] == 40

    reversal = await ledger.api.ok("POST", f"{L}/payments/P1/reversal",
                                   {"reversed_on": "2026-01-25", "reason": "returned"})
    assert reversal["amount"] == 10_000  # and the discount it earned is lost


async def test_a_payment_with_the_longest_id_can_bounce(ledger: Ledger) -> None:
    """`REV-` and a 64-character payment id do not fit an id: the reversal was refused,
    naming an `id` the request does not have."""
    await ledger.customer()
    await ledger.invoice("I1", 10_000, "2026-01-05")
    payment_id = "BANK-2026-01-10-" + "7" * 48
    assert (await ledger.payment(payment_id, 10_000, "2026-01-10")).status_code == 201
    body = {"reversed_on": "2026-01-12", "reason": "returned"}
    reversal = await ledger.api.post(f"{L}/payments/{payment_id}/reversal", body)
    assert reversal.status_code == 201, reversal.text
    booked = reversal.json()
    assert booked["id"].startswith("REV-") and len(booked["id"]) <= 64
    assert booked["reference_id"] == payment_id and booked["amount"] == 10_000
    again = await ledger.api.post(f"{L}/payments/{payment_id}/reversal", body)
    assert again.status_code == 200 and again.json()["id"] == booked["id"]
    short = await ledger.payment("P2", 1, "2026-01-10")
    assert short.status_code == 201
    assert (await ledger.api.ok("POST", f"{L}/payments/P2/reversal", body))["id"] == "REV-P2"


async def test_a_credit_note_naming_no_invoice_pays_the_oldest_first_and_keeps_the_rest(
        ledger: Ledger) -> None:
    await ledger.customer()
    await ledger.invoice("I1", 3_000, "2026-01-01")
    await ledger.invoice("I2", 5_000, "2026-01-10")
    note = await ledger.api.ok("POST", f"{L}/credit-notes", {
        "id": "CN1", "customer_id": "C1", "amount": 9_000, "currency": "CNY",
        "issue_date": "2026-01-15"})
    assert note["allocations"] == [{"invoice_id": "I1", "amount": 3_000},
                                   {"invoice_id": "I2", "amount": 5_000}]
    assert note["unapplied"] == 1_000
    account = await ledger.account("2026-01-15")
    assert account["open_invoices"] == []
    assert account["balance"] == [{"amount": -1_000, "currency": "CNY"}]
