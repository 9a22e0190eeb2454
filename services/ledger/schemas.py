from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field, ValidationInfo, field_validator

from shared.schemas import BusinessDate, Currency, Identifier, MinorUnits


class InvoiceIn(BaseModel):
    id: Identifier = Field(description="the ERP's invoice number")
    customer_id: Identifier
    amount: MinorUnits
    currency: Currency
    issue_date: BusinessDate
    due_date: BusinessDate | None = Field(
        None, description="computed from the customer's terms when absent")
    shipment_id: Identifier | None = None
    order_id: Identifier | None = Field(None, description="the ERP order it bills")
    salesperson: str | None = Field(None, max_length=128)


class InvoiceOut(BaseModel):
    id: str
    kind: str
    customer_id: str
    amount: int
    currency: str
    issue_date: date
    due_date: date
    open_amount: int
    settled_on: date | None
    shipment_id: str | None
    order_id: str | None = None
    salesperson: str | None
    reference_id: str | None = None
    memo: str | None = None
    recorded_by: str
    recorded_at: datetime


class ChargeIn(BaseModel):
    """Late interest or a fee, after a written notice: an open item of its own."""

    id: Identifier
    customer_id: Identifier
    kind: Literal["interest", "fee"]
    amount: MinorUnits
    currency: Currency
    issue_date: BusinessDate
    due_date: BusinessDate | None = Field(None, description="default: due at once")
    invoice_id: Identifier | None = Field(None, description="the overdue invoice it is charged on")
    reason: str = Field(min_length=1, max_length=2000)


class RefundIn(BaseModel):
    """Money paid back to the customer out of its unapplied credit."""

    id: Identifier
    customer_id: Identifier
    amount: MinorUnits
    currency: Currency
    refunded_on: BusinessDate
    reason: str = Field(min_length=1, max_length=2000)


class ReversalIn(BaseModel):
    reversed_on: BusinessDate
    reason: str = Field(min_length=1, max_length=2000, examples=["cheque returned unpaid"])


class WriteOffIn(BaseModel):
    id: Identifier
    invoice_id: Identifier
    amount: MinorUnits | None = Field(None, description="default: all that is open")
    written_off_on: BusinessDate
    reason: str = Field(min_length=1, max_length=2000)


class AllocationIn(BaseModel):
    invoice_id: Identifier
    amount: MinorUnits


class ApplicationIn(BaseModel):
    """Apply the unapplied rest of a payment or credit note to named invoices."""

    document_kind: Literal["payment", "credit_note"]
    document_id: Identifier
    applied_on: BusinessDate
    allocations: list[AllocationIn] = Field(min_length=1)


class PaymentIn(BaseModel):
    id: Identifier
    customer_id: Identifier
    amount: MinorUnits
    currency: Currency
    received_on: BusinessDate
    method: str | None = Field(None, max_length=32, description="bank_transfer, cash, cheque, ...")
    allocations: list[AllocationIn] | None = Field(
        None, description="without allocations the oldest due invoices are paid first"
    )
    invoice_ids: list[Identifier] | None = Field(
        None, min_length=1, max_length=1000,
        description="pay only these invoices, oldest due first; the rest stays unapplied "
                    "(a remittance naming invoices); not with allocations")

    @field_validator("invoice_ids")
    @classmethod
    def _one_way_to_allocate(cls, value: list[str] | None, info: ValidationInfo) -> list[str] | None:
        if value is not None and info.data.get("allocations") is not None:
            raise ValueError("give allocations (exact amounts) or invoice_ids (what to pay), "
                             "not both")
        return value


class CreditNoteIn(BaseModel):
    id: Identifier
    customer_id: Identifier
    amount: MinorUnits
    currency: Currency
    issue_date: BusinessDate
    invoice_id: Identifier | None = None


class CreditDocumentOut(BaseModel):
    id: str
    customer_id: str
    amount: int
    currency: str
    date: date
    method: str | None = None
    invoice_id: str | None = None
    allocations: list[AllocationIn]
    unapplied: int
    memo: str | None = None


class SweepIn(BaseModel):
    as_of: BusinessDate | None = Field(None, description="defaults to today; never in the future")


class SweepOut(BaseModel):
    as_of: date
    payment_missed: int
    invoice_aged: int
    balance_changed: int
    events: int = Field(description="all events the sweep emitted")
