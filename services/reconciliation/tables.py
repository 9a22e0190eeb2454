from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, UniqueConstraint, false
from sqlmodel import Field, SQLModel

from services.reconciliation.domain.statement import CREDIT_KINDS
from shared.db import service_registry
from shared.messaging.tables import infrastructure_tables

registry = service_registry()
metadata = registry.metadata
infra = infrastructure_tables(metadata)


class ReconciliationTable(SQLModel, registry=registry):
    pass


# --- read models (from events) ---------------------------------------------------------
class AccountItem(ReconciliationTable, table=True):
    """Reconciliation's own copy of the customer's documents, built from ledger events."""

    __tablename__ = "account_item"
    __table_args__ = (
        Index("ix_account_item_customer", "customer_id", "currency", "doc_date"),
        # Matching reads the open debit items; the reference key finds them by number.
        Index("ix_account_item_open", "currency", "open_amount"),
        Index("ix_account_item_ref_key", "ref_key"),
    )
    kind: str = Field(primary_key=True, max_length=16)
    doc_id: str = Field(primary_key=True, max_length=64)
    customer_id: str = Field(max_length=64)
    currency: str = Field(max_length=3)
    doc_date: date
    amount: int = Field(sa_type=BigInteger)
    due_date: date | None = None
    # Debit documents only: what is still open by our own count, and the document number
    # reduced to letters and digits (what a payer's remittance text is compared with).
    open_amount: int = Field(0, sa_type=BigInteger)
    ref_key: str | None = Field(None, max_length=64)
    settled_on: date | None = None
    # A reversal: the payment it reverses (matching reads the invoices that payment paid).
    reference_id: str | None = Field(None, max_length=64)


def debit_items() -> Any:
    """What the customer owes among the account items (a SQL condition)."""
    return AccountItem.kind.not_in(CREDIT_KINDS)


class ItemSettlement(ReconciliationTable, table=True):
    """What a credit document paid of a debit one, and when. One credit may settle one
    invoice several times (its unapplied rest applied in steps): `seq` counts them."""

    __tablename__ = "item_settlement"
    doc_kind: str = Field(primary_key=True, max_length=16)
    doc_id: str = Field(primary_key=True, max_length=64)
    invoice_id: str = Field(primary_key=True, max_length=64)
    seq: int = Field(0, primary_key=True, sa_column_kwargs={"server_default": "0"})
    amount: int = Field(sa_type=BigInteger)
    settled_on: date


class ReconCustomer(ReconciliationTable, table=True):
    """The dossier facts statements and matching need, from credit's events."""

    __tablename__ = "recon_customer"
    customer_id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=256)
    salesperson: str | None = Field(None, max_length=128)
    legal_representative: str | None = Field(None, max_length=256)
    dossier_version: int = -1
    terms: dict[str, Any] | None = Field(None, sa_column=Column(JSON))
    terms_version: int = -1


class PayerAlias(ReconciliationTable, table=True):
    """A name money arrives under for a customer: the dossier's names, and names people
    taught by assigning bank lines."""

    __tablename__ = "payer_alias"
    __table_args__ = (Index("ix_payer_alias_key", "name_key"),)
    customer_id: str = Field(primary_key=True, max_length=64)
    name_key: str = Field(primary_key=True, max_length=256)
    name: str = Field(max_length=256)
    source: str = Field(max_length=32)  # dossier, former_name, legal_representative, taught
    added_by: str = Field(max_length=64)
    added_at: datetime


class Agreement(ReconciliationTable, table=True):
    """A repayment agreement's instalments (collection-plan), to judge what was agreed."""

    __tablename__ = "agreement"
    __table_args__ = (Index("ix_agreement_customer", "customer_id"),)
    agreement_id: str = Field(primary_key=True, max_length=64)
    customer_id: str = Field(max_length=64)
    currency: str = Field(max_length=3)
    invoice_ids: list[str] = Field(sa_column=Column(JSON, nullable=False))
    instalments: list[dict[str, Any]] = Field(sa_column=Column(JSON, nullable=False))
    status: str = Field("active", max_length=16)  # active, broken, completed


# --- statements, confirmations, disputes --------------------------------------------------
class Statement(ReconciliationTable, table=True):
    __tablename__ = "statement"
    __table_args__ = (
        Index("ix_statement_customer_period", "customer_id", "period", "currency"),
        UniqueConstraint("series", "version"),
    )
    id: str = Field(primary_key=True, max_length=64)
    customer_id: str = Field(max_length=64)
    period: str = Field(max_length=7)
    currency: str = Field(max_length=3)
    content: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    digest: str = Field(max_length=64)
    status: str = Field(default="issued", max_length=16)  # issued disputed confirmed superseded
    issued_at: datetime
    issued_by: str = Field(max_length=64)
    # monthly (customer, month, currency; versioned) or balance (a reminder's confirmation)
    kind: str = Field("monthly", max_length=16)
    series: str = Field(max_length=160)
    version: int = 1
    reference: str = Field(max_length=120)
    supersedes: str | None = Field(None, max_length=64)
    changes: dict[str, Any] | None = Field(None, sa_column=Column(JSON))
    reminder_id: str | None = Field(None, max_length=64, unique=True)
    confirmed_by: str | None = Field(None, max_length=256)
    confirmed_at: datetime | None = None
    confirmed_via: str | None = Field(None, max_length=16)  # link or api
    confirmed_recorded_by: str | None = Field(None, max_length=64)


class StatementRun(ReconciliationTable, table=True):
    """A month whose statements were issued for every customer without a failure: the
    daily job's catch-up has nothing more to do for it."""

    __tablename__ = "statement_run"
    period: str = Field(primary_key=True, max_length=7)
    completed_at: datetime
    as_of: date
    run_by: str = Field(max_length=64)


class Confirmation(ReconciliationTable, table=True):
    """A signed link the customer uses without an API key; the token names this row."""

    __tablename__ = "confirmation"
    id: str = Field(primary_key=True, max_length=64)
    statement_id: str = Field(max_length=64, index=True)
    customer_id: str = Field(max_length=64)
    purpose: str = Field(max_length=32)  # statement or balance_reminder
    created_at: datetime
    expires_at: datetime


class Dispute(ReconciliationTable, table=True):
    __tablename__ = "dispute"
    __table_args__ = (Index("ix_dispute_statement", "statement_id"),
                      Index("ix_dispute_status", "status", "raised_at", "id"))
    id: str = Field(primary_key=True, max_length=64)
    statement_id: str = Field(max_length=64)
    customer_id: str = Field(max_length=64)
    lines: list[dict[str, Any]] = Field(sa_column=Column(JSON, nullable=False))
    invoice_ids: list[str] = Field(sa_column=Column(JSON, nullable=False))
    reason: str = Field(max_length=2000)
    raised_by: str = Field(max_length=256)
    raised_via: str = Field(max_length=16)  # link or api
    raised_at: datetime
    status: str = Field("open", max_length=16)  # open, resolved
    resolution: str | None = Field(None, max_length=16)
    note: str | None = Field(None, max_length=2000)
    resolved_by: str | None = Field(None, max_length=64)
    resolved_at: datetime | None = None


# --- bank statements and their lines ----------------------------------------------------
class BankImport(ReconciliationTable, table=True):
    __tablename__ = "bank_import"
    id: str = Field(primary_key=True, max_length=64)
    file_digest: str = Field(max_length=64, unique=True)
    format: str = Field(max_length=16)
    account: str | None = Field(None, max_length=64)
    statement_reference: str | None = Field(None, max_length=128)
    line_count: int
    imported_at: datetime
    imported_by: str = Field(max_length=64)


class BankLine(ReconciliationTable, table=True):
    __tablename__ = "bank_line"
    __table_args__ = (Index("ix_bank_line_status", "status", "booking_date", "id"),
                      Index("ix_bank_line_import", "import_id"),
                      # the credits a return may undo: one currency, a window of days
                      Index("ix_bank_line_credits", "currency", "booking_date"),
                      # a payment is returned once, whatever imports race
                      Index("ux_bank_line_returns_payment", "returns_payment_id", unique=True))
    id: str = Field(primary_key=True, max_length=64)  # also the ledger's payment id
    identity: str = Field(max_length=64, unique=True)
    import_id: str = Field(max_length=64)
    account: str | None = Field(None, max_length=64)
    booking_date: date
    value_date: date | None = None
    direction: str = Field(max_length=8)  # credit (money in) or debit (money out)
    amount: int = Field(sa_type=BigInteger)
    currency: str = Field(max_length=3)
    payer_name: str | None = Field(None, max_length=256)
    payer_account: str | None = Field(None, max_length=64)
    reference: str | None = Field(None, max_length=1000)
    bank_reference: str | None = Field(None, max_length=128)
    # matched, unmatched, assigned, ignored, debit; returned (a credit the bank took back
    # before anything was booked); linked (a return linked to the credit or payment it undoes)
    status: str = Field(max_length=16)
    customer_id: str | None = Field(None, max_length=64)
    invoice_ids: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    confidence: float | None = None
    match_reason: str | None = Field(None, max_length=1000)
    discrepancy: str | None = Field(None, max_length=1000)
    suggestions: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False))
    decided_by: str | None = Field(None, max_length=64)
    decided_at: datetime | None = None
    decision_note: str | None = Field(None, max_length=2000)
    booked_on: date | None = None  # the ledger's payment.received for this line arrived
    end_to_end_id: str | None = Field(None, max_length=128)  # the payer's id, kept by returns
    # A return: the bank's reason; the credit line and the ledger payment it undoes; when
    # reconciliation.payment.returned was emitted (after the payment was booked).
    is_return: bool = Field(False, sa_column_kwargs={"server_default": false()})
    return_reason: str | None = Field(None, max_length=256)
    returns_line_id: str | None = Field(None, max_length=64)
    returns_payment_id: str | None = Field(None, max_length=64)
    return_announced_at: datetime | None = None
    returned_by: str | None = Field(None, max_length=64)  # a credit: the return that undid it
