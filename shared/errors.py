"""Domain errors carry their HTTP status; one handler turns them into RFC 9457 problems."""

from __future__ import annotations


class RecoupError(Exception):
    status = 400
    title = "Bad request"

    def __init__(self, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field


class NotFound(RecoupError):
    status = 404
    title = "Not found"


class Conflict(RecoupError):
    status = 409
    title = "Conflict"


class Invalid(RecoupError):
    """The request is well-formed but breaks a business rule."""

    status = 422
    title = "Unprocessable request"
