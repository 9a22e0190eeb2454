from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from services.reconciliation import handlers
from services.reconciliation.tables import Statement
from shared.auth import Principal
from shared.errors import NotFound
from shared.runtime import ServiceRuntime
from shared.schemas import Currency, Identifier
from shared.web import get_runtime, require

router = APIRouter(prefix="/v1", tags=["reconciliation"])
Runtime = Annotated[ServiceRuntime, Depends(get_runtime)]
Reader = Annotated[Principal, require("reconciliation:read")]
Writer = Annotated[Principal, require("reconciliation:write")]


class StatementIn(BaseModel):
    customer_id: Identifier
    period: str = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", examples=["2026-03"])
    currency: Currency | None = Field(None, description="needed when the customer trades in several")


def _out(statement: Statement) -> dict[str, Any]:
    return {"id": statement.id, "status": statement.status, "issued_at": statement.issued_at,
            "issued_by": statement.issued_by, **statement.content}


@router.post("/statements", status_code=201)
async def issue_statement(body: StatementIn, runtime: Runtime, caller: Writer) -> dict[str, Any]:
    async with runtime.unit_of_work(caller.name) as uow:
        statement = await handlers.issue_statement(uow, body.customer_id, body.period, body.currency)
        await uow.commit()
    return _out(statement)


@router.get("/statements/{statement_id}")
async def get_statement(statement_id: str, runtime: Runtime, _: Reader) -> dict[str, Any]:
    async with runtime.read_sessions() as session:
        statement = await session.get(Statement, statement_id)
    if statement is None:
        raise NotFound(f"statement {statement_id!r} not found")
    return _out(statement)
