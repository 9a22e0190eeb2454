"""`recoup job SERVICE JOB --as-of` runs a daily job once for any date (what a cron job
calls); its events wait in the outbox for the running service's relay."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import create_engine, text

from tests.support.api import eventually
from tests.support.embedded import embedded_api, embedded_settings


def recoup(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RECOUP_DATA_DIR": str(data_dir)}
    return subprocess.run([sys.executable, "-m", "recoup.cli", *args], env=env,
                          capture_output=True, text=True, timeout=120)


async def test_the_ledger_sweep_runs_for_a_date_and_twice_changes_nothing(tmp_path: Path) -> None:
    async with embedded_api(embedded_settings(tmp_path)) as (api, _):
        await api.ok("POST", "/credit/v1/customers", {
            "id": "D1", "name": "Dealer", "terms": {"mode": "net_days", "days": 30},
            "credit_limit": {"amount": 100_000, "currency": "CNY"}})

        async def ledger_knows_customer() -> None:
            response = await api.get("/ledger/v1/customers/D1/account")
            assert response.status_code == 200
        await eventually(ledger_knows_customer)
        await api.ok("POST", "/ledger/v1/invoices", {
            "id": "INV-1", "customer_id": "D1", "amount": 5_000, "currency": "CNY",
            "issue_date": "2026-01-01"})

    first = recoup("job", "ledger", "overdue-sweep", "--as-of", "2026-03-01", data_dir=tmp_path)
    assert first.returncode == 0, first.stderr
    answer = json.loads(first.stdout.splitlines()[-1])
    assert answer["as_of"] == "2026-03-01" and answer["payment_missed"] == 1

    again = recoup("sweep", "--as-of", "2026-03-01", data_dir=tmp_path)  # the older name
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout.splitlines()[-1])["events"] == 0
    engine = create_engine(f"sqlite:///{tmp_path / 'ledger.sqlite3'}")
    with engine.connect() as conn:  # the news waits for the service's relay
        waiting = conn.execute(text(
            "SELECT type FROM outbox WHERE published_at IS NULL ORDER BY id")).scalars().all()
    assert "ledger.payment.missed" in waiting


def test_an_unknown_job_is_refused_with_the_known_ones(tmp_path: Path) -> None:
    result = recoup("job", "ledger", "no-such-job", data_dir=tmp_path)
    assert result.returncode != 0
    assert "overdue-sweep" in result.stderr
    result = recoup("job", "collection-plan", "collection-sweep", data_dir=tmp_path)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr and "'collections'" in result.stderr


def test_a_job_for_a_day_that_has_not_come_is_refused(tmp_path: Path) -> None:
    result = recoup("job", "collections", "collection-sweep", "--as-of", "2999-01-01",
                    data_dir=tmp_path)
    assert result.returncode != 0
    assert "has not come yet" in result.stderr
