"""Statements, their versions, confirmation and disputes, for staff (API keys)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy import select

from services.reconciliation import confirmations, statements
from services.reconciliation.api.common import (
    PDF,
    Reader,
    Runtime,
    Writer,
    listed,
    pdf_response,
    statement_out,
    statement_view,
    wants,
    where_given,
)
from services.reconciliation.domain.statement import previous_period
from services.reconciliation.schemas import (
    ConfirmIn,
    DisputeIn,
    ResolveIn,
    StatementIn,
    StatementRunIn,
    disputed_lines,
)
from services.reconciliation.tables import Dispute, Statement
from shared import clock
from shared.errors import NotFound
from shared.pagination import Page

router = APIRouter(prefix="/v1", tags=["statements"])


@router.post("/statements", status_code=201)
async def issue_statement(body: StatementIn, runtime: Runtime, caller: Writer,
                          response: Response) -> dict[str, Any]:
    """The customer's statement for a month (one currency). Answers 201 with a new version,
    or 200 with the latest one when nothing changed since it."""
    async with runtime.unit_of_work(caller.name) as uow:
        statement, created = await statements.issue_statement(
            uow, body.customer_id, body.period, body.currency, as_of=body.as_of or clock.today())
        assert statement is not None
        view = await statement_view(uow, statement)
        await uow.commit()
    if not created:
        response.status_code = 200
    return view


@router.post("/statement-runs")
async def run_statements(runtime: Runtime, caller: Writer,
                         body: StatementRunIn | None = None) -> dict[str, Any]:
    """All customers' statements of a month (default: the month before `as_of`). Customers
    with nothing in the month and nothing owed get none."""
    as_of = (body.as_of if body else None) or clock.today()
    period = (body.period if body else None) or previous_period(as_of)
    return await statements.run_month(runtime, period, as_of, caller.name)


@router.get("/statements")
async def list_statements(
    runtime: Runtime, _: Reader, page: Page, request: Request, response: Response,
    customer_id: Annotated[str | None, Query()] = None,
    period: Annotated[str | None, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")] = None,
    status: Annotated[Literal["issued", "disputed", "confirmed", "superseded"] | None, Query()] = None,
) -> list[dict[str, Any]]:
    """Newest first; every version of a month is listed."""
    query = where_given(select(Statement), {Statement.customer_id: customer_id,
                                            Statement.period: period, Statement.status: status})
    kept = await listed(runtime, query, [Statement.issued_at, Statement.id], page, request, response,
                        descending=True)
    return [statement_out(s, None) for s in kept]


@router.get("/statements/{statement_id}", responses={200: {"content": {PDF: {}}}})
async def get_statement(statement_id: str, runtime: Runtime, _: Reader, request: Request) -> Any:
    """JSON, or the printable PDF with `Accept: application/pdf`."""
    async with runtime.unit_of_work(read_only=True) as uow:
        statement = await uow.session.get(Statement, statement_id)
        if statement is None:
            raise NotFound(f"statement {statement_id!r} not found")
        view = await statement_view(uow, statement)
    return pdf_response(view, runtime) if wants(request, PDF) else view


@router.post("/statements/{statement_id}/links", status_code=201)
async def new_link(statement_id: str, runtime: Runtime, caller: Writer) -> dict[str, Any]:
    """Another link for the customer (the last one expired or went astray)."""
    async with runtime.unit_of_work(caller.name) as uow:
        link = await statements.new_link(uow, statement_id)
        await uow.commit()
    return link


@router.post("/statements/{statement_id}/confirm")
async def confirm(statement_id: str, body: ConfirmIn, runtime: Runtime, caller: Writer) -> dict[str, Any]:
    """The customer's confirmation as staff received it (signed paper, a call)."""
    async with runtime.unit_of_work(caller.name) as uow:
        statement = await confirmations.confirm(uow, statement_id, body.confirmed_by, via="api")
        view = await statement_view(uow, statement)
        await uow.commit()
    return view


@router.post("/statements/{statement_id}/dispute", status_code=201)
async def dispute(statement_id: str, body: DisputeIn, runtime: Runtime, caller: Writer) -> dict[str, Any]:
    async with runtime.unit_of_work(caller.name) as uow:
        record = await confirmations.dispute(uow, statement_id, disputed_lines(body.lines),
                                             body.reason, body.raised_by or caller.name, via="api")
        await uow.commit()
    return dispute_out(record)


def dispute_out(record: Dispute) -> dict[str, Any]:
    return {k: getattr(record, k) for k in (
        "id", "statement_id", "customer_id", "lines", "invoice_ids", "reason", "raised_by",
        "raised_via", "raised_at", "status", "resolution", "note", "resolved_by", "resolved_at")}


@router.get("/disputes")
async def list_disputes(
    runtime: Runtime, _: Reader, page: Page, request: Request, response: Response,
    status: Annotated[Literal["open", "resolved"] | None, Query()] = None,
    customer_id: Annotated[str | None, Query()] = None,
) -> list[dict[str, Any]]:
    """Oldest first: the queue of disputes to resolve."""
    query = where_given(select(Dispute), {Dispute.status: status, Dispute.customer_id: customer_id})
    kept = await listed(runtime, query, [Dispute.raised_at, Dispute.id], page, request, response)
    return [dispute_out(d) for d in kept]


@router.get("/disputes/{dispute_id}")
async def get_dispute(dispute_id: str, runtime: Runtime, _: Reader) -> dict[str, Any]:
    async with runtime.read_sessions() as session:
        record = await session.get(Dispute, dispute_id)
    if record is None:
        raise NotFound(f"dispute {dispute_id!r} not found")
    return dispute_out(record)


@router.post("/disputes/{dispute_id}/resolve")
async def resolve(dispute_id: str, body: ResolveIn, runtime: Runtime, caller: Writer) -> dict[str, Any]:
    """A person's resolution, with a note; collection-plan resumes the invoices."""
    async with runtime.unit_of_work(caller.name) as uow:
        record = await confirmations.resolve(uow, dispute_id, body.resolution, body.note)
        await uow.commit()
    return dispute_out(record)
