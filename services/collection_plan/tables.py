from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from shared.db import MONEY, service_registry
from shared.messaging.tables import infrastructure_tables

registry = service_registry()
metadata = registry.metadata
infra = infrastructure_tables(metadata)


def _json(**kwargs: Any) -> Any:
    return Field(sa_column=Column(JSON, nullable=kwargs.pop("nullable", False)), **kwargs)


class CollectionsTable(SQLModel, registry=registry):
    pass


# --- read models, from events ------------------------------------------------------------------
class CustomerView(CollectionsTable, table=True):
    """What collection-plan hears of a customer: from credit its dossier (version-ordered),
    terms and rating; from the ledger its latest position and its last order and payment."""

    __tablename__ = "customer_view"
    customer_id: str = Field(primary_key=True, max_length=64)
    name: str | None = Field(default=None, max_length=255)
    salesperson: str | None = Field(default=None, max_length=128)
    distance_km: int | None = None
    dossier_version: int = -1  # registration is 0, each credit.customer.updated one more
    terms: dict[str, Any] | None = _json(default=None, nullable=True)
    terms_version: int = -1
    rating_class: str | None = Field(default=None, max_length=1)
    rating_score: int | None = None
    rating_as_of: date | None = None
    recommended_limit_amount: int | None = Field(default=None, sa_type=MONEY)
    recommended_limit_currency: str | None = Field(default=None, max_length=3)
    balance_version: int = 0
    overdue: dict[str, int] = _json(default_factory=dict)
    balances: dict[str, int] = _json(default_factory=dict)
    last_order_on: date | None = None
    last_payment_on: date | None = None


class InvoiceView(CollectionsTable, table=True):
    """An invoice (or a charge) as the ledger announced it; the open amount follows every
    reduction, which may arrive before the invoice itself."""

    __tablename__ = "invoice_view"
    __table_args__ = (Index("ix_invoice_view_customer_open", "customer_id", "open_amount"),
                      Index("ix_invoice_view_due_open", "due_date", "open_amount"))
    invoice_id: str = Field(primary_key=True, max_length=64)
    customer_id: str = Field(max_length=64)
    kind: str = Field(max_length=16)
    amount: int = Field(sa_type=MONEY)
    currency: str = Field(max_length=3)
    issue_date: date
    due_date: date
    salesperson: str | None = Field(default=None, max_length=128)
    open_amount: int = Field(sa_type=MONEY)
    settled_on: date | None = None
    notice_on: date | None = None  # the written notice that late interest runs after
    interest_through: date | None = None  # interest is charged up to and including this day


class InvoiceReduction(CollectionsTable, table=True):
    """What lowered an invoice, and when: a payment, a credit note, credit applied, an
    early-payment discount or a write-off."""

    __tablename__ = "invoice_reduction"
    invoice_id: str = Field(primary_key=True, max_length=64)
    kind: str = Field(primary_key=True, max_length=16)
    document_id: str = Field(primary_key=True, max_length=64)
    customer_id: str = Field(index=True, max_length=64)
    on: date
    amount: int = Field(sa_type=MONEY)
    # The payment whose money it is (a payment, the discount it earned, its credit applied
    # later): a payment that bounces takes its reductions back.
    payment_id: str | None = Field(default=None, index=True, max_length=64)


class PaymentView(CollectionsTable, table=True):
    __tablename__ = "payment_view"
    __table_args__ = (Index("ix_payment_view_customer_received", "customer_id", "received_on"),)
    payment_id: str = Field(primary_key=True, max_length=64)
    customer_id: str = Field(max_length=64)
    amount: int = Field(sa_type=MONEY)
    currency: str = Field(max_length=3)
    received_on: date
    reversed_on: date | None = None  # the ledger reversed it (it bounced): the money never came


class InvoicePause(CollectionsTable, table=True):
    """A span in which an invoice does not escalate nor earn interest: a dispute until it is
    resolved, a repayment agreement while it is kept. `ends_on` open: still paused."""

    __tablename__ = "invoice_pause"
    invoice_id: str = Field(primary_key=True, max_length=64)
    reason: str = Field(primary_key=True, max_length=16)  # dispute | agreement
    reference_id: str = Field(primary_key=True, max_length=64)
    customer_id: str = Field(index=True, max_length=64)
    starts_on: date
    ends_on: date | None = None


class Dispute(CollectionsTable, table=True):
    __tablename__ = "dispute"
    id: str = Field(primary_key=True, max_length=64)
    customer_id: str = Field(index=True, max_length=64)
    statement_id: str | None = Field(default=None, max_length=64)
    invoice_ids: list[str] = _json(default_factory=list)
    reason: str | None = None
    opened_on: date | None = None
    resolved_on: date | None = None
    resolution: str | None = None


# --- operator data -----------------------------------------------------------------------------
class Strategy(CollectionsTable, table=True):
    """A collection strategy (domain/strategy.py): `definition` holds its segment, reminder
    and steps in the API's form."""

    __tablename__ = "strategy"
    id: str = Field(primary_key=True, max_length=64)
    rank: int = Field(unique=True)
    active: bool = True
    version: int = 1
    definition: dict[str, Any] = _json(default_factory=dict)
    updated_by: str = Field(max_length=64)
    updated_at: datetime


class CollectionProfile(CollectionsTable, table=True):
    """What a person sets for a customer: another collector than the salesperson, the
    financial strength, the contact preferences (each key overrides the default)."""

    __tablename__ = "collection_profile"
    customer_id: str = Field(primary_key=True, max_length=64)
    collector: str | None = Field(default=None, max_length=128)
    financial_strength: str | None = Field(default=None, max_length=16)
    contact: dict[str, Any] = _json(default_factory=dict)
    updated_by: str = Field(max_length=64)
    updated_at: datetime


# --- cases -------------------------------------------------------------------------------------
class Case(CollectionsTable, table=True):
    __tablename__ = "collection_case"
    __table_args__ = (Index("ix_collection_case_customer_status", "customer_id", "status"),
                      Index("ix_collection_case_opened", "opened_on", "id"))
    id: str = Field(primary_key=True, max_length=64)
    customer_id: str = Field(max_length=64)
    status: str = Field(max_length=16)  # open | closed
    receivable_class: str = Field(max_length=16)
    class_reasons: list[str] = _json(default_factory=list)
    level: int = 0
    max_days_past_due: int = 0
    strategy_id: str | None = Field(default=None, max_length=64)
    signal_class: str | None = Field(default=None, max_length=16)
    dormant_on: date | None = None
    notice_on: date | None = None
    broken_commitments: int = 0
    last_seen_on: date | None = None  # the latest business date the case was looked at
    opened_on: date
    closed_on: date | None = None
    close_reason: str | None = None


class CaseInvoice(CollectionsTable, table=True):
    """An invoice the case is chasing."""

    __tablename__ = "case_invoice"
    case_id: str = Field(primary_key=True, max_length=64)
    invoice_id: str = Field(primary_key=True, max_length=64, index=True)
    currency: str = Field(max_length=3)
    open_amount: int = Field(sa_type=MONEY)
    due_date: date
    days_past_due: int
    settled: bool = False


class CaseEvent(CollectionsTable, table=True):
    """The case's history: every step, outcome, promise and decision, with who and when."""

    __tablename__ = "case_event"
    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(index=True, max_length=64)
    on: date
    kind: str = Field(max_length=32)
    detail: str
    actor: str = Field(max_length=64)
    at: datetime


class Task(CollectionsTable, table=True):
    __tablename__ = "collector_task"
    __table_args__ = (Index("ix_collector_task_open", "status", "collector"),)
    id: str = Field(primary_key=True, max_length=64)
    case_id: str | None = Field(default=None, index=True, max_length=64)  # None: a reminder
    customer_id: str = Field(index=True, max_length=64)
    collector: str | None = Field(default=None, max_length=128)
    level: int
    step: str = Field(max_length=32)
    kind: str = Field(default="call", max_length=32)  # the strategy's action
    action: str
    status: str = Field(max_length=16)  # open | done | cancelled
    created_on: date
    created_at: datetime
    not_before: date | None = None
    attempts: int = 0
    outcome: str | None = Field(default=None, max_length=16)
    done_on: date | None = None
    done_by: str | None = Field(default=None, max_length=64)
    invoice_ids: list[str] = _json(default_factory=list)
    due_date: date | None = None  # a reminder: when the amount falls due


class TaskOutcome(CollectionsTable, table=True):
    __tablename__ = "task_outcome"
    id: int | None = Field(default=None, primary_key=True)
    task_id: str = Field(index=True, max_length=64)
    outcome: str = Field(max_length=16)
    note: str | None = None
    as_of: date
    recorded_by: str = Field(max_length=64)
    recorded_at: datetime


class Promise(CollectionsTable, table=True):
    __tablename__ = "promise"
    __table_args__ = (Index("ix_promise_status_date", "status", "promised_on"),)
    id: str = Field(primary_key=True, max_length=64)
    case_id: str = Field(index=True, max_length=64)
    customer_id: str = Field(index=True, max_length=64)
    amount: int = Field(sa_type=MONEY)
    currency: str = Field(max_length=3)
    made_on: date
    promised_on: date
    status: str = Field(max_length=16)  # open | kept | broken | cancelled
    paid: int = Field(default=0, sa_type=MONEY)
    short_on: date | None = None  # a payment short of the promise came in
    resolved_on: date | None = None
    note: str | None = None
    recorded_by: str = Field(max_length=64)
    recorded_at: datetime


class Agreement(CollectionsTable, table=True):
    __tablename__ = "agreement"
    id: str = Field(primary_key=True, max_length=64)
    customer_id: str = Field(index=True, max_length=64)
    case_id: str | None = Field(default=None, max_length=64)
    currency: str = Field(max_length=3)
    total: int = Field(sa_type=MONEY)
    invoice_ids: list[str] = _json(default_factory=list)
    instalments: list[dict[str, Any]] = _json(default_factory=list)  # due_date, amount
    status: str = Field(index=True, max_length=16)  # active | broken | completed
    signed_on: date
    terms: dict[str, Any] | None = _json(default=None, nullable=True)  # when signed
    ended_on: date | None = None
    missed_due_date: date | None = None
    missed_amount: int | None = Field(default=None, sa_type=MONEY)
    recorded_by: str = Field(max_length=64)
    recorded_at: datetime


class Reminder(CollectionsTable, table=True):
    """A pre-due reminder, one per invoice."""

    __tablename__ = "reminder"
    invoice_id: str = Field(primary_key=True, max_length=64)
    reminder_id: str = Field(index=True, max_length=64)
    customer_id: str = Field(max_length=64)
    as_of: date


class Charge(CollectionsTable, table=True):
    """Late interest or a fee collection-plan asked the ledger to book."""

    __tablename__ = "charge"
    __table_args__ = (UniqueConstraint("invoice_id", "kind", "period"),)
    id: str = Field(primary_key=True, max_length=64)
    customer_id: str = Field(index=True, max_length=64)
    case_id: str | None = Field(default=None, max_length=64)
    invoice_id: str = Field(max_length=64)
    kind: str = Field(max_length=16)  # interest | fee
    period: str = Field(max_length=16)  # YYYY-MM, or "notice" for the fee
    amount: int = Field(sa_type=MONEY)
    currency: str = Field(max_length=3)
    issue_date: date
    days: int = 0
    status: str = Field(max_length=16)  # charged | refused
    refused_reason: str | None = None


class WriteOff(CollectionsTable, table=True):
    __tablename__ = "write_off"
    __table_args__ = (Index("ix_write_off_invoice_status", "invoice_id", "status"),)
    id: str = Field(primary_key=True, max_length=64)
    customer_id: str = Field(index=True, max_length=64)
    case_id: str | None = Field(default=None, max_length=64)
    invoice_id: str = Field(max_length=64)
    currency: str = Field(max_length=3)
    amount: int = Field(sa_type=MONEY)  # open when proposed; when approved, what is open then
    reason: str
    # proposed | approved | rejected | booked | refused (by the ledger)
    status: str = Field(max_length=16)
    proposed_by: str = Field(max_length=64)
    proposed_on: date
    decided_by: str | None = Field(default=None, max_length=64)
    decided_on: date | None = None
    note: str | None = None


class SweepRun(CollectionsTable, table=True):
    __tablename__ = "sweep_run"
    as_of: date = Field(primary_key=True)
    runs: int = 0
    first_run_at: datetime
    last_run_at: datetime
    counts: dict[str, int] = _json(default_factory=dict)
