from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from shared.db import service_registry
from shared.messaging.tables import infrastructure_tables

registry = service_registry()
metadata = registry.metadata
infra = infrastructure_tables(metadata)


class CreditTable(SQLModel, registry=registry):
    pass


class Customer(CreditTable, table=True):
    """The dossier, the current rating and limit, and the ledger's news about it."""

    __tablename__ = "customer"
    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=255)
    salesperson: str | None = Field(default=None, max_length=128)
    region: str | None = Field(default=None, max_length=128)
    distance_km: int | None = None
    legal_representative: str | None = Field(default=None, max_length=255)
    financials: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    terms: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    terms_version: int = 0
    credit_limit_amount: int
    credit_limit_currency: str = Field(max_length=3)
    rating_class: str = Field(max_length=1)
    rating_score: int
    rating_reasons: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    max_days_past_due: int = 0
    balance_version: int = 0
    created_at: datetime
    updated_at: datetime
    updated_by: str = Field(max_length=64)


class BalanceView(CreditTable, table=True):
    """Read model of the ledger's `ledger.balance.changed`, per customer and currency."""

    __tablename__ = "balance_view"
    customer_id: str = Field(primary_key=True, max_length=64)
    currency: str = Field(primary_key=True, max_length=3)
    balance: int
    overdue: int
    oldest_overdue_due_date: date | None = None


class Hold(CreditTable, table=True):
    __tablename__ = "hold"
    __table_args__ = (Index("ix_hold_active", "customer_id", "released_at"),)
    id: str = Field(primary_key=True, max_length=64)
    customer_id: str = Field(max_length=64)
    kind: str = Field(max_length=32)
    reason: str
    cause: str = Field(max_length=32)  # overdue | signal | manual
    automatic: bool
    placed_by: str = Field(max_length=128)
    placed_at: datetime
    released_at: datetime | None = None
    released_by: str | None = Field(default=None, max_length=128)
    release_reason: str | None = None
    override: bool = False  # a person released an automatic hold while its cause remained


class Signal(CreditTable, table=True):
    __tablename__ = "signal"
    id: str = Field(primary_key=True, max_length=64)
    customer_id: str = Field(index=True, max_length=64)
    kind: str = Field(max_length=64)
    observed_on: date
    note: str | None = None
    serious: bool
    recorded_by: str = Field(max_length=64)
    recorded_at: datetime


class CreditCheck(CreditTable, table=True):
    """Every answer given, with its reasons: the ERP's decisions can be traced."""

    __tablename__ = "credit_check"
    id: str = Field(primary_key=True, max_length=64)
    customer_id: str = Field(index=True, max_length=64)
    order_id: str | None = Field(default=None, max_length=64)
    amount: int
    currency: str = Field(max_length=3)
    decision: str = Field(max_length=16)
    max_amount: int | None = None
    reasons: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    as_of: date
    checked_by: str = Field(max_length=64)
    checked_at: datetime
