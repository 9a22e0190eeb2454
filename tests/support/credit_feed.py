"""Credit alone, fed the news other services would send, through its own consumer (so the
inbox and the subscriptions are the real ones). `LedgerNews` plays what the ledger
announces for one customer, in the ledger's order and with its balance versions."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from shared.events import CloudEvent, EventData, new_event
from shared.events import contracts as ev
from shared.messaging.consumer import ServiceConsumer

THRESHOLDS = (1, 15, 30, 60, 90, 180)  # the ledger's (services/ledger/domain/aging.py)


class Feed:
    def __init__(self, runtime: Any) -> None:
        self.runtime = runtime
        self.consumer = ServiceConsumer(
            "credit", runtime.definition.subscriptions(), runtime.unit_of_work,
            inbox=runtime.infra.inbox, dead_letters=runtime.infra.dead_letters)

    async def send(self, data: EventData, source: str = "recoup/test") -> CloudEvent:
        event = new_event(source, data)
        await self.consumer.handle(event)
        return event

    async def emitted(self, event_type: str) -> list[dict[str, Any]]:
        """The data of every event credit put in its outbox of this type, oldest first."""
        outbox = self.runtime.infra.outbox
        async with self.runtime.read_sessions() as session:
            rows = (await session.execute(select(outbox.c.envelope).where(
                outbox.c.type == event_type).order_by(outbox.c.id))).scalars()
            return [json.loads(r)["data"] for r in rows]


@dataclass
class _Invoice:
    amount: int
    due: date
    open: int
    notices: set[int] = field(default_factory=set)


class LedgerNews:
    """What the ledger would announce for one customer (one currency), posting by posting."""

    def __init__(self, feed: Feed, customer_id: str, currency: str = "CNY") -> None:
        self.feed, self.customer_id, self.currency = feed, customer_id, currency
        self.version = 0
        self.invoices: dict[str, _Invoice] = {}

    def _position(self, as_of: date) -> ev.BalanceChanged:
        self.version += 1
        declared = [i for i in self.invoices.values() if i.open and 1 in i.notices]
        return ev.BalanceChanged(customer_id=self.customer_id, version=self.version, as_of=as_of,
                                 balances=[ev.CurrencyBalance(
                                     currency=self.currency,
                                     balance=sum(i.open for i in self.invoices.values()),
                                     overdue=sum(i.open for i in declared),
                                     oldest_overdue_due_date=min((i.due for i in declared), default=None))])

    async def invoice(self, invoice_id: str, amount: int, issued: date, *, days: int = 30,
                      order_id: str | None = None, send: str = "both") -> EventData | None:
        """The invoice news and then the position that includes it; `send` "invoice" or
        "position" sends only that one and answers the other, to deliver later (competing
        consumers may deliver either first)."""
        due = issued + timedelta(days=days)
        self.invoices[invoice_id] = _Invoice(amount, due, amount)
        position = self._position(issued)
        posted = ev.InvoicePosted(
            customer_id=self.customer_id, invoice_id=invoice_id, amount=amount,
            currency=self.currency, issue_date=issued, due_date=due, order_id=order_id,
            balance_version=position.version)
        if send in ("both", "invoice"):
            await self.feed.send(posted)
        if send in ("both", "position"):
            await self.feed.send(position)
        return {"both": None, "invoice": position, "position": posted}[send]

    async def pay(self, payment_id: str, amount: int, on: date) -> None:
        """Oldest due first, as the ledger allocates without instructions."""
        left, allocations, settled = amount, [], []
        for invoice_id, invoice in sorted(self.invoices.items(), key=lambda kv: (kv[1].due, kv[0])):
            if left and invoice.open:
                share = min(left, invoice.open)
                invoice.open -= share
                left -= share
                allocations.append(ev.Allocation(invoice_id=invoice_id, amount=share))
                if invoice.open == 0:
                    settled.append(invoice_id)
        await self.feed.send(ev.PaymentReceived(
            customer_id=self.customer_id, payment_id=payment_id, amount=amount,
            currency=self.currency, received_on=on, allocations=allocations, unapplied=left))
        for invoice_id in settled:
            await self.feed.send(ev.InvoiceSettled(customer_id=self.customer_id, invoice_id=invoice_id,
                                                   currency=self.currency, settled_on=on))
        await self.feed.send(self._position(on))

    async def sweep(self, as_of: date) -> None:
        news: list[EventData] = []
        for invoice_id, invoice in sorted(self.invoices.items()):
            days = (as_of - invoice.due).days
            new = [t for t in THRESHOLDS if days >= t and t not in invoice.notices]
            if not invoice.open or not new:
                continue
            invoice.notices.update(new)
            common = dict(customer_id=self.customer_id, invoice_id=invoice_id, currency=self.currency,
                          open_amount=invoice.open, due_date=invoice.due, as_of=as_of,
                          days_past_due=days)
            if 1 in new:
                news.append(ev.PaymentMissed(**common, balance_version=0))
            if later := [t for t in new if t > 1]:
                news.append(ev.InvoiceAged(**common, balance_version=0, threshold_days=max(later)))
        if any(isinstance(n, ev.PaymentMissed) for n in news):
            await self.feed.send(self._position(as_of))
        for item in news:
            item.balance_version = self.version
            await self.feed.send(item)
