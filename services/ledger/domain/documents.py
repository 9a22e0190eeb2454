"""What the ledger's books are made of, in memory: the documents with their running open
and unapplied amounts, and the rows and events that postings cause (`Effects`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from services.ledger.domain.terms import Terms


@dataclass(slots=True, eq=False)
class Invoice:
    """What the customer owes: an invoice, a charge, a refund or a payment's reversal."""

    id: str
    kind: str
    customer_id: str
    amount: int
    currency: str
    issue_date: date
    due_date: date
    open_amount: int
    recorded_by: str
    recorded_at: datetime
    shipment_id: str | None = None
    salesperson: str | None = None
    reference_id: str | None = None
    memo: str | None = None
    order_id: str | None = None
    settled_on: date | None = None
    declared: bool = False  # its missed payment was announced (by the sweep, or on posting)
    # Taken off by credit notes and write-offs: not billed any more, so no discount on it.
    # Loaded only where the terms grant an early-payment discount.
    credited: int = 0

    @property
    def order_key(self) -> tuple[date, date, str]:
        """Oldest due first, then oldest issued, then id: who a payment pays first."""
        return (self.due_date, self.issue_date, self.id)


@dataclass(slots=True, eq=False)
class Credit:
    """Money for the customer: a payment, credit note, discount earned or write-off."""

    kind: str
    id: str
    customer_id: str
    amount: int
    currency: str
    document_date: date
    unapplied: int
    recorded_by: str
    recorded_at: datetime
    method: str | None = None
    invoice_id: str | None = None
    memo: str | None = None
    # (invoice, amount) of every allocation made from it, in order; None when not loaded.
    allocations: list[tuple[str, int]] | None = None
    # How much of it the posting itself allocated: the first allocations add up to it.
    allocated_on_posting: int | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.kind, self.id)

    @property
    def order_key(self) -> tuple[date, str, str]:
        """Oldest credit is applied first."""
        return (self.document_date, self.kind, self.id)


@dataclass(slots=True)
class Customer:
    customer_id: str
    terms: Terms | None  # None: only a dossier update has arrived, not the terms yet
    balance_version: int


@dataclass(frozen=True, slots=True)
class AllocationRow:
    document_kind: str
    document_id: str
    invoice_id: str
    amount: int
    effective_on: date


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """A document's double entry: its lines (account, amount) sum to zero."""

    id: str
    document_kind: str
    document_id: str
    customer_id: str
    currency: str
    booked_on: date
    lines: tuple[tuple[str, int], ...]


@dataclass(frozen=True, slots=True)
class NoticeRow:
    """An overdue threshold announced for an invoice (the sweep's memory)."""

    invoice_id: str
    threshold_days: int
    as_of: date


@dataclass(frozen=True, slots=True)
class Event:
    """An integration event the rules caused: its contract's type and its fields
    (shared/events/contracts.py gives them their schema at the edge)."""

    type: str
    data: dict[str, Any]


@dataclass
class Effects:
    """What the postings caused, for the persistence layer to write in one go."""

    invoices_added: dict[str, Invoice] = field(default_factory=dict)
    invoices_changed: dict[str, Invoice] = field(default_factory=dict)
    credits_added: dict[tuple[str, str], Credit] = field(default_factory=dict)
    credits_changed: dict[tuple[str, str], Credit] = field(default_factory=dict)
    allocations: list[AllocationRow] = field(default_factory=list)
    journal: list[JournalEntry] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    notices: list[NoticeRow] = field(default_factory=list)  # a debt declared missed at once
    versions: dict[str, int] = field(default_factory=dict)  # customer -> new balance version
