"""What the ledger can be told to do."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from services.ledger.domain.allocation import Allocation


@dataclass(frozen=True)
class PostInvoice:
    id: str
    customer_id: str
    amount: int
    currency: str
    issue_date: date
    due_date: date | None = None
    shipment_id: str | None = None
    salesperson: str | None = None
    kind: str = "invoice"  # invoice | interest | fee | refund | reversal
    reference_id: str | None = None
    memo: str | None = None
    order_id: str | None = None  # the ERP order it bills


@dataclass(frozen=True)
class PostPayment:
    id: str
    customer_id: str
    amount: int
    currency: str
    received_on: date
    method: str | None = None
    allocations: tuple[Allocation, ...] | None = None
    # Pay only these invoices, oldest due first (a bank line matched to them); the rest
    # stays unapplied. Ignored when `allocations` says exactly what to pay.
    invoice_ids: tuple[str, ...] | None = None


@dataclass(frozen=True)
class PostCreditNote:
    id: str
    customer_id: str
    amount: int
    currency: str
    issue_date: date
    invoice_id: str | None = None


@dataclass(frozen=True)
class RunSweep:
    as_of: date


@dataclass(frozen=True)
class WriteOff:
    id: str
    invoice_id: str
    written_off_on: date
    reason: str
    amount: int | None = None  # default: all that is open
    # When the asker names them (an approval by event), they must be the invoice's.
    customer_id: str | None = None
    currency: str | None = None


@dataclass(frozen=True)
class ApplyCredit:
    document_kind: str  # payment | credit_note
    document_id: str
    applied_on: date
    allocations: tuple[Allocation, ...]


@dataclass(frozen=True)
class ReversePayment:
    payment_id: str
    reversed_on: date
    reason: str
