from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from services.credit.domain.check import OrderLine
from services.credit.domain.terms import Terms


@dataclass(frozen=True)
class RegisterCustomer:
    id: str
    name: str
    terms: Terms
    credit_limit_amount: int
    credit_limit_currency: str
    salesperson: str | None = None
    region: str | None = None
    distance_km: int | None = None
    legal_representative: str | None = None
    financials: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CheckCredit:
    customer_id: str
    amount: int
    currency: str
    as_of: date
    order_id: str | None = None
    lines: tuple[OrderLine, ...] = ()


@dataclass(frozen=True)
class RecordSignal:
    customer_id: str
    kind: str
    observed_on: date
    note: str | None = None


@dataclass(frozen=True)
class PlaceHold:
    customer_id: str
    kind: str
    reason: str


@dataclass(frozen=True)
class ReleaseHold:
    hold_id: str
    reason: str
