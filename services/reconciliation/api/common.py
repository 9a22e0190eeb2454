from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import Response
from sqlalchemy import Select

from services.reconciliation import pdf, statements
from services.reconciliation.tables import Statement
from shared.auth import Principal
from shared.db import UnitOfWork
from shared.pagination import PageRequest, finish, keyset
from shared.runtime import ServiceRuntime
from shared.web import get_runtime, require

Runtime = Annotated[ServiceRuntime, Depends(get_runtime)]
Reader = Annotated[Principal, require("reconciliation:read")]
Writer = Annotated[Principal, require("reconciliation:write")]
PDF = "application/pdf"


def statement_out(statement: Statement, link: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "id": statement.id, "kind": statement.kind, "status": statement.status,
        "version": statement.version, "reference": statement.reference,
        "issued_at": statement.issued_at, "issued_by": statement.issued_by,
        "supersedes": statement.supersedes, "changes": statement.changes,
        "confirmed_by": statement.confirmed_by, "confirmed_at": statement.confirmed_at,
        "confirmed_via": statement.confirmed_via, **statement.content,
        "confirmation": link,
    }


async def statement_view(uow: UnitOfWork, statement: Statement) -> dict[str, Any]:
    return statement_out(statement, await statements.latest_link(uow, statement))


def wants(request: Request, media_type: str) -> bool:
    return media_type in request.headers.get("accept", "")


def pdf_response(view: dict[str, Any], runtime: ServiceRuntime) -> Response:
    body = pdf.render(view, runtime.config, view.get("confirmation"))
    return Response(body, media_type=PDF,
                    headers={"Content-Disposition": _inline(f"{view['reference']}.pdf")})


def _inline(filename: str) -> str:
    """RFC 6266: headers are Latin-1, customer codes need not be (a Chinese code), and a
    quote must not end the name early."""
    plain = "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in filename)
    return f"inline; filename=\"{plain}\"; filename*=UTF-8''{quote(filename, safe='')}"


async def listed(runtime: ServiceRuntime, query: Select[Any], columns: list[Any], page: PageRequest,
                 request: Request, response: Response, *, descending: bool = False) -> list[Any]:
    """One page of `query` in the order of `columns` (together unique), with the Link header."""
    async with runtime.read_sessions() as session:
        rows = (await session.execute(keyset(query, columns, page, descending=descending))).scalars().all()
    return finish(rows, page, lambda row: tuple(getattr(row, c.key) for c in columns), request, response)


def where_given(query: Select[Any], filters: dict[Any, Any]) -> Select[Any]:
    """`column == value` for each filter the caller gave (None: not asked)."""
    for column, value in filters.items():
        if value is not None:
            query = query.where(column == value)
    return query
