"""Bank statements in, their lines matched or waiting for a person; customers' payer names."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy import select

from services.reconciliation import bank_files, bank_imports, cash_matching, returns
from services.reconciliation.api.common import Reader, Runtime, Writer, listed, where_given
from services.reconciliation.bank_files import CsvLayout
from services.reconciliation.config import DEFAULT_CSV_COLUMNS
from services.reconciliation.read_models import add_alias
from services.reconciliation.schemas import AssignIn, IgnoreIn, LinkReturnIn, PayerNameIn
from services.reconciliation.tables import (
    AccountItem,
    BankImport,
    BankLine,
    PayerAlias,
    ReconCustomer,
    debit_items,
)
from shared.errors import Invalid, NotFound
from shared.pagination import Page

router = APIRouter(prefix="/v1", tags=["bank statements"])
LINE_STATUSES = Literal["matched", "unmatched", "assigned", "ignored", "debit", "returned", "linked"]


def _layout(config: Any, columns: str | None, delimiter: str | None, decimal: str | None,
            date_format: str | None, currency: str | None, account: str | None) -> CsvLayout:
    mapping = {**DEFAULT_CSV_COLUMNS, **config.csv_columns}  # a setting overrides some columns
    if columns:
        for pair in columns.split(","):
            ours, sep, theirs = pair.partition(":")
            if not sep or not ours.strip() or not theirs.strip():
                raise Invalid("csv_columns reads field:Header,field:Header",
                              field="query.csv_columns")
            mapping[ours.strip()] = theirs.strip()
    return CsvLayout(columns=mapping, delimiter=delimiter or config.csv_delimiter,
                     decimal=decimal or config.csv_decimal,
                     date_format=date_format or config.csv_date_format,
                     currency=currency, account=account)


@router.post("/bank-statements", status_code=201, openapi_extra={"requestBody": {"content": {
    "application/xml": {"schema": {"type": "string"}}, "text/csv": {"schema": {"type": "string"}},
    "text/plain": {"schema": {"type": "string", "description": "MT940"}}}}})
async def import_bank_statement(
    request: Request, runtime: Runtime, caller: Writer, response: Response,
    file_format: Annotated[Literal["camt053", "mt940", "csv"] | None, Query(
        alias="format", description="default: from the content type and the file")] = None,
    csv_columns: Annotated[str | None, Query(
        description="field:Header pairs over the configured ones, e.g. "
                    "booking_date:Buchungstag,amount:Betrag", max_length=2000)] = None,
    csv_delimiter: Annotated[str | None, Query(min_length=1, max_length=1)] = None,
    csv_decimal: Annotated[Literal[".", ","] | None, Query()] = None,
    csv_date_format: Annotated[str | None, Query(max_length=32, examples=["%d.%m.%Y"])] = None,
    csv_currency: Annotated[str | None, Query(pattern=r"^[A-Z]{3}$")] = None,
    account: Annotated[str | None, Query(max_length=64, description="the CSV's account")] = None,
) -> dict[str, Any]:
    """A CAMT.053, MT940 or CSV file as the body. Answers every line: matched (booked by the
    ledger), unmatched (waiting for a person), or debit (money out, not a payment). The same
    file again answers its first import (200); lines seen in an earlier file are not taken
    twice."""
    data = await _file(request, runtime.config.max_file_bytes)
    chosen = file_format or bank_files.detect(data, request.headers.get("content-type", ""))
    layout = _layout(runtime.config, csv_columns, csv_delimiter, csv_decimal, csv_date_format,
                     csv_currency, account)
    async with runtime.unit_of_work(caller.name) as uow:
        result, created = await bank_imports.import_file(uow, data, chosen, layout)
        await uow.commit()
    if not created:
        response.status_code = 200
    return result


async def _file(request: Request, limit: int) -> bytes:
    """The body, refused once past `limit` bytes without reading the rest into memory."""
    too_large = Invalid(f"the file is larger than {limit} bytes", field="body")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > limit:
            raise too_large
    return bytes(data)


@router.get("/bank-statements/{import_id}")
async def get_bank_statement(import_id: str, runtime: Runtime, _: Reader) -> dict[str, Any]:
    async with runtime.unit_of_work(read_only=True) as uow:
        record = await uow.session.get(BankImport, import_id)
        if record is None:
            raise NotFound(f"bank statement {import_id!r} not found")
        return await bank_imports.summary(uow, record, duplicate_file=False)


@router.get("/bank-lines")
async def list_bank_lines(
    runtime: Runtime, _: Reader, page: Page, request: Request, response: Response,
    status: Annotated[LINE_STATUSES | None, Query(
        description="unmatched: the queue waiting for a person")] = None,
    import_id: Annotated[str | None, Query()] = None,
    customer_id: Annotated[str | None, Query()] = None,
    is_return: Annotated[bool | None, Query(
        description="true: returned payments (with status=unmatched, those waiting for a person)"
    )] = None,
) -> list[dict[str, Any]]:
    """Oldest booking first."""
    query = where_given(select(BankLine), {BankLine.status: status, BankLine.import_id: import_id,
                                           BankLine.customer_id: customer_id,
                                           BankLine.is_return: is_return})
    kept = await listed(runtime, query, [BankLine.booking_date, BankLine.id], page, request, response)
    return [bank_imports.line_out(r) for r in kept]


@router.get("/bank-lines/{line_id}")
async def get_bank_line(line_id: str, runtime: Runtime, _: Reader) -> dict[str, Any]:
    async with runtime.read_sessions() as session:
        line = await session.get(BankLine, line_id)
    if line is None:
        raise NotFound(f"bank line {line_id!r} not found")
    return bank_imports.line_out(line)


@router.post("/bank-lines/{line_id}/assign")
async def assign_bank_line(line_id: str, body: AssignIn, runtime: Runtime, caller: Writer) -> dict[str, Any]:
    """A person's decision: the customer (and invoices) an unmatched line pays. The ledger
    books it; its payer name is learnt for the next time."""
    async with runtime.unit_of_work(caller.name) as uow:
        line = await cash_matching.assign(uow, line_id, body.customer_id, body.invoice_ids, body.note)
        await uow.commit()
    return bank_imports.line_out(line)


@router.post("/bank-lines/{line_id}/link-return")
async def link_returned_payment(line_id: str, body: LinkReturnIn, runtime: Runtime,
                                caller: Writer) -> dict[str, Any]:
    """A person's decision on an unmatched returned payment: the payment it undoes. The
    ledger reverses that payment (reconciliation.payment.returned); the note is kept."""
    async with runtime.unit_of_work(caller.name) as uow:
        line = await returns.link(uow, line_id, body.payment_id, body.note)
        await uow.commit()
    return bank_imports.line_out(line)


@router.post("/bank-lines/{line_id}/ignore")
async def ignore_bank_line(line_id: str, body: IgnoreIn, runtime: Runtime, caller: Writer) -> dict[str, Any]:
    """A person's decision: not a customer's payment (the reason is kept); for a returned
    payment, dismissed: nothing is reversed."""
    async with runtime.unit_of_work(caller.name) as uow:
        line = await cash_matching.ignore(uow, line_id, body.reason)
        await uow.commit()
    return bank_imports.line_out(line)


@router.get("/customers/{customer_id}/open-items")
async def open_items(customer_id: str, runtime: Runtime, _: Reader,
                     currency: Annotated[str | None, Query(pattern=r"^[A-Z]{3}$")] = None
                     ) -> list[dict[str, Any]]:
    """What matching sees open for the customer (oldest due first): for the person deciding
    an unmatched line."""
    query = select(AccountItem).where(AccountItem.customer_id == customer_id,
                                      debit_items(), AccountItem.open_amount > 0)
    if currency:
        query = query.where(AccountItem.currency == currency)
    async with runtime.read_sessions() as session:
        rows = (await session.execute(query.order_by(AccountItem.due_date, AccountItem.doc_id))).scalars()
        return [{"document_id": r.doc_id, "kind": r.kind, "date": r.doc_date, "due_date": r.due_date,
                 "amount": r.amount, "open_amount": r.open_amount, "currency": r.currency}
                for r in rows]


@router.get("/customers/{customer_id}/payer-names")
async def payer_names(customer_id: str, runtime: Runtime, _: Reader) -> list[dict[str, Any]]:
    """The names money from this customer is recognised by."""
    async with runtime.read_sessions() as session:
        rows = (await session.execute(select(PayerAlias).where(PayerAlias.customer_id == customer_id)
                                      .order_by(PayerAlias.added_at, PayerAlias.name_key))).scalars()
        return [{"name": r.name, "source": r.source, "added_by": r.added_by, "added_at": r.added_at}
                for r in rows]


@router.post("/customers/{customer_id}/payer-names", status_code=201)
async def add_payer_name(customer_id: str, body: PayerNameIn, runtime: Runtime,
                         caller: Writer) -> dict[str, Any]:
    """Another name the customer pays under (a parent company, the owner's own account)."""
    async with runtime.unit_of_work(caller.name) as uow:
        if await uow.session.get(ReconCustomer, customer_id) is None:
            raise NotFound(f"customer {customer_id!r} is unknown here")
        added = await add_alias(uow, customer_id, body.name, "manual")
        await uow.commit()
    return {"name": body.name, "source": "manual", "added": added,
            "added_at": datetime.now(UTC)}
