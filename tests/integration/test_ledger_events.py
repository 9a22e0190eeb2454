"""The ledger's consuming side: payments identified by reconciliation, dossier changes from
credit, charges and write-offs asked for by collection-plan."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from services.ledger import handlers, queries
from services.ledger.domain.commands import PostInvoice, PostPayment, ReversePayment
from services.ledger.tables import CreditDocument, Invoice
from shared.errors import Invalid, NotFound
from shared.events import CloudEvent, new_event
from shared.events import contracts as ev
from tests.support.embedded import embedded_settings, running_app


async def test_an_identified_bank_line_pays_the_invoices_it_names_once(tmp_path: Path) -> None:
    async with running_app(embedded_settings(tmp_path), ["ledger"]) as app:
        runtime = app.state.runtimes["ledger"]
        registered = ev.CustomerRegistered(
            customer_id="C1", name="Dealer", terms=ev.Terms(mode="net_days", days=30),
            credit_limit=ev.MoneyField(amount=1, currency="CNY"))
        async with runtime.unit_of_work() as uow:
            await handlers.on_customer_terms(uow, registered, new_event("test", registered))
            for n, issued in ((1, 1), (2, 5), (3, 10)):
                await handlers.post_invoice(uow, PostInvoice(
                    f"I{n}", "C1", 10_000, "CNY", date(2026, 1, issued)))
            await uow.commit()

        identified = new_event("recoup/reconciliation", ev.PaymentIdentified(
            customer_id="C1", bank_line_id="BANK-2026-03-01-7", amount=15_000, currency="CNY",
            received_on=date(2026, 3, 1), invoice_ids=["I3", "I1"], reference="INV I3 I1"))
        await runtime.transport.publish(identified)
        await runtime.transport.publish(identified)  # redelivered

        async with runtime.read_sessions() as session:
            open_amounts = dict((await session.execute(
                select(Invoice.id, Invoice.open_amount).order_by(Invoice.id))).all())
            payments = (await session.execute(select(CreditDocument))).scalars().all()
    assert open_amounts == {"I1": 0, "I2": 10_000, "I3": 5_000}  # named ones, oldest due first
    assert [(p.id, p.amount, p.method) for p in payments] == [
        ("BANK-2026-03-01-7", 15_000, "bank_transfer")]


def _registered(customer_id: str = "C1", salesperson: str | None = "li.na") -> ev.CustomerRegistered:
    return ev.CustomerRegistered(
        customer_id=customer_id, name="Dealer", salesperson=salesperson,
        terms=ev.Terms(mode="net_days", days=30),
        credit_limit=ev.MoneyField(amount=1, currency="CNY"))


def _updated(version: int, salesperson: str) -> ev.CustomerUpdated:
    return ev.CustomerUpdated(customer_id="C1", version=version, name="Dealer",
                              salesperson=salesperson, changed=["salesperson"])


async def _owners(runtime: Any) -> set[tuple[str | None, int]]:
    async with runtime.read_sessions() as session:
        report = await queries.aging(session, date(2026, 3, 1), group_by="salesperson")
    return {(r["salesperson"], r["total"]) for r in report["salespeople"]}


async def _outbox(runtime: Any, event_type: str) -> list[dict[str, Any]]:
    outbox = runtime.infra.outbox
    async with runtime.read_sessions() as session:
        envelopes = (await session.execute(select(outbox.c.envelope).where(
            outbox.c.type == event_type).order_by(outbox.c.id))).scalars()
        return [CloudEvent.model_validate_json(e).data for e in envelopes]


async def test_dossier_updates_move_the_salesperson_in_version_order(tmp_path: Path) -> None:
    async with running_app(embedded_settings(tmp_path), ["ledger"]) as app:
        runtime = app.state.runtimes["ledger"]
        publish = runtime.transport.publish
        # The update overtakes the registration: the registration must not undo it.
        await publish(new_event("recoup/credit", _updated(1, "wang")))
        async with runtime.unit_of_work() as uow:
            with pytest.raises(Invalid):  # no terms yet: not a customer the ledger can bill
                await handlers.post_invoice(uow, PostInvoice("I0", "C1", 10, "CNY", date(2026, 1, 1)))
        async with runtime.read_sessions() as session:
            with pytest.raises(NotFound):  # nor one with an account to show
                await queries.account(session, "C1", date(2026, 1, 1))
        await publish(new_event("recoup/credit", _registered()))
        async with runtime.unit_of_work() as uow:
            await handlers.post_invoice(uow, PostInvoice("I1", "C1", 10_000, "CNY", date(2026, 1, 1)))
            await uow.commit()
        assert await _owners(runtime) == {("wang", 10_000)}
        await publish(new_event("recoup/credit", _updated(3, "zhao")))
        await publish(new_event("recoup/credit", _updated(2, "old news")))
        assert await _owners(runtime) == {("zhao", 10_000)}


async def test_charges_asked_by_collections_are_booked_once_or_refused_out_loud(
        tmp_path: Path) -> None:
    async with running_app(embedded_settings(tmp_path), ["ledger"]) as app:
        runtime = app.state.runtimes["ledger"]
        await runtime.transport.publish(new_event("recoup/credit", _registered()))

        def charge(charge_id: str, customer_id: str = "C1", amount: int = 1_500) -> CloudEvent:
            return new_event("recoup/collections", ev.InterestCharged(
                customer_id=customer_id, charge_id=charge_id, kind="interest", invoice_id="I1",
                amount=amount, currency="CNY", issue_date=date(2026, 3, 1),
                reason="late interest after the notice of 2026-02-15"))

        first = charge("INT-1")
        for event in (first, first, charge("INT-1")):  # redelivered; sent again
            await runtime.transport.publish(event)
        refused = [charge("INT-2", customer_id="NOBODY"), charge("INT-3", amount=0),
                   charge("INT-1", amount=9)]
        for event in refused:
            await runtime.transport.publish(event)

        async with runtime.read_sessions() as session:
            booked = (await session.execute(select(Invoice))).scalars().all()
        assert [(i.id, i.kind, i.amount, i.reference_id, i.memo) for i in booked] == [
            ("INT-1", "interest", 1_500, "I1", "late interest after the notice of 2026-02-15")]
        refusals = await _outbox(runtime, "ledger.posting.refused")
        assert [(r["document_id"], r["source_event_id"]) for r in refusals] == [
            ("INT-2", refused[0].id), ("INT-3", refused[1].id), ("INT-1", refused[2].id)]
        assert "unknown to the ledger" in refusals[0]["reason"]
        assert refusals[2]["document_kind"] == "interest" and "different content" in refusals[2]["reason"]
        assert len(await _outbox(runtime, "ledger.invoice.posted")) == 1
        async with runtime.read_sessions() as session:
            dead = (await session.execute(select(runtime.infra.dead_letters))).all()
        assert dead == []


async def test_approved_write_offs_are_booked_or_refused(tmp_path: Path) -> None:
    async with running_app(embedded_settings(tmp_path), ["ledger"]) as app:
        runtime = app.state.runtimes["ledger"]
        await runtime.transport.publish(new_event("recoup/credit", _registered()))
        async with runtime.unit_of_work() as uow:
            await handlers.post_invoice(uow, PostInvoice("I1", "C1", 10_000, "CNY", date(2026, 1, 1)))
            await uow.commit()

        def approved(write_off_id: str, **change: Any) -> CloudEvent:
            fields = dict(customer_id="C1", write_off_id=write_off_id, invoice_id="I1",
                          currency="CNY", written_off_on=date(2026, 9, 30),
                          reason="bankruptcy: nothing to recover", approved_by="cfo") | change
            return new_event("recoup/collections", ev.WriteOffApproved(**fields))

        for event in (approved("WO-X", customer_id="C2"), approved("WO-1", amount=4_000),
                      approved("WO-2"), approved("WO-3")):
            await runtime.transport.publish(event)
        async with runtime.read_sessions() as session:
            invoice = await session.get(Invoice, "I1")
            written = (await session.execute(select(CreditDocument.id, CreditDocument.amount)
                                             .order_by(CreditDocument.id))).all()
        assert (invoice.open_amount, written) == (0, [("WO-1", 4_000), ("WO-2", 6_000)])
        refusals = await _outbox(runtime, "ledger.posting.refused")
        assert [(r["document_id"], r["document_kind"]) for r in refusals] == [
            ("WO-X", "write_off"), ("WO-3", "write_off")]
        assert "nothing open" in refusals[1]["reason"]


async def test_a_returned_payment_is_reversed_once_and_the_unknown_refused(tmp_path: Path) -> None:
    """reconciliation.payment.returned books what POST /payments/{id}/reversal books: the
    payment's amount owed again, due when the invoice it paid was; redelivered, sent again
    or after a person's reversal nothing more; a payment the ledger never booked is refused
    out loud, not dead-lettered."""
    async with running_app(embedded_settings(tmp_path), ["ledger"]) as app:
        runtime = app.state.runtimes["ledger"]
        await runtime.transport.publish(new_event("recoup/credit", _registered()))
        async with runtime.unit_of_work() as uow:
            await handlers.post_invoice(uow, PostInvoice("I1", "C1", 10_000, "CNY", date(2026, 1, 1)))
            for payment_id in ("BL-1", "P-2"):
                await handlers.post_payment(uow, PostPayment(
                    payment_id, "C1", 5_000, "CNY", date(2026, 2, 10), invoice_ids=("I1",)))
            await handlers.reverse_payment(uow, ReversePayment("P-2", date(2026, 2, 12), "by hand"))
            await uow.commit()

        def returned(payment_id: str, line: str) -> CloudEvent:
            return new_event("recoup/reconciliation", ev.PaymentReturned(
                customer_id="C1", payment_id=payment_id, bank_line_id=line, amount=5_000,
                currency="CNY", returned_on=date(2026, 2, 17), reason="AM04 insufficient funds",
                linked_by="matching"))

        first = returned("BL-1", "BL-R1")
        for event in (first, first, returned("BL-1", "BL-R2"), returned("P-2", "BL-R3"),
                      returned("NOPE", "BL-R4")):
            await runtime.transport.publish(event)

        async with runtime.read_sessions() as session:
            reversals = (await session.execute(select(Invoice).where(
                Invoice.kind == "reversal").order_by(Invoice.id))).scalars().all()
            invoice = await session.get(Invoice, "I1")
            dead = (await session.execute(select(runtime.infra.dead_letters))).all()
        assert [(r.id, r.amount, r.open_amount, r.due_date, r.issue_date, r.reference_id)
                for r in reversals] == [
            ("REV-BL-1", 5_000, 5_000, date(2026, 1, 31), date(2026, 2, 17), "BL-1"),
            ("REV-P-2", 5_000, 5_000, date(2026, 1, 31), date(2026, 2, 12), "P-2")]
        assert reversals[0].memo == "returned by the bank: AM04 insufficient funds (bank line BL-R1)"
        assert invoice.open_amount == 0 and dead == []
        refusals = await _outbox(runtime, "ledger.posting.refused")
        assert [(r["document_id"], r["document_kind"]) for r in refusals] == [("REV-NOPE", "reversal")]
        assert "not found" in refusals[0]["reason"]
