"""What a customer reaches through a signed link, without an API key: the statement (a
page, JSON or the PDF), and confirming or disputing it. The forms of the page post here
too (form-encoded); JSON callers get JSON. A changed token answers 401, an expired one 410."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from services.reconciliation import confirmations, link_pages
from services.reconciliation.api.common import PDF, Runtime, pdf_response, statement_out, wants
from services.reconciliation.schemas import LinkConfirmIn, LinkDisputeIn, disputed_lines
from shared.errors import Invalid, RecoupError

router = APIRouter(prefix="/v1/confirmations", tags=["customer links"])
FORM = "application/x-www-form-urlencoded"


def _actor(confirmation_id: str) -> str:
    return f"link:{confirmation_id[:12]}"


async def _read(request: Request, model: Any) -> tuple[Any, bool]:
    """The body as `model`, from JSON or from the page's form; and whether it was a form."""
    raw = await request.body()
    is_form = _is_form(request)
    try:
        if is_form:
            fields = parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True)
            data: Any = {"name": " ".join(fields.get("name", [])).strip(),
                         "reason": " ".join(fields.get("reason", [])).strip(),
                         "lines": fields.get("document_id", [])}
        else:
            data = json.loads(raw or b"{}")
        return model.model_validate(data), is_form
    except (ValueError, ValidationError) as exc:
        errors = exc.errors() if isinstance(exc, ValidationError) else []
        where = ".".join(str(p) for p in errors[0]["loc"]) if errors else "body"
        message = errors[0]["msg"] if errors else "not JSON"
        if where.startswith("lines"):
            message = "tick at least one line" if is_form else message
        raise Invalid(message, field=where) from exc


async def _view(runtime: Any, token: str) -> dict[str, Any]:
    async with runtime.unit_of_work(read_only=True) as uow:
        confirmation, statement = await confirmations.open_link(uow, token)
        return statement_out(statement, confirmations.link_for(runtime.config, confirmation))


@router.get("/{token}", responses={200: {"content": {"text/html": {}, PDF: {}}}})
async def show(token: str, request: Request, runtime: Runtime) -> Any:
    """The statement: an HTML page with the forms (default), JSON, or the PDF."""
    view = await _view(runtime, token)
    if wants(request, PDF):
        return pdf_response(view, runtime)
    if wants(request, "application/json"):
        return view
    return HTMLResponse(link_pages.page(view, request.url.path))


async def _answer(runtime: Any, token: str, request: Request, is_form: bool, notice: str,
                  status: int = 200) -> Any:
    view = await _view(runtime, token)
    if is_form:
        return HTMLResponse(link_pages.page(view, request.url.path.rsplit("/", 1)[0], notice),
                            status_code=status)
    return view


def _refused(request: Request, exc: RecoupError) -> HTMLResponse:
    """A form's refusal as a page a person can read (JSON callers get problem+json)."""
    return HTMLResponse(link_pages.message(exc.title, exc.detail), status_code=exc.status)


@router.post("/{token}/confirm")
async def confirm(token: str, request: Request, runtime: Runtime) -> Any:
    try:
        body, is_form = await _read(request, LinkConfirmIn)
        async with runtime.unit_of_work() as uow:
            confirmation, statement = await confirmations.open_link(uow, token)
            uow.actor = _actor(confirmation.id)
            await confirmations.confirm(uow, statement.id, body.name, via="link")
            await uow.commit()
    except RecoupError as exc:
        if _is_form(request):
            return _refused(request, exc)
        raise
    return await _answer(runtime, token, request, is_form, "Thank you: the statement is confirmed.")


@router.post("/{token}/dispute", status_code=201)
async def dispute(token: str, request: Request, runtime: Runtime) -> Any:
    try:
        return await _dispute(token, request, runtime)
    except RecoupError as exc:
        if _is_form(request):
            return _refused(request, exc)
        raise


def _is_form(request: Request) -> bool:
    return request.headers.get("content-type", "").startswith(FORM)


async def _dispute(token: str, request: Request, runtime: Any) -> Any:
    body, is_form = await _read(request, LinkDisputeIn)
    async with runtime.unit_of_work() as uow:
        confirmation, statement = await confirmations.open_link(uow, token)
        uow.actor = _actor(confirmation.id)
        record = await confirmations.dispute(uow, statement.id, disputed_lines(body.lines),
                                             body.reason, body.name, via="link")
        await uow.commit()
    if is_form:
        return await _answer(runtime, token, request, True,
                             "Thank you: we will look into the lines you dispute and answer.", 201)
    return {"dispute_id": record.id, "statement_id": record.statement_id, "status": record.status,
            "invoice_ids": record.invoice_ids}
