"""The credit check under load: checks per second and p50/p99 latency at 200 concurrent
requests on loopback, in both modes, beside a bare FastAPI endpoint served the same way,
all measured in the same run.

- bare: `python -m bench.bare_app` (bench/bare_app.py): one uvicorn process, the settings
  `recoup` uses, an endpoint that parses a check's body and answers a check-shaped JSON;
- embedded: `recoup run` (one process, all four services, SQLite in WAL mode);
- distributed: `recoup serve credit` alone, on PostgreSQL, with RabbitMQ.

The load comes from wrk in its own process (bench/check.lua builds each POST body: a
random one of the registered customers, and in the `+ order_id` scenario an order id of
its own, so every check also reserves credit under the customer's row lock). Each
scenario gets a warm-up run first, not counted. Every check writes its audit row (and the
reservation); the bare endpoint writes nothing, so the ratio is what the check costs.

`--check-profile N` also runs N checks in this process through ASGI under cProfile, on
SQLite and on PostgreSQL, and prints where the time goes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import io
import json
import pstats
import shutil
import sys
import tempfile
import time
import traceback
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.hold_latency import bounded
from bench.systems import (
    System,
    Unavailable,
    _client,
    _spawn,
    _stop,
    _wait_ready,
    check_distributed_available,
    distributed,
    embedded,
)
from tests.support.api import ADMIN_KEY
from tests.support.distributed import free_port

DESCRIPTION = ("credit checks per second and p50/p99 latency at 200 concurrent requests (wrk), "
               "both modes, beside a bare FastAPI endpoint served the same way")
LUA = Path(__file__).with_name("check.lua")
LIMIT = 10**12  # minor units: no customer runs out of credit during a run
AIM_RATIO, AIM_P99_MS = 0.5, 20.0


def _credit_alone() -> AbstractAsyncContextManager[System]:
    return distributed(["credit"])


MODES: dict[str, Callable[[], AbstractAsyncContextManager[System]]] = {
    "embedded": embedded, "distributed": _credit_alone,
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("credit check under load (bench/credit_check.py)")
    group.add_argument("--check-mode", choices=["embedded", "distributed", "both"], default="both",
                       help="check: the mode(s) (default both)")
    group.add_argument("--check-connections", type=int, default=200,
                       help="check: concurrent requests, one per wrk connection (default 200)")
    group.add_argument("--check-light-connections", type=int, default=1,
                       help="check: concurrent requests of the light-load runs, where latency is the "
                            "server's own rather than queueing; 0 = skip them (default 1)")
    group.add_argument("--check-seconds", type=int, default=10,
                       help="check: seconds of load per scenario (default 10)")
    group.add_argument("--check-warmup", type=int, default=3,
                       help="check: seconds of uncounted load before each scenario (default 3)")
    group.add_argument("--check-customers", type=int, default=200,
                       help="check: registered customers the checks are spread over (default 200)")
    group.add_argument("--check-threads", type=int, default=1,
                       help="check: wrk threads (default 1: the machine has few cores to share)")
    group.add_argument("--check-profile", type=int, default=0, metavar="N",
                       help="check: also profile N in-process checks on SQLite and PostgreSQL")


def check_arguments(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    if min(args.check_connections, args.check_seconds, args.check_customers,
           args.check_threads) < 1 or min(args.check_warmup, args.check_profile,
                                          args.check_light_connections) < 0:
        parser.error("--check-connections, --check-seconds, --check-customers and "
                     "--check-threads must be at least 1")
    if args.check_threads > min(args.check_connections, args.check_light_connections or 10**9):
        parser.error("--check-threads cannot exceed the connections")


@dataclass
class Load:
    scenario: str
    connections: int
    requests: int
    seconds: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    errors: int

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


async def wrk(base_url: str, path: str, args: argparse.Namespace, *, orders: bool, seconds: int,
              connections: int, scenario: str) -> Load:
    process = await asyncio.create_subprocess_exec(
        "wrk", f"-t{args.check_threads}", f"-c{connections}", f"-d{seconds}s",
        "--timeout", "10s", "-s", str(LUA), base_url, "--", path, ADMIN_KEY,
        str(args.check_customers), "1" if orders else "0", uuid.uuid4().hex[:8],
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await process.communicate()
    lines = [line for line in out.decode().splitlines() if line.startswith("{")]
    if process.returncode != 0 or not lines:
        raise RuntimeError(f"wrk failed ({process.returncode}): {err.decode()}{out.decode()}")
    figures = json.loads(lines[-1])
    errors = sum(figures[k] for k in ("connect_errors", "read_errors", "write_errors",
                                      "status_errors", "timeouts"))
    return Load(scenario, connections, figures["requests"], figures["duration_us"] / 1e6,
                figures["p50_us"] / 1000, figures["p90_us"] / 1000, figures["p99_us"] / 1000,
                figures["max_us"] / 1000, errors)


async def measure(base_url: str, path: str, args: argparse.Namespace, *, orders: bool,
                  scenario: str) -> list[Load]:
    """The scenario at full load, then (unless skipped) at light load."""
    loads = []
    for connections in filter(None, (args.check_connections, args.check_light_connections)):
        if args.check_warmup:
            await wrk(base_url, path, args, orders=orders, seconds=args.check_warmup,
                      connections=connections, scenario=scenario)
        loads.append(await wrk(base_url, path, args, orders=orders, seconds=args.check_seconds,
                               connections=connections, scenario=scenario))
    return loads


@asynccontextmanager
async def bare_server() -> AsyncIterator[str]:
    with tempfile.TemporaryDirectory(prefix="recoup-bench-") as tmp:
        port, log = free_port(), Path(tmp) / "bare.log"
        process = await _spawn(["-m", "bench.bare_app", str(port)], {}, log)
        client = _client(port)
        try:
            await _wait_ready(client, process, log, "bare endpoint")
            yield f"http://127.0.0.1:{port}"
        finally:
            await client.aclose()
            await _stop([process])


async def register_customers(system: System, count: int) -> None:
    async def register(n: int) -> None:
        await system.api.ok("POST", "/credit/v1/customers", {
            "id": f"B-{n}", "name": f"Dealer {n}", "terms": {"mode": "net_days", "days": 30},
            "credit_limit": {"amount": LIMIT, "currency": "CNY"}})

    await bounded(range(1, count + 1), register)


async def run_mode(mode: str, args: argparse.Namespace) -> list[Load]:
    async with bare_server() as bare_url:
        loads = await measure(bare_url, "/bare/v1/checks", args, orders=False,
                              scenario="bare FastAPI endpoint")
    async with MODES[mode]() as system:
        print(f"\n-- {mode}: {system.description}; {args.check_customers} customers", flush=True)
        await register_customers(system, args.check_customers)
        base_url = str(system.api._client("/credit").base_url).rstrip("/")
        loads += await measure(base_url, "/credit/v1/checks", args, orders=False,
                               scenario="check (audit row, group commit)")
        loads += await measure(base_url, "/credit/v1/checks", args, orders=True,
                               scenario="check + order_id (audit row, reservation, lock)")
        checks = (await system.store.fetch("credit", "SELECT count(*) FROM credit_check"))[0][0]
        reservations = (await system.store.fetch("credit", "SELECT count(*) FROM reservation"))[0][0]
    answered = sum(load.requests for load in loads if load.scenario.startswith("check"))
    print(f"   database after the run: {checks:,} audit rows, {reservations:,} reservations "
          f"(the counted runs answered {answered:,} checks; the warm-ups wrote the rest)")
    return loads


def report(loads: list[Load]) -> bool:
    print(f"   {'(ms)':<50}{'conns':>6}{'req/s':>9}{'x bare':>8}{'p50':>8}{'p90':>8}{'p99':>8}"
          f"{'max':>8}{'errors':>7}")
    bare = {load.connections: load for load in loads if load.scenario.startswith("bare")}
    for load in sorted(loads, key=lambda item: -item.connections):
        ratio = load.per_second / bare[load.connections].per_second
        print(f"   {load.scenario:<50}{load.connections:>6}{load.per_second:>9,.0f}{ratio:>8.2f}"
              f"{load.p50_ms:>8.1f}{load.p90_ms:>8.1f}{load.p99_ms:>8.1f}{load.max_ms:>8.0f}"
              f"{load.errors:>7}")
    for load in loads:
        if load.scenario.startswith("check"):
            ratio = load.per_second / bare[load.connections].per_second
            print(f"   aim at {load.connections} in flight, {load.scenario.split(' (')[0]}: "
                  f">= {AIM_RATIO:.0%} of bare {'met' if ratio >= AIM_RATIO else 'MISSED'} "
                  f"({ratio:.0%}); p99 < {AIM_P99_MS:.0f} ms "
                  f"{'met' if load.p99_ms < AIM_P99_MS else 'MISSED'} ({load.p99_ms:.1f} ms)")
    # Little's law: with n requests always in flight, mean latency = n / throughput,
    # whatever the server does.
    full = max(bare)
    print(f"   Little's law at {full} in flight: mean latency = {full} / throughput, so a p99 under "
          f"{AIM_P99_MS:.0f} ms needs more than {full / AIM_P99_MS * 1000:,.0f} req/s "
          f"(the bare endpoint: {bare[full].per_second:,.0f})")
    return any(load.errors for load in loads)


# --- where the time goes ---------------------------------------------------------------------
async def profile(n: int) -> None:
    from recoup import services
    from recoup.app import create_app
    from shared.auth import Keyring
    from shared.settings import Settings
    from tests.support.api import API_KEYS_SPEC
    from tests.support.databases import database_url

    for db in ("sqlite", "postgres"):
        if db == "postgres":
            try:
                await check_distributed_available()
            except Unavailable as exc:
                print(f"\n-- profile on PostgreSQL: SKIPPED, {exc}")
                continue
        with tempfile.TemporaryDirectory(prefix="recoup-bench-") as tmp:
            async with database_url(db, Path(tmp), "credit") as url:
                settings = Settings(data_dir=Path(tmp), api_keys=API_KEYS_SPEC, migrate_on_start=True,
                                    scheduler_enabled=False, database_url_credit=url)
                app = create_app(settings, services.load(["credit"]), Keyring.parse(API_KEYS_SPEC))
                async with app.router.lifespan_context(app):
                    transport = httpx.ASGITransport(app=app)
                    headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
                    async with httpx.AsyncClient(transport=transport, base_url="http://credit",
                                                 headers=headers) as client:
                        await client.post("/credit/v1/customers", json={
                            "id": "B-1", "name": "Dealer", "terms": {"mode": "net_days", "days": 30},
                            "credit_limit": {"amount": LIMIT, "currency": "CNY"}})
                        body = {"customer_id": "B-1", "amount": 100, "currency": "CNY"}
                        for _ in range(20):  # warm up
                            await client.post("/credit/v1/checks", json=body)
                        profiler = cProfile.Profile()
                        started = time.perf_counter()
                        profiler.enable()
                        for i in range(n):
                            response = await client.post("/credit/v1/checks",
                                                         json={**body, "order_id": f"P-{i}"})
                            assert response.status_code == 200, response.text
                        profiler.disable()
                        elapsed = time.perf_counter() - started
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(
            r"(services|shared|sqlalchemy/(orm|engine)/(session|base|default)|aiosqlite|asyncpg"
            r"|fastapi/routing|pydantic/main|idempotency)", 28)
        print(f"\n-- profile: {n} checks with an order id, one at a time, in-process over ASGI on "
              f"{db}: {elapsed / n * 1000:.2f} ms each (under the profiler)")
        print("\n".join(line for line in text.getvalue().splitlines()
                        if line.strip() and not line.startswith(("   Ordered", "   List reduced"))))


async def run(args: argparse.Namespace) -> bool:
    if shutil.which("wrk") is None:
        print("check benchmark: SKIPPED, wrk is not installed (Debian: apt-get install -y wrk); "
              "a load generator in its own process is needed to load the server honestly")
        return False
    modes = ["embedded", "distributed"] if args.check_mode == "both" else [args.check_mode]
    light = f" and {args.check_light_connections}" if args.check_light_connections else ""
    print(f"check benchmark: {args.check_connections}{light} concurrent requests (wrk, "
          f"{args.check_threads} thread), {args.check_seconds} s per run after "
          f"{args.check_warmup} s of warm-up, mode(s) {', '.join(modes)}")
    failed = False
    for mode in modes:
        try:
            loads = await run_mode(mode, args)
        except Unavailable as exc:
            print(f"\n-- {mode}: SKIPPED, {exc}")
            continue
        except Exception:
            failed = True
            print(f"\n-- {mode}: FAILED", file=sys.stderr, flush=True)
            traceback.print_exc()
            continue
        failed |= report(loads)
    if args.check_profile:
        with contextlib.suppress(Unavailable):
            await profile(args.check_profile)
    return failed
