"""Issuing statements of account: monthly ones per customer, month and currency (versioned:
re-issuing after a late entry makes a new version that says what changed; re-issuing with
nothing changed gives back the one there is), and balance statements for the reminders
collection-plan sends before an amount falls due."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import structlog
from sqlalchemy import select

from services.reconciliation import confirmations
from services.reconciliation.domain.statement import (
    Item,
    Party,
    Settlement,
    build_balance_statement,
    build_statement,
    period_bounds,
)
from services.reconciliation.domain.versions import changes
from services.reconciliation.tables import (
    AccountItem,
    Confirmation,
    ItemSettlement,
    ReconCustomer,
    Statement,
    StatementRun,
)
from shared.clock import now
from shared.db import UnitOfWork, conflict_insert
from shared.errors import Invalid, NotFound
from shared.events import CloudEvent
from shared.events import contracts as ev

log = structlog.get_logger(__name__)


async def _books(uow: UnitOfWork, customer_id: str, currency: str, up_to: date
                 ) -> tuple[list[Item], list[Settlement]]:
    rows = (await uow.session.execute(
        select(AccountItem).where(AccountItem.customer_id == customer_id,
                                  AccountItem.currency == currency, AccountItem.doc_date <= up_to)
    )).scalars()
    settlements = (await uow.session.execute(
        select(ItemSettlement).join(AccountItem, (AccountItem.kind == ItemSettlement.doc_kind)
                                    & (AccountItem.doc_id == ItemSettlement.doc_id))
        .where(AccountItem.customer_id == customer_id, AccountItem.currency == currency)
    )).scalars()
    return ([Item(r.kind, r.doc_id, r.doc_date, r.amount, r.due_date) for r in rows],
            [Settlement(s.invoice_id, s.amount, s.settled_on) for s in settlements])


async def _party(uow: UnitOfWork, customer_id: str) -> Party:
    customer = await uow.session.get(ReconCustomer, customer_id)
    if customer is None:
        return Party()
    return Party(customer.name, customer.salesperson, customer.terms)


async def _currencies(uow: UnitOfWork, customer_id: str, up_to: date) -> list[str]:
    return sorted((await uow.session.execute(
        select(AccountItem.currency).where(AccountItem.customer_id == customer_id,
                                           AccountItem.doc_date <= up_to).distinct())).scalars())


def _reference(kind: str, customer_id: str, label: str, currency: str, version: int) -> str:
    prefix = "ST" if kind == "monthly" else "BC"
    return f"{prefix}-{label}-{customer_id}-{currency}-{version}"


async def issue_statement(uow: UnitOfWork, customer_id: str, period: str, currency: str | None,
                          *, as_of: date, skip_empty: bool = False
                          ) -> tuple[Statement | None, bool]:
    """The customer's statement for the month: (statement, created). `created` is False when
    the latest version already says the same (same digest). With `skip_empty`, a month
    with no lines and nothing owed issues nothing (None) unless a version exists."""
    first, last = period_bounds(period)
    if first > as_of:
        raise Invalid(f"{period} has not begun on {as_of}", field="period")
    currencies = await _currencies(uow, customer_id, last)
    if not currencies:
        raise NotFound(f"no documents for customer {customer_id!r} up to {period}",
                       field="customer_id")
    if currency is None:
        if len(currencies) > 1:
            raise Invalid(f"the customer trades in {', '.join(currencies)}: name one currency",
                          field="currency")
        currency = currencies[0]
    elif currency not in currencies:  # a statement (and a link) for nothing owed or paid
        raise NotFound(f"customer {customer_id!r} has no documents in {currency} up to {period} "
                       f"(it trades in {', '.join(currencies)})", field="currency")
    series = f"monthly:{customer_id}:{period}:{currency}"
    await _take_turns(uow, series)
    items, settlements = await _books(uow, customer_id, currency, last)
    content = build_statement(customer_id, period, currency, items, settlements,
                              party=await _party(uow, customer_id))
    latest = await _latest(uow, series)
    if latest is not None and latest.digest == content["digest"]:
        return latest, False
    if latest is None and skip_empty and not content["lines"] and not content["closing_balance"]:
        return None, False
    statement = await _issue(uow, "monthly", customer_id, period, currency, period, content,
                             series, latest)
    await confirmations.new_link(uow, statement, confirmations.statement_link_expiry(uow.config))
    return statement, True


async def _take_turns(uow: UnitOfWork, series: str) -> None:
    """Issues of one customer's month wait for each other (PostgreSQL; SQLite has one writer):
    the second sees the first's version and answers it, rather than racing to make the
    same version twice. Locking the latest row cannot do it for a first version."""
    await uow.take_turn(f"recoup-statement:{series}")


async def _latest(uow: UnitOfWork, series: str) -> Statement | None:
    return (await uow.session.execute(
        select(Statement).where(Statement.series == series).order_by(Statement.version.desc())
        .limit(1).with_for_update())).scalar_one_or_none()


async def _issue(uow: UnitOfWork, kind: str, customer_id: str, period: str, currency: str,
                 label: str, content: dict[str, Any], series: str, latest: Statement | None,
                 reminder_id: str | None = None) -> Statement:
    version = latest.version + 1 if latest is not None else 1
    statement = Statement(
        id=uuid.uuid4().hex, customer_id=customer_id, period=period, currency=currency,
        content=content, digest=content["digest"], issued_at=now(), issued_by=uow.actor,
        kind=kind, series=series, version=version,
        reference=_reference(kind, customer_id, label, currency, version),
        supersedes=latest.id if latest is not None else None,
        changes=changes(latest.content, content) if latest is not None else None,
        reminder_id=reminder_id)
    if latest is not None and latest.status in ("issued", "disputed"):
        latest.status = "superseded"  # a confirmed version stays confirmed: it is evidence
    uow.session.add(statement)
    uow.emit(ev.StatementIssued(
        customer_id=customer_id, statement_id=statement.id, period=period, currency=currency,
        closing_balance=content.get("closing_balance", content.get("balance", 0)),
        digest=statement.digest, version=version, supersedes=statement.supersedes, kind=kind))
    return statement


async def new_link(uow: UnitOfWork, statement_id: str) -> dict[str, Any]:
    """Another link for a statement (the first one expired or was lost)."""
    statement = await uow.session.get(Statement, statement_id)
    if statement is None:
        raise NotFound(f"statement {statement_id!r} not found")
    if statement.status in ("confirmed", "superseded"):
        raise Invalid(f"the statement is {statement.status}: there is nothing to answer",
                      field="statement_id")
    if statement.kind == "balance":  # as its first link: until the due date and the grace days
        due_date = date.fromisoformat(statement.content["falling_due"]["due_date"])
        return await confirmations.new_link(
            uow, statement, confirmations.reminder_link_expiry(uow.config, due_date))
    return await confirmations.new_link(uow, statement,
                                        confirmations.statement_link_expiry(uow.config))


async def latest_link(uow: UnitOfWork, statement: Statement) -> dict[str, Any] | None:
    confirmation = (await uow.session.execute(
        select(Confirmation).where(Confirmation.statement_id == statement.id)
        .order_by(Confirmation.created_at.desc()).limit(1))).scalar_one_or_none()
    return confirmations.link_for(uow.config, confirmation) if confirmation else None


@dataclass
class RunResult:
    period: str
    catch_up: bool = False
    issued: list[str] = field(default_factory=list)
    new_versions: list[str] = field(default_factory=list)
    unchanged: int = 0
    failed: list[dict[str, str]] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {"period": self.period, "catch_up": self.catch_up, "issued": len(self.issued),
                "new_versions": len(self.new_versions), "unchanged": self.unchanged,
                "failed": self.failed, "statement_ids": self.issued + self.new_versions}


async def accounts_of_month(uow: UnitOfWork, period: str) -> list[tuple[str, str]]:
    """Every (customer, currency) with documents up to the month's end."""
    _, last = period_bounds(period)
    return [(customer_id, currency) for customer_id, currency in (await uow.session.execute(
        select(AccountItem.customer_id, AccountItem.currency).where(AccountItem.doc_date <= last)
        .distinct().order_by(AccountItem.customer_id, AccountItem.currency))).all()]


async def _issued_since_month_end(uow: UnitOfWork, period: str) -> set[tuple[str, str]]:
    """The (customer, currency) whose statement of the month was issued after it ended (one
    issued in the month's course lacks its last days)."""
    _, last = period_bounds(period)
    closed = datetime.combine(last + timedelta(days=1), time(0), tzinfo=UTC)
    rows = (await uow.session.execute(select(
        Statement.customer_id, Statement.currency, Statement.issued_at).where(
        Statement.kind == "monthly", Statement.period == period))).all()
    return {(c, cur) for c, cur, at in rows if (at if at.tzinfo else at.replace(tzinfo=UTC)) >= closed}


async def run_completed(uow: UnitOfWork, period: str) -> datetime | None:
    """When a run of the month last completed without a failure."""
    run = await uow.session.get(StatementRun, period)
    return run.completed_at if run is not None else None


async def run_month(runtime: Any, period: str, as_of: Any, actor: str, *,
                    catch_up: bool = False) -> dict[str, Any]:
    """Every customer's statements of a month, one transaction per customer and currency:
    a failure of one is reported and leaves the others issued; running again issues only
    what changed. `catch_up` issues only to those without a statement issued since the
    month ended (a run day was missed, or a run failed part way). A run after the month's
    end without failures is recorded as the month's."""
    first, last = period_bounds(period)
    if first > as_of:  # refused as a whole, not as every customer's failure
        raise Invalid(f"{period} has not begun on {as_of}", field="period")
    async with runtime.unit_of_work(actor, read_only=True) as uow:
        accounts = await accounts_of_month(uow, period)
        done = await _issued_since_month_end(uow, period) if catch_up else set()
    result = RunResult(period, catch_up, unchanged=len(done & set(accounts)))
    for customer_id, currency in accounts:
        if (customer_id, currency) in done:
            continue
        try:
            async with runtime.unit_of_work(actor) as uow:
                statement, created = await issue_statement(
                    uow, customer_id, period, currency, as_of=as_of, skip_empty=True)
                await uow.commit()
        except Exception as exc:  # one customer's failure must not stop the others'
            log.exception("statement not issued", customer_id=customer_id, currency=currency,
                          period=period)
            result.failed.append({"customer_id": customer_id, "currency": currency,
                                  "error": str(exc)[:200] or type(exc).__name__})
            continue
        if statement is None or not created:
            result.unchanged += statement is not None
            continue
        (result.new_versions if statement.version > 1 else result.issued).append(statement.id)
    if not result.failed and as_of > last:  # a run before the month's end is not its run
        async with runtime.unit_of_work(actor) as uow:
            await _record_run(uow, period, as_of)
            await uow.commit()
    return result.summary()


async def _record_run(uow: UnitOfWork, period: str, as_of: date) -> None:
    values = {"period": period, "completed_at": now(), "as_of": as_of, "run_by": uow.actor}
    insert = conflict_insert(uow.session, StatementRun).values(**values)  # two replicas may finish at once
    await uow.session.execute(insert.on_conflict_do_update(
        index_elements=[StatementRun.period],
        set_={k: v for k, v in values.items() if k != "period"}))


async def on_reminder_issued(uow: UnitOfWork, data: ev.ReminderIssued, _: CloudEvent) -> None:
    """A balance confirmation: what the customer owes on the reminder's date and the amount
    falling due, with a link to confirm it (DOMAIN.md: before the due date)."""
    if (await uow.session.execute(
            select(Statement.id).where(Statement.reminder_id == data.reminder_id))).first():
        return
    items, settlements = await _books(uow, data.customer_id, data.currency, data.as_of)
    due = {"reminder_id": data.reminder_id, "due_date": data.due_date.isoformat(),
           "amount": data.amount, "invoice_ids": data.invoice_ids}
    content = build_balance_statement(data.customer_id, data.as_of, data.currency, items,
                                      settlements, due=due,
                                      party=await _party(uow, data.customer_id))
    statement = await _issue(
        uow, "balance", data.customer_id, data.as_of.isoformat()[:7], data.currency,
        data.as_of.isoformat(), content, f"balance:{data.reminder_id}", None,
        reminder_id=data.reminder_id)
    await confirmations.new_link(uow, statement, confirmations.reminder_link_expiry(
        uow.config, data.due_date))
