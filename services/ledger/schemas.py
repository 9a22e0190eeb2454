from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

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
    salesperson: str | None = Field(None, max_length=128)


class InvoiceOut(BaseModel):
    id: str
    customer_id: str
    amount: int
    currency: str
    issue_date: date
    due_date: date
    open_amount: int
    settled_on: date | None
    shipment_id: str | None
    salesperson: str | None
    recorded_by: str
    recorded_at: datetime


class AllocationIn(BaseModel):
    invoice_id: Identifier
    amount: MinorUnits


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


class SweepIn(BaseModel):
    as_of: BusinessDate | None = Field(None, description="defaults to today; never in the future")


class SweepOut(BaseModel):
    as_of: date
    payment_missed: int
    invoice_aged: int
    balance_changed: int
    events: int = Field(description="all events the sweep emitted")
