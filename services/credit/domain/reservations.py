"""Reservations: an approved (or reduced) order with an `order_id` counts as exposure
until it is invoiced, so two orders checked one after the other cannot both spend the
same credit. The ERP confirms a reservation when the goods ship (then it no longer
expires) or cancels it; an unconfirmed one lapses after a configurable time.

A reservation ends when the ledger's invoice for the order has been posted AND credit's
view of the balance has reached the balance version that includes that invoice: until
then the order is counted as reserved, from then on as a receivable; never twice, never
neither (ERPNext double-counted delivered orders, RELIABILITY.md).
"""

from __future__ import annotations

from datetime import datetime

RESERVED = "reserved"  # approved, not shipped yet; lapses at expires_at
SHIPPED = "shipped"  # the ERP confirmed the shipment; counts until invoiced
INVOICED = "invoiced"  # the invoice is in the balance credit knows: no longer counted
CANCELLED = "cancelled"
STATUSES = (RESERVED, SHIPPED, INVOICED, CANCELLED)
# Exposure now: shipped, or reserved and not lapsed; and not yet in the balance credit
# knows (the SQL of handlers/check.reserved_amount).


def state(status: str, expires_at: datetime, now: datetime) -> str:
    """The status as a caller sees it: an unconfirmed reservation past its time is expired."""
    return "expired" if status == RESERVED and expires_at <= now else status
