"""Repayment agreements (CONTRACT.md: POST /collections/v1/agreements)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response

from services.collection_plan.api.deps import Reader, Runtime, Writer
from services.collection_plan.handlers import agreements
from services.collection_plan.queries.agreements import agreement_out, agreement_query
from services.collection_plan.schemas import AgreementIn
from services.collection_plan.tables import Agreement
from shared import clock
from shared.errors import NotFound
from shared.pagination import Page, finish
from shared.schemas import BusinessDate

router = APIRouter()


@router.post("/agreements", status_code=201)
async def sign_agreement(body: AgreementIn, runtime: Runtime, caller: Writer) -> dict[str, Any]:
    """An instalment plan over named overdue invoices; refused, with the reason and the
    field, when it mixes in new business, does not cover what it names, or contradicts the
    customer's terms."""
    as_of = body.as_of or clock.today()
    async with runtime.unit_of_work(caller.name) as uow:
        agreement = await agreements.sign(uow, agreements.SignAgreement(
            customer_id=body.customer_id, invoice_ids=tuple(body.invoice_ids),
            instalments=body.instalment_plan(), signed_on=body.signed_on or as_of, as_of=as_of,
            currency=body.currency))
        await uow.commit()
    async with runtime.read_sessions() as session:
        return await agreement_out(session, agreement, as_of)


@router.get("/agreements")
async def list_agreements(
    runtime: Runtime, _: Reader, page: Page, request: Request, response: Response,
    customer_id: Annotated[str | None, Query()] = None,
    status: Annotated[Literal["active", "broken", "completed"] | None, Query()] = None,
    as_of: Annotated[BusinessDate | None, Query()] = None,
) -> list[dict[str, Any]]:
    async with runtime.read_sessions() as session:
        rows = list((await session.execute(agreement_query(customer_id, status, page))).scalars())
        out = [await agreement_out(session, a, as_of or clock.today()) for a in rows]
    return finish(out, page, lambda a: (a["signed_on"], a["id"]), request, response)


@router.get("/agreements/{agreement_id}")
async def get_agreement(agreement_id: str, runtime: Runtime, _: Reader,
                        as_of: Annotated[BusinessDate | None, Query()] = None) -> dict[str, Any]:
    async with runtime.read_sessions() as session:
        agreement = await session.get(Agreement, agreement_id)
        if agreement is None:
            raise NotFound(f"agreement {agreement_id!r} not found")
        return await agreement_out(session, agreement, as_of or clock.today())
