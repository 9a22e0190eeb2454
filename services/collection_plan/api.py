from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query

from services.collection_plan import queries
from shared import clock
from shared.auth import Principal
from shared.runtime import ServiceRuntime
from shared.schemas import BusinessDate
from shared.web import get_runtime, require

router = APIRouter(prefix="/v1", tags=["collections"])
Runtime = Annotated[ServiceRuntime, Depends(get_runtime)]
Reader = Annotated[Principal, require("collections:read")]


@router.get("/cases")
async def list_cases(
    runtime: Runtime, _: Reader,
    customer_id: Annotated[str | None, Query()] = None,
    status: Annotated[Literal["open", "closed"] | None, Query()] = None,
) -> list[dict[str, Any]]:
    async with runtime.read_sessions() as session:
        return await queries.cases(session, customer_id, status)


@router.get("/worklist")
async def get_worklist(
    runtime: Runtime, _: Reader,
    as_of: Annotated[BusinessDate | None, Query()] = None,
    collector: Annotated[str | None, Query()] = None,
) -> list[dict[str, Any]]:
    async with runtime.read_sessions() as session:
        return await queries.worklist(session, as_of or clock.today(), collector)
