"""Cases, the worklist, task outcomes and promises."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response

from services.collection_plan.api.deps import Reader, Runtime, Writer, config_of
from services.collection_plan.domain.strategy import CLASSES
from services.collection_plan.handlers import promises, tasks
from services.collection_plan.queries import cases as case_queries
from services.collection_plan.queries import worklist as worklist_queries
from services.collection_plan.schemas import OutcomeIn, PromiseIn
from services.collection_plan.tables import Case
from shared import clock
from shared.errors import NotFound
from shared.pagination import Page, after_cursor, finish
from shared.schemas import BusinessDate

router = APIRouter()
ClassName = Literal[CLASSES]  # type: ignore[valid-type]


@router.get("/cases")
async def list_cases(
    runtime: Runtime, _: Reader, page: Page, request: Request, response: Response,
    customer_id: Annotated[str | None, Query()] = None,
    status: Annotated[Literal["open", "closed"] | None, Query()] = None,
    receivable_class: Annotated[ClassName | None, Query(alias="class")] = None,
) -> list[dict[str, Any]]:
    """Newest first; `Link: rel="next"` names the next page."""
    async with runtime.read_sessions() as session:
        rows = await case_queries.cases(session, case_queries.case_query(
            customer_id, status, receivable_class, page))
    return finish(rows, page, lambda c: (c["opened_on"], c["id"]), request, response)


@router.get("/cases/{case_id}")
async def get_case(case_id: str, runtime: Runtime, _: Reader,
                   as_of: Annotated[BusinessDate | None, Query()] = None) -> dict[str, Any]:
    async with runtime.read_sessions() as session:
        case = await session.get(Case, case_id)
        if case is None:
            raise NotFound(f"case {case_id!r} not found")
        return await case_queries.case_detail(session, case, as_of or clock.today())


@router.get("/worklist")
async def get_worklist(
    runtime: Runtime, _: Reader, page: Page, request: Request, response: Response,
    as_of: Annotated[BusinessDate | None, Query()] = None,
    collector: Annotated[str | None, Query()] = None,
) -> list[dict[str, Any]]:
    """Open tasks, highest priority first, with the reasons and a suggested contact window."""
    async with runtime.read_sessions() as session:
        items = await worklist_queries.worklist(session, config_of(runtime),
                                                as_of or clock.today(), collector)
    key = worklist_queries.sort_key
    return finish(after_cursor(items, page, key), page, key, request, response)


@router.post("/tasks/{task_id}/outcome")
async def record_outcome(task_id: str, body: OutcomeIn, runtime: Runtime,
                         caller: Writer) -> dict[str, Any]:
    """reached, promised (with `promise`), refused, paid or no_answer: each moves the case."""
    promise = (tasks.PromiseTerms(body.promise.amount, body.promise.currency,
                                  body.promise.promised_on) if body.promise else None)
    async with runtime.unit_of_work(caller.name) as uow:
        task = await tasks.record_outcome(uow, tasks.RecordOutcome(
            task_id=task_id, outcome=body.outcome, as_of=body.as_of or clock.today(),
            note=body.note, promise=promise))
        await uow.commit()
    return case_queries.task_out(task)


@router.post("/cases/{case_id}/promises", status_code=201)
async def make_promise(case_id: str, body: PromiseIn, runtime: Runtime,
                       caller: Writer) -> dict[str, Any]:
    async with runtime.unit_of_work(caller.name) as uow:
        promise = await promises.make(uow, case_id, amount=body.amount, currency=body.currency,
                                      promised_on=body.promised_on,
                                      as_of=body.as_of or clock.today(), note=body.note)
        await uow.commit()
    return case_queries.promise_out(promise)
