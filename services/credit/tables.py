from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from shared.db import service_registry
from shared.messaging.tables import infrastructure_tables

registry = service_registry()
metadata = registry.metadata
infra = infrastructure_tables(metadata)


def _json(default: Any = None, *, nullable: bool = False) -> Any:
    factory = (lambda: type(default)()) if default is not None else None
    column = Column(JSON, nullable=nullable)
    if factory is None:
        return Field(default=None, sa_column=column)
    return Field(default_factory=factory, sa_column=column)


def _money(**field: Any) -> Any:
    """Minor units: 64-bit, as the API accepts up to 10**15 (INTEGER stops at 2**31 - 1)."""
    return Field(sa_type=BigInteger, **field)


class CreditTable(SQLModel, registry=registry):
    pass


class Customer(CreditTable, table=True):
    """The dossier, the current rating and limit, and what the ledger told about it."""

    __tablename__ = "customer"
    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=255)
    salesperson: str | None = Field(default=None, max_length=128)
    region: str | None = Field(default=None, max_length=128)
    address: str | None = Field(default=None, max_length=500)
    distance_km: int | None = None
    legal_representative: str | None = Field(default=None, max_length=255)
    financials: dict[str, Any] = _json({})
    # {grade, note, assessed_on} or null, per ASSESSMENTS
    financial_status: dict[str, Any] | None = _json(nullable=True)
    market_network: dict[str, Any] | None = _json(nullable=True)
    sales_ability: dict[str, Any] | None = _json(nullable=True)
    organisation: dict[str, Any] | None = _json(nullable=True)
    documents: dict[str, Any] = _json({})  # kind -> {signed, sealed, sealed_by, received_on, reference}
    dossier_version: int = 0
    terms: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    terms_version: int = 0
    credit_limit_amount: int = _money()
    credit_limit_currency: str = Field(max_length=3)
    rating_class: str = Field(max_length=1)
    rating_score: int
    rating_reasons: list[str] = _json([])
    rated_as_of: date | None = None
    rated_worst_days: int = 0  # the days past due the current rating saw
    news_as_of: date | None = None  # the latest business date of the news rated on
    recommended_limit_amount: int | None = _money(default=None)
    has_payment_history: bool = False
    balance_version: int = 0
    receivable_class: str | None = Field(default=None, max_length=16)  # from collection-plan
    # kind -> {reason, stage}: the holds the open collection case's steps asked for, kept
    # while a kept agreement suspends them, so they come back if it breaks
    collection_holds: dict[str, Any] = _json({})
    broken_promise: bool = False  # a promise broken while the current default lasts
    first_purchase_on: date | None = None
    last_order_on: date | None = None
    last_payment_on: date | None = None
    created_at: datetime
    updated_at: datetime
    updated_by: str = Field(max_length=64)


class DossierChange(CreditTable, table=True):
    """The history of a dossier: who changed which field, when, from what to what."""

    __tablename__ = "dossier_change"
    id: int | None = Field(default=None, primary_key=True)
    customer_id: str = Field(index=True, max_length=64)
    version: int
    field: str = Field(max_length=64)
    before: Any = _json(nullable=True)
    after: Any = _json(nullable=True)
    changed_by: str = Field(max_length=128)
    changed_at: datetime
    note: str | None = None


class Rating(CreditTable, table=True):
    """Every rating with its inputs, so a user sees how a customer's credit moved."""

    __tablename__ = "rating"
    __table_args__ = (UniqueConstraint("customer_id", "review_period"),)
    id: int | None = Field(default=None, primary_key=True)
    customer_id: str = Field(index=True, max_length=64)
    as_of: date
    trigger: str = Field(max_length=128)  # the event type, review kind, or a person's action
    review_period: str | None = Field(default=None, max_length=7)  # YYYY-MM of a periodic review
    rating_class: str = Field(max_length=1)
    previous_class: str | None = Field(default=None, max_length=1)
    score: int
    reasons: list[str] = _json([])
    factors: list[dict[str, Any]] = _json([])
    inputs: dict[str, Any] = _json({})
    recommended_limit_amount: int | None = _money(default=None)
    currency: str = Field(max_length=3)
    rated_by: str = Field(max_length=128)
    rated_at: datetime


class BalanceView(CreditTable, table=True):
    """Read model of the ledger's `ledger.balance.changed`, per customer and currency."""

    __tablename__ = "balance_view"
    customer_id: str = Field(primary_key=True, max_length=64)
    currency: str = Field(primary_key=True, max_length=3)
    balance: int = _money()
    overdue: int = _money()
    oldest_overdue_due_date: date | None = None


class InvoiceView(CreditTable, table=True):
    """Read model of each ledger invoice: what was bought, when it was settled, and what
    the ledger's sweep declared overdue (per invoice, so agreements can shield some)."""

    __tablename__ = "invoice_view"
    __table_args__ = (Index("ix_invoice_view_customer", "customer_id", "settled_on"),)
    id: str = Field(primary_key=True, max_length=64)
    customer_id: str = Field(max_length=64)
    currency: str = Field(max_length=3)
    kind: str = Field(default="invoice", max_length=16)
    amount: int | None = _money(default=None)  # None until ledger.invoice.posted (news may overtake)
    issue_date: date | None = None
    due_date: date | None = None
    order_id: str | None = Field(default=None, max_length=64)
    days_past_due: int = 0  # the most the ledger (or the daily review) reported
    overdue_since: date | None = None  # the sweep's date of the missed payment
    declared_version: int | None = None  # the ledger's balance version when it declared it
    settled_on: date | None = None
    written_off: bool = False


class PaymentLine(CreditTable, table=True):
    """Each invoice a payment went to: the record of partial payments."""

    __tablename__ = "payment_line"
    payment_id: str = Field(primary_key=True, max_length=64)
    invoice_id: str = Field(primary_key=True, max_length=64)
    customer_id: str = Field(index=True, max_length=64)
    amount: int = _money()  # what it settled on the invoice, its early-payment discount included
    received_on: date


class PurchaseMonth(CreditTable, table=True):
    """Purchases (invoices) per customer, currency and calendar month."""

    __tablename__ = "purchase_month"
    customer_id: str = Field(primary_key=True, max_length=64)
    currency: str = Field(primary_key=True, max_length=3)
    month: str = Field(primary_key=True, max_length=7)  # YYYY-MM
    amount: int = _money(default=0)
    invoices: int = 0


class Reservation(CreditTable, table=True):
    """An approved order's credit, held until the order is invoiced (domain/reservations.py)."""

    __tablename__ = "reservation"
    __table_args__ = (Index("ix_reservation_open", "customer_id", "status"),)
    order_id: str = Field(primary_key=True, max_length=64)
    customer_id: str = Field(max_length=64)
    check_id: str = Field(max_length=64)
    amount: int = _money()
    currency: str = Field(max_length=3)
    status: str = Field(max_length=16)
    expires_at: datetime
    invoice_id: str | None = Field(default=None, max_length=64)  # the first invoice
    consumed_at_version: int | None = None  # the balance version that includes them all
    # An order delivered in parts has several invoices: [{invoice_id, amount, version}],
    # version the balance version that includes it; `invoiced`: what of the reservation
    # the balance credit knows includes
    invoices: list[dict[str, Any]] = _json([])
    invoiced: int = _money(default=0)
    created_at: datetime
    created_by: str = Field(max_length=64)
    updated_at: datetime
    updated_by: str = Field(max_length=128)
    cancel_reason: str | None = None


class Agreement(CreditTable, table=True):
    """A repayment agreement from collection-plan: while kept, its invoices drive no holds."""

    __tablename__ = "agreement"
    id: str = Field(primary_key=True, max_length=64)
    customer_id: str = Field(index=True, max_length=64)
    invoice_ids: list[str] = _json([])
    status: str = Field(max_length=16)  # kept | broken | completed
    signed_on: date | None = None
    ended_on: date | None = None


class Promise(CreditTable, table=True):
    """Promises to pay from collection-plan (broken ones count in the rating)."""

    __tablename__ = "promise"
    id: str = Field(primary_key=True, max_length=64)
    customer_id: str = Field(index=True, max_length=64)
    amount: int = _money()
    currency: str = Field(max_length=3)
    promised_on: date
    status: str = Field(max_length=16)  # made | kept | broken
    settled_on: date | None = None  # kept on, or found broken on


class Dispute(CreditTable, table=True):
    """Statement disputes from reconciliation (open ones count in the rating)."""

    __tablename__ = "dispute"
    id: str = Field(primary_key=True, max_length=64)
    customer_id: str = Field(index=True, max_length=64)
    statement_id: str = Field(max_length=64)
    invoice_ids: list[str] = _json([])
    reason: str
    resolved: bool = False
    resolution: str | None = None


class Hold(CreditTable, table=True):
    __tablename__ = "hold"
    __table_args__ = (Index("ix_hold_active", "customer_id", "released_at"),)
    id: str = Field(primary_key=True, max_length=64)
    customer_id: str = Field(max_length=64)
    kind: str = Field(max_length=32)
    reason: str
    cause: str = Field(max_length=32)  # overdue | collection | signal | manual
    cause_ref: str | None = Field(default=None, max_length=64)  # the signal or case
    stage: int = 0  # how far into default the policy was when it asked (domain/holds.py)
    incentives: list[str] = _json([])  # suspend_incentives: the incentives that are off
    automatic: bool
    placed_by: str = Field(max_length=128)
    placed_at: datetime
    released_at: datetime | None = None
    released_by: str | None = Field(default=None, max_length=128)
    release_reason: str | None = None
    override: bool = False  # a person released an automatic hold while its cause remained
    override_lapsed: bool = False  # its cause cleared since: the override no longer holds back


class Signal(CreditTable, table=True):
    __tablename__ = "signal"
    id: str = Field(primary_key=True, max_length=64)
    customer_id: str = Field(index=True, max_length=64)
    kind: str = Field(max_length=64)
    observed_on: date
    note: str | None = None
    serious: bool
    origin: str = Field(default="reported", max_length=16)  # reported | detected
    evidence: list[str] = _json([])
    recorded_by: str = Field(max_length=128)
    recorded_at: datetime
    resolved_at: datetime | None = None
    resolved_by: str | None = Field(default=None, max_length=128)
    resolution: str | None = None


class Detection(CreditTable, table=True):
    """Whether a detector's condition holds for a customer, so a sign is recorded once
    when it starts to hold, not again every day while it lasts."""

    __tablename__ = "detection"
    customer_id: str = Field(primary_key=True, max_length=64)
    detector: str = Field(primary_key=True, max_length=96)
    active: bool
    signal_id: str | None = Field(default=None, max_length=64)
    changed_on: date


class CreditCheck(CreditTable, table=True):
    """Every answer given, with its reasons: the ERP's decisions can be traced."""

    __tablename__ = "credit_check"
    __table_args__ = (Index("ix_credit_check_customer_time", "customer_id", "checked_at", "id"),)
    id: str = Field(primary_key=True, max_length=64)
    customer_id: str = Field(max_length=64)
    order_id: str | None = Field(default=None, max_length=64)
    amount: int = _money()
    currency: str = Field(max_length=3)
    decision: str = Field(max_length=16)
    max_amount: int | None = _money(default=None)
    reasons: list[str] = _json([])
    exposure: int | None = _money(default=None)
    limit_amount: int | None = _money(default=None)
    rating_class: str | None = Field(default=None, max_length=1)
    as_of: date
    checked_by: str = Field(max_length=64)
    checked_at: datetime
