"""Returned payments through HTTP, all services embedded: a bank credit pays an overdue
invoice and lifts the holds; a later bank file returns it (a direct debit the payer's bank
refused); the ledger owes the invoice's amount again, overdue with its age, and the night
brings the holds back per the ladder. Returns reconciliation cannot link wait for a person,
who links or dismisses them; a credit returned before anything was booked books nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from tests.e2e.collections_steps import case_of, check, invoice, night, register
from tests.support.api import Api, eventually
from tests.support.bank_files import Row, camt053, csv_file, mt940
from tests.support.collections import collections_api, dead_letters, quiet
from tests.support.outbox import emitted

PAID = date(2026, 2, 21)
BACK = date(2026, 2, 26)


@pytest.fixture
async def system(tmp_path: Path) -> AsyncIterator[tuple[Api, FastAPI]]:
    async with collections_api(tmp_path) as pair:
        yield pair
        assert await dead_letters(pair[1]) == []


async def upload(api: Api, content: bytes, content_type: str = "application/xml") -> Any:
    response = await api.post("/reconciliation/v1/bank-statements", content=content,
                              headers={"Content-Type": content_type})
    assert response.status_code in (200, 201), response.text
    return response.json()


async def account(api: Api, customer_id: str, as_of: str) -> dict[str, Any]:
    return await api.ok("GET", f"/ledger/v1/customers/{customer_id}/account?as_of={as_of}")


async def holds_of(api: Api, customer_id: str) -> set[str]:
    return {h["kind"] for h in await api.ok("GET", f"/credit/v1/customers/{customer_id}/holds")}


async def test_a_returned_payment_reopens_the_debt_and_the_holds_come_back(
        system: tuple[Api, FastAPI]) -> None:
    api, app = system
    await register(api, "K")
    await invoice(api, "K", "INV-2026-0042", 250_000, "2026-01-01")  # due 2026-01-31
    await night(api, app, "2026-02-20")
    assert (await check(api, "K"))["decision"] == "cash_only"

    # The direct debit is credited: matched, booked, the holds lifted.
    paid = Row(PAID, 250_000, payer="Dealer K", reference="INV-2026-0042", bank_reference="B-77",
               payer_account="CN0001", end_to_end="SDD-K-0042")
    (credit,) = (await upload(api, camt053([paid], statement_id="S-1")))["lines"]
    assert (credit["status"], credit["customer_id"]) == ("matched", "K")
    await quiet(app)
    assert (await check(api, "K"))["decision"] == "approve"
    assert await holds_of(api, "K") == set()

    # Five days later the payer's bank refuses it: AM04, insufficient funds.
    back = Row(BACK, -250_000, payer="Dealer K", reference="INV-2026-0042", bank_reference="R-91",
               payer_account="CN0001", end_to_end="SDD-K-0042", returned="AM04")
    fee = Row(BACK, -1_500, payer="Bank", reference="return charges", bank_reference="F-1")
    statement = camt053([back, fee], statement_id="S-2")
    result = await upload(api, statement)
    lines = {line["bank_reference"]: line for line in result["lines"]}
    returned = lines["R-91"]
    assert (returned["status"], returned["is_return"], returned["direction"]) == ("linked", True, "debit")
    assert (returned["returns_line_id"], returned["returns_payment_id"], returned["customer_id"]) == (
        credit["id"], credit["id"], "K")
    assert returned["return_reason"] == "AM04 insufficient funds"
    assert "end-to-end id SDD-K-0042" in returned["match_reason"]
    assert lines["F-1"]["status"] == "debit"  # the bank's fee is no return
    await quiet(app)

    # The ledger owes it again, with the invoice's age: overdue since 2026-01-31.
    position = await account(api, "K", "2026-02-26")
    assert position["balance"] == [{"amount": 250_000, "currency": "CNY"}]
    assert position["overdue"] == [{"amount": 250_000, "currency": "CNY"}]
    (reopened,) = position["open_invoices"]
    assert (reopened["invoice_id"], reopened["due_date"], reopened["open_amount"],
            reopened["days_past_due"]) == (f"REV-{credit['id']}", "2026-01-31", 250_000, 26)
    reversal = await api.ok("GET", f"/ledger/v1/invoices/REV-{credit['id']}")
    assert (reversal["kind"], reversal["reference_id"]) == ("reversal", credit["id"])
    assert "AM04 insufficient funds" in reversal["memo"]
    original = await api.ok("GET", f"/reconciliation/v1/bank-lines/{credit['id']}")
    assert (original["status"], original["returned_by"]) == ("matched", returned["id"])

    # The same file again, and an overlapping MT940 export of the return: nothing twice.
    assert (await upload(api, statement))["duplicate_file"] is True
    overlap = await upload(api, mt940([back], account="CN5512345678901234567"), "text/plain")
    assert (overlap["new_lines"], overlap["already_imported"]) == (0, 1)
    await quiet(app)
    runtime = app.state.runtimes["reconciliation"]
    assert [e["payment_id"] for e in await emitted(runtime, "reconciliation.payment.returned")] == [
        credit["id"]]
    assert (await account(api, "K", "2026-02-26"))["balance"] == [{"amount": 250_000, "currency": "CNY"}]

    # The night: the reopened debt is 27 days overdue, cash only again; a case again.
    await night(api, app, "2026-02-27")
    assert (await check(api, "K"))["decision"] == "cash_only"
    assert await holds_of(api, "K") >= {"cash_only", "suspend_incentives"}
    assert (await case_of(api, "K"))["class"] == "dunning"

    # The debit presented again and paid: it pays what the return reopened; holds lifted.
    again = Row(date(2026, 3, 3), 250_000, payer="Dealer K", reference="INV-2026-0042",
                bank_reference="B-78", payer_account="CN0001", end_to_end="SDD-K-0042-2")
    (repaid,) = (await upload(api, camt053([again], statement_id="S-3")))["lines"]
    assert (repaid["status"], repaid["customer_id"]) == ("matched", "K"), repaid["match_reason"]
    assert f"REV-{credit['id']} (reopening INV-2026-0042)" in repaid["match_reason"]
    await quiet(app)
    assert (await account(api, "K", "2026-03-03"))["balance"] == [{"amount": 0, "currency": "CNY"}]
    assert (await check(api, "K"))["decision"] == "approve"


async def test_returns_that_cannot_be_linked_wait_for_a_person(system: tuple[Api, FastAPI]) -> None:
    api, app = system
    await register(api, "L")
    for n in (1, 2):
        await invoice(api, "L", f"INV-2026-010{n}", 100_000, "2026-01-01")
    await quiet(app)  # reconciliation knows the invoices
    first = Row(PAID, 100_000, "Dealer L", "INV-2026-0101", "B-1", payer_account="CN0002")
    second = Row(PAID, 100_000, "Dealer L", "INV-2026-0102", "B-2", payer_account="CN0002",
                 end_to_end="SDD-L-2")
    credits = {c["bank_reference"]: c for c in (await upload(api, camt053([first, second])))["lines"]}
    assert {c["status"] for c in credits.values()} == {"matched"}
    await quiet(app)

    # A CSV export: two returns name nothing they undo; one takes back part of a payment.
    headers = ("booking_date", "amount", "currency", "payer_name", "reference", "bank_reference",
               "end_to_end_id", "return_reason")
    returns = csv_file([Row(BACK, -100_000, "Dealer L", "ruecklastschrift", "R-1", returned="MD06"),
                        Row(BACK, -99_000, "Dealer L", "retour", "R-2", end_to_end="SDD-L-2",
                            returned="AC04"),
                        Row(BACK, -5_000, "Bank", "correction", "R-3", returned="bank correction")],
                       headers=headers)
    waiting = {line["bank_reference"]: line for line in (await upload(api, returns, "text/csv"))["lines"]}
    assert {r: (w["status"], w["is_return"]) for r, w in waiting.items()} == {
        "R-1": ("unmatched", True), "R-2": ("unmatched", True), "R-3": ("unmatched", True)}
    assert "no credit booked in the 60 days before it" in waiting["R-1"]["match_reason"]
    assert "a partial return is not booked without a person" in waiting["R-2"]["match_reason"]
    assert waiting["R-2"]["suggestions"] == [{"line_id": credits["B-2"]["id"]}]
    queue = await api.ok("GET", "/reconciliation/v1/bank-lines?status=unmatched&is_return=true")
    assert {line["bank_reference"] for line in queue} == {"R-1", "R-2", "R-3"}
    await quiet(app)
    assert await emitted(app.state.runtimes["reconciliation"], "reconciliation.payment.returned") == []

    # A return pays nobody's invoices; and it is linked to a payment that exists.
    refused = await api.post(f"/reconciliation/v1/bank-lines/{waiting['R-1']['id']}/assign",
                             {"customer_id": "L"})
    assert refused.status_code == 409 and "link-return" in refused.json()["detail"]
    unknown = await api.post(f"/reconciliation/v1/bank-lines/{waiting['R-1']['id']}/link-return",
                             {"payment_id": "NOPE"})
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "payment_id"

    # The person links the first to its payment; the ledger reverses it.
    linked = await api.ok("POST", f"/reconciliation/v1/bank-lines/{waiting['R-1']['id']}/link-return",
                          {"payment_id": credits["B-1"]["id"], "note": "the customer revoked the debit"})
    assert (linked["status"], linked["returns_payment_id"], linked["decision_note"]) == (
        "linked", credits["B-1"]["id"], "the customer revoked the debit")
    assert linked["decided_by"].startswith("key:")
    again = await api.post(f"/reconciliation/v1/bank-lines/{waiting['R-1']['id']}/link-return",
                           {"payment_id": credits["B-1"]["id"]})
    assert again.status_code == 409
    # ... the partial one (the banks kept 10.00 of charges): the whole payment is undone.
    partial = await api.ok("POST", f"/reconciliation/v1/bank-lines/{waiting['R-2']['id']}/link-return",
                           {"payment_id": credits["B-2"]["id"], "note": "returned less charges"})
    assert partial["discrepancy"] == ("returns 990.00 of the payment's 1,000.00: the ledger "
                                      "reverses the whole payment")
    # ... and dismisses the bank's own correction with a note: nothing is reversed for it.
    dismissed = await api.ok("POST", f"/reconciliation/v1/bank-lines/{waiting['R-3']['id']}/ignore",
                             {"reason": "the bank's correction of a fee, not the customer's money"})
    assert dismissed["status"] == "ignored"
    await quiet(app)

    position = await account(api, "L", "2026-02-26")
    assert {i["invoice_id"]: i["open_amount"] for i in position["open_invoices"]} == {
        f"REV-{credits['B-1']['id']}": 100_000, f"REV-{credits['B-2']['id']}": 100_000}
    events = await emitted(app.state.runtimes["reconciliation"], "reconciliation.payment.returned")
    assert [(e["payment_id"], e["amount"], e["payment_amount"], e["linked_by"], e["note"])
            for e in events] == [
        (credits["B-1"]["id"], 100_000, None, linked["decided_by"], "the customer revoked the debit"),
        (credits["B-2"]["id"], 99_000, 100_000, linked["decided_by"], "returned less charges")]


async def test_a_credit_returned_before_it_was_booked_books_nothing(system: tuple[Api, FastAPI]) -> None:
    api, app = system
    await register(api, "M")
    await invoice(api, "M", "INV-2026-0301", 70_000, "2026-01-01")
    await quiet(app)
    # A stranger's credit waits for a person; the same file returns a matched one at once.
    stranger = Row(PAID, 33_000, "Nobody Known", "gift", "B-5", payer_account="CN0009")
    paid = Row(PAID, 70_000, "Dealer M", "INV-2026-0301", "B-6", end_to_end="E-6")
    back = Row(BACK, -70_000, "Dealer M", "INV-2026-0301", "R-6", end_to_end="E-6", returned="MS03")
    first = await upload(api, camt053([stranger], statement_id="S-5"))
    (waiting,) = first["lines"]
    assert waiting["status"] == "unmatched"
    lines = {line["bank_reference"]: line for line in
             (await upload(api, camt053([paid, back], statement_id="S-6")))["lines"]}
    assert lines["B-6"]["status"] == "returned" and lines["R-6"]["status"] == "linked"
    assert "never booked: nothing to reverse" in lines["R-6"]["match_reason"]
    # The stranger's money goes back too (a return by payer account, amount and remittance).
    gone = Row(BACK, -33_000, "Nobody Known", "RETURN gift", "R-5", payer_account="CN0009",
               returned="AC04")
    (line,) = (await upload(api, camt053([gone], statement_id="S-7")))["lines"]
    assert (line["status"], line["returns_line_id"]) == ("linked", waiting["id"])
    assert (await api.ok("GET", f"/reconciliation/v1/bank-lines/{waiting['id']}"))["status"] == "returned"
    await quiet(app)

    position = await account(api, "M", "2026-02-26")
    assert {i["invoice_id"]: i["open_amount"] for i in position["open_invoices"]} == {"INV-2026-0301": 70_000}
    runtime = app.state.runtimes["reconciliation"]
    assert await emitted(runtime, "reconciliation.payment.identified") == []
    assert await emitted(runtime, "reconciliation.payment.returned") == []
    assert await api.ok("GET", "/reconciliation/v1/bank-lines?status=unmatched") == []

    async def nothing_booked() -> None:
        assert await api.ok("GET", "/ledger/v1/invoices?customer_id=M&kind=reversal") == []
    await eventually(nothing_booked)


async def test_a_return_linked_to_a_payment_it_cannot_undo_waits_for_a_person_again(
        system: tuple[Api, FastAPI]) -> None:
    """A person links a return to the wrong payment, one received after the return: the
    ledger will not reverse it, and the return is back in the queue with the ledger's reason
    (not 'linked' while nothing was reversed); linked to the right one, it is reversed."""
    api, app = system
    await register(api, "N")
    await invoice(api, "N", "INV-2026-0401", 80_000, "2026-01-01")
    for payment_id, on in (("PAY-N-RIGHT", "2026-02-20"), ("PAY-N-LATER", "2026-03-02")):
        await api.ok("POST", "/ledger/v1/payments", {
            "id": payment_id, "customer_id": "N", "amount": 80_000, "currency": "CNY",
            "received_on": on})
    await quiet(app)
    back = Row(BACK, -80_000, "Dealer N", "retour", "R-8", returned="MD06")
    (line,) = (await upload(api, camt053([back], statement_id="S-8")))["lines"]
    assert line["status"] == "unmatched"
    await api.ok("POST", f"/reconciliation/v1/bank-lines/{line['id']}/link-return",
                 {"payment_id": "PAY-N-LATER"})
    await quiet(app)
    again = await api.ok("GET", f"/reconciliation/v1/bank-lines/{line['id']}")
    assert (again["status"], again["returns_payment_id"]) == ("unmatched", None)
    assert again["match_reason"].startswith("the ledger refused to reverse payment PAY-N-LATER: ")
    assert await api.ok("GET", "/ledger/v1/invoices?customer_id=N&kind=reversal") == []

    await api.ok("POST", f"/reconciliation/v1/bank-lines/{line['id']}/link-return",
                 {"payment_id": "PAY-N-RIGHT"})
    await quiet(app)
    reversals = await api.ok("GET", "/ledger/v1/invoices?customer_id=N&kind=reversal")
    assert [r["id"] for r in reversals] == ["REV-PAY-N-RIGHT"]
