"""An HTTP client that knows which base URL serves which service prefix, so one test
body runs against the embedded app and against four separate processes alike."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx

T = TypeVar("T")

ADMIN_KEY = "test-admin-key"
KEYS = {
    "admin": ADMIN_KEY,
    "ledger_reader": "test-ledger-reader",
    "credit_writer": "test-credit-writer",
}
API_KEYS_SPEC = (
    f"{ADMIN_KEY}=admin;{KEYS['ledger_reader']}=ledger:read;"
    f"{KEYS['credit_writer']}=credit:read,credit:write"
)


class Api:
    def __init__(self, clients: dict[str, httpx.AsyncClient], key: str = ADMIN_KEY) -> None:
        self._clients = clients  # prefix ("/credit") -> client
        self.key = key

    def _client(self, path: str) -> httpx.AsyncClient:
        prefix = "/" + path.lstrip("/").split("/", 1)[0]
        return self._clients.get(prefix) or next(iter(self._clients.values()))

    async def request(self, method: str, path: str, *, key: str | None = None,
                      headers: dict[str, str] | None = None, **kwargs: Any) -> httpx.Response:
        all_headers = {"Authorization": f"Bearer {key or self.key}", **(headers or {})}
        return await self._client(path).request(method, path, headers=all_headers, **kwargs)

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("GET", path, **kwargs)

    async def post(self, path: str, json: Any = None, **kwargs: Any) -> httpx.Response:
        return await self.request("POST", path, json=json, **kwargs)

    async def ok(self, method: str, path: str, json: Any = None, **kwargs: Any) -> Any:
        response = await self.request(method, path, json=json, **kwargs)
        assert response.status_code < 300, f"{method} {path}: {response.status_code} {response.text}"
        return response.json()


async def eventually(probe: Callable[[], Awaitable[T]], *, timeout: float = 15.0,
                     interval: float = 0.05) -> T:
    """Retry `probe` until it stops raising AssertionError; the last failure is re-raised."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return await probe()
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(interval)
