"""The check's hot path: inline SQLite writes only when the write lock is free at once,
group-committed audit rows, 64-bit money on PostgreSQL, lapsed approvals; what credit
writes fits PostgreSQL's columns."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import date, timedelta
from pathlib import Path

import asyncpg
import httpx
import pytest
from sqlalchemy import func, select, update

from services.credit import handlers
from services.credit.check_path import CheckPath
from services.credit.domain.commands import CheckCredit
from services.credit.tables import CreditCheck, Reservation
from shared.clock import now
from tests.support.api import Api
from tests.support.distributed import PG_DSN
from tests.support.embedded import service_on
from tests.support.seed import register_dealer


async def test_a_reserving_check_waits_its_turn_when_another_connection_writes(tmp_path: Path) -> None:
    async with service_on("sqlite", tmp_path, "credit") as (_, runtime):
        await register_dealer(runtime, limit=1_000_000)
        await runtime.stop_background()  # the relay's polls take the write lock now and then
        path = CheckPath.of(runtime)
        blocker = sqlite3.connect(runtime.database_url.split(":///", 1)[1], isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")  # e.g. another process writing
        try:
            async with path.writing() as inline:
                assert inline is None  # the event loop must not wait on SQLite's lock
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        async with path.writing() as inline:
            assert inline is not None
            result = await handlers.reserving_check(*inline, runtime.config, CheckCredit(
                "C1", 400_000, "CNY", date(2026, 1, 1), order_id="SO-1"), "erp")
        assert result.reservation is not None and result.reservation["amount"] == 400_000
        async with runtime.read_sessions() as session:
            assert (await session.get(Reservation, "SO-1")) is not None
            assert (await session.execute(select(func.count()).select_from(CreditCheck))).scalar() == 1


@pytest.mark.parametrize("db", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def test_audit_rows_of_checks_at_once_share_commits_and_none_is_lost(db: str, tmp_path: Path) -> None:
    async with service_on(db, tmp_path, "credit") as (_, runtime):
        await register_dealer(runtime, limit=1_000_000)
        path = CheckPath.of(runtime)
        commits = 0
        original = path.audit._flush

        async def counting(batch: list) -> None:  # type: ignore[type-arg]
            nonlocal commits
            commits += 1
            await original(batch)

        path.audit._flush = counting  # type: ignore[method-assign]

        async def check(n: int) -> None:
            async with path.reading() as read:
                result = await handlers.quick_check(read, runtime.config, CheckCredit(
                    "C1", 1_000 + n, "CNY", date(2026, 1, 1)), "erp")
            await path.audit.write(result.audit)

        await asyncio.gather(*(check(n) for n in range(50)))
        async with runtime.read_sessions() as session:
            amounts = (await session.execute(select(CreditCheck.amount))).scalars().all()
    assert sorted(amounts) == [1_000 + n for n in range(50)]
    assert commits < 50


async def test_an_audit_row_waits_for_the_write_lock_held_elsewhere_and_is_written(tmp_path: Path) -> None:
    """The audit rows go inline only when SQLite's write lock is free at once; held by
    another connection, they wait for it in a unit of work, and the answer waits too."""
    async with service_on("sqlite", tmp_path, "credit") as (_, runtime):
        await register_dealer(runtime, limit=1_000_000)
        await runtime.stop_background()
        path = CheckPath.of(runtime)
        async with path.reading() as read:
            result = await handlers.quick_check(read, runtime.config, CheckCredit(
                "C1", 1_000, "CNY", date(2026, 1, 1)), "erp")
        blocker = sqlite3.connect(runtime.database_url.split(":///", 1)[1], isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")  # e.g. another process writing
        try:
            written = asyncio.create_task(path.audit.write(result.audit))
            await asyncio.sleep(0.2)
            assert not written.done()  # no answer before the row is committed
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        await asyncio.wait_for(written, 30)
        async with runtime.read_sessions() as session:
            assert (await session.get(CreditCheck, result.check_id)) is not None


@pytest.mark.postgres
async def test_limits_and_orders_beyond_32_bits_on_postgresql(tmp_path: Path) -> None:
    async with service_on("postgres", tmp_path, "credit") as (app, _):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://credit") as client:
            api = Api({"/": client})
            await api.ok("POST", "/credit/v1/customers", {
                "id": "BIG", "name": "Distributor", "terms": {"mode": "net_days", "days": 30},
                "credit_limit": {"amount": 10**15, "currency": "USD"}})
            answer = await api.ok("POST", "/credit/v1/checks", {
                "customer_id": "BIG", "amount": 3 * 10**9, "currency": "USD", "order_id": "SO-BIG"})
    assert answer["decision"] == "reduce" and answer["max_amount"] == 150_000  # starting limit
    assert answer["reservation"]["amount"] == 150_000


@pytest.mark.postgres
async def test_a_check_after_the_server_dropped_its_idle_connections_answers(tmp_path: Path) -> None:
    """The check's own pools ping nothing on checkout: a connection the server closed (a
    restart, an idle kill) is found dead by the check's first statement, which then runs
    once more on a fresh connection (a reserving check: its whole transaction) instead of
    answering 500."""
    async with service_on("postgres", tmp_path, "credit") as (app, runtime):
        await register_dealer(runtime, limit=1_000_000)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://credit") as client:
            api = Api({"/": client})
            body = {"customer_id": "C1", "amount": 1_000, "currency": "CNY"}
            await asyncio.gather(*(api.ok("POST", "/credit/v1/checks", body) for _ in range(3)))
            await asyncio.gather(*(api.ok("POST", "/credit/v1/checks", {**body, "order_id": f"SO-{n}"})
                                   for n in range(3)))
            database = runtime.database_url.rsplit("/", 1)[1]
            killer = await asyncpg.connect(PG_DSN)
            try:
                killed = await killer.fetchval(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                    " WHERE datname = $1 AND pid <> pg_backend_pid()", database)
            finally:
                await killer.close()
            assert killed >= 1
            for n in range(3):
                answer = await api.post("/credit/v1/checks", body)
                assert answer.status_code == 200, answer.text
                assert answer.json()["decision"] == "approve"
                reserving = await api.post("/credit/v1/checks", {**body, "order_id": f"SO-again-{n}"})
                assert reserving.status_code == 200, reserving.text
                assert reserving.json()["reservation"]["amount"] == 1_000


@pytest.mark.postgres
async def test_a_dossier_change_of_every_field_at_once_is_rated_on_postgresql(tmp_path: Path) -> None:
    """The rating's trigger names the fields changed; all of them are longer than its
    column, which PostgreSQL enforces (SQLite does not)."""
    async with service_on("postgres", tmp_path, "credit") as (app, _):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://credit") as client:
            api = Api({"/": client})
            await api.ok("POST", "/credit/v1/customers", {
                "id": "D1", "name": "Dealer", "terms": {"mode": "net_days", "days": 30},
                "credit_limit": {"amount": 100_000, "currency": "CNY"}})
            grade = {"grade": "sound", "assessed_on": "2026-01-05"}
            changed = await api.ok("PATCH", "/credit/v1/customers/D1", {
                "name": "Dealer Zhao", "salesperson": "li.na", "region": "east",
                "address": "12 Market Street", "distance_km": 180, "legal_representative": "Zhao Wei",
                "financials": {"revenue": 1}, "financial_status": grade, "market_network": grade,
                "sales_ability": grade, "organisation": grade,
                "documents": {"sales_agreement": {"signed": True, "sealed": True}},
                "terms": {"mode": "net_days", "days": 45},
                "credit_limit": {"amount": 200_000, "currency": "CNY"}})
            ratings = await api.ok("GET", "/credit/v1/customers/D1/ratings")
    assert changed["dossier_version"] == 2
    (rated,) = [r for r in ratings if r["trigger"].startswith("dossier:")]
    assert len(rated["trigger"]) <= 128 and rated["trigger"].startswith("dossier:name,salesperson")


async def test_a_lapsed_approval_cannot_be_confirmed_only_checked_again(tmp_path: Path) -> None:
    async with service_on("sqlite", tmp_path, "credit") as (app, runtime):
        await register_dealer(runtime, limit=1_000_000)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://credit") as client:
            api = Api({"/": client})
            body = {"customer_id": "C1", "amount": 300_000, "currency": "CNY", "order_id": "SO-1"}
            await api.ok("POST", "/credit/v1/checks", body)
            async with runtime.unit_of_work() as uow:  # three days later
                await uow.session.execute(update(Reservation).values(
                    expires_at=now() - timedelta(seconds=1)))
                await uow.commit()
            assert (await api.ok("GET", "/credit/v1/reservations/SO-1"))["status"] == "expired"
            assert (await api.ok("GET", "/credit/v1/customers/C1"))["reserved"]["amount"] == 0
            refused = await api.post("/credit/v1/reservations/SO-1/shipment")
            assert refused.status_code == 409 and "check the order again" in refused.text
            again = await api.ok("POST", "/credit/v1/checks", body)
            assert again["reservation"]["status"] == "reserved"
            assert (await api.ok("POST", "/credit/v1/reservations/SO-1/shipment"))["status"] == "shipped"
