"""How a payment or credit note is spread over open invoices."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from shared.errors import Invalid


@dataclass(frozen=True)
class OpenInvoice:
    invoice_id: str
    issue_date: date
    due_date: date
    open_amount: int
    discount: int = 0  # granted if this money settles the invoice now (see terms)

    @property
    def settles_with(self) -> int:
        """What settles it: the open amount less the discount earned."""
        return self.open_amount - self.discount if 0 < self.discount < self.open_amount \
            else self.open_amount


@dataclass(frozen=True)
class Allocation:
    invoice_id: str
    amount: int
    discount: int = 0


def allocate_oldest_first(amount: int, open_invoices: list[OpenInvoice]) -> list[Allocation]:
    """Oldest due first (then oldest issued, then id): the usual rule when the payer
    did not say what the money is for. An invoice settled in time earns its discount."""
    return allocate_in_order(amount, sorted(
        open_invoices, key=lambda i: (i.due_date, i.issue_date, i.invoice_id)))


def allocate_in_order(amount: int, open_invoices: Iterable[OpenInvoice]) -> list[Allocation]:
    """`allocate_oldest_first` for invoices already in that order: reads no further than
    the money goes."""
    allocations = []
    remaining = amount
    for invoice in open_invoices:
        if remaining == 0:
            break
        if invoice.settles_with < invoice.open_amount and remaining >= invoice.settles_with:
            allocations.append(Allocation(invoice.invoice_id, invoice.settles_with,
                                          invoice.open_amount - invoice.settles_with))
            remaining -= invoice.settles_with
            continue
        share = min(remaining, invoice.open_amount)
        if share > 0:
            allocations.append(Allocation(invoice.invoice_id, share))
            remaining -= share
    return allocations


def check_explicit(
    amount: int, requested: list[Allocation], open_invoices: dict[str, OpenInvoice]
) -> list[Allocation]:
    """Allocations the payer named must make sense: known open invoices of this customer
    and currency, positive, not more than open, not more than the payment."""
    seen: set[str] = set()
    for index, allocation in enumerate(requested):
        field = f"allocations.{index}"
        if allocation.invoice_id in seen:
            raise Invalid(f"invoice {allocation.invoice_id} named twice", field=f"{field}.invoice_id")
        seen.add(allocation.invoice_id)
        invoice = open_invoices.get(allocation.invoice_id)
        if invoice is None:
            raise Invalid(
                f"invoice {allocation.invoice_id} is not an open invoice of this customer "
                "in this currency", field=f"{field}.invoice_id",
            )
        if allocation.amount <= 0:
            raise Invalid("an allocation must be positive", field=f"{field}.amount")
        if allocation.amount > invoice.open_amount:
            raise Invalid(
                f"allocation {allocation.amount} exceeds the open amount "
                f"{invoice.open_amount} of invoice {invoice.invoice_id}", field=f"{field}.amount",
            )
    if sum(a.amount for a in requested) > amount:
        raise Invalid("allocations add up to more than the payment", field="allocations")
    return [
        Allocation(a.invoice_id, a.amount, invoice.open_amount - a.amount)
        if (invoice := open_invoices[a.invoice_id]).settles_with == a.amount < invoice.open_amount
        else a
        for a in requested
    ]
