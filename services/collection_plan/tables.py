from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from shared.db import service_registry
from shared.messaging.tables import infrastructure_tables

registry = service_registry()
metadata = registry.metadata
infra = infrastructure_tables(metadata)


class CollectionsTable(SQLModel, registry=registry):
    pass


class CustomerView(CollectionsTable, table=True):
    """What collection-plan hears of a customer: its collector, and the ledger's
    latest position (version and overdue per currency)."""

    __tablename__ = "customer_view"
    customer_id: str = Field(primary_key=True, max_length=64)
    name: str | None = Field(default=None, max_length=255)
    salesperson: str | None = Field(default=None, max_length=128)
    balance_version: int = 0
    overdue: dict[str, int] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class Case(CollectionsTable, table=True):
    __tablename__ = "collection_case"
    __table_args__ = (Index("ix_collection_case_customer_status", "customer_id", "status"),)
    id: str = Field(primary_key=True, max_length=64)
    customer_id: str = Field(max_length=64)
    status: str = Field(max_length=16)  # open | closed
    receivable_class: str = Field(max_length=16)
    level: int = 0
    max_days_past_due: int = 0
    opened_on: date
    closed_on: date | None = None
    close_reason: str | None = None


class CaseInvoice(CollectionsTable, table=True):
    """An overdue invoice the case is chasing."""

    __tablename__ = "case_invoice"
    case_id: str = Field(primary_key=True, max_length=64)
    invoice_id: str = Field(primary_key=True, max_length=64)
    currency: str = Field(max_length=3)
    open_amount: int
    due_date: date
    days_past_due: int
    settled: bool = False


class Task(CollectionsTable, table=True):
    __tablename__ = "collector_task"
    __table_args__ = (Index("ix_collector_task_open", "status", "collector"),)
    id: str = Field(primary_key=True, max_length=64)
    case_id: str = Field(index=True, max_length=64)
    customer_id: str = Field(max_length=64)
    collector: str | None = Field(default=None, max_length=128)
    level: int
    step: str = Field(max_length=32)
    action: str
    status: str = Field(max_length=16)  # open | done | cancelled
    created_on: date
    created_at: datetime
