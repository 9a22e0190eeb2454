from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from shared.schemas import BusinessDate, Currency, Identifier

Period = Annotated[str, Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", examples=["2026-03"])]
Name = Annotated[str, Field(min_length=1, max_length=256)]
Reason = Annotated[str, Field(min_length=1, max_length=2000)]


class StatementIn(BaseModel):
    customer_id: Identifier
    period: Period
    currency: Currency | None = Field(None, description="needed when the customer trades in several")
    as_of: BusinessDate | None = Field(None, description="default today; the period must have begun")


class StatementRunIn(BaseModel):
    period: Period | None = Field(None, description="default: the month before as_of")
    as_of: BusinessDate | None = None


class ConfirmIn(BaseModel):
    confirmed_by: Name


class DisputedLineIn(BaseModel):
    document_id: Identifier
    reason: str | None = Field(None, max_length=2000)


class DisputeIn(BaseModel):
    lines: list[DisputedLineIn | Identifier] = Field(
        min_length=1, max_length=500, description="document ids, or {document_id, reason}")
    reason: Reason
    raised_by: str | None = Field(None, max_length=256, description="default: the caller")


class ResolveIn(BaseModel):
    resolution: Literal["corrected", "upheld", "withdrawn"] = Field(
        description="corrected: the books were changed; upheld: the books stand; "
                    "withdrawn: the customer took it back")
    note: Reason


class LinkConfirmIn(BaseModel):
    name: Name


class LinkDisputeIn(BaseModel):
    name: Name
    reason: Reason
    lines: list[DisputedLineIn | Identifier] = Field(min_length=1, max_length=500)


class AssignIn(BaseModel):
    customer_id: Identifier
    invoice_ids: list[Identifier] = Field(default_factory=list, max_length=500,
                                          description="empty: the ledger pays the oldest due first")
    note: str | None = Field(None, max_length=2000)


class LinkReturnIn(BaseModel):
    payment_id: Identifier = Field(description="the ledger's payment the bank took back; for a "
                                   "payment booked from a bank line, that line's id")
    note: str | None = Field(None, max_length=2000)


class IgnoreIn(BaseModel):
    reason: Reason


class PayerNameIn(BaseModel):
    name: Name


def disputed_lines(lines: list[DisputedLineIn | str]) -> list[tuple[str, str | None]]:
    return [(line, None) if isinstance(line, str) else (line.document_id, line.reason)
            for line in lines]
