"""Statements of account through HTTP: versions after late entries, the PDF, the customer's
signed link (no API key) to confirm or dispute, disputes resolved by a person, the
month-end run, and balance confirmations for collection-plan's reminders."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from itsdangerous import URLSafeSerializer
from pypdf import PdfReader

from services.reconciliation import statements
from services.reconciliation.app import month_end_statements
from shared.events import contracts as ev
from shared.events import new_event
from tests.support.api import Api, eventually
from tests.support.outbox import emitted

CUSTOMER = "D-77"


async def dealer_with_march(api: Api) -> None:
    await api.ok("POST", "/credit/v1/customers", {
        "id": CUSTOMER, "name": "Wang Trading Co., Ltd.", "salesperson": "li.na",
        "terms": {"mode": "net_days", "days": 30},
        "credit_limit": {"amount": 10_000_000, "currency": "CNY"}})

    async def known() -> None:
        response = await api.get(f"/ledger/v1/customers/{CUSTOMER}/account?as_of=2026-01-01")
        assert response.status_code == 200
    await eventually(known)
    for n, (issued, amount) in enumerate((("2026-02-10", 300_000), ("2026-03-05", 100_000)), 1):
        await api.ok("POST", "/ledger/v1/invoices", {
            "id": f"INV-{n}", "customer_id": CUSTOMER, "amount": amount, "currency": "CNY",
            "issue_date": issued})
    await api.ok("POST", "/ledger/v1/payments", {
        "id": "PAY-1", "customer_id": CUSTOMER, "amount": 120_000, "currency": "CNY",
        "received_on": "2026-03-20"})


async def march(api: Api, **extra: Any) -> Any:
    return await api.post("/reconciliation/v1/statements",
                          {"customer_id": CUSTOMER, "period": "2026-03", "as_of": "2026-04-01", **extra})


async def statement_with(api: Api, documents: list[str]) -> dict[str, Any]:
    async def arrived() -> dict[str, Any]:
        response = await march(api)
        assert response.status_code in (200, 201), response.text
        body = response.json()
        assert [line["document_id"] for line in body["lines"]] == documents, body["lines"]
        return body
    return await eventually(arrived)


def pdf_text(content: bytes) -> str:
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(content)).pages)


async def test_an_overpayment_shows_as_money_not_yet_applied(embedded: tuple[Api, FastAPI]) -> None:
    api, _ = embedded
    await dealer_with_march(api)
    await api.ok("POST", "/ledger/v1/payments", {  # pays both invoices and 30,000 more
        "id": "PAY-2", "customer_id": CUSTOMER, "amount": 310_000, "currency": "CNY",
        "received_on": "2026-03-28"})
    statement = await statement_with(api, ["INV-2", "PAY-1", "PAY-2"])
    assert (statement["closing_balance"], statement["open_items"]) == (-30_000, [])
    assert statement["unapplied_credit"] == 30_000
    account = (await api.get(f"/ledger/v1/customers/{CUSTOMER}/account?as_of=2026-03-31")).json()
    assert account["unapplied"] == [{"amount": 30_000, "currency": "CNY"}], account


async def dealer_with_a_discount(api: Api) -> None:
    """Net 30 days, 2 % off when paid within 10 days of the invoice."""
    await api.ok("POST", "/credit/v1/customers", {
        "id": CUSTOMER, "name": "Wang Trading Co., Ltd.",
        "terms": {"mode": "net_days", "days": 30,
                  "early_payment_discount": {"percent": 2, "within_days": 10}},
        "credit_limit": {"amount": 10_000_000, "currency": "CNY"}})

    async def known() -> None:
        assert (await api.get(f"/ledger/v1/customers/{CUSTOMER}/account")).status_code == 200
    await eventually(known)


async def test_a_discount_earned_by_money_paid_ahead_is_on_the_statement(
        embedded: tuple[Api, FastAPI]) -> None:
    """Cash before delivery under 2 % within 10 days: 9,800 received, then the 10,000
    invoice; the ledger books the discount, and the statement shows it and owes nothing."""
    api, _ = embedded
    await dealer_with_a_discount(api)
    await api.ok("POST", "/ledger/v1/payments", {
        "id": "PAY-AHEAD", "customer_id": CUSTOMER, "amount": 9_800, "currency": "CNY",
        "received_on": "2026-03-01"})
    await api.ok("POST", "/ledger/v1/invoices", {
        "id": "INV-9", "customer_id": CUSTOMER, "amount": 10_000, "currency": "CNY",
        "issue_date": "2026-03-02"})

    async def settled() -> dict[str, Any]:  # the discount, then the payment's application
        statement = await statement_with(api, ["PAY-AHEAD", "INV-9", "INV-9"])
        assert statement["open_items"] == []
        return statement
    statement = await eventually(settled)
    assert [(line["kind"], line["credit"]) for line in statement["lines"]] == [
        ("payment", 9_800), ("invoice", 0), ("discount", 200)]
    assert statement["closing_balance"] == 0


async def test_a_discount_on_an_invoice_dated_after_its_payment_comes_with_the_invoice(
        embedded: tuple[Api, FastAPI]) -> None:
    """Money received on 30 March for an invoice dated 2 April (2 % within 10 days): the
    ledger books the allocation and its discount on the invoice's date, so March's statement
    closes on the 9,800 received, as the ledger's account of 31 March does; the discount is
    April's, with its invoice."""
    api, _ = embedded
    await dealer_with_a_discount(api)
    await api.ok("POST", "/ledger/v1/invoices", {
        "id": "INV-A", "customer_id": CUSTOMER, "amount": 10_000, "currency": "CNY",
        "issue_date": "2026-04-02"})
    await api.ok("POST", "/ledger/v1/payments", {
        "id": "PAY-EARLY", "customer_id": CUSTOMER, "amount": 9_800, "currency": "CNY",
        "received_on": "2026-03-30", "invoice_ids": ["INV-A"]})
    account = (await api.get(f"/ledger/v1/customers/{CUSTOMER}/account?as_of=2026-03-31")).json()
    assert account["balance"] == [{"amount": -9_800, "currency": "CNY"}], account
    statement = await statement_with(api, ["PAY-EARLY"])
    assert (statement["closing_balance"], statement.get("unapplied_credit")) == (-9_800, 9_800)

    async def april() -> dict[str, Any]:
        response = await api.post("/reconciliation/v1/statements", {
            "customer_id": CUSTOMER, "period": "2026-04", "as_of": "2026-05-01"})
        assert response.status_code in (200, 201), response.text
        body = response.json()
        assert [(line["kind"], line["date"]) for line in body["lines"]] == [
            ("invoice", "2026-04-02"), ("discount", "2026-04-02")], body["lines"]
        return body
    assert (await eventually(april))["closing_balance"] == 0


async def test_statement_versions_pdf_and_confirmation_by_link(embedded: tuple[Api, FastAPI]) -> None:
    api, app = embedded
    runtime = app.state.runtimes["reconciliation"]
    await dealer_with_march(api)
    first = await statement_with(api, ["INV-2", "PAY-1"])
    assert (first["opening_balance"], first["closing_balance"]) == (300_000, 280_000)
    assert first["customer_name"] == "Wang Trading Co., Ltd." and first["terms"]["days"] == 30
    assert [i["open_amount"] for i in first["open_items"]] == [180_000, 100_000]

    again = await march(api)
    assert again.status_code == 200 and again.json()["id"] == first["id"]  # nothing changed

    # A late credit note dated in March: a new version that says what changed.
    await api.ok("POST", "/ledger/v1/credit-notes", {
        "id": "CN-1", "customer_id": CUSTOMER, "amount": 10_000, "currency": "CNY",
        "issue_date": "2026-03-25", "invoice_id": "INV-2"})
    second = await statement_with(api, ["INV-2", "PAY-1", "CN-1"])
    assert second["version"] == first["version"] + 1 and second["supersedes"] == first["id"]
    assert [line["document_id"] for line in second["changes"]["lines_added"]] == ["CN-1"]
    assert second["changes"]["figures"]["closing_balance"] == {"before": 280_000, "after": 270_000}
    old = await api.ok("GET", f"/reconciliation/v1/statements/{first['id']}")
    assert old["status"] == "superseded"
    versions = await api.ok("GET", f"/reconciliation/v1/statements?customer_id={CUSTOMER}&period=2026-03")
    assert [v["version"] for v in versions][:2] == [second["version"], first["version"]]
    one = await api.get(f"/reconciliation/v1/statements?customer_id={CUSTOMER}&limit=1")
    following = await api.get(one.headers["link"].split(";")[0].strip("<>"))
    assert [one.json()[0]["version"], following.json()[0]["version"]] == [
        second["version"], second["version"] - 1]

    pdf = await api.get(f"/reconciliation/v1/statements/{second['id']}",
                        headers={"Accept": "application/pdf"})
    assert pdf.headers["content-type"] == "application/pdf"
    text = pdf_text(pdf.content)
    assert second["reference"] in text and second["digest"] in text and "CN-1" in text

    # The customer opens the link: no API key.
    link = second["confirmation"]["link"]
    assert second["confirmation"]["url"].endswith(link)
    page = await api.request("GET", link, key="-")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert second["reference"] in page.text and "<form" in page.text
    as_json = await api.request("GET", link, key="-", headers={"Accept": "application/json"})
    assert as_json.json()["digest"] == second["digest"]
    old_link = first["confirmation"]["link"]
    refused = await api.post(f"{old_link}/confirm", {"name": "Wang Wei"}, key="-")
    assert refused.status_code == 409 and "newer version" in refused.json()["detail"]

    tampered = await api.request("GET", link[:-3] + "abc", key="-")
    assert tampered.status_code == 401 and tampered.json()["title"] == "Invalid link"
    secret = runtime.config.secret()
    confirmation_id = second["confirmation"]["confirmation_id"]
    expired_token = URLSafeSerializer(secret, salt="recoup.reconciliation.confirmation").dumps(
        {"c": confirmation_id, "e": 1_000_000_000})
    expired = await api.request("GET", f"/reconciliation/v1/confirmations/{expired_token}", key="-")
    assert expired.status_code == 410 and "expired" in expired.json()["detail"]

    confirmed = await api.post(f"{link}/confirm", {"name": "Wang Wei"}, key="-")
    assert confirmed.status_code == 200, confirmed.text
    assert (confirmed.json()["status"], confirmed.json()["confirmed_by"]) == ("confirmed", "Wang Wei")
    assert confirmed.json()["confirmed_via"] == "link" and confirmed.json()["confirmed_at"]
    assert (await api.post(f"{link}/confirm", {"name": "Somebody"}, key="-")).status_code == 409
    late = await api.post(f"/reconciliation/v1/statements/{second['id']}/dispute",
                          {"lines": ["INV-2"], "reason": "too late"})
    assert late.status_code == 409

    # Evidence stays: a later entry makes a third version, the second stays confirmed.
    await api.ok("POST", "/ledger/v1/credit-notes", {
        "id": "CN-2", "customer_id": CUSTOMER, "amount": 1_000, "currency": "CNY",
        "issue_date": "2026-03-26"})
    third = await statement_with(api, ["INV-2", "PAY-1", "CN-1", "CN-2"])
    assert third["version"] == second["version"] + 1
    kept = await api.ok("GET", f"/reconciliation/v1/statements/{second['id']}")
    assert (kept["status"], kept["digest"], kept["confirmed_by"]) == (
        "confirmed", second["digest"], "Wang Wei")

    issued = [e["version"] for e in await emitted(runtime, "reconciliation.statement.issued")]
    assert issued == list(range(1, third["version"] + 1))
    requested = await emitted(runtime, "reconciliation.confirmation.requested")
    assert requested[-1]["statement_id"] == third["id"] and requested[-1]["purpose"] == "statement"
    assert requested[-1]["link"].startswith("/reconciliation/v1/confirmations/")
    assert (await emitted(runtime, "reconciliation.statement.confirmed"))[-1] == {
        "customer_id": CUSTOMER, "statement_id": second["id"], "confirmed_by": "Wang Wei"}


async def test_a_dispute_through_the_page_and_its_resolution(embedded: tuple[Api, FastAPI]) -> None:
    api, app = embedded
    runtime = app.state.runtimes["reconciliation"]
    await dealer_with_march(api)
    statement = await statement_with(api, ["INV-2", "PAY-1"])
    link = statement["confirmation"]["link"]

    form = "document_id=INV-2&document_id=PAY-1&reason=INV-2+was+returned&name=Wang+Wei"
    answered = await api.request("POST", f"{link}/dispute", key="-", content=form,
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert answered.status_code == 201 and "we will look into the lines" in answered.text
    nothing_ticked = await api.request("POST", f"{link}/dispute", key="-", content="reason=x&name=y",
                                       headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert nothing_ticked.status_code == 422 and "tick at least one line" in nothing_ticked.text
    assert "text/html" in nothing_ticked.headers["content-type"]  # a page for the person

    [disputed] = await emitted(runtime, "reconciliation.statement.disputed")
    assert disputed["invoice_ids"] == ["INV-2", "INV-1"]  # the payment's line settled INV-1
    assert disputed["lines"] == [{"document_id": "INV-2", "reason": None},
                                 {"document_id": "PAY-1", "reason": None}]
    [queued] = await api.ok("GET", "/reconciliation/v1/disputes?status=open")
    assert (queued["id"], queued["raised_by"], queued["raised_via"]) == (
        disputed["dispute_id"], "Wang Wei", "link")
    blocked = await api.post(f"/reconciliation/v1/statements/{statement['id']}/confirm",
                             {"confirmed_by": "Wang Wei"})
    assert blocked.status_code == 409 and "open dispute" in blocked.json()["detail"]

    not_a_line = await api.post(f"/reconciliation/v1/statements/{statement['id']}/dispute",
                                {"lines": [{"document_id": "INV-9", "reason": "?"}], "reason": "x"})
    assert not_a_line.status_code == 422 and not_a_line.json()["errors"][0]["field"] == "lines.0.document_id"

    # A second dispute holds INV-2 too: resolving the first resumes only INV-1.
    second = await api.ok("POST", f"/reconciliation/v1/statements/{statement['id']}/dispute",
                          {"lines": ["INV-2"], "reason": "the price of INV-2 is wrong"})
    resolved = await api.ok("POST", f"/reconciliation/v1/disputes/{queued['id']}/resolve",
                            {"resolution": "upheld", "note": "Delivery note signed on 2026-03-06"})
    assert (resolved["status"], resolved["resolution"]) == ("resolved", "upheld")
    assert (await api.post(f"/reconciliation/v1/disputes/{queued['id']}/resolve",
                           {"resolution": "upheld", "note": "again"})).status_code == 409
    [event] = await emitted(runtime, "reconciliation.dispute.resolved")
    assert event["invoice_ids"] == ["INV-1"]
    assert event["note"] == "Delivery note signed on 2026-03-06"
    await api.ok("POST", f"/reconciliation/v1/disputes/{second['id']}/resolve",
                 {"resolution": "corrected", "note": "CN-1 books the price difference"})
    assert (await emitted(runtime, "reconciliation.dispute.resolved"))[-1]["invoice_ids"] == ["INV-2"]

    # Resolved: the customer's answer by paper, recorded by staff.
    done = await api.ok("POST", f"/reconciliation/v1/statements/{statement['id']}/confirm",
                        {"confirmed_by": "Wang Wei (signed and stamped copy)"})
    assert (done["status"], done["confirmed_via"]) == ("confirmed", "api")


async def test_the_month_end_job_catches_up_a_missed_run_day(
        embedded: tuple[Api, FastAPI], monkeypatch: pytest.MonkeyPatch) -> None:
    """The job runs daily and acts from the run day (the 1st) on: when the 1st was missed
    (downtime) or its run failed, a later day issues the month, once (a statement issued
    before the month ended does not count); later days leave it alone, late entries
    included (a new version is a person's decision, or the run day's)."""
    api, app = embedded
    runtime = app.state.runtimes["reconciliation"]
    await dealer_with_march(api)

    async def open_amounts(*expected: int) -> None:
        async def arrived() -> None:
            items = await api.ok("GET", f"/reconciliation/v1/customers/{CUSTOMER}/open-items")
            assert [i["open_amount"] for i in items] == list(expected)
        await eventually(arrived)

    async def late_credit_note(number: int) -> None:
        await api.ok("POST", "/ledger/v1/credit-notes", {
            "id": f"CN-{number}", "customer_id": CUSTOMER, "amount": 10_000, "currency": "CNY",
            "issue_date": "2026-03-25", "invoice_id": "INV-2"})

    async def versions() -> list[int]:
        listed = await api.ok("GET", f"/reconciliation/v1/statements?customer_id={CUSTOMER}&period=2026-03")
        return [s["version"] for s in listed]

    await open_amounts(180_000, 100_000)  # PAY-1 arrived
    with monkeypatch.context() as patch:  # on the evening of March 31st: not the month's run
        patch.setattr(statements, "now", lambda: datetime(2026, 3, 31, 20, tzinfo=UTC))
        early = await api.ok("POST", "/reconciliation/v1/statement-runs",
                             {"period": "2026-03", "as_of": "2026-03-31"})
    assert early["issued"] == 1
    await late_credit_note(1)
    await open_amounts(180_000, 90_000)

    async def broken(*_: Any, **__: Any) -> Any:
        raise RuntimeError("database went away")
    with monkeypatch.context() as patch:
        patch.setattr(statements, "issue_statement", broken)
        failed = await month_end_statements(runtime, date(2026, 4, 1))
    assert failed["failed"] == [{"customer_id": CUSTOMER, "currency": "CNY",
                                 "error": "database went away"}]
    caught_up = await month_end_statements(runtime, date(2026, 4, 2))
    assert (caught_up["period"], caught_up["catch_up"], caught_up["new_versions"]) == ("2026-03", True, 1)
    assert await versions() == [2, 1]
    again = await month_end_statements(runtime, date(2026, 4, 3))
    assert again["issued"] == 0 and "issued to every customer" in again["skipped"]

    await late_credit_note(2)
    await open_amounts(180_000, 80_000)
    later = await month_end_statements(runtime, date(2026, 4, 20))
    assert (later["issued"], later["new_versions"], later["catch_up"]) == (0, 0, True)
    assert await versions() == [2, 1]
    rerun = await month_end_statements(runtime, date(2026, 4, 1))  # the run day again: versions
    assert (rerun["catch_up"], rerun["new_versions"]) == (False, 1)


async def test_a_missed_run_day_issues_what_was_never_issued(embedded: tuple[Api, FastAPI]) -> None:
    api, app = embedded
    await dealer_with_march(api)
    await statement_with(api, ["INV-2", "PAY-1"])  # the read model is complete (February's)
    caught_up = await month_end_statements(app.state.runtimes["reconciliation"], date(2026, 3, 5))
    assert (caught_up["period"], caught_up["catch_up"], caught_up["issued"]) == ("2026-02", True, 1)


async def test_month_end_run_and_balance_confirmations(embedded: tuple[Api, FastAPI]) -> None:
    api, app = embedded
    runtime = app.state.runtimes["reconciliation"]
    await dealer_with_march(api)
    await statement_with(api, ["INV-2", "PAY-1"])  # the read model is complete

    run = await month_end_statements(runtime, date(2026, 4, 1))
    assert (run["period"], run["issued"], run["new_versions"], run["unchanged"]) == ("2026-03", 0, 0, 1)
    february = await api.ok("POST", "/reconciliation/v1/statement-runs",
                            {"period": "2026-02", "as_of": "2026-04-01"})
    assert (february["issued"], february["unchanged"]) == (1, 0)
    assert (await api.ok("POST", "/reconciliation/v1/statement-runs",
                         {"period": "2026-02", "as_of": "2026-04-01"}))["unchanged"] == 1
    for nobody in ({"customer_id": "NOBODY", "currency": "CNY"},
                   {"customer_id": CUSTOMER, "currency": "USD"}):
        refused = await api.post("/reconciliation/v1/statements",
                                 {**nobody, "period": "2026-03", "as_of": "2026-04-01"})
        assert refused.status_code == 404, refused.text  # no statement, no link sent to nobody
    for path, body in (("statements", {"customer_id": CUSTOMER}), ("statement-runs", {})):
        future = await api.post(f"/reconciliation/v1/{path}",
                                {**body, "period": "2026-05", "as_of": "2026-04-01"})
        assert future.status_code == 422 and future.json()["errors"][0]["field"] == "period"

    # collection-plan's reminder before INV-2 falls due: a balance confirmation with a link.
    reminder = ev.ReminderIssued(customer_id=CUSTOMER, reminder_id="REM-1", invoice_ids=["INV-2"],
                                 amount=100_000, currency="CNY", due_date=date(2026, 4, 4),
                                 as_of=date(2026, 4, 1))
    await runtime.transport.publish(new_event("recoup/collections", reminder))
    await runtime.transport.publish(new_event("recoup/collections", reminder))  # sent twice

    async def balance_confirmation() -> dict[str, Any]:
        [found] = await api.ok("GET", f"/reconciliation/v1/statements?customer_id={CUSTOMER}&period=2026-04")
        return found
    found = await eventually(balance_confirmation)
    assert (found["kind"], found["balance"], found["falling_due"]["amount"]) == ("balance", 280_000, 100_000)
    [asked] = [e for e in await emitted(runtime, "reconciliation.confirmation.requested")
               if e["purpose"] == "balance_reminder"]
    assert asked["statement_id"] == found["id"]
    # until the due date and 7 days' grace, and a day at least (this reminder came late)
    assert datetime.fromisoformat(asked["expires_at"]) > datetime.now(UTC) + timedelta(hours=23)
    # Another link for it lasts as the first does (the due date has passed: a day), not 60 days.
    again = await api.post(f"/reconciliation/v1/statements/{found['id']}/links")
    assert again.status_code == 201, again.text
    assert datetime.fromisoformat(again.json()["expires_at"]) < datetime.now(UTC) + timedelta(days=2)
    view = await api.ok("GET", f"/reconciliation/v1/statements/{found['id']}")
    confirmed = await api.post(f"{view['confirmation']['link']}/confirm", {"name": "Wang Wei"}, key="-")
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "confirmed"
    pdf = await api.request("GET", view["confirmation"]["link"], key="-",
                            headers={"Accept": "application/pdf"})
    assert "Balance confirmation" in pdf_text(pdf.content)
