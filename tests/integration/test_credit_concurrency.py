"""Racing requests on PostgreSQL: the loser of a race gets a 409 to retry, never a 500."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from tests.support.api import Api
from tests.support.embedded import service_on

pytestmark = pytest.mark.postgres


async def test_the_same_new_customer_registered_four_times_at_once(tmp_path: Path) -> None:
    async with service_on("postgres", tmp_path, "credit") as (app, _):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://credit") as client:
            api = Api({"/": client})
            body = {"id": "NEW", "name": "Dealer", "terms": {"mode": "cash"},
                    "credit_limit": {"amount": 1, "currency": "CNY"}}
            answers = await asyncio.gather(*(api.post("/credit/v1/customers", body)
                                             for _ in range(4)))
            assert (await api.get("/credit/v1/customers/NEW")).status_code == 200
    codes = [a.status_code for a in answers]
    assert codes.count(201) == 1 and set(codes) <= {200, 201, 409}, [a.text for a in answers]
