"""The daily sweep on demand, KPIs and the provision matrix."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from services.collection_plan.api.deps import Reader, Runtime, Writer
from services.collection_plan.handlers.sweep import run_sweep
from services.collection_plan.queries import reports
from services.collection_plan.schemas import SweepIn
from shared import clock
from shared.errors import Invalid
from shared.schemas import BusinessDate

router = APIRouter()


@router.post("/sweeps")
async def sweep(body: SweepIn, runtime: Runtime, caller: Writer) -> dict[str, Any]:
    """Promises and instalments due, dormancy, escalation, late interest and fees, pre-due
    reminders, for `as_of`; running a date again changes nothing."""
    as_of = body.as_of or clock.today()
    if clock.is_future(as_of):
        raise Invalid("a sweep cannot run for a future date: it would break promises and "
                      "charge interest for days that have not come", field="as_of")
    return await run_sweep(runtime, as_of, caller.name)


@router.get("/kpis")
async def kpis(runtime: Runtime, _: Reader,
               as_of: Annotated[BusinessDate | None, Query()] = None,
               months: Annotated[int, Query(ge=1, le=24)] = 3,
               salesperson: Annotated[str | None, Query()] = None) -> dict[str, Any]:
    """Per salesperson and in total, per currency: receivables, overdue, share within terms,
    DSO, best possible DSO, average days delinquent, CEI, money recovered and the bad-debt
    ratio over `months` months to `as_of`, and promises kept."""
    async with runtime.read_sessions() as session:
        return await reports.kpis(session, as_of or clock.today(), months, salesperson)


@router.get("/provisions")
async def provisions(runtime: Runtime, _: Reader,
                     as_of: Annotated[BusinessDate | None, Query()] = None,
                     months: Annotated[int, Query(ge=1, le=36)] = 12,
                     horizon_months: Annotated[int, Query(ge=1, le=24)] = 6) -> dict[str, Any]:
    """Expected loss by aging bucket from the company's own history: at `months` month-ends,
    the newest `horizon_months` before `as_of`, the share of each bucket later written off
    or still unpaid, applied to what each bucket holds now."""
    async with runtime.read_sessions() as session:
        return await reports.provisions(session, as_of or clock.today(), months, horizon_months)
