"""The customer's side of a statement: signed, expiring links that need no API key, and
confirming or disputing through them (or through the API, for staff who took the answer
on paper). A confirmed statement is evidence: it never changes again. A dispute names
the lines it is about; a person resolves it with a note."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select

from services.reconciliation.config import ReconciliationConfig
from services.reconciliation.domain.statement import is_debit
from services.reconciliation.tables import Confirmation, Dispute, ItemSettlement, Statement
from shared.clock import now
from shared.db import UnitOfWork
from shared.errors import Conflict, Invalid, NotFound, RecoupError
from shared.events import contracts as ev

LINK_PATH = "/reconciliation/v1/confirmations/"
_SALT = "recoup.reconciliation.confirmation"
RESOLUTIONS = ("corrected", "upheld", "withdrawn")


class LinkInvalid(RecoupError):
    status = 401
    title = "Invalid link"


class LinkExpired(RecoupError):
    status = 410
    title = "Link expired"


def _serializer(config: ReconciliationConfig) -> URLSafeSerializer:
    return URLSafeSerializer(config.secret(), salt=_SALT)


def token_for(config: ReconciliationConfig, confirmation: Confirmation) -> str:
    expires = _aware(confirmation.expires_at)
    return _serializer(config).dumps({"c": confirmation.id, "e": int(expires.timestamp())})


def link_for(config: ReconciliationConfig, confirmation: Confirmation) -> dict[str, Any]:
    path = LINK_PATH + token_for(config, confirmation)
    return {"confirmation_id": confirmation.id, "link": path, "url": config.public_base_url + path,
            "expires_at": _aware(confirmation.expires_at)}


async def new_link(uow: UnitOfWork, statement: Statement, expires_at: datetime) -> dict[str, Any]:
    """A link for the statement's customer, announced for ERP hooks to send."""
    purpose = "statement" if statement.kind == "monthly" else "balance_reminder"
    confirmation = Confirmation(id=uuid.uuid4().hex, statement_id=statement.id,
                                customer_id=statement.customer_id, purpose=purpose,
                                created_at=now(), expires_at=expires_at)
    uow.session.add(confirmation)
    link = link_for(uow.config, confirmation)
    uow.emit(ev.ConfirmationRequested(
        customer_id=statement.customer_id, confirmation_id=confirmation.id, purpose=purpose,
        statement_id=statement.id, link=link["link"], expires_at=expires_at, url=link["url"],
        reference=statement.reference))
    return link


def statement_link_expiry(config: ReconciliationConfig) -> datetime:
    return now() + timedelta(days=config.link_valid_days)


def reminder_link_expiry(config: ReconciliationConfig, due_date: Any) -> datetime:
    """Until the end of the due date plus the grace days, and at least a day from now."""
    end = datetime.combine(due_date + timedelta(days=config.reminder_link_grace_days),
                           time(23, 59, 59), tzinfo=UTC)
    return max(end, now() + timedelta(days=1))


async def open_link(uow: UnitOfWork, token: str) -> tuple[Confirmation, Statement]:
    """The confirmation and statement a token names; 401 when it was not signed by us,
    410 when it has expired."""
    try:
        payload = _serializer(uow.config).loads(token)
        confirmation_id, expires = str(payload["c"]), int(payload["e"])
    except (BadSignature, KeyError, TypeError, ValueError) as exc:
        raise LinkInvalid("this link is not valid: it was changed or was never issued by us") from exc
    if now().timestamp() > expires:
        raise LinkExpired("this link has expired; ask us for a new one")
    confirmation = await uow.session.get(Confirmation, confirmation_id)
    if confirmation is None:
        raise LinkInvalid("this link is not valid: it was never issued by us")
    statement = await uow.session.get(Statement, confirmation.statement_id)
    assert statement is not None, "a confirmation always has its statement"
    return confirmation, statement


async def _locked(uow: UnitOfWork, statement_id: str) -> Statement:
    statement = (await uow.session.execute(
        select(Statement).where(Statement.id == statement_id).with_for_update()
        .execution_options(populate_existing=True))).scalar_one_or_none()
    if statement is None:
        raise NotFound(f"statement {statement_id!r} not found")
    return statement


async def _open_disputes(uow: UnitOfWork, statement_id: str) -> list[Dispute]:
    return list((await uow.session.execute(
        select(Dispute).where(Dispute.statement_id == statement_id, Dispute.status == "open")
    )).scalars())


def _answerable(statement: Statement) -> None:
    if statement.status == "confirmed":
        raise Conflict(f"statement {statement.reference} was confirmed by {statement.confirmed_by} "
                       f"on {statement.confirmed_at:%Y-%m-%d %H:%M} UTC; a confirmed statement is "
                       "evidence and does not change")
    if statement.status == "superseded":
        raise Conflict(f"statement {statement.reference} was replaced by a newer version; "
                       "answer that one")


async def confirm(uow: UnitOfWork, statement_id: str, confirmed_by: str, *, via: str) -> Statement:
    statement = await _locked(uow, statement_id)
    _answerable(statement)
    if await _open_disputes(uow, statement_id):
        raise Conflict("the statement has an open dispute: it is resolved first")
    statement.status, statement.confirmed_by = "confirmed", confirmed_by
    statement.confirmed_at, statement.confirmed_via = now(), via
    statement.confirmed_recorded_by = uow.actor
    uow.emit(ev.StatementConfirmed(customer_id=statement.customer_id, statement_id=statement.id,
                                   confirmed_by=confirmed_by))
    return statement


def _statement_documents(statement: Statement) -> dict[str, str]:
    """document id -> kind, of what the customer may dispute on this statement."""
    rows = statement.content.get("lines", []) + statement.content.get("open_items", [])
    return {row["document_id"]: row["kind"] for row in rows}


async def dispute(uow: UnitOfWork, statement_id: str, lines: list[tuple[str, str | None]],
                  reason: str, raised_by: str, *, via: str) -> Dispute:
    statement = await _locked(uow, statement_id)
    _answerable(statement)
    documents = _statement_documents(statement)
    for n, (document_id, _) in enumerate(lines):
        if document_id not in documents:
            raise Invalid(f"{document_id!r} is not a line of this statement",
                          field=f"lines.{n}.document_id")
    invoice_ids: list[str] = []
    for document_id, _ in lines:
        if is_debit(documents[document_id]):
            invoice_ids.append(document_id)
        else:  # a disputed payment or credit touches the invoices it settled
            invoice_ids += (await uow.session.execute(
                select(ItemSettlement.invoice_id).where(
                    ItemSettlement.doc_kind == documents[document_id],
                    ItemSettlement.doc_id == document_id))).scalars()
    invoice_ids = list(dict.fromkeys(invoice_ids))
    record = Dispute(id=uuid.uuid4().hex, statement_id=statement.id,
                     customer_id=statement.customer_id,
                     lines=[{"document_id": d, "reason": r} for d, r in lines],
                     invoice_ids=invoice_ids, reason=reason, raised_by=raised_by, raised_via=via,
                     raised_at=now())
    uow.session.add(record)
    statement.status = "disputed"
    uow.emit(ev.StatementDisputed(
        customer_id=statement.customer_id, statement_id=statement.id, invoice_ids=invoice_ids,
        reason=reason, dispute_id=record.id,
        lines=[ev.DisputedLine(document_id=d, reason=r) for d, r in lines]))
    return record


async def resolve(uow: UnitOfWork, dispute_id: str, resolution: str, note: str) -> Dispute:
    record = (await uow.session.execute(
        select(Dispute).where(Dispute.id == dispute_id).with_for_update())).scalar_one_or_none()
    if record is None:
        raise NotFound(f"dispute {dispute_id!r} not found")
    if record.status == "resolved":
        raise Conflict(f"the dispute was resolved by {record.resolved_by} ({record.resolution})")
    statement = await _locked(uow, record.statement_id)
    record.status, record.resolution, record.note = "resolved", resolution, note
    record.resolved_by, record.resolved_at = uow.actor, now()
    await uow.session.flush()
    if statement.status == "disputed" and not await _open_disputes(uow, statement.id):
        statement.status = "issued"  # the customer may confirm it now, or dispute again
    # Resume only what no other open dispute of the customer still holds (on any statement).
    held = {i for other in (await uow.session.execute(select(Dispute.invoice_ids).where(
        Dispute.customer_id == record.customer_id, Dispute.status == "open"))).scalars()
        for i in other}
    uow.emit(ev.DisputeResolved(
        customer_id=record.customer_id, statement_id=record.statement_id, dispute_id=record.id,
        invoice_ids=[i for i in record.invoice_ids if i not in held], resolution=resolution,
        note=note, resolved_by=uow.actor))
    return record


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
