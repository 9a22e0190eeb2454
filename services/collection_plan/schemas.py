"""Request bodies of the collections API (answers are plain JSON of the queries)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from services.collection_plan.domain import strategy as ladder
from services.collection_plan.domain.agreements import Instalment
from shared.schemas import BusinessDate, Currency, Identifier, MinorUnits, MoneyIn

Action = Literal[ladder.ACTIONS]  # type: ignore[valid-type]
EventName = Literal[ladder.EVENTS]  # type: ignore[valid-type]
HoldKind = Literal[ladder.HOLD_KINDS]  # type: ignore[valid-type]
TermsMode = Literal[ladder.TERMS_MODES]  # type: ignore[valid-type]
StepClass = Literal[ladder.CLASSES[1:]]  # type: ignore[valid-type]
RatingClass = Literal[ladder.RATING_CLASSES]  # type: ignore[valid-type]
Slug = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[a-z][a-z0-9_]*$")]
Text = Annotated[str, Field(min_length=1, max_length=500)]
Time = Annotated[str, Field(pattern=r"^\d{2}:\d{2}$", description="HH:MM")]


class TaskTemplateIn(BaseModel):
    action: Action
    text: Text


class HoldIn(BaseModel):
    kind: HoldKind
    terms_modes: list[TermsMode] = Field(
        default_factory=list, description="only for customers on these terms (empty: all)")


class TriggerIn(BaseModel):
    days_past_due: int | None = Field(None, ge=1, le=3650)
    events: list[EventName] = Field(default_factory=list)


class StepIn(BaseModel):
    name: Slug
    trigger: TriggerIn
    receivable_class: StepClass
    tasks: list[TaskTemplateIn] = Field(min_length=1, max_length=10)
    holds: list[HoldIn] = Field(default_factory=list, max_length=6)


class ReminderIn(BaseModel):
    days_before_due: int = Field(ge=1, le=60)
    tasks: list[TaskTemplateIn] = Field(min_length=1, max_length=10)


class SegmentIn(BaseModel):
    rating_classes: list[RatingClass] = Field(default_factory=list,
                                              description="empty: any rating, or none yet")
    min_overdue: list[MoneyIn] = Field(default_factory=list, max_length=20,
                                       description="reached in any one currency")


class StrategyBody(BaseModel):
    name: Text
    description: str = Field("", max_length=2000)
    rank: int = Field(ge=0, le=1_000_000, description="lower ranks are tried first")
    segment: SegmentIn = Field(default_factory=SegmentIn)
    reminder: ReminderIn | None = None
    steps: list[StepIn] = Field(min_length=1, max_length=ladder.MAX_STEPS)

    def to_domain(self, strategy_id: str) -> ladder.Strategy:
        data = self.model_dump()
        data["segment"]["min_overdue"] = [m.model_dump() for m in self.segment.min_overdue]
        return ladder.from_data({**data, "id": strategy_id})


class StrategyIn(StrategyBody):
    id: Slug


class StrategyReplaceIn(StrategyBody):
    version: int | None = Field(None, description="the version you read; refused if it moved on")


class PromiseIn(BaseModel):
    amount: MinorUnits
    currency: Currency
    promised_on: BusinessDate
    as_of: BusinessDate | None = None
    note: str | None = Field(None, max_length=2000)


class InstalmentIn(BaseModel):
    due_date: BusinessDate
    amount: MinorUnits


class AgreementIn(BaseModel):
    customer_id: Identifier
    invoice_ids: list[Identifier] = Field(min_length=1, max_length=500)
    instalments: list[InstalmentIn] = Field(min_length=1, max_length=120)
    currency: Currency | None = None
    signed_on: BusinessDate | None = Field(None, description="default: as_of")
    as_of: BusinessDate | None = None

    def instalment_plan(self) -> tuple[Instalment, ...]:
        return tuple(Instalment(i.due_date, i.amount) for i in self.instalments)


class PromiseTermsIn(BaseModel):
    amount: MinorUnits
    currency: Currency
    promised_on: BusinessDate


class OutcomeIn(BaseModel):
    outcome: Literal[ladder.OUTCOMES]  # type: ignore[valid-type]
    as_of: BusinessDate | None = None
    note: str | None = Field(None, max_length=2000)
    promise: PromiseTermsIn | None = Field(None, description="required when promised")


class SweepIn(BaseModel):
    as_of: BusinessDate | None = None


class WriteOffIn(BaseModel):
    invoice_id: Identifier
    reason: Text
    as_of: BusinessDate | None = None


class DecisionIn(BaseModel):
    as_of: BusinessDate | None = None
    note: str | None = Field(None, max_length=2000)


class RejectionIn(BaseModel):
    as_of: BusinessDate | None = None
    note: Text


class ContactIn(BaseModel):
    preferred_time: Time | None = None
    window_minutes: int | None = Field(None, ge=15, le=480)
    lunch_start: Time | None = None
    lunch_end: Time | None = None
    avoid_weekdays: list[Annotated[int, Field(ge=0, le=6)]] | None = Field(
        None, description="0 Monday .. 6 Sunday")
    avoid_first_of_month: bool | None = None
    month_end_within_days: int | None = Field(None, ge=0, le=15)


class ProfileIn(BaseModel):
    collector: str | None = Field(None, max_length=128, description="default: the salesperson")
    financial_strength: Literal["strong", "average", "weak"] | None = None
    contact: ContactIn = Field(default_factory=ContactIn)
