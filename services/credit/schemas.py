from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from services.credit.domain.holds import KINDS
from services.credit.domain.terms import MODES
from shared.schemas import (
    BusinessDate,
    Currency,
    Days,
    Identifier,
    MinorUnits,
    MoneyIn,
    MoneyOut,
)

HoldKind = Literal[KINDS]  # type: ignore[valid-type]
TermsMode = Literal[MODES]  # type: ignore[valid-type]


class DiscountIn(BaseModel):
    percent: int = Field(gt=0, lt=100)
    within_days: Days


class TermsIn(BaseModel):
    mode: TermsMode
    days: Days | None = Field(None, description="net_days (and deliver_two_settle_one)")
    day_of_month: int | None = Field(None, ge=1, le=31, description="monthly")
    due_date: BusinessDate | None = Field(None, description="one_off")
    early_payment_discount: DiscountIn | None = None


class CustomerIn(BaseModel):
    id: Identifier = Field(description="the ERP's customer code")
    name: str = Field(min_length=1, max_length=255)
    salesperson: str | None = Field(None, max_length=128)
    region: str | None = Field(None, max_length=128)
    distance_km: int | None = Field(None, ge=0, le=100_000)
    legal_representative: str | None = Field(None, max_length=255)
    financials: dict[str, Any] = Field(default_factory=dict)
    terms: TermsIn
    credit_limit: MoneyIn


class RatingOut(BaseModel):
    rating_class: str = Field(serialization_alias="class")
    score: int
    reasons: list[str]


class HoldOut(BaseModel):
    id: str
    customer_id: str
    kind: str
    reason: str
    cause: str
    automatic: bool
    placed_by: str
    placed_at: datetime
    released_at: datetime | None = None
    released_by: str | None = None
    release_reason: str | None = None
    override: bool = False


class CustomerOut(BaseModel):
    id: str
    name: str
    salesperson: str | None
    region: str | None
    distance_km: int | None
    legal_representative: str | None
    financials: dict[str, Any]
    terms: dict[str, Any]
    credit_limit: MoneyOut
    rating: RatingOut
    exposure: MoneyOut
    available: MoneyOut
    balances: list[dict[str, Any]]
    holds: list[HoldOut]


class OrderLineIn(BaseModel):
    sku: str | None = Field(None, max_length=64)
    amount: MinorUnits
    key_product: bool = Field(False, description="a popular key product (withheld under pressure)")
    debt_free_only: bool = Field(
        False, description="a product or promotion reserved for customers owing nothing overdue")


class CheckIn(BaseModel):
    customer_id: Identifier
    amount: MinorUnits
    currency: Currency
    order_id: Identifier | None = None
    lines: list[OrderLineIn] = Field(default_factory=list)
    as_of: BusinessDate | None = None


class CheckOut(BaseModel):
    check_id: str
    customer_id: str
    decision: Literal["approve", "cash_only", "reduce", "block"]
    max_amount: int | None = None
    reasons: list[str]
    holds: list[HoldOut]


class SignalIn(BaseModel):
    kind: str = Field(min_length=1, max_length=64, examples=["bankruptcy", "change_of_legal_representative"])
    observed_on: BusinessDate
    note: str | None = Field(None, max_length=2000)


class SignalOut(BaseModel):
    id: str
    customer_id: str
    kind: str
    observed_on: BusinessDate
    note: str | None
    serious: bool
    recorded_by: str
    recorded_at: datetime


class HoldIn(BaseModel):
    kind: HoldKind
    reason: str = Field(min_length=1, max_length=2000)


class ReleaseIn(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)
