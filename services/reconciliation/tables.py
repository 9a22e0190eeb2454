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


class ReconciliationTable(SQLModel, registry=registry):
    pass


class AccountItem(ReconciliationTable, table=True):
    """Reconciliation's own copy of the customer's documents, built from ledger events."""

    __tablename__ = "account_item"
    __table_args__ = (Index("ix_account_item_customer", "customer_id", "currency", "doc_date"),)
    kind: str = Field(primary_key=True, max_length=16)
    doc_id: str = Field(primary_key=True, max_length=64)
    customer_id: str = Field(max_length=64)
    currency: str = Field(max_length=3)
    doc_date: date
    amount: int
    due_date: date | None = None


class ItemSettlement(ReconciliationTable, table=True):
    __tablename__ = "item_settlement"
    doc_kind: str = Field(primary_key=True, max_length=16)
    doc_id: str = Field(primary_key=True, max_length=64)
    invoice_id: str = Field(primary_key=True, max_length=64)
    amount: int
    settled_on: date


class Statement(ReconciliationTable, table=True):
    __tablename__ = "statement"
    __table_args__ = (Index("ix_statement_customer_period", "customer_id", "period", "currency"),)
    id: str = Field(primary_key=True, max_length=64)
    customer_id: str = Field(max_length=64)
    period: str = Field(max_length=7)
    currency: str = Field(max_length=3)
    content: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    digest: str = Field(max_length=64)
    status: str = Field(default="issued", max_length=16)
    issued_at: datetime
    issued_by: str = Field(max_length=64)
