"""Reconciliation alone, fed the ledger's events: a return of a credit the ledger has not
booked yet is announced only once the booking is heard (the ledger never hears of a return
before its payment); on PostgreSQL, returns of one payment imported at once link it once."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from services.reconciliation.tables import BankLine
from shared.events import contracts as ev
from shared.events import new_event
from tests.support.api import ADMIN_KEY
from tests.support.bank_files import Row, camt053
from tests.support.embedded import service_on
from tests.support.outbox import emitted

HEADERS = {"Authorization": f"Bearer {ADMIN_KEY}"}
PAID, BACK = date(2026, 4, 2), date(2026, 4, 8)


async def _books(runtime: Any) -> None:
    for data in (
        ev.CustomerRegistered(customer_id="C1", name="Wang Trading",
                              terms=ev.Terms(mode="net_days", days=30),
                              credit_limit=ev.MoneyField(amount=1, currency="CNY")),
        ev.InvoicePosted(customer_id="C1", invoice_id="INV-2026-0001", amount=100_000, currency="CNY",
                         issue_date=date(2026, 3, 1), due_date=date(2026, 3, 31)),
    ):
        await runtime.transport.publish(new_event("recoup/test", data))


def _returned(bank_reference: str) -> bytes:
    return camt053([Row(BACK, -100_000, "Wang Trading", "INV-2026-0001", bank_reference,
                        end_to_end="SDD-1", returned="AM04")], statement_id=bank_reference)


async def _upload(client: httpx.AsyncClient, data: bytes) -> httpx.Response:
    return await client.post("/reconciliation/v1/bank-statements", content=data,
                             headers={"Content-Type": "application/xml"})


@pytest.mark.parametrize("db", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def test_a_return_waits_for_the_booking_of_its_payment(db: str, tmp_path: Path) -> None:
    async with service_on(db, tmp_path, "reconciliation") as (app, runtime):
        await _books(runtime)
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://recoup",
                                   headers=HEADERS)
        async with client:
            paid = await _upload(client, camt053([Row(PAID, 100_000, "Wang Trading", "INV-2026-0001",
                                                      "B-1", end_to_end="SDD-1")]))
            (credit,) = paid.json()["lines"]
            assert credit["status"] == "matched" and credit["booked_on"] is None
            back = await _upload(client, _returned("R-1"))
            (line,) = back.json()["lines"]
            assert (line["status"], line["returns_payment_id"], line["return_announced_at"]) == (
                "linked", credit["id"], None)
            assert await emitted(runtime, "reconciliation.payment.returned") == []

            booked = new_event("recoup/ledger", ev.PaymentReceived(
                customer_id="C1", payment_id=credit["id"], amount=100_000, currency="CNY",
                received_on=PAID, allocations=[ev.Allocation(invoice_id="INV-2026-0001", amount=100_000)],
                unapplied=0))
            await runtime.transport.publish(booked)
            await runtime.transport.publish(booked)  # redelivered: announced once
            (announced,) = await emitted(runtime, "reconciliation.payment.returned")
            assert (announced["payment_id"], announced["bank_line_id"], announced["customer_id"],
                    announced["amount"], announced["returned_on"], announced["reason"],
                    announced["linked_by"]) == (credit["id"], line["id"], "C1", 100_000,
                                                "2026-04-08", "AM04 insufficient funds", "matching")
            again = (await client.get(f"/reconciliation/v1/bank-lines/{line['id']}")).json()
            assert again["return_announced_at"] is not None


@pytest.mark.postgres
async def test_returns_of_one_payment_imported_at_once_link_it_once(tmp_path: Path) -> None:
    async with service_on("postgres", tmp_path, "reconciliation") as (app, runtime):
        await _books(runtime)
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://recoup",
                                   headers=HEADERS)
        async with client:
            paid = await _upload(client, camt053([Row(PAID, 100_000, "Wang Trading", "INV-2026-0001",
                                                      "B-1", end_to_end="SDD-1")]))
            (credit,) = paid.json()["lines"]
            await runtime.transport.publish(new_event("recoup/ledger", ev.PaymentReceived(
                customer_id="C1", payment_id=credit["id"], amount=100_000, currency="CNY",
                received_on=PAID, allocations=[], unapplied=100_000)))
            # Two banks' exports of one return (different references): one is the return.
            uploads = await asyncio.gather(*(_upload(client, _returned(f"R-{n}")) for n in range(4)))
            codes = [r.status_code for r in uploads]
            assert set(codes) <= {201, 409} and codes.count(201) >= 1, codes
            async with runtime.read_sessions() as session:
                returns = (await session.execute(select(BankLine).where(
                    BankLine.is_return.is_(True)))).scalars().all()
            assert [r.status for r in returns].count("linked") == 1
            assert {r.status for r in returns} <= {"linked", "unmatched"}
            assert all("already returned" in (r.match_reason or "") for r in returns if r.status != "linked")
            assert len(await emitted(runtime, "reconciliation.payment.returned")) == 1


async def test_a_return_imported_before_its_credit_is_linked_when_the_credit_comes(
        tmp_path: Path) -> None:
    """Exports imported out of order: the return waits; the credit's import links it, and
    the credit, whose money has gone back already, is never booked."""
    async with service_on("sqlite", tmp_path, "reconciliation") as (app, runtime):
        await _books(runtime)
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://recoup",
                                   headers=HEADERS)
        async with client:
            (waiting,) = (await _upload(client, _returned("R-1"))).json()["lines"]
            assert waiting["status"] == "unmatched" and "no credit" in waiting["match_reason"]
            paid = await _upload(client, camt053([Row(PAID, 100_000, "Wang Trading", "INV-2026-0001",
                                                      "B-1", end_to_end="SDD-1")]))
            (credit,) = paid.json()["lines"]
            assert (credit["status"], credit["returned_by"]) == ("returned", waiting["id"])
            line = (await client.get(f"/reconciliation/v1/bank-lines/{waiting['id']}")).json()
            assert (line["status"], line["returns_line_id"], line["returns_payment_id"]) == (
                "linked", credit["id"], None)
            assert await emitted(runtime, "reconciliation.payment.identified") == []
            assert await emitted(runtime, "reconciliation.payment.returned") == []


async def test_money_paid_out_coming_back_is_no_customers_payment(tmp_path: Path) -> None:
    """A reversal on the credit side (a refund to a closed account bounced) is not matched,
    even naming an open invoice: it waits for a person to assign or ignore."""
    async with service_on("sqlite", tmp_path, "reconciliation") as (app, runtime):
        await _books(runtime)
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://recoup",
                                   headers=HEADERS)
        async with client:
            bounced = camt053([Row(BACK, 100_000, "Wang Trading", "INV-2026-0001 refund", "R-7",
                                   returned="AC04")], return_marks=("RvslInd",))
            (line,) = (await _upload(client, bounced)).json()["lines"]
            assert (line["direction"], line["is_return"], line["status"]) == ("credit", True, "unmatched")
            assert "money paid out came back" in line["match_reason"]
            assert await emitted(runtime, "reconciliation.payment.identified") == []


def _refused(source: type[ev.EventData], kind: str, document_id: str, reason: str) -> Any:
    return new_event("recoup/ledger", ev.PostingRefused(
        customer_id="C1", document_kind=kind, document_id=document_id, reason=reason,
        source_event_id="e-1", source_event_type=source.event_type))


async def test_a_credit_returned_before_the_ledger_refused_it_waits_for_no_one(
        tmp_path: Path) -> None:
    """The credit and its return in one export, the ledger then refusing to book the
    credit: its money has gone back, so it is not put in a person's queue, and the return
    waits for no booking (nothing was booked, nothing is reversed)."""
    async with service_on("sqlite", tmp_path, "reconciliation") as (app, runtime):
        await _books(runtime)
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://recoup",
                                   headers=HEADERS)
        async with client:
            paid = await _upload(client, camt053([Row(PAID, 100_000, "Wang Trading", "INV-2026-0001",
                                                      "B-1", end_to_end="SDD-1")]))
            (credit,) = paid.json()["lines"]
            (back,) = (await _upload(client, _returned("R-1"))).json()["lines"]
            assert (back["status"], back["returns_payment_id"]) == ("linked", credit["id"])
            await runtime.transport.publish(_refused(
                ev.PaymentIdentified, "payment", credit["id"], "2999-01-04 has not come yet"))
            credit = (await client.get(f"/reconciliation/v1/bank-lines/{credit['id']}")).json()
            back = (await client.get(f"/reconciliation/v1/bank-lines/{back['id']}")).json()
            assert (credit["status"], credit["returned_by"]) == ("returned", back["id"])
            assert "the ledger refused to book it" in credit["match_reason"]
            assert (back["status"], back["returns_line_id"], back["returns_payment_id"]) == (
                "linked", credit["id"], None)
            assert "never booked: nothing to reverse" in back["match_reason"]
            assert await emitted(runtime, "reconciliation.payment.returned") == []


async def test_a_return_whose_reversal_the_ledger_refused_waits_for_a_person(
        tmp_path: Path) -> None:
    """A person links a return to the wrong payment (one received after the return): the
    ledger refuses the reversal; the return is unmatched again with the ledger's reason,
    the payment free, and the person can link the right one."""
    async with service_on("sqlite", tmp_path, "reconciliation") as (app, runtime):
        await _books(runtime)
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://recoup",
                                   headers=HEADERS)
        async with client:
            for payment_id, on in (("PAY-LATER", date(2026, 4, 20)), ("PAY-RIGHT", PAID)):
                await runtime.transport.publish(new_event("recoup/ledger", ev.PaymentReceived(
                    customer_id="C1", payment_id=payment_id, amount=100_000, currency="CNY",
                    received_on=on, allocations=[], unapplied=100_000)))
            (back,) = (await _upload(client, _returned("R-1"))).json()["lines"]
            assert back["status"] == "unmatched"
            linked = await client.post(f"/reconciliation/v1/bank-lines/{back['id']}/link-return",
                                       json={"payment_id": "PAY-LATER"})
            assert linked.status_code == 200, linked.text
            await runtime.transport.publish(_refused(
                ev.PaymentReturned, "reversal", "REV-PAY-LATER",
                "a payment cannot bounce before it was received"))
            back = (await client.get(f"/reconciliation/v1/bank-lines/{back['id']}")).json()
            assert (back["status"], back["returns_payment_id"], back["return_announced_at"]) == (
                "unmatched", None, None)
            assert back["match_reason"] == ("the ledger refused to reverse payment PAY-LATER: "
                                            "a payment cannot bounce before it was received")
            again = await client.post(f"/reconciliation/v1/bank-lines/{back['id']}/link-return",
                                      json={"payment_id": "PAY-RIGHT"})
            assert again.status_code == 200, again.text
            assert [e["payment_id"] for e in await emitted(
                runtime, "reconciliation.payment.returned")] == ["PAY-LATER", "PAY-RIGHT"]
