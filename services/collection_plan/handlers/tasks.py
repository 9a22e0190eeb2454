"""A collector records what came of a task; the outcome moves the case: a promise is
recorded, a refusal escalates at once, a customer who says it paid gets its payment
checked, one who never answers is tried again and, after the last attempt, escalated."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select

from services.collection_plan.domain.strategy import PAYMENT_CHECK_STEP, TaskTemplate
from services.collection_plan.handlers import cases, common, promises
from services.collection_plan.tables import Case, Task, TaskOutcome
from shared.clock import now
from shared.db import UnitOfWork
from shared.errors import Conflict, Invalid, NotFound


@dataclass(frozen=True)
class PromiseTerms:
    amount: int
    currency: str
    promised_on: date


@dataclass(frozen=True)
class RecordOutcome:
    task_id: str
    outcome: str
    as_of: date
    note: str | None = None
    promise: PromiseTerms | None = None


def _done(uow: UnitOfWork, task: Task, outcome: str, as_of: date) -> None:
    task.status, task.outcome, task.done_on, task.done_by = "done", outcome, as_of, uow.actor


async def record_outcome(uow: UnitOfWork, cmd: RecordOutcome) -> Task:
    found = await uow.session.get(Task, cmd.task_id)
    if found is None:
        raise NotFound(f"task {cmd.task_id!r} not found")
    view = await common.customer(uow, found.customer_id)  # the customer first, like every writer
    task = (await uow.session.execute(
        select(Task).where(Task.id == cmd.task_id).with_for_update()
        .execution_options(populate_existing=True))).scalar_one()
    if task.status != "open":
        raise Conflict(f"task {cmd.task_id} is {task.status}")
    if cmd.as_of < task.created_on:
        raise Invalid(f"the task was made on {task.created_on.isoformat()}; its outcome is not "
                      "earlier", field="as_of")
    case = await uow.session.get(Case, task.case_id) if task.case_id else None
    if cmd.outcome == "promised":
        if cmd.promise is None:
            raise Invalid("a promise needs its amount, currency and date", field="promise")
        if case is None:
            raise Invalid("a reminder has no case to promise on; the amount is not due yet",
                          field="outcome")
    uow.session.add(TaskOutcome(task_id=task.id, outcome=cmd.outcome, note=cmd.note,
                                as_of=cmd.as_of, recorded_by=uow.actor, recorded_at=now()))
    if case is not None:
        common.record(uow, case, cmd.as_of, f"outcome_{cmd.outcome}",
                      f"{task.action}: {cmd.outcome}" + (f" ({cmd.note})" if cmd.note else ""))
    if cmd.outcome == "no_answer":
        task.attempts += 1
        if task.attempts < common.config(uow).no_answer_attempts:
            task.not_before = cmd.as_of + timedelta(days=1)  # try again at the next window
            return task
    _done(uow, task, cmd.outcome, cmd.as_of)
    if case is None:
        return task
    if task.kind == "written_notice" and cmd.outcome != "no_answer":
        await cases.give_notice(uow, case, cmd.as_of)  # the customer was reached: it has it
    if cmd.outcome == "promised":
        assert cmd.promise is not None
        await promises.make(uow, case.id, amount=cmd.promise.amount,
                            currency=cmd.promise.currency, promised_on=cmd.promise.promised_on,
                            as_of=cmd.as_of, note=cmd.note)
    elif cmd.outcome in ("refused", "no_answer"):
        await cases.evaluate(uow, case, view, cmd.as_of, event=cmd.outcome)
    elif cmd.outcome == "paid":
        check_on = cmd.as_of + timedelta(days=common.config(uow).paid_claim_check_days)
        await common.add_tasks(
            uow, view=view, case=case, level=case.level, step=PAYMENT_CHECK_STEP, as_of=cmd.as_of,
            not_before=check_on,
            templates=(TaskTemplate("call", "check that the payment the customer reported on "
                                            f"{cmd.as_of.isoformat()} arrived"),))
    return task
