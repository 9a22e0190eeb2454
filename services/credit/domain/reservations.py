"""Reservations: an approved (or reduced) order with an `order_id` counts as exposure
until it is invoiced, so two orders checked one after the other cannot both spend the
same credit. The ERP confirms a reservation when the goods ship (then it no longer
expires) or cancels it; an unconfirmed one lapses after a configurable time.

A reservation ends when the ledger's invoice for the order has been posted AND credit's
view of the balance has reached the balance version that includes that invoice: until
then the order is counted as reserved, from then on as a receivable; never twice, never
neither (ERPNext double-counted delivered orders, RELIABILITY.md). An order delivered in
parts is invoiced in parts: each invoice takes its amount off the reservation once the
balance includes it, and the reservation ends when the invoices cover what it holds.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

RESERVED = "reserved"  # approved, not shipped yet; lapses at expires_at
SHIPPED = "shipped"  # the ERP confirmed the shipment; counts until invoiced
INVOICED = "invoiced"  # the invoice is in the balance credit knows: no longer counted
CANCELLED = "cancelled"
STATUSES = (RESERVED, SHIPPED, INVOICED, CANCELLED)
# Exposure now: shipped, or reserved and not lapsed; and not yet in the balance credit
# knows (the SQL of handlers/check.reserved_amount).


def invoiced(amount: int, invoices: list[dict[str, Any]], balance_version: int) -> tuple[int, bool]:
    """What of a reservation of `amount` the balance at `balance_version` includes through
    the order's invoices, and whether that is all of it."""
    absorbed = sum(i["amount"] for i in invoices if i["version"] <= balance_version)
    return min(absorbed, amount), absorbed >= amount


def covered_at(amount: int, invoices: list[dict[str, Any]]) -> int | None:
    """The balance version from which the invoices cover the whole reservation, if they do."""
    if sum(i["amount"] for i in invoices) < amount:
        return None
    return max(i["version"] for i in invoices)


def state(status: str, expires_at: datetime, now: datetime) -> str:
    """The status as a caller sees it: an unconfirmed reservation past its time is expired."""
    return "expired" if status == RESERVED and expires_at <= now else status
