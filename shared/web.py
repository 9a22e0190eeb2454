"""The HTTP edge every service shares: problem+json errors, the caller, scopes."""

from __future__ import annotations

import socket
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.auth import Principal
from shared.errors import RecoupError

PROBLEM = "application/problem+json"


def problem(status: int, title: str, detail: str, **extra: Any) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    body.update({k: v for k, v in extra.items() if v is not None})
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


def _field_name(loc: tuple[Any, ...]) -> str:
    # ("body", "terms", "days") -> "terms.days"; keep "query."/"header." for the rest
    parts = [str(p) for p in loc]
    if parts and parts[0] == "body":
        parts = parts[1:]
    return ".".join(parts) or "body"


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": _field_name(tuple(e["loc"])), "message": e["msg"]} for e in exc.errors()
        ]
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        return problem(422, "Invalid request", detail, errors=errors)

    @app.exception_handler(RecoupError)
    async def _domain(_: Request, exc: RecoupError) -> JSONResponse:
        if exc.field is None:
            return problem(exc.status, exc.title, exc.detail)
        return problem(exc.status, exc.title, f"{exc.field}: {exc.detail}",
                       errors=[{"field": exc.field, "message": exc.detail}])

    @app.exception_handler(IntegrityError)
    async def _race(_: Request, exc: IntegrityError) -> JSONResponse:
        # Two requests created the same thing at once; the loser changed nothing.
        return problem(409, "Conflict", "A concurrent change got there first; nothing was "
                       "changed by this request. Retry it.")

    @app.exception_handler(OperationalError)
    @app.exception_handler(PoolTimeout)
    @app.exception_handler(DBAPIError)
    @app.exception_handler(ConnectionError)  # asyncpg's connect is not wrapped by SQLAlchemy
    @app.exception_handler(socket.gaierror)
    async def _database_away(_: Request, exc: Exception) -> JSONResponse:
        # Unreachable, a dropped connection, locked, no pooled connection free: the
        # transaction rolled back, so the caller may retry. Other database errors are ours
        # (re-raised: answered 500 and logged).
        if isinstance(exc, DBAPIError) and not _unavailable(exc):
            raise exc
        response = problem(503, "Service unavailable", "The database cannot be reached just "
                           "now; nothing was changed. Retry shortly.")
        response.headers["Retry-After"] = "5"
        return response

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        response = problem(exc.status_code, _title(exc.status_code), str(exc.detail))
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        return problem(500, "Internal error", "The request failed; nothing was changed.")


# SQLite's transient failures; its other OperationalErrors ("no such column") are bugs.
SQLITE_TRANSIENT = ("SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_CANTOPEN", "SQLITE_IOERR", "SQLITE_FULL")


def _unavailable(exc: DBAPIError) -> bool:
    if exc.connection_invalidated:
        return True
    if not isinstance(exc, OperationalError):
        return False
    name = getattr(exc.orig, "sqlite_errorname", None)
    return name is None or name.startswith(SQLITE_TRANSIENT)


def _title(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


_bearer = HTTPBearer(auto_error=False)


async def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None:
        raise HTTPException(401, "Missing API key: send Authorization: Bearer <key>",
                            headers={"WWW-Authenticate": "Bearer"})
    principal = request.app.state.runtime.keyring.authenticate(credentials.credentials)
    if principal is None:
        raise HTTPException(401, "Unknown API key", headers={"WWW-Authenticate": "Bearer"})
    return principal


def require(scope: str) -> Any:
    """A dependency that answers 403 unless the caller's key carries `scope`."""

    async def _check(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if not principal.allows(scope):
            raise HTTPException(403, f"This key lacks the scope {scope!r}")
        return principal

    return Depends(_check)


async def get_runtime(request: Request) -> Any:
    # async: FastAPI runs a plain `def` dependency in its thread pool, a hop per request.
    return request.app.state.runtime
