"""Racing requests on PostgreSQL: the same bank file uploaded twice at once books its lines
once; a confirmation and a dispute of one statement at once, one wins; the same month
issued at once by several callers and runs makes one version, which every one answers."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

import httpx
import pytest

from services.reconciliation.statements import run_month
from services.reconciliation.tables import BankLine, Statement
from shared.events import contracts as ev
from shared.events import new_event
from tests.support.api import ADMIN_KEY
from tests.support.bank_files import Row, camt053
from tests.support.embedded import service_on
from tests.support.outbox import emitted

pytestmark = pytest.mark.postgres
HEADERS = {"Authorization": f"Bearer {ADMIN_KEY}"}


async def test_racing_imports_confirmations_and_issues(tmp_path: Path) -> None:
    async with service_on("postgres", tmp_path, "reconciliation") as (app, runtime):
        for data in (
            ev.CustomerRegistered(customer_id="C1", name="Wang Trading",
                                  terms=ev.Terms(mode="net_days", days=30),
                                  credit_limit=ev.MoneyField(amount=1, currency="CNY")),
            ev.InvoicePosted(customer_id="C1", invoice_id="INV-2026-0001", amount=100_000, currency="CNY",
                             issue_date=date(2026, 3, 1), due_date=date(2026, 3, 31)),
        ):
            await runtime.transport.publish(new_event("recoup/test", data))
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://recoup",
                                   headers=HEADERS)
        async with client:
            file = camt053([Row(date(2026, 4, 2), 100_000, "Wang Trading", "INV-2026-0001", "B-1")])
            uploads = await asyncio.gather(*(client.post(
                "/reconciliation/v1/bank-statements", content=file,
                headers={"Content-Type": "application/xml"}) for _ in range(4)))
            codes = [r.status_code for r in uploads]
            assert codes.count(201) == 1 and set(codes) <= {200, 201, 409}, codes
            async with runtime.read_sessions() as session:
                lines = (await session.execute(BankLine.__table__.select())).all()
            assert len(lines) == 1 and lines[0].status == "matched"
            assert len(await emitted(runtime, "reconciliation.payment.identified")) == 1

            # The same month issued at once, by people and by two month-end runs: one
            # version, every caller answered with it (an issue is idempotent, not a 409).
            issues, runs = await asyncio.gather(
                asyncio.gather(*(client.post(
                    "/reconciliation/v1/statements",
                    json={"customer_id": "C1", "period": "2026-03", "as_of": "2026-04-01"})
                    for _ in range(3))),
                asyncio.gather(*(run_month(runtime, "2026-03", date(2026, 4, 1), "test")
                                 for _ in range(2))))
            codes = [r.status_code for r in issues]
            assert sorted(codes) in ([200, 200, 200], [200, 200, 201]), [r.text for r in issues]
            assert len({r.json()["id"] for r in issues}) == 1
            assert [run["failed"] for run in runs] == [[], []]
            async with runtime.read_sessions() as session:
                statements = (await session.execute(Statement.__table__.select())).all()
            assert len(statements) == 1
            statement_id = statements[0].id

            confirm, dispute = await asyncio.gather(
                client.post(f"/reconciliation/v1/statements/{statement_id}/confirm",
                            json={"confirmed_by": "Wang Wei"}),
                client.post(f"/reconciliation/v1/statements/{statement_id}/dispute",
                            json={"lines": ["INV-2026-0001"], "reason": "not ours"}))
            assert sorted([confirm.status_code, dispute.status_code]) in ([200, 409], [201, 409])
            confirmed = await emitted(runtime, "reconciliation.statement.confirmed")
            disputed = await emitted(runtime, "reconciliation.statement.disputed")
            assert len(confirmed) + len(disputed) == 1
