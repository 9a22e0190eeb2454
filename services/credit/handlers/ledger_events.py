"""What the ledger tells credit: purchases, payments, settlements, the overdue sweep and
the customer's position. Each handler keeps its read model even for a customer credit
does not know (news may overtake), and acts on the customer only when it does."""

from __future__ import annotations

from typing import Any

from services.credit.domain import reservations as rsv
from services.credit.domain.detection import month_key
from services.credit.handlers import detectors, holds, rating
from services.credit.handlers.check import consume_reservations
from services.credit.handlers.common import balances, by_event, find_customer
from services.credit.tables import BalanceView, Customer, InvoiceView, PaymentLine, PurchaseMonth, Reservation
from shared.db import UnitOfWork
from shared.events import CloudEvent
from shared.events import contracts as ev


async def _invoice(uow: UnitOfWork, invoice_id: str, customer_id: str, currency: str) -> InvoiceView:
    view = await uow.session.get(InvoiceView, invoice_id, with_for_update=True)
    if view is None:
        view = InvoiceView(id=invoice_id, customer_id=customer_id, currency=currency)
        uow.session.add(view)
    return view


async def on_invoice_posted(uow: UnitOfWork, data: ev.InvoicePosted, event: CloudEvent) -> None:
    customer = await find_customer(uow, data.customer_id, lock=True)
    view = await _invoice(uow, data.invoice_id, data.customer_id, data.currency)
    view.kind, view.amount, view.order_id = data.kind, data.amount, data.order_id
    view.issue_date, view.due_date = data.issue_date, data.due_date
    purchase = data.kind == "invoice"
    if purchase:
        key = (data.customer_id, data.currency, month_key(data.issue_date))
        month = await uow.session.get(PurchaseMonth, key, with_for_update=True)
        if month is None:
            month = PurchaseMonth(customer_id=key[0], currency=key[1], month=key[2])
            uow.session.add(month)
        month.amount += data.amount
        month.invoices += 1
    if customer is None:
        return
    if purchase:
        customer.first_purchase_on = min(customer.first_purchase_on or data.issue_date, data.issue_date)
        customer.last_order_on = max(customer.last_order_on or data.issue_date, data.issue_date)
    if data.order_id:
        await _invoiced(uow, customer, data)
    if purchase:
        await detectors.large_purchase(uow, customer, data.currency, data.issue_date)
    await rating.rerate_on_news(uow, customer, event, data.issue_date)


async def _invoiced(uow: UnitOfWork, customer: Customer, data: ev.InvoicePosted) -> None:
    """An invoice for the order is booked: its amount comes off the reservation once
    credit's balance view has reached the version that includes it (without a version from
    the ledger: the next position credit hears of); the reservation ends when its invoices
    cover it (an order may be delivered, and invoiced, in parts)."""
    reservation = await uow.session.get(Reservation, data.order_id, with_for_update=True)
    if (reservation is None or reservation.customer_id != customer.id or data.kind != "invoice"
            or reservation.status not in (rsv.RESERVED, rsv.SHIPPED)
            or any(i["invoice_id"] == data.invoice_id for i in reservation.invoices)):
        return
    version = (data.balance_version if data.balance_version is not None
               else customer.balance_version + 1)
    reservation.invoices = [*reservation.invoices,
                            {"invoice_id": data.invoice_id, "amount": data.amount, "version": version}]
    reservation.invoice_id = reservation.invoice_id or data.invoice_id
    reservation.consumed_at_version = rsv.covered_at(reservation.amount, reservation.invoices)
    if reservation.status == rsv.RESERVED:
        reservation.status = rsv.SHIPPED  # goods invoiced have left: the rest no longer lapses
    await consume_reservations(uow, customer, by="event:ledger.invoice.posted")


async def on_payment_received(uow: UnitOfWork, data: ev.PaymentReceived, _: CloudEvent) -> None:
    """Recorded for partial payments and silence; the settlements and the position that
    follow in the same posting re-rate."""
    customer = await find_customer(uow, data.customer_id, lock=True)
    discounts = {d.invoice_id: d.amount for d in data.discounts}
    for line in data.allocations:
        if await uow.session.get(PaymentLine, (data.payment_id, line.invoice_id)) is None:
            uow.session.add(PaymentLine(payment_id=data.payment_id, invoice_id=line.invoice_id,
                                        customer_id=data.customer_id,
                                        amount=line.amount + discounts.get(line.invoice_id, 0),
                                        received_on=data.received_on))
    if customer is not None:
        customer.last_payment_on = max(customer.last_payment_on or data.received_on, data.received_on)
        if data.allocations:  # the position may have overtaken this news: look now too
            await detectors.partial_payments(uow, customer, data.received_on)


async def on_invoice_settled(uow: UnitOfWork, data: ev.InvoiceSettled, event: CloudEvent) -> None:
    customer = await find_customer(uow, data.customer_id, lock=True)
    view = await _invoice(uow, data.invoice_id, data.customer_id, data.currency)
    view.settled_on = data.settled_on
    if customer is None:
        return
    # The invoice no longer counts, whichever came first, this or the position after it:
    # what it called for goes now (with the position still to come and nothing else
    # overdue, the policy waits for it).
    overdue = await holds.apply_overdue_policy(uow, customer, by=by_event(event))
    await detectors.paying_late(uow, customer, data.settled_on, overdue)
    await rating.rerate_on_news(uow, customer, event, data.settled_on, overdue=overdue)


async def on_invoice_written_off(uow: UnitOfWork, data: ev.InvoiceWrittenOff, event: CloudEvent) -> None:
    customer = await find_customer(uow, data.customer_id, lock=True)
    view = await _invoice(uow, data.invoice_id, data.customer_id, data.currency)
    view.written_off = True
    if customer is not None:
        await rating.rerate_on_news(uow, customer, event, data.written_off_on)


async def on_balance_changed(uow: UnitOfWork, data: ev.BalanceChanged, event: CloudEvent) -> None:
    customer = await find_customer(uow, data.customer_id, lock=True)
    if customer is None or data.version <= customer.balance_version:
        return  # unknown, or stale: a later position is already known
    customer.balance_version = data.version
    known = {b.currency: b for b in await balances(uow, customer.id)}
    views = []
    for item in data.balances:
        view = known.pop(item.currency, None) or BalanceView(
            customer_id=customer.id, currency=item.currency, balance=0, overdue=0)
        view.balance, view.overdue = item.balance, item.overdue
        view.oldest_overdue_due_date = item.oldest_overdue_due_date
        uow.session.add(view)
        views.append(view)
    for gone in known.values():
        await uow.session.delete(gone)
    await consume_reservations(uow, customer, by=by_event(event))
    overdue = await holds.apply_overdue_policy(uow, customer, by=by_event(event),
                                               overdue=await holds.overdue_of(uow, customer, views))
    if data.as_of in (customer.last_payment_on, customer.last_order_on):
        # A position after a payment or an order: what it may start or end.
        await detectors.partial_payments(uow, customer, data.as_of)
        await detectors.gone_silent(uow, customer, data.as_of, views)
    await rating.rerate_when_default_moved(uow, customer, event, data.as_of, overdue)


def stale(customer: Customer, version: int | None, overdue_now: int) -> bool:
    """News about default that predates a position showing nothing overdue."""
    return version is not None and version < customer.balance_version and overdue_now == 0


async def on_overdue(uow: UnitOfWork, data: Any, event: CloudEvent) -> None:
    """ledger.payment.missed and ledger.invoice.aged."""
    customer = await find_customer(uow, data.customer_id, lock=True)
    views = await balances(uow, customer.id) if customer is not None else []
    if customer is not None and stale(customer, data.balance_version, sum(b.overdue for b in views)):
        return
    view = await _invoice(uow, data.invoice_id, data.customer_id, data.currency)
    view.due_date = view.due_date or data.due_date
    view.overdue_since = min(view.overdue_since or data.as_of, data.as_of)
    view.days_past_due = max(view.days_past_due, data.days_past_due)
    view.declared_version = max(view.declared_version or 0, data.balance_version)
    if customer is None:
        return
    # (A punctual payer turning late shows at settlement and in the daily review.)
    overdue = await holds.apply_overdue_policy(uow, customer, by=by_event(event),
                                               overdue=await holds.overdue_of(uow, customer, views))
    await rating.rerate_when_default_moved(uow, customer, event, data.as_of, overdue)
