"""Bank statements through HTTP, with files as banks write them: CAMT.053 with clean, noisy
and mistyped references, a partial payment, a parent paying for another customer, a
stranger, a bank fee and a foreign-currency line; an overlapping MT940 export; a CSV.
The ledger books what was identified, once; a person decides the rest, and what they
teach is used the next time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from tests.support.api import Api, eventually
from tests.support.bank_files import Row, camt053, csv_file, mt940
from tests.support.outbox import emitted

ACCOUNT = "CN5512345678901234567"
ON = date(2026, 4, 3)
INVOICES = {
    "D-1": [("INV-2026-0101", 15_000_000), ("INV-2026-0102", 8_000_000), ("INV-2026-0103", 2_000_000)],
    "D-2": [("INV-2026-0201", 9_995_000), ("INV-2026-0202", 4_200_000)]}
NAMES = {"D-1": "Wang Trading Co., Ltd.", "D-2": "Li Hardware Co., Ltd."}
CAMT_ROWS = [
    Row(ON, 15_000_000, "WANG TRADING CO LTD", "INV-2026-0101", "B-1"),
    Row(ON, 9_995_000, "Li Hardwre", "pay INV 2026 0210", "B-2"),  # digits swapped, name typo
    Row(ON, 5_000_000, "Wang Trading Company Limited", "inv20260102 part", "B-3"),  # partial
    Row(ON, 500_000, "Zhou Private", "loan", "B-4"),
    Row(ON, 4_200_000, "Wang Trading Co., Ltd.", "INV-2026-0202", "B-5"),  # pays for D-2?
    Row(ON, -1_200, "Bank", "charges", "B-6"),
    Row(ON, 10_000, "Li Hardware Co., Ltd.", "INV-2026-0201", "B-7", currency="USD"),
]


async def books(api: Api) -> None:
    for customer_id, invoices in INVOICES.items():
        await api.ok("POST", "/credit/v1/customers", {
            "id": customer_id, "name": NAMES[customer_id], "terms": {"mode": "net_days", "days": 30},
            "credit_limit": {"amount": 100_000_000, "currency": "CNY"}})

        async def ledger_knows(customer_id: str = customer_id) -> None:
            response = await api.get(f"/ledger/v1/customers/{customer_id}/account")
            assert response.status_code == 200
        await eventually(ledger_knows)
        for invoice_id, amount in invoices:
            await api.ok("POST", "/ledger/v1/invoices", {
                "id": invoice_id, "customer_id": customer_id, "amount": amount, "currency": "CNY",
                "issue_date": "2026-03-01"})

    async def reconciliation_sees_them() -> None:
        for customer_id, invoices in INVOICES.items():
            items = await api.ok("GET", f"/reconciliation/v1/customers/{customer_id}/open-items")
            assert len(items) == len(invoices)
            assert await api.ok("GET", f"/reconciliation/v1/customers/{customer_id}/payer-names")
    await eventually(reconciliation_sees_them)


async def upload(api: Api, content: bytes, content_type: str, query: str = "") -> Any:
    return await api.post(f"/reconciliation/v1/bank-statements{query}", content=content,
                          headers={"Content-Type": content_type})


def by_reference(lines: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {line["bank_reference"]: line for line in lines}


async def open_amounts(api: Api, customer_id: str, as_of: str = "2026-04-30") -> dict[str, int]:
    account = await api.ok("GET", f"/ledger/v1/customers/{customer_id}/account?as_of={as_of}")
    return {i["invoice_id"]: i["open_amount"] for i in account["open_invoices"]}


async def test_bank_files_matched_booked_once_and_decided(embedded: tuple[Api, FastAPI]) -> None:
    api, app = embedded
    runtime = app.state.runtimes["reconciliation"]
    await books(api)

    first = await upload(api, camt053(CAMT_ROWS, account=ACCOUNT), "application/xml")
    assert first.status_code == 201, first.text
    result = first.json()
    assert (result["format"], result["account"], result["entries"]) == ("camt053", ACCOUNT, 7)
    lines = by_reference(result["lines"])
    assert {ref: line["status"] for ref, line in lines.items()} == {
        "B-1": "matched", "B-2": "matched", "B-3": "matched", "B-4": "unmatched",
        "B-5": "unmatched", "B-6": "debit", "B-7": "unmatched"}
    assert (lines["B-1"]["customer_id"], lines["B-1"]["invoice_ids"]) == ("D-1", ["INV-2026-0101"])
    assert (lines["B-2"]["customer_id"], lines["B-2"]["invoice_ids"]) == ("D-2", ["INV-2026-0201"])
    assert "read as INV-2026-0201 (1 typo)" in lines["B-2"]["match_reason"]
    assert lines["B-3"]["customer_id"] == "D-1"
    assert lines["B-3"]["discrepancy"] == "short of INV-2026-0102: paid 5000000 of 8000000 open"
    assert {s["customer_id"] for s in lines["B-5"]["suggestions"]} == {"D-1", "D-2"}
    assert "USD" in lines["B-7"]["match_reason"]

    identified = await emitted(runtime, "reconciliation.payment.identified")
    assert sorted((e["bank_line_id"], e["customer_id"]) for e in identified) == sorted(
        (lines[r]["id"], lines[r]["customer_id"]) for r in ("B-1", "B-2", "B-3"))
    assert next(e for e in identified if e["bank_line_id"] == lines["B-3"]["id"])["discrepancy"]

    async def booked() -> None:
        assert await open_amounts(api, "D-1") == {"INV-2026-0102": 3_000_000, "INV-2026-0103": 2_000_000}
        assert await open_amounts(api, "D-2") == {"INV-2026-0202": 4_200_000}
        line = await api.ok("GET", f"/reconciliation/v1/bank-lines/{lines['B-1']['id']}")
        assert line["booked_on"] == "2026-04-03"  # the ledger's payment came back
    await eventually(booked)

    # The same file again: its first import, nothing new.
    again = await upload(api, camt053(CAMT_ROWS, account=ACCOUNT), "application/xml")
    assert again.status_code == 200 and again.json()["duplicate_file"] is True
    assert again.json()["id"] == result["id"]
    # An overlapping MT940 export of the same account: the known line is not taken twice.
    later = Row(ON, 2_000_000, "Wang Trading Co., Ltd.", None, "B-8")
    overlap = await upload(api, mt940([CAMT_ROWS[0], later], account=ACCOUNT), "text/plain")
    assert overlap.status_code == 201, overlap.text
    assert (overlap.json()["format"], overlap.json()["already_imported"], overlap.json()["new_lines"]) == (
        "mt940", 1, 1)
    [new] = overlap.json()["lines"]
    assert (new["status"], new["customer_id"], new["invoice_ids"]) == ("matched", "D-1", ["INV-2026-0103"])

    # The queue of unmatched lines, a page at a time.
    page = await api.get("/reconciliation/v1/bank-lines?status=unmatched&limit=2")
    assert len(page.json()) == 2 and 'rel="next"' in page.headers["link"]
    rest = await api.get(page.headers["link"].split(";")[0].strip("<>"))
    assert rest.status_code == 200, (page.headers["link"], rest.text)
    queue = by_reference(page.json() + rest.json())
    assert set(queue) == {"B-4", "B-5", "B-7"} and "link" not in rest.headers

    # A person decides: the parent's payment is for D-2 (its name is not taught to D-2).
    wrong_invoice = await api.post(f"/reconciliation/v1/bank-lines/{queue['B-5']['id']}/assign",
                                   {"customer_id": "D-2", "invoice_ids": ["INV-2026-0102"]})
    assert wrong_invoice.status_code == 422
    assert wrong_invoice.json()["errors"][0]["field"] == "invoice_ids.0"
    assigned = await api.ok("POST", f"/reconciliation/v1/bank-lines/{queue['B-5']['id']}/assign",
                            {"customer_id": "D-2", "invoice_ids": ["INV-2026-0202"],
                             "note": "Wang pays for its subsidiary Li"})
    assert (assigned["status"], assigned["discrepancy"], assigned["decided_by"]) == (
        "assigned", None, assigned["decided_by"])
    assert assigned["decided_by"].startswith("key:")
    twice = await api.post(f"/reconciliation/v1/bank-lines/{queue['B-5']['id']}/ignore", {"reason": "x"})
    assert twice.status_code == 409
    # ... the stranger is the owner's brother paying for D-1: his name is learnt.
    await api.ok("POST", f"/reconciliation/v1/bank-lines/{queue['B-4']['id']}/assign",
                 {"customer_id": "D-1", "note": "the owner's brother"})
    ignored = await api.ok("POST", f"/reconciliation/v1/bank-lines/{queue['B-7']['id']}/ignore",
                           {"reason": "USD transfer between our own accounts"})
    assert (ignored["status"], ignored["decision_note"]) == (
        "ignored", "USD transfer between our own accounts")
    taught = await api.ok("GET", "/reconciliation/v1/customers/D-1/payer-names")
    names = {n["name"]: n["source"] for n in taught}
    assert names["Zhou Private"] == "taught"
    assert "Wang Trading Co., Ltd." not in {
        n["name"] for n in await api.ok("GET", "/reconciliation/v1/customers/D-2/payer-names")}

    # Next month the brother pays the rest of INV-2026-0102 without a reference: matched.
    csv = await upload(api, csv_file([Row(date(2026, 5, 4), 2_500_000, "ZHOU PRIVATE", "", "C-1")]),
                       "text/csv")
    [line] = csv.json()["lines"]
    assert (line["status"], line["customer_id"]) == ("matched", "D-1")

    async def all_paid_once() -> None:
        assert await open_amounts(api, "D-1", "2026-05-31") == {}
        assert await open_amounts(api, "D-2", "2026-05-31") == {}
        for customer_id in ("D-1", "D-2"):
            account = await api.ok("GET", f"/ledger/v1/customers/{customer_id}/account?as_of=2026-05-31")
            assert account["balance"] == [{"amount": 0, "currency": "CNY"}], account
    await eventually(all_paid_once)


async def test_a_line_the_ledger_will_not_book_waits_for_a_person_again(
        embedded: tuple[Api, FastAPI]) -> None:
    """A bank file dated ahead (the ledger books no money on a day that has not come): the
    matched line comes back to the queue with the ledger's reason; nothing dead-letters."""
    api, app = embedded
    await books(api)
    ahead = Row(date(2999, 1, 4), 15_000_000, "WANG TRADING CO LTD", "INV-2026-0101", "B-9")
    result = (await upload(api, camt053([ahead], account=ACCOUNT), "application/xml")).json()
    [line] = result["lines"]
    assert (line["status"], line["customer_id"]) == ("matched", "D-1")

    async def back_in_the_queue() -> dict[str, Any]:
        now = await api.ok("GET", f"/reconciliation/v1/bank-lines/{line['id']}")
        assert now["status"] == "unmatched", now
        return now
    refused = await eventually(back_in_the_queue)
    assert refused["match_reason"].startswith("the ledger refused to book it: ")
    assert refused["invoice_ids"] == [] and refused["booked_on"] is None
    assert await open_amounts(api, "D-1") == {
        "INV-2026-0101": 15_000_000, "INV-2026-0102": 8_000_000, "INV-2026-0103": 2_000_000}
    for service in ("ledger", "reconciliation"):
        runtime = app.state.runtimes[service]
        async with runtime.read_sessions() as session:
            dead = (await session.execute(select(runtime.infra.dead_letters))).all()
        assert dead == [], service


async def test_a_file_past_the_limit_is_refused_before_it_is_read_whole(
        embedded: tuple[Api, FastAPI], monkeypatch: pytest.MonkeyPatch) -> None:
    api, app = embedded
    monkeypatch.setattr(app.state.runtimes["reconciliation"].config, "max_file_bytes", 10_000)
    sent = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal sent
        yield b"booking_date,amount,currency\n"
        while sent < 1_000:  # 1,000 chunks would be 4 MB
            sent += 1
            yield b"2026-04-03,1.00,CNY\n" * 200
    refused = await api.post("/reconciliation/v1/bank-statements", content=endless(),
                             headers={"Content-Type": "text/csv"})
    assert refused.status_code == 422 and "larger than 10000 bytes" in refused.json()["detail"]
    assert sent < 10
    declared = await api.post("/reconciliation/v1/bank-statements", content=b"x" * 20_000,
                              headers={"Content-Type": "text/csv"})
    assert declared.status_code == 422 and declared.json()["errors"][0]["field"] == "body"


async def test_hostile_or_unreadable_files_change_nothing(api: Api) -> None:
    bomb = (b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
            b"<Document><BkToCstmrStmt><Stmt><Id>&b;</Id></Stmt></BkToCstmrStmt></Document>")
    refused = await upload(api, bomb, "application/xml")
    assert refused.status_code == 422 and "entities" in refused.json()["detail"]
    no_amount = await upload(api, b"booking_date,Sum,currency\n2026-04-03,1.00,CNY\n", "text/csv")
    assert no_amount.status_code == 422
    assert no_amount.json()["errors"][0]["field"] == "query.csv_columns"
    for unreadable, content_type in (
            (b"<?xml version='1.0' encoding='klingon'?><Document/>", "application/xml"),
            (b"booking_date,amount,currency\n2026-04-03,1e999999999,CNY\n", "text/csv"),
            (b"booking_date,amount,currency\n2026-04-03,\"1,5\",CNY\n", "text/csv"),
            (b"booking_date,amount,currency,reference\n2026-04-03,1.00,CNY,\"" + b"x" * 200_000 + b"\"\n",
             "text/csv")):
        answer = await upload(api, unreadable, content_type)
        assert answer.status_code == 422, (unreadable[:60], answer.text)
        assert answer.json()["errors"][0]["field"] == "body"
    mapped = await upload(api, b"booking_date,Sum,currency\n2026-04-03,1.00,CNY\n", "text/csv",
                          "?csv_columns=amount:Sum")
    assert mapped.status_code == 201 and mapped.json()["lines"][0]["status"] == "unmatched"
    assert len(await api.ok("GET", "/reconciliation/v1/bank-lines")) == 1
