"""Collection-plan's policy settings: environment variables RECOUP_COLLECTIONS_<NAME>
(defaults below, documented in docs/collections.md). Company policy that changes with a
deploy lives here; what operators change at run time lives in the database with an API
(strategies, and each customer's collector, financial strength and contact preferences)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.collection_plan.domain.agreements import AgreementPolicy
from services.collection_plan.domain.classes import ClassPolicy
from services.collection_plan.domain.contact import ContactPreferences
from services.collection_plan.domain.interest import InterestPolicy
from services.collection_plan.domain.priority import PriorityPolicy
from services.collection_plan.domain.promises import PromisePolicy
from shared.settings import Settings


class CollectionsConfig(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RECOUP_COLLECTIONS_", extra="ignore")

    # Receivable classes
    doubtful_days: int = Field(90, ge=1, description="days past due that make a receivable doubtful")
    bad_debt_days: int = Field(180, ge=1, description="days past due that make it bad debt")
    dormant_days: int = Field(180, ge=1, description="no order and no payment for this long, "
                                                     "with a balance: dormant")
    doubtful_after_broken: int = Field(2, ge=1, description="broken promises and agreements in "
                                                            "a case that make it doubtful")
    # Promises
    promise_max_days: int = Field(30, ge=1, description="how far ahead a promise may be")
    promise_grace_days: int = Field(0, ge=0, description="days after the date before it is broken")
    promise_pauses_escalation: bool = Field(
        True, description="while a promise runs, days past due do not escalate the case")
    # Repayment agreements
    agreement_max_instalments: int = Field(12, ge=1)
    agreement_max_months: int = Field(12, ge=1)
    agreement_default_period_days: int = Field(
        30, ge=1, description="longest gap between instalments when the terms have no period")
    agreement_grace_days: int = Field(0, ge=0)
    # Late interest and fees, after a written notice
    # Off until the company sets the rate its contracts give: a charge is booked on the
    # customer's account, so no rate is assumed for it.
    interest_rate_basis_points: int = Field(0, ge=0, le=100_000,
                                            description="e.g. 1200 = 12.00 %; 0: no interest")
    interest_per: Literal["year", "month"] = "year"
    late_fees: dict[str, int] = Field(
        default_factory=dict, description='a fee per invoice at the written notice, per '
                                          'currency in minor units, e.g. {"CNY": 5000}')
    # Worklist
    priority_amount_step: int = Field(100_000, ge=1, description="minor units per priority point")
    priority_amount_steps: dict[str, int] = Field(default_factory=dict,
                                                  description="per currency, e.g. {\"JPY\": 1000}")
    priority_km_per_point: int = Field(10, ge=0, description="0: distance does not count")
    no_answer_attempts: int = Field(3, ge=1, description="unanswered attempts before escalation")
    paid_claim_check_days: int = Field(3, ge=0, description="when to check a payment the "
                                                            "customer says it made")
    contact_preferred_time: str = "15:30"
    contact_window_minutes: int = 60
    contact_lunch_start: str = "11:45"
    contact_lunch_end: str = "14:00"
    contact_avoid_weekdays: list[int] = Field(default_factory=lambda: [0, 6])
    contact_avoid_first_of_month: bool = True
    contact_month_end_within_days: int = 3
    # Write-offs
    write_off_classes: list[str] = Field(default_factory=lambda: ["bad_debt", "dormant"])
    write_off_four_eyes: bool = Field(
        True, description="the person approving a write-off is not the one who proposed it")

    def class_policy(self) -> ClassPolicy:
        return ClassPolicy(self.doubtful_days, self.bad_debt_days, self.dormant_days,
                           self.doubtful_after_broken)

    def promise_policy(self) -> PromisePolicy:
        return PromisePolicy(self.promise_max_days, self.promise_grace_days)

    def agreement_policy(self) -> AgreementPolicy:
        return AgreementPolicy(self.agreement_max_instalments, self.agreement_max_months,
                               self.agreement_default_period_days, self.agreement_grace_days)

    def interest_policy(self) -> InterestPolicy:
        return InterestPolicy(self.interest_rate_basis_points, self.interest_per)

    def priority_policy(self) -> PriorityPolicy:
        return PriorityPolicy(amount_step=self.priority_amount_step,
                              amount_steps=self.priority_amount_steps,
                              km_per_point=self.priority_km_per_point)

    def contact_defaults(self) -> ContactPreferences:
        return ContactPreferences(
            self.contact_preferred_time, self.contact_window_minutes, self.contact_lunch_start,
            self.contact_lunch_end, tuple(self.contact_avoid_weekdays),
            self.contact_avoid_first_of_month, self.contact_month_end_within_days).validated()


def load(_settings: Settings) -> CollectionsConfig:
    return CollectionsConfig()
