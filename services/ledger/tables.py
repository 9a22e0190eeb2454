"""The ledger's own tables. Booked rows are never updated in place except the derived
`open_amount`/`unapplied` caches, which always equal the allocations beside them."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, String, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from shared.db import MONEY, service_registry
from shared.messaging.tables import infrastructure_tables

registry = service_registry()
metadata = registry.metadata
infra = infrastructure_tables(metadata)


class LedgerTable(SQLModel, registry=registry):
    pass


class LedgerCustomer(LedgerTable, table=True):
    """A customer as the ledger knows it: terms and salesperson replicated from credit, and
    the version counter of `ledger.balance.changed`. Postings need the terms: a row that
    only a dossier update made (events out of order) has none yet."""

    __tablename__ = "ledger_customer"
    customer_id: str = Field(primary_key=True, max_length=64)
    salesperson: str | None = Field(default=None, max_length=128)  # answers for collecting
    dossier_version: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    terms_mode: str | None = Field(default=None, max_length=32)
    terms_days: int | None = None
    terms_day_of_month: int | None = None
    terms_due_date: date | None = None
    discount_percent: int | None = None  # early-payment discount, if the terms grant one
    discount_within_days: int | None = None
    terms_version: int = 0
    balance_version: int = 0


class Invoice(LedgerTable, table=True):
    """What the customer owes: an invoice, an interest or fee charge, a refund of its
    credit (paid at once from that credit), or the reversal of a payment that bounced."""

    __tablename__ = "invoice"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("open_amount >= 0 AND open_amount <= amount", name="open_within_amount"),
        # A reversal keeps the due date of the debt it brings back.
        CheckConstraint("due_date >= issue_date OR kind = 'reversal'", name="due_not_before_issue"),
        # Open items only: what postings load and the sweep reads, however many are settled.
        Index("ix_invoice_open_due", "customer_id", "currency", "due_date",
              postgresql_where=text("open_amount > 0"), sqlite_where=text("open_amount > 0")),
    )
    id: str = Field(primary_key=True, max_length=64)
    kind: str = Field(default="invoice", max_length=16, sa_column_kwargs={"server_default": "invoice"})
    customer_id: str = Field(index=True, max_length=64)
    amount: int = Field(sa_type=MONEY)
    currency: str = Field(max_length=3)
    issue_date: date
    due_date: date = Field(index=True)
    open_amount: int = Field(sa_type=MONEY)
    reference_id: str | None = Field(default=None, max_length=64)  # the invoice a charge is for
    memo: str | None = None
    shipment_id: str | None = Field(default=None, max_length=64)
    order_id: str | None = Field(default=None, max_length=64)  # the ERP order it bills
    salesperson: str | None = Field(default=None, max_length=128)
    settled_on: date | None = None
    recorded_by: str = Field(max_length=64)
    recorded_at: datetime


class CreditDocument(LedgerTable, table=True):
    """Money for the customer: a payment, a credit note, an early-payment discount earned
    on an invoice (id = the invoice's), or a write-off of an invoice. What is not allocated
    stays as `unapplied` credit on the account, and is applied to the next invoices."""

    __tablename__ = "credit_document"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("unapplied >= 0 AND unapplied <= amount", name="unapplied_within_amount"),
        Index("ix_credit_document_unapplied", "customer_id", "currency",
              postgresql_where=text("unapplied > 0"), sqlite_where=text("unapplied > 0")),
    )
    kind: str = Field(primary_key=True, max_length=16)  # payment|credit_note|discount|write_off
    id: str = Field(primary_key=True, max_length=64)
    customer_id: str = Field(index=True, max_length=64)
    amount: int = Field(sa_type=MONEY)
    currency: str = Field(max_length=3)
    document_date: date
    method: str | None = Field(default=None, max_length=32)
    invoice_id: str | None = Field(default=None, max_length=64)
    unapplied: int = Field(sa_type=MONEY)
    memo: str | None = None  # why: a write-off's reason
    # What the posting itself allocated (a payment sent again is compared with that, not
    # with what its unapplied rest paid later).
    allocated_on_posting: int | None = Field(default=None, sa_type=MONEY)
    recorded_by: str = Field(max_length=64)
    recorded_at: datetime


class Allocation(LedgerTable, table=True):
    __tablename__ = "allocation"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)
    id: int | None = Field(default=None, primary_key=True)
    document_kind: str = Field(max_length=16)
    document_id: str = Field(max_length=64)
    invoice_id: str = Field(foreign_key="invoice.id", index=True, max_length=64)
    amount: int = Field(sa_type=MONEY)
    effective_on: date


class JournalEntry(LedgerTable, table=True):
    """The seal on a document's journal lines, written after them. The database refuses
    an entry whose lines do not sum to zero per currency, lines added to a sealed entry,
    and any update or delete of either (see the migration "journal entries"): corrections
    are new entries."""

    __tablename__ = "journal_entry"
    id: str = Field(primary_key=True, max_length=100)  # "<kind>:<document id>"
    document_kind: str = Field(max_length=16)
    document_id: str = Field(max_length=64)
    customer_id: str = Field(max_length=64, index=True)
    booked_on: date
    recorded_by: str = Field(max_length=64)
    recorded_at: datetime


class JournalLine(LedgerTable, table=True):
    """Double entry: the lines of one entry sum to zero per currency
    (debit positive, credit negative)."""

    __tablename__ = "journal_line"
    id: int | None = Field(default=None, primary_key=True)
    entry_id: str = Field(sa_column=Column(
        String(100), ForeignKey("journal_entry.id", deferrable=True, initially="DEFERRED"),
        nullable=False, index=True))
    document_kind: str = Field(max_length=16, index=True)
    document_id: str = Field(max_length=64)
    customer_id: str = Field(max_length=64, index=True)
    account: str = Field(max_length=32)
    currency: str = Field(max_length=3)
    amount: int = Field(sa_type=MONEY)
    booked_on: date


class OverdueNotice(LedgerTable, table=True):
    """One row per invoice and age threshold the sweep has announced: the sweep's
    memory, which makes it idempotent per invoice."""

    __tablename__ = "overdue_notice"
    __table_args__ = (UniqueConstraint("invoice_id", "threshold_days"),)
    id: int | None = Field(default=None, primary_key=True)
    # Looked up through the unique index, whose first column it is.
    invoice_id: str = Field(sa_column=Column(String(64), nullable=False))
    threshold_days: int
    as_of: date
