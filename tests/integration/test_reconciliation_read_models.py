"""Reconciliation's read models take news in any order and twice: settlements before their
invoice, a dossier update before the registration, stale terms, an agreement's end before
its signature; and a kind of charge added to the ledger later."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from services.reconciliation.statements import issue_statement
from services.reconciliation.tables import AccountItem, Agreement, PayerAlias, ReconCustomer
from shared.events import contracts as ev
from shared.events import new_event
from tests.support.embedded import service_on


async def deliver(runtime: Any, *events: ev.EventData) -> None:
    for data in events:
        envelope = new_event("recoup/test", data)
        await runtime.transport.publish(envelope)
        await runtime.transport.publish(envelope)  # redelivered: changes nothing


async def test_documents_settlements_and_dossier_in_any_order(tmp_path: Path) -> None:
    async with service_on("sqlite", tmp_path, "reconciliation") as (_, runtime):
        await deliver(
            runtime,
            ev.PaymentReceived(customer_id="C1", payment_id="P1", amount=40_000, currency="CNY",
                               received_on=date(2026, 3, 5), unapplied=0,
                               allocations=[ev.Allocation(invoice_id="I-1", amount=40_000)]),
            ev.InvoicePosted(customer_id="C1", invoice_id="I-1", amount=100_000, currency="CNY",
                             issue_date=date(2026, 3, 1), due_date=date(2026, 3, 31)),
            ev.InvoicePosted(customer_id="C1", invoice_id="I-2", amount=5_000, currency="CNY",
                             issue_date=date(2026, 3, 2), due_date=date(2026, 4, 1)),
            ev.InvoicePosted(customer_id="C1", invoice_id="PEN-1", amount=700, currency="CNY",
                             issue_date=date(2026, 3, 3), due_date=date(2026, 4, 2), kind="penalty"),
            ev.InvoiceSettled(customer_id="C1", invoice_id="I-2", currency="CNY",
                              settled_on=date(2026, 3, 9)),
            ev.CustomerUpdated(customer_id="C1", version=2, name="Wang Trading Group",
                               legal_representative="Wang Wei", changed=["name"]),
            ev.CustomerRegistered(customer_id="C1", name="Wang Trading",
                                  terms=ev.Terms(mode="net_days", days=30),
                                  credit_limit=ev.MoneyField(amount=1, currency="CNY")),
            ev.TermsChanged(customer_id="C1", terms=ev.Terms(mode="net_days", days=60), version=3),
            ev.TermsChanged(customer_id="C1", terms=ev.Terms(mode="net_days", days=45), version=2),
            ev.AgreementCompleted(customer_id="C1", agreement_id="A1", invoice_ids=["I-1"],
                                  completed_on=date(2026, 5, 1)),
            ev.AgreementSigned(customer_id="C1", agreement_id="A1", invoice_ids=["I-1"], currency="CNY",
                               total=60_000, instalments=[ev.Instalment(due_date=date(2026, 4, 1),
                                                                        amount=60_000)]),
        )
        async with runtime.read_sessions() as session:
            invoice = await session.get(AccountItem, ("invoice", "I-1"))
            settled = await session.get(AccountItem, ("invoice", "I-2"))
            penalty = await session.get(AccountItem, ("penalty", "PEN-1"))  # a kind added later
            customer = await session.get(ReconCustomer, "C1")
            agreement = await session.get(Agreement, "A1")
            aliases = {a.name: a.source for a in (await session.execute(
                PayerAlias.__table__.select())).all()}
    assert (invoice.open_amount, invoice.ref_key) == (60_000, "I1")  # the payment came first
    assert (settled.open_amount, settled.settled_on) == (0, date(2026, 3, 9))
    assert (penalty.open_amount, penalty.ref_key) == (700, "PEN1")  # owed, and matching sees it
    assert (customer.name, customer.dossier_version) == ("Wang Trading Group", 2)  # not the older name
    assert customer.terms["days"] == 60  # version 3 wins over the late version 2
    assert (agreement.status, agreement.currency, len(agreement.instalments)) == ("completed", "CNY", 1)
    assert aliases == {"Wang Trading Group": "dossier", "Wang Wei": "legal_representative",
                       "Wang Trading": "dossier"}


async def test_one_credit_applied_to_one_invoice_twice_counts_twice(tmp_path: Path) -> None:
    """A person applies a payment's unapplied rest to an invoice in two steps: two
    settlements (each once, however often delivered), each on its own date."""
    async with service_on("sqlite", tmp_path, "reconciliation") as (_, runtime):
        await deliver(
            runtime,
            ev.InvoicePosted(customer_id="C1", invoice_id="I-3", amount=100_000, currency="CNY",
                             issue_date=date(2026, 3, 1), due_date=date(2026, 3, 31)),
            ev.PaymentReceived(customer_id="C1", payment_id="P2", amount=80_000, currency="CNY",
                               received_on=date(2026, 3, 5), unapplied=80_000, allocations=[]),
            *(ev.CreditApplied(customer_id="C1", document_kind="payment", document_id="P2",
                               invoice_id="I-3", amount=amount, currency="CNY", applied_on=on)
              for amount, on in ((30_000, date(2026, 3, 10)), (20_000, date(2026, 4, 2)))),
        )
        async with runtime.read_sessions() as session:
            invoice = await session.get(AccountItem, ("invoice", "I-3"))
        async with runtime.unit_of_work(read_only=True) as uow:
            march, _ = await issue_statement(uow, "C1", "2026-03", "CNY", as_of=date(2026, 4, 5))
            assert march is not None
            [item] = march.content["open_items"]
    assert invoice.open_amount == 50_000
    assert item["open_amount"] == 70_000  # at March's end only the first had been applied


async def test_a_discount_on_money_paid_before_its_invoice_is_dated_with_the_invoice(
        tmp_path: Path) -> None:
    """The ledger books a discount earned by money dated before its invoice on the
    invoice's issue date: so does the statement, whichever of the two events comes first."""
    paid = ev.PaymentReceived(customer_id="C1", payment_id="P1", amount=9_800, currency="CNY",
                              received_on=date(2026, 3, 30), unapplied=0,
                              allocations=[ev.Allocation(invoice_id="I-1", amount=9_800)],
                              discounts=[ev.Allocation(invoice_id="I-1", amount=200)])
    invoice = ev.InvoicePosted(customer_id="C1", invoice_id="I-1", amount=10_000, currency="CNY",
                               issue_date=date(2026, 4, 2), due_date=date(2026, 5, 2))
    for n, order in enumerate(((invoice, paid), (paid, invoice))):
        async with service_on("sqlite", tmp_path / str(n), "reconciliation") as (_, runtime):
            await deliver(runtime, *order)
            async with runtime.read_sessions() as session:
                discount = await session.get(AccountItem, ("discount", "I-1"))
            assert discount.doc_date == date(2026, 4, 2), order
