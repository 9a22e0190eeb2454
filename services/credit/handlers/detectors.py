"""Running the detectors of domain/detection.py over credit's read models."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from services.credit.domain import detection
from services.credit.domain.detection import Settlement, month_key
from services.credit.handlers import signals
from services.credit.handlers.common import balances, config
from services.credit.handlers.holds import Overdue
from services.credit.tables import BalanceView, Customer, InvoiceView, PaymentLine, PurchaseMonth, Signal
from shared.db import UnitOfWork


async def _months(uow: UnitOfWork, customer_id: str, currency: str) -> dict[str, int]:
    return dict((await uow.session.execute(select(PurchaseMonth.month, PurchaseMonth.amount).where(
        PurchaseMonth.customer_id == customer_id, PurchaseMonth.currency == currency))).all())


async def large_purchase(uow: UnitOfWork, customer: Customer, currency: str, on: date) -> None:
    if customer.first_purchase_on is None:
        return
    finding = detection.large_purchase_out_of_season(
        await _months(uow, customer.id, currency), month_key(customer.first_purchase_on), on,
        currency, config(uow).detection)
    if finding is not None:  # one month's news: recorded once, never "clears"
        await signals.detect(uow, customer, f"large_purchase:{currency}:{month_key(on)}", finding, on)


async def purchase_drop(uow: UnitOfWork, customer: Customer, as_of: date) -> list[Signal | None]:
    currencies = (await uow.session.execute(select(PurchaseMonth.currency).where(
        PurchaseMonth.customer_id == customer.id).distinct())).scalars().all()
    found = []
    for currency in currencies:
        finding = None if customer.first_purchase_on is None else detection.purchase_drop(
            await _months(uow, customer.id, currency), month_key(customer.first_purchase_on), as_of,
            currency, config(uow).detection)
        found.append(await signals.detect(uow, customer, f"purchase_drop:{currency}", finding, as_of))
    return found


async def partial_payments(uow: UnitOfWork, customer: Customer, as_of: date) -> Signal | None:
    """Whatever order the payment, its settlement and the position arrive in (each calls
    this once it is recorded): every line of the invoices paid in the window, so that what
    was paid before counts towards what the invoice still owed."""
    t = config(uow).detection
    paid_recently = select(PaymentLine.invoice_id).where(
        PaymentLine.customer_id == customer.id,
        PaymentLine.received_on > as_of - timedelta(days=t.partial_window_days))
    rows = (await uow.session.execute(
        select(PaymentLine.payment_id, PaymentLine.received_on, PaymentLine.invoice_id,
               PaymentLine.amount, InvoiceView.amount, InvoiceView.settled_on,
               InvoiceView.issue_date)
        .outerjoin(InvoiceView, InvoiceView.id == PaymentLine.invoice_id).where(
            PaymentLine.customer_id == customer.id, PaymentLine.received_on <= as_of,
            PaymentLine.invoice_id.in_(paid_recently)))).all()
    partials = detection.partial_lines([detection.PaymentLine(*row) for row in rows])
    finding = detection.repeated_partial_payments(partials, as_of, t)
    return await signals.detect(uow, customer, "partial_payments", finding, as_of)


async def paying_late(uow: UnitOfWork, customer: Customer, as_of: date, overdue: Overdue
                      ) -> Signal | None:
    t = config(uow).detection
    settled = (await uow.session.execute(
        select(InvoiceView.id, InvoiceView.due_date, InvoiceView.settled_on).where(
            InvoiceView.customer_id == customer.id, InvoiceView.kind == "invoice",
            InvoiceView.settled_on <= as_of, InvoiceView.due_date.is_not(None))
        .order_by(InvoiceView.due_date.desc()).limit(t.punctual_settlements + t.late_settlements)
    )).all()
    history = [Settlement(i, due, (on - due).days) for i, due, on in settled]
    history += [Settlement(r.id, r.due_date, r.days_past_due, open=True) for r in overdue.invoices
                if r.due_date is not None and r.id not in overdue.shielded]
    return await signals.detect(uow, customer, "paying_late", detection.started_paying_late(history, t),
                                as_of)


async def gone_silent(uow: UnitOfWork, customer: Customer, as_of: date,
                      views: list[BalanceView] | None = None) -> Signal | None:
    views = await balances(uow, customer.id) if views is None else views
    finding = detection.gone_silent(
        {b.currency: b.balance for b in views},
        customer.last_order_on, customer.last_payment_on, as_of,
        config(uow).detection)
    return await signals.detect(uow, customer, "gone_silent", finding, as_of)
