"""The ledger's HTTP edge: schema -> command -> handler -> schema."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy import select

from services.ledger import batches, handlers, queries, sweep
from services.ledger.domain.allocation import Allocation as AllocationCmd
from services.ledger.domain.commands import (
    ApplyCredit,
    PostCreditNote,
    PostInvoice,
    ReversePayment,
    WriteOff,
)
from services.ledger.domain.documents import Credit
from services.ledger.schemas import (
    ApplicationIn,
    ChargeIn,
    CreditDocumentOut,
    CreditNoteIn,
    InvoiceIn,
    InvoiceOut,
    PaymentIn,
    RefundIn,
    ReversalIn,
    SweepIn,
    SweepOut,
    WriteOffIn,
)
from services.ledger.tables import Allocation, CreditDocument, Invoice
from shared import clock
from shared.aging import DEFAULT_EDGES, buckets_from_edges
from shared.auth import Principal
from shared.errors import Invalid, NotFound
from shared.pagination import Page, finish, keyset
from shared.runtime import ServiceRuntime
from shared.schemas import BusinessDate, Identifier
from shared.web import get_runtime, require

router = APIRouter(prefix="/v1", tags=["ledger"])
MAX_BUCKET_DAYS = 36_500  # a century past due: the oldest bucket starts no later
Runtime = Annotated[ServiceRuntime, Depends(get_runtime)]
Reader = Annotated[Principal, require("ledger:read")]
Writer = Annotated[Principal, require("ledger:write")]


@router.post("/invoices", status_code=201, response_model=InvoiceOut)
async def post_invoice(body: InvoiceIn, runtime: Runtime, caller: Writer, response: Response) -> Any:
    return await _post_debit(runtime, caller, PostInvoice(**body.model_dump()), response)


@router.post("/charges", status_code=201, response_model=InvoiceOut)
async def post_charge(body: ChargeIn, runtime: Runtime, caller: Writer, response: Response) -> Any:
    cmd = PostInvoice(id=body.id, customer_id=body.customer_id, amount=body.amount,
                      currency=body.currency, issue_date=body.issue_date, due_date=body.due_date,
                      kind=body.kind, reference_id=body.invoice_id, memo=body.reason)
    return await _post_debit(runtime, caller, cmd, response)


@router.post("/refunds", status_code=201, response_model=InvoiceOut)
async def post_refund(body: RefundIn, runtime: Runtime, caller: Writer, response: Response) -> Any:
    cmd = PostInvoice(id=body.id, customer_id=body.customer_id, amount=body.amount,
                      currency=body.currency, issue_date=body.refunded_on, kind="refund",
                      memo=body.reason)
    return await _post_debit(runtime, caller, cmd, response)


async def _post_debit(runtime: ServiceRuntime, caller: Principal, cmd: PostInvoice,
                      response: Response) -> Any:
    async with runtime.unit_of_work(caller.name) as uow:
        document, created = await handlers.post_invoice(uow, cmd)
        await uow.commit()
    if not created:
        response.status_code = 200
    return document


@router.post("/payments/{payment_id}/reversal", status_code=201, response_model=InvoiceOut)
async def reverse_payment(payment_id: str, body: ReversalIn, runtime: Runtime, caller: Writer,
                          response: Response) -> Any:
    """A payment that bounced: the amount is owed again, with its original age."""
    async with runtime.unit_of_work(caller.name) as uow:
        reversal, created = await handlers.reverse_payment(
            uow, ReversePayment(payment_id, body.reversed_on, body.reason))
        await uow.commit()
    if not created:
        response.status_code = 200
    return reversal


@router.post("/write-offs", status_code=201, response_model=CreditDocumentOut)
async def post_write_off(body: WriteOffIn, runtime: Runtime, caller: Writer,
                         response: Response) -> Any:
    async with runtime.unit_of_work(caller.name) as uow:
        document, created = await handlers.write_off(uow, WriteOff(
            id=body.id, invoice_id=body.invoice_id, written_off_on=body.written_off_on,
            reason=body.reason, amount=body.amount))
        await uow.commit()
    if not created:
        response.status_code = 200
    return await _document_out(runtime, document)


@router.post("/batches", openapi_extra={"requestBody": {"content": {
    "application/x-ndjson": {"schema": {"type": "string"}},
    "text/csv": {"schema": {"type": "string"}}}}})
async def post_batch(request: Request, runtime: Runtime, caller: Writer,
                     response: Response) -> dict[str, Any]:
    """Invoices, payments and credit notes in one request: JSON lines (each with a `type`:
    invoice, payment, credit_note, and that document's fields) or CSV with a header row.
    All or nothing; every row is answered; sending it again books nothing twice."""
    rows = batches.parse(await request.body(), request.headers.get("content-type", ""))
    async with runtime.unit_of_work(caller.name) as uow:
        ok, results = await batches.book(uow, rows)
        if ok:
            await uow.commit()
    if not ok:  # nothing was booked: the good rows were only checked
        results = [r if r["status"] == "error" else {**r, "status": "valid"} for r in results]
    response.status_code = 200 if ok else 422
    created = sum(r["status"] == "created" for r in results)
    return {"rows": len(rows), "booked": ok, "created": created if ok else 0,
            "unchanged": sum(r["status"] == "unchanged" for r in results),
            "errors": sum(r["status"] == "error" for r in results), "results": results}


@router.get("/invoices/{invoice_id}", response_model=InvoiceOut)
async def get_invoice(invoice_id: str, runtime: Runtime, _: Reader) -> Any:
    async with runtime.read_sessions() as session:
        invoice = await session.get(Invoice, invoice_id)
    if invoice is None:
        raise NotFound(f"invoice {invoice_id!r} not found")
    return invoice


@router.get("/invoices", response_model=list[InvoiceOut])
async def list_invoices(
    runtime: Runtime, _: Reader, page: Page, request: Request, response: Response,
    customer_id: Annotated[Identifier | None, Query()] = None,
    status: Annotated[Literal["open", "settled"] | None, Query(
        description="open: something is still owed; settled: nothing is")] = None,
    order_id: Annotated[Identifier | None, Query(description="the ERP order billed")] = None,
    kind: Annotated[Literal["invoice", "interest", "fee", "refund", "reversal"] | None,
                    Query()] = None,
) -> Any:
    """Debit documents, oldest due first (then by id), a page at a time: follow the
    `Link: rel="next"` header."""
    query = select(Invoice)
    if customer_id is not None:
        query = query.where(Invoice.customer_id == customer_id)
    if status is not None:
        query = query.where(Invoice.open_amount > 0 if status == "open" else Invoice.open_amount == 0)
    if order_id is not None:
        query = query.where(Invoice.order_id == order_id)
    if kind is not None:
        query = query.where(Invoice.kind == kind)
    async with runtime.read_sessions() as session:
        rows = (await session.execute(
            keyset(query, [Invoice.due_date, Invoice.id], page))).scalars().all()
    return finish(rows, page, lambda i: (i.due_date, i.id), request, response)


@router.post("/payments", status_code=201, response_model=CreditDocumentOut)
async def post_payment(body: PaymentIn, runtime: Runtime, caller: Writer, response: Response) -> Any:
    async with runtime.unit_of_work(caller.name) as uow:
        document, created = await handlers.post_payment(uow, batches.payment_command(body))
        await uow.commit()
    if not created:
        response.status_code = 200
    return await _document_out(runtime, document)


@router.post("/applications", response_model=CreditDocumentOut)
async def post_application(body: ApplicationIn, runtime: Runtime, caller: Writer) -> Any:
    cmd = ApplyCredit(body.document_kind, body.document_id, body.applied_on,
                      tuple(AllocationCmd(a.invoice_id, a.amount) for a in body.allocations))
    async with runtime.unit_of_work(caller.name) as uow:
        document = await handlers.apply_credit(uow, cmd)
        await uow.commit()
    return await _document_out(runtime, document)


@router.post("/credit-notes", status_code=201, response_model=CreditDocumentOut)
async def post_credit_note(body: CreditNoteIn, runtime: Runtime, caller: Writer,
                           response: Response) -> Any:
    async with runtime.unit_of_work(caller.name) as uow:
        document, created = await handlers.post_credit_note(uow, PostCreditNote(**body.model_dump()))
        await uow.commit()
    if not created:
        response.status_code = 200
    return await _document_out(runtime, document)


async def _document_out(runtime: ServiceRuntime, document: Credit | CreditDocument) -> dict[str, Any]:
    async with runtime.read_sessions() as session:
        allocations = (await session.execute(
            select(Allocation).where(Allocation.document_kind == document.kind,
                                     Allocation.document_id == document.id).order_by(Allocation.id)
        )).scalars().all()
    return {
        "id": document.id, "customer_id": document.customer_id, "amount": document.amount,
        "currency": document.currency, "date": document.document_date, "method": document.method,
        "invoice_id": document.invoice_id, "unapplied": document.unapplied, "memo": document.memo,
        "allocations": [{"invoice_id": a.invoice_id, "amount": a.amount} for a in allocations],
    }


@router.get("/payments/{document_id}", response_model=CreditDocumentOut)
async def get_payment(document_id: str, runtime: Runtime, _: Reader) -> Any:
    return await _credit_document(runtime, "payment", document_id)


@router.get("/credit-notes/{document_id}", response_model=CreditDocumentOut)
async def get_credit_note(document_id: str, runtime: Runtime, _: Reader) -> Any:
    return await _credit_document(runtime, "credit_note", document_id)


@router.get("/write-offs/{document_id}", response_model=CreditDocumentOut)
async def get_write_off(document_id: str, runtime: Runtime, _: Reader) -> Any:
    return await _credit_document(runtime, "write_off", document_id)


async def _credit_document(runtime: ServiceRuntime, kind: str, document_id: str) -> Any:
    async with runtime.read_sessions() as session:
        document = await session.get(CreditDocument, (kind, document_id))
    if document is None:
        raise NotFound(f"{kind.replace('_', ' ')} {document_id!r} not found")
    return await _document_out(runtime, document)


@router.get("/customers/{customer_id}/account")
async def get_account(customer_id: str, runtime: Runtime, _: Reader,
                      as_of: Annotated[BusinessDate | None, Query()] = None) -> dict[str, Any]:
    async with runtime.read_sessions() as session:
        return await queries.account(session, customer_id, as_of or clock.today())


@router.get("/aging")
async def get_aging(
    runtime: Runtime, _: Reader,
    as_of: Annotated[BusinessDate | None, Query()] = None,
    group_by: Annotated[Literal["customer", "salesperson"], Query()] = "customer",
    buckets: Annotated[str | None, Query(
        description="upper edges in days of the overdue buckets, e.g. 30,60,90 "
                    "(default 30,60,90,180,365)", examples=["30,60,90"])] = None,
) -> dict[str, Any]:
    """An aged trial balance per customer (or salesperson) and currency, with totals: open
    amounts per bucket and their `total`, the `unapplied` credit and the net `balance`
    (`total - unapplied`: a customer's line is its account balance), as of the date."""
    try:
        edges = tuple(int(e) for e in buckets.split(",")) if buckets else DEFAULT_EDGES
        if edges and max(edges) > MAX_BUCKET_DAYS:  # as_of less that many: off the calendar
            raise ValueError(max(edges))
        chosen = buckets_from_edges(edges)
    except ValueError as exc:
        raise Invalid(f"buckets must be increasing whole days up to {MAX_BUCKET_DAYS}, "
                      "e.g. 30,60,90", field="query.buckets") from exc
    async with runtime.read_sessions() as session:
        return await queries.aging(session, as_of or clock.today(), group_by=group_by,
                                   buckets=chosen)


@router.get("/customers/{customer_id}/history")
async def get_history(
    customer_id: str, runtime: Runtime, _: Reader,
    date_from: Annotated[BusinessDate, Query(alias="from")],
    date_to: Annotated[BusinessDate | None, Query(alias="to")] = None,
) -> dict[str, Any]:
    date_to = date_to or clock.today()
    if date_to < date_from:
        raise Invalid(f"the history ends before it begins ({date_from})", field="query.to")
    async with runtime.read_sessions() as session:
        return await queries.history(session, customer_id, date_from, date_to)


@router.get("/metrics")
async def get_metrics(
    runtime: Runtime, _: Reader,
    as_of: Annotated[BusinessDate | None, Query()] = None,
    months: Annotated[int, Query(ge=1, le=24)] = 3,
    customer_id: Annotated[str | None, Query()] = None,
    salesperson: Annotated[str | None, Query()] = None,
) -> dict[str, Any]:
    """DSO (count-back), best possible DSO, average days delinquent, CEI, share within terms."""
    async with runtime.read_sessions() as session:
        return await queries.metrics(session, as_of or clock.today(), months=months,
                                     customer_id=customer_id, salesperson=salesperson)


@router.post("/sweeps", response_model=SweepOut)
async def post_sweep(runtime: Runtime, caller: Writer, body: SweepIn | None = None) -> Any:
    as_of = (body.as_of if body else None) or clock.today()
    if clock.is_future(as_of):
        raise Invalid("the sweep cannot run for a date that has not come: it would announce "
                      "defaults that have not happened", field="as_of")
    return await sweep.sweep(runtime, as_of, caller.name)
