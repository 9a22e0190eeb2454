"""The database goes away under a running service: requests answer 503 problem+json with
Retry-After (the transaction rolled back, a retry is safe), not 500, and the service serves
again once the database is back."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.support.api import ADMIN_KEY
from tests.support.distributed import postgres_databases
from tests.support.embedded import embedded_settings, running_app
from tests.support.servers import require_postgres
from tests.support.tcp_proxy import TcpProxy

INVOICE = {"id": "I1", "customer_id": "C1", "amount": 5_000, "currency": "CNY",
           "issue_date": "2026-01-01"}


async def test_requests_answer_503_while_the_database_is_unreachable(tmp_path: Path) -> None:
    require_postgres()
    async with postgres_databases(["ledger"]) as urls:
        proxy = TcpProxy("127.0.0.1", 5432)
        await proxy.start()
        url = urls["ledger"].replace(":5432/", f":{proxy.port}/")
        settings = embedded_settings(tmp_path, migrate_on_start=True, database_url_ledger=url)
        async with running_app(settings, ["ledger"]) as app, httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://recoup",
                headers={"Authorization": f"Bearer {ADMIN_KEY}"}) as client:
            assert (await client.get("/ledger/v1/invoices")).status_code == 200
            await proxy.cut()
            for response in (await client.get("/ledger/v1/invoices"),
                             await client.post("/ledger/v1/invoices", json=INVOICE)):
                assert response.status_code == 503, response.text
                assert response.headers["content-type"] == "application/problem+json"
                assert response.headers["retry-after"] == "5"
            await proxy.restore()
            assert (await client.get("/ledger/v1/invoices")).status_code == 200
        await proxy.cut()
