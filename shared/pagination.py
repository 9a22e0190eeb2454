"""Cursor (keyset) pagination for list endpoints, without changing their bodies: a list
stays a JSON array, `?limit=&cursor=` choose the page, and a `Link: <...>; rel="next"`
header (RFC 8288) names the next page while there is one. Keyset, not offset: a page is
stable while rows are added, and deep pages cost no more than the first."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Query, Request, Response
from sqlalchemy import Select, tuple_
from sqlalchemy.sql.elements import ColumnElement

from shared.errors import Invalid

T = TypeVar("T")
MAX_LIMIT = 500


@dataclass(frozen=True)
class PageRequest:
    limit: int
    cursor: str | None


async def page_request(  # async: a plain def would run in FastAPI's thread pool
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="rows per page")] = 100,
    cursor: Annotated[str | None, Query(description="from the previous page's Link header",
                                        max_length=1000)] = None,
) -> PageRequest:
    return PageRequest(limit, cursor)


Page = Annotated[PageRequest, Depends(page_request)]


def decode_cursor(cursor: str, length: int) -> list[Any]:
    """The key values `encode_cursor` wrote (JSON numbers and strings), `length` of them."""
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor.encode() + b"=" * (-len(cursor) % 4)))
    except ValueError as exc:
        raise Invalid("not a cursor this list gave out", field="query.cursor") from exc
    if not isinstance(raw, list) or len(raw) != length:
        raise Invalid("not a cursor this list gave out", field="query.cursor")
    return raw


def _decode(cursor: str, columns: Sequence[ColumnElement[Any]]) -> list[Any]:
    raw = decode_cursor(cursor, len(columns))
    try:
        return [_typed(value, column) for value, column in zip(raw, columns, strict=True)]
    except (ValueError, TypeError) as exc:
        raise Invalid("not a cursor this list gave out", field="query.cursor") from exc


def _python_type(column: ColumnElement[Any]) -> type:
    # A decorated type (sqlmodel's AutoString, UTCDateTime) may only say `object`: ask its impl.
    for type_ in (column.type, getattr(column.type, "impl", None)):
        try:
            kind = type_.python_type  # type: ignore[union-attr]
        except (AttributeError, NotImplementedError):
            continue
        if kind is not object:
            return kind
    return str


def _typed(value: Any, column: ColumnElement[Any]) -> Any:
    kind = _python_type(column)
    if value is None or kind is str:
        return value
    if kind is datetime:
        return datetime.fromisoformat(value)
    if kind is date:
        return date.fromisoformat(value)
    return kind(value)


def encode_cursor(values: Sequence[Any]) -> str:
    text = json.dumps([v.isoformat() if isinstance(v, date) else v for v in values])
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def keyset(query: Select[Any], columns: Sequence[ColumnElement[Any]], page: PageRequest, *,
           descending: bool = False) -> Select[Any]:
    """Order by `columns` (together unique; all ascending, or all descending), start after
    the cursor, and fetch one row more than the page to know whether another follows."""
    if page.cursor:
        after, cursor = tuple_(*columns), tuple_(*_decode(page.cursor, columns))
        query = query.where(after < cursor if descending else after > cursor)
    order = [c.desc() for c in columns] if descending else list(columns)
    return query.order_by(*order).limit(page.limit + 1)


def finish(rows: Sequence[T], page: PageRequest, key: Callable[[T], Sequence[Any]],
           request: Request, response: Response) -> list[T]:
    """The page's rows; sets the `Link` header when more follow."""
    if len(rows) <= page.limit:
        return list(rows)
    kept = list(rows[: page.limit])
    url = request.url.include_query_params(cursor=encode_cursor(key(kept[-1])), limit=page.limit)
    response.headers["Link"] = f'<{url}>; rel="next"'
    return kept


def after_cursor(items: Sequence[T], page: PageRequest, key: Callable[[T], Sequence[Any]]
                 ) -> list[T]:
    """For a list ordered in memory by `key` (ascending; e.g. a computed priority, negated):
    the items after the cursor, one more than the page; pass them on to `finish()` with the
    same key. Key values must be JSON numbers or strings."""
    if page.cursor and items:
        start = tuple(decode_cursor(page.cursor, len(tuple(key(items[0])))))
        try:
            items = [item for item in items if tuple(key(item)) > start]
        except TypeError as exc:  # a value of another type than the key's
            raise Invalid("not a cursor this list gave out", field="query.cursor") from exc
    return list(items[: page.limit + 1])
