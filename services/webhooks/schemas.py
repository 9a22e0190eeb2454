from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class SubscriptionIn(BaseModel):
    url: str = Field(max_length=2000, examples=["https://erp.example.com/hooks/recoup"])
    event_types: list[str] = Field(
        default_factory=lambda: ["#"], max_length=100,
        description="event types or topic patterns: `credit.hold.placed`, `ledger.#`, `#` (all)")
    description: str | None = Field(None, max_length=500)


class SubscriptionPatch(BaseModel):
    url: str | None = Field(None, max_length=2000)
    event_types: list[str] | None = Field(None, max_length=100)
    description: str | None = Field(None, max_length=500)
    active: bool | None = None


class SubscriptionOut(BaseModel):
    id: str
    url: str
    event_types: list[str]
    description: str | None
    active: bool
    created_by: str
    created_at: datetime
    updated_at: datetime


class SubscriptionWithSecret(SubscriptionOut):
    secret: str = Field(description="shown only when made or rotated: verify signatures with it")


class DeliveryOut(BaseModel):
    id: int
    subscription_id: str
    event_id: str
    event_type: str
    status: str
    attempts: int
    next_attempt_at: datetime
    last_status_code: int | None
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime
