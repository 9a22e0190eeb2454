"""Subscriptions, and one delivery row per (subscription, event): the schedule of tries
lives in the database (`next_attempt_at`), never in the broker."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from shared.db import service_registry
from shared.messaging.tables import infrastructure_tables

registry = service_registry()
metadata = registry.metadata
infra = infrastructure_tables(metadata)


class WebhooksTable(SQLModel, registry=registry):
    pass


class Subscription(WebhooksTable, table=True):
    __tablename__ = "webhook_subscription"
    id: str = Field(primary_key=True, max_length=64)
    url: str = Field(max_length=2000)
    event_types: list[str] = Field(sa_column=Column(JSON, nullable=False))  # topic patterns
    # Kept to sign with (an HMAC key cannot be stored hashed): guard this database.
    secret: str = Field(max_length=128)
    description: str | None = Field(default=None, max_length=500)
    active: bool = True
    created_by: str = Field(max_length=64)
    created_at: datetime
    updated_by: str = Field(max_length=64)
    updated_at: datetime


class Delivery(WebhooksTable, table=True):
    __tablename__ = "webhook_delivery"
    __table_args__ = (
        UniqueConstraint("subscription_id", "event_id"),  # an event is queued once per endpoint
        Index("ix_webhook_delivery_due", "status", "next_attempt_at"),
        Index("ix_webhook_delivery_subscription", "subscription_id", "id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    subscription_id: str = Field(max_length=64)
    event_id: str = Field(max_length=64)
    event_type: str = Field(max_length=128)
    envelope: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(max_length=16)  # pending | delivered | dead
    attempts: int = 0
    next_attempt_at: datetime
    lease_until: datetime | None = None
    last_status_code: int | None = None
    last_error: str | None = None
    delivered_at: datetime | None = None
    created_at: datetime
