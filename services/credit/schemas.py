from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from services.credit.domain.dossier import (
    DOCUMENT_KINDS,
    FINANCIALS_KEY_MAX,
    FINANCIALS_MAX_ENTRIES,
    FINANCIALS_NUMBER_MAX,
    FINANCIALS_TEXT_MAX,
    GRADES,
    figure_problem,
)
from services.credit.domain.holds import KINDS
from services.credit.domain.signals import KINDS as SIGNAL_KINDS
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
Grade = Literal[GRADES]  # type: ignore[valid-type]
DocumentKind = Literal[DOCUMENT_KINDS]  # type: ignore[valid-type]
SignalKind = Literal[tuple(SIGNAL_KINDS)]  # type: ignore[valid-type]
Reason = Annotated[str, Field(min_length=1, max_length=2000)]


def _figure(value: Any) -> Any:
    if (problem := figure_problem(value)) is not None:
        raise ValueError(problem)
    return value


FinancialName = Annotated[str, Field(min_length=1, max_length=FINANCIALS_KEY_MAX)]
Figure = Annotated[Any, AfterValidator(_figure)]


class DiscountIn(BaseModel):
    # Written terms say exactly what was agreed: a field we do not know is refused, never
    # dropped unseen.
    model_config = ConfigDict(extra="forbid")

    percent: int = Field(gt=0, lt=100)
    within_days: Days


class TermsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mode: TermsMode
    days: Days | None = Field(None, description="net_days (and deliver_two_settle_one)")
    day_of_month: int | None = Field(None, ge=1, le=31, description="monthly")
    due_date: BusinessDate | None = Field(None, description="one_off")
    early_payment_discount: DiscountIn | None = None


class AssessmentIn(BaseModel):
    """A credit manager's grade of one part of the dossier."""

    grade: Grade
    note: str | None = Field(None, max_length=2000)
    assessed_on: BusinessDate | None = None


class DocumentIn(BaseModel):
    """A document on file. A sales agreement only signed by a person can be repudiated;
    one bearing the customer's company seal cannot."""

    signed: bool = False
    sealed: bool = Field(False, description="bears the customer's company seal")
    sealed_by: str | None = Field(None, max_length=255, description="the name on the seal")
    received_on: BusinessDate | None = None
    reference: str | None = Field(None, max_length=255)


class DossierFields(BaseModel):
    salesperson: str | None = Field(None, max_length=128)
    region: str | None = Field(None, max_length=128)
    address: str | None = Field(None, max_length=500)
    distance_km: int | None = Field(None, ge=0, le=100_000)
    legal_representative: str | None = Field(None, max_length=255)
    financials: dict[FinancialName, Figure] = Field(
        default_factory=dict, max_length=FINANCIALS_MAX_ENTRIES,
        description=f"free-form figures, name -> value: at most {FINANCIALS_MAX_ENTRIES} "
                    f"entries, names of 1 to {FINANCIALS_KEY_MAX} characters; a value is a "
                    f"number (at most {FINANCIALS_NUMBER_MAX} either side of 0), a text of at "
                    f"most {FINANCIALS_TEXT_MAX} characters, true/false or null",
        examples=[{"revenue_2025": 52000000, "current_ratio": 1.4, "auditor": "Li & Co"}])
    financial_status: AssessmentIn | None = None
    market_network: AssessmentIn | None = None
    sales_ability: AssessmentIn | None = None
    organisation: AssessmentIn | None = Field(None, description="organisation and management")
    documents: dict[DocumentKind, DocumentIn] = Field(default_factory=dict)


class CustomerIn(DossierFields):
    """Registers the customer, or updates the fields sent (those not sent stay as they are)."""

    id: Identifier = Field(description="the ERP's customer code")
    name: str = Field(min_length=1, max_length=255)
    terms: TermsIn
    credit_limit: MoneyIn


class CustomerPatch(DossierFields):
    """Only the fields sent change; `null` clears one."""

    name: str | None = Field(None, min_length=1, max_length=255)
    terms: TermsIn | None = None
    credit_limit: MoneyIn | None = None


class RatingOut(BaseModel):
    rating_class: str = Field(serialization_alias="class")
    score: int
    reasons: list[str]
    as_of: date | None = None


class AppliedLimitOut(MoneyOut):
    reasons: list[str] = Field(description="why the check applies less than the granted limit")


class HoldOut(BaseModel):
    id: str
    customer_id: str
    kind: str
    reason: str
    cause: str
    cause_ref: str | None = None
    stage: int = 0
    incentives: list[str] = Field(default_factory=list)
    automatic: bool
    placed_by: str
    placed_at: datetime
    released_at: datetime | None = None
    released_by: str | None = None
    release_reason: str | None = None
    override: bool = False
    override_lapsed: bool = False


class OverdueInvoiceOut(BaseModel):
    invoice_id: str
    currency: str
    due_date: date | None
    days_past_due: int
    under_agreement: bool


class CustomerOut(BaseModel):
    id: str
    name: str
    salesperson: str | None
    region: str | None
    address: str | None = None
    distance_km: int | None
    legal_representative: str | None
    financials: dict[str, Any]
    financial_status: dict[str, Any] | None = None
    market_network: dict[str, Any] | None = None
    sales_ability: dict[str, Any] | None = None
    organisation: dict[str, Any] | None = None
    documents: dict[str, Any] = Field(default_factory=dict)
    dossier_version: int
    terms: dict[str, Any]
    credit_limit: MoneyOut
    applied_limit: AppliedLimitOut
    recommended_limit: MoneyOut | None
    has_payment_history: bool
    rating: RatingOut
    exposure: MoneyOut
    reserved: MoneyOut
    available: MoneyOut
    balances: list[dict[str, Any]]
    overdue_invoices: list[OverdueInvoiceOut]
    holds: list[HoldOut]


class DossierChangeOut(BaseModel):
    id: int
    version: int
    field: str
    before: Any
    after: Any
    changed_by: str
    changed_at: datetime
    note: str | None


class RatingRecordOut(BaseModel):
    id: int
    as_of: date
    trigger: str
    review_period: str | None
    rating_class: str = Field(serialization_alias="class")
    previous_class: str | None
    score: int
    reasons: list[str]
    factors: list[dict[str, Any]]
    inputs: dict[str, Any]
    recommended_limit: MoneyOut | None
    rated_by: str
    rated_at: datetime


class RateIn(BaseModel):
    as_of: BusinessDate | None = None


class ReasonIn(BaseModel):
    reason: Reason


class OrderLineIn(BaseModel):
    sku: str | None = Field(None, max_length=64)
    amount: MinorUnits
    product_class: str | None = Field(None, max_length=64, description="checked against the "
                                      "configured key and debt-free-only product classes")
    key_product: bool = Field(False, description="a popular key product (withheld under pressure)")
    debt_free_only: bool = Field(
        False, description="a product or promotion reserved for customers owing nothing overdue")
    incentive: str | None = Field(None, max_length=32, description="the line is an incentive "
                                  "(promotions, samples, year_end_rebates, bonuses)")


class CheckIn(BaseModel):
    customer_id: Identifier
    amount: MinorUnits
    currency: Currency
    order_id: Identifier | None = Field(None, description="reserves the approved credit for the order")
    lines: list[OrderLineIn] = Field(default_factory=list, max_length=1000)
    as_of: BusinessDate | None = None


class RefusedLineOut(BaseModel):
    line: int = Field(description="index in `lines`")
    sku: str | None
    amount: int
    reason: str


class ReservationOut(BaseModel):
    order_id: str
    customer_id: str
    check_id: str
    amount: int
    currency: str
    status: str
    expires_at: datetime
    invoice_id: str | None = None  # the first invoice for the order
    invoice_ids: list[str] = []  # every invoice for it (an order delivered in parts)
    invoiced: int = 0  # what of `amount` those invoices took over as receivables
    created_at: datetime
    created_by: str
    updated_at: datetime
    updated_by: str
    cancel_reason: str | None = None


class CheckOut(BaseModel):
    check_id: str
    customer_id: str
    decision: Literal["approve", "cash_only", "reduce", "block"]
    max_amount: int | None = None
    reasons: list[str]
    holds: list[HoldOut]
    rating_class: str
    credit_limit: AppliedLimitOut
    exposure: MoneyOut
    available: MoneyOut
    incentives_suspended: list[str]
    refused_lines: list[RefusedLineOut]
    reservation: ReservationOut | None = None


class CheckRecordOut(BaseModel):
    id: str
    customer_id: str
    order_id: str | None
    amount: int
    currency: str
    decision: str
    max_amount: int | None
    reasons: list[str]
    exposure: int | None
    limit_amount: int | None
    rating_class: str | None
    as_of: date
    checked_by: str
    checked_at: datetime


class SignalIn(BaseModel):
    kind: SignalKind = Field(examples=["bankruptcy", "change_of_legal_representative"])
    observed_on: BusinessDate
    note: str | None = Field(None, max_length=2000)


class SignalOut(BaseModel):
    id: str
    customer_id: str
    kind: str
    observed_on: BusinessDate
    note: str | None
    serious: bool
    origin: str
    evidence: list[str]
    recorded_by: str
    recorded_at: datetime
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    resolution: str | None = None


class HoldIn(BaseModel):
    kind: HoldKind
    reason: Reason
    incentives: list[str] = Field(default_factory=list, description="suspend_incentives: which "
                                  "are off (default all configured)")


class ReviewIn(BaseModel):
    as_of: BusinessDate | None = None
