"""The ledger's consuming side: payments identified by reconciliation."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import select

from services.ledger import handlers
from services.ledger.domain.commands import PostInvoice
from services.ledger.tables import CreditDocument, Invoice
from shared.events import contracts as ev
from shared.events import new_event
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
