"""Credit's policy settings: environment variables `RECOUP_CREDIT_*` (JSON for maps and
lists), read when the service starts (docs/credit.md lists them with their defaults).
They are policy a credit manager sets once per deployment; what changes per customer
(limits, holds, signals) lives in the database behind the API."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import AliasChoices, BaseModel, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.credit.domain import holds, limits, rating, signals
from services.credit.domain.detection import Thresholds
from shared.settings import Settings


class RungSetting(BaseModel):
    min_days: int = Field(ge=1)
    kinds: list[Literal[holds.KINDS]]  # type: ignore[valid-type]
    reason: str
    terms_mode: str | None = None

    def rung(self) -> holds.Rung:
        return holds.Rung(self.min_days, tuple(self.kinds), self.reason, self.terms_mode)


def _default_ladder() -> list[RungSetting]:
    return [RungSetting(min_days=r.min_days, kinds=list(r.kinds), reason=r.reason,
                        terms_mode=r.terms_mode) for r in holds.DEFAULT_LADDER]


class CreditConfig(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RECOUP_CREDIT_", extra="ignore")

    # The scorecard: points per factor (merged over the defaults) and the class floors.
    weights: dict[str, int] = Field(default_factory=lambda: dict(rating.DEFAULT_WEIGHTS))
    class_floors: dict[str, int] = Field(default_factory=lambda: dict(rating.DEFAULT_CLASS_FLOORS))
    rating_window_days: int = Field(365, ge=30)

    # Limits: how a recommendation becomes the limit, months of purchases per class, the
    # starting limit per currency while a customer has no payment history (settled invoices).
    limit_policy: Literal[limits.LIMIT_POLICIES] = "advise"  # type: ignore[valid-type]
    cover_months: dict[str, Decimal] = Field(default_factory=lambda: dict(limits.DEFAULT_COVER_MONTHS))
    starting_limits: dict[str, int] = Field(default_factory=lambda: dict(limits.DEFAULT_STARTING_LIMITS))
    history_min_settled: int = Field(3, ge=1)
    cash_only_classes: set[str] = Field(default_factory=lambda: {"E"})

    # The check
    reservation_hours: int = Field(72, ge=1, description="an unconfirmed approval lapses after this")
    key_product_classes: set[str] = Field(default_factory=set)
    debt_free_only_classes: set[str] = Field(default_factory=set)
    reduced_batch_average_percent: int = Field(50, ge=1, le=100)
    # RECOUP_REDUCED_BATCH_PERCENT is the older name (README), still read.
    reduced_batch_percent: int = Field(25, ge=1, le=100, validation_alias=AliasChoices(
        "RECOUP_CREDIT_REDUCED_BATCH_PERCENT", "RECOUP_REDUCED_BATCH_PERCENT"))

    # Holds
    ladder: list[RungSetting] = Field(default_factory=_default_ladder)
    broken_promise_days: int = Field(holds.BROKEN_PROMISE_DAYS, ge=0)
    incentives: list[str] = Field(default_factory=lambda: list(holds.INCENTIVES))

    # Warning signs
    serious_signals: set[str] = Field(default_factory=lambda: set(signals.DEFAULT_SERIOUS))
    detection: Thresholds = Field(default_factory=Thresholds)

    # Reviews: the month of the annual review (quarterly inspections every third month on)
    annual_review_month: int = Field(1, ge=1, le=12)

    @field_validator("weights")
    @classmethod
    def _known_factors(cls, value: dict[str, int]) -> dict[str, int]:
        unknown = set(value) - set(rating.FACTORS)
        if unknown:
            raise ValueError(f"unknown scorecard factors {sorted(unknown)}; known: {rating.FACTORS}")
        if any(w < 0 for w in value.values()):
            raise ValueError("weights cannot be negative")
        return {**rating.DEFAULT_WEIGHTS, **value}

    @field_validator("serious_signals")
    @classmethod
    def _known_kinds(cls, value: set[str]) -> set[str]:
        unknown = value - set(signals.KINDS)
        if unknown:
            raise ValueError(f"unknown signal kinds {sorted(unknown)}")
        return value

    @model_validator(mode="after")
    def _complete(self) -> CreditConfig:
        if set(self.class_floors) != set(rating.CLASSES[:-1]):
            raise ValueError("class_floors needs a floor for each of A, B, C, D")
        floors = [self.class_floors[c] for c in rating.CLASSES[:-1]]
        if floors != sorted(floors, reverse=True):
            raise ValueError("class floors must fall from A to D")
        self.cover_months = {**limits.DEFAULT_COVER_MONTHS, **self.cover_months}
        return self

    @property
    def rungs(self) -> tuple[holds.Rung, ...]:
        return tuple(r.rung() for r in self.ladder)


def load(_settings: Settings) -> CreditConfig:
    return CreditConfig()
