"""Write-off proposals: proposed with collections:write, decided with collections:approve."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy import select

from services.collection_plan.api.deps import Approver, Reader, Runtime, Writer
from services.collection_plan.handlers import write_offs
from services.collection_plan.queries.cases import write_off_out
from services.collection_plan.schemas import DecisionIn, RejectionIn, WriteOffIn
from services.collection_plan.tables import WriteOff
from shared import clock
from shared.pagination import Page, finish, keyset

router = APIRouter()
Status = Literal["proposed", "approved", "rejected", "booked", "refused"]


@router.post("/write-offs", status_code=201)
async def propose_write_off(body: WriteOffIn, runtime: Runtime, caller: Writer) -> dict[str, Any]:
    async with runtime.unit_of_work(caller.name) as uow:
        proposal = await write_offs.propose(uow, body.invoice_id, body.reason,
                                            body.as_of or clock.today())
        await uow.commit()
    return write_off_out(proposal)


@router.get("/write-offs")
async def list_write_offs(
    runtime: Runtime, _: Reader, page: Page, request: Request, response: Response,
    status: Annotated[Status | None, Query()] = None,
    customer_id: Annotated[str | None, Query()] = None,
) -> list[dict[str, Any]]:
    query = select(WriteOff)
    if status:
        query = query.where(WriteOff.status == status)
    if customer_id:
        query = query.where(WriteOff.customer_id == customer_id)
    async with runtime.read_sessions() as session:
        rows = (await session.execute(keyset(query, [WriteOff.proposed_on, WriteOff.id], page))).scalars()
        out = [write_off_out(w) for w in rows]
    return finish(out, page, lambda w: (w["proposed_on"], w["id"]), request, response)


@router.post("/write-offs/{write_off_id}/approve")
async def approve_write_off(write_off_id: str, body: DecisionIn, runtime: Runtime,
                            caller: Approver) -> dict[str, Any]:
    """The ledger books it (`collections.write_off.approved`), for what is open now."""
    async with runtime.unit_of_work(caller.name) as uow:
        proposal = await write_offs.approve(uow, write_off_id, body.as_of or clock.today(),
                                            body.note)
        await uow.commit()
    return write_off_out(proposal)


@router.post("/write-offs/{write_off_id}/reject")
async def reject_write_off(write_off_id: str, body: RejectionIn, runtime: Runtime,
                           caller: Approver) -> dict[str, Any]:
    async with runtime.unit_of_work(caller.name) as uow:
        proposal = await write_offs.reject(uow, write_off_id, body.as_of or clock.today(),
                                           body.note)
        await uow.commit()
    return write_off_out(proposal)
