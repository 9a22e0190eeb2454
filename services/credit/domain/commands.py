from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from services.credit.domain.check import OrderLine
from services.credit.domain.terms import Terms


@dataclass(frozen=True)
class RegisterCustomer:
    """Register a customer, or update its dossier (`POST /customers`)."""

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
    address: str | None = None
    assessments: Mapping[str, dict[str, Any] | None] = field(default_factory=dict)
    documents: dict[str, Any] = field(default_factory=dict)
    # The dossier fields the caller sent; an update leaves the others as they are.
    # None: every field (a registration from code).
    given: frozenset[str] | None = None


@dataclass(frozen=True)
class UpdateCustomer:
    """Change some fields of a dossier (`PATCH /customers/{id}`): JSON values by field;
    `terms` as checked terms."""

    customer_id: str
    values: Mapping[str, Any]
    terms: Terms | None = None


@dataclass(frozen=True)
class AcceptRecommendedLimit:
    customer_id: str
    reason: str


@dataclass(frozen=True)
class RateCustomer:
    customer_id: str
    as_of: date


@dataclass(frozen=True)
class CheckCredit:
    customer_id: str
    amount: int
    currency: str
    as_of: date
    order_id: str | None = None
    lines: tuple[OrderLine, ...] = ()


@dataclass(frozen=True)
class ConfirmShipment:
    order_id: str


@dataclass(frozen=True)
class CancelReservation:
    order_id: str
    reason: str


@dataclass(frozen=True)
class RecordSignal:
    customer_id: str
    kind: str
    observed_on: date
    note: str | None = None


@dataclass(frozen=True)
class ResolveSignal:
    signal_id: str
    reason: str


@dataclass(frozen=True)
class PlaceHold:
    customer_id: str
    kind: str
    reason: str
    incentives: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReleaseHold:
    hold_id: str
    reason: str
