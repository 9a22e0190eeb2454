"""Collection-plan's night and day on a book of N customers, each owing an invoice 38 days
past due (issued 2026-01-01, due 2026-01-31) and one falling due on 2026-03-12, spread
over 10 collectors, each case's written notice handed over on 2026-02-20.

The night of 2026-03-10, as production runs it: the ledger's overdue sweep (the 30-day
threshold: N `ledger.invoice.aged`, which collection-plan answers by escalating N cases to
supply pressure), then collection-plan's sweep (February's late interest on N invoices,
N pre-due reminders); then the same sweep again (nothing new: its fixed cost per
customer). The day: each collector's worklist, the KPIs and the provision matrix.

Baselines, in the same run and system: the ledger's sweep of the same book and night, and
a plain page of `GET /collections/v1/cases` (a keyset list of 100, nothing computed).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from bench.hold_latency import bounded, until, wait_quiet
from bench.systems import System, log_problems

COLLECTORS = 10
OLD_ISSUE, NEW_ISSUE, NIGHT = "2026-01-01", "2026-02-10", "2026-03-10"
BATCH = 2_000


@dataclass
class Night:
    customers: int
    setup_seconds: float = 0.0
    ledger_sweep_seconds: float = 0.0
    ledger_sweep: dict[str, Any] = field(default_factory=dict)
    escalations_seconds: float = 0.0  # from the ledger's answer to N cases at supply pressure
    sweep_seconds: float = 0.0
    sweep: dict[str, Any] = field(default_factory=dict)
    rerun_seconds: float = 0.0
    rerun: dict[str, Any] = field(default_factory=dict)
    cases_page: list[float] = field(default_factory=list)  # the baseline, seconds each
    worklist: list[float] = field(default_factory=list)
    worklist_tasks: int = 0
    kpis: list[float] = field(default_factory=list)
    provisions: list[float] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


async def _count(system: System, sql: str) -> int:
    return int((await system.store.fetch("collections", sql))[0][0])


async def setup(system: System, customers: int) -> None:
    """Register the customers with credit, post two invoices each through ledger batches
    and wait until collection-plan has heard of every invoice."""
    api = system.api
    ids = [f"N{n:06d}" for n in range(customers)]

    async def register(customer_id: str) -> None:
        await api.ok("POST", "/credit/v1/customers", {
            "id": customer_id, "name": f"Dealer {customer_id}",
            "salesperson": f"collector-{int(customer_id[1:]) % COLLECTORS}",
            "distance_km": int(customer_id[1:]) % 400, "terms": {"mode": "net_days", "days": 30},
            "credit_limit": {"amount": 10**9, "currency": "CNY"}})

    await bounded(ids, register)

    async def known(customer_id: str) -> None:
        async def ledger_knows() -> bool:
            return (await api.get(f"/ledger/v1/customers/{customer_id}/account")).status_code == 200
        await until(ledger_knows, within=120, what=f"the ledger to know {customer_id}")

    await bounded(ids, known)
    rows = [{"type": "invoice", "id": f"{c}-{kind}", "customer_id": c, "currency": "CNY",
             "amount": 100_000 + n % 7 * 50_000, "issue_date": issued}
            for n, c in enumerate(ids) for kind, issued in (("OLD", OLD_ISSUE), ("NEW", NEW_ISSUE))]
    for first in range(0, len(rows), BATCH):
        body = "\n".join(json.dumps(r) for r in rows[first:first + BATCH]).encode()
        answer = await api.ok("POST", "/ledger/v1/batches", content=body,
                              headers={"Content-Type": "application/x-ndjson"})
        assert answer["booked"], answer

    async def heard() -> bool:
        return await _count(system, "SELECT count(*) FROM invoice_view") == 2 * customers
    await until(heard, within=600, what="collection-plan to hear of every invoice")
    # A first night (20 days late) opens the cases and reaches the visit and the notice,
    # which the collectors hand over that day (late interest runs after it).
    await api.ok("POST", "/ledger/v1/sweeps", {"as_of": "2026-02-20"})
    await until(lambda: _at_level(system, 2, customers), within=600, what="N cases at level 2")
    await api.ok("POST", "/collections/v1/sweeps", {"as_of": "2026-02-20"})
    await wait_quiet(system, within=600)
    notices = [row[0] for row in await system.store.fetch(
        "collections", "SELECT id FROM collector_task WHERE kind = 'written_notice'"
                       " AND status = 'open'")]

    async def hand_over(task_id: str) -> None:
        await api.ok("POST", f"/collections/v1/tasks/{task_id}/outcome",
                     {"outcome": "reached", "as_of": "2026-02-20"})

    await bounded(notices, hand_over)


async def _at_level(system: System, level: int, customers: int) -> bool:
    return await _count(system, f"SELECT count(*) FROM collection_case WHERE level >= {level}"
                                " AND status = 'open'") == customers


async def _timed(calls: int, call: Any) -> list[float]:
    times = []
    for _ in range(calls):
        started = time.perf_counter()
        await call()
        times.append(time.perf_counter() - started)
    return times


async def run_night(system: System, customers: int, repeat: int) -> Night:
    api = system.api
    night = Night(customers)
    started = time.perf_counter()
    await setup(system, customers)
    night.setup_seconds = time.perf_counter() - started

    night.cases_page = await _timed(repeat, lambda: api.ok("GET", "/collections/v1/cases?limit=100"))

    started = time.perf_counter()
    night.ledger_sweep = await api.ok("POST", "/ledger/v1/sweeps", {"as_of": NIGHT})
    answered = time.perf_counter()
    night.ledger_sweep_seconds = answered - started
    await until(lambda: _at_level(system, 3, customers), within=900, what="N cases at level 3")
    night.escalations_seconds = time.perf_counter() - answered
    await wait_quiet(system, within=900)

    started = time.perf_counter()
    night.sweep = await api.ok("POST", "/collections/v1/sweeps", {"as_of": NIGHT})
    night.sweep_seconds = time.perf_counter() - started
    started = time.perf_counter()
    night.rerun = await api.ok("POST", "/collections/v1/sweeps", {"as_of": NIGHT})
    night.rerun_seconds = time.perf_counter() - started
    await wait_quiet(system, within=900)

    async def worklist() -> None:
        tasks = await api.ok("GET", f"/collections/v1/worklist?as_of={NIGHT}"
                                    "&collector=collector-3&limit=100")
        night.worklist_tasks = len(tasks)

    night.worklist = await _timed(repeat, worklist)
    night.kpis = await _timed(max(repeat // 10, 1), lambda: api.ok(
        "GET", f"/collections/v1/kpis?as_of={NIGHT}&months=3"))
    night.provisions = await _timed(max(repeat // 10, 1), lambda: api.ok(
        "GET", f"/collections/v1/provisions?as_of={NIGHT}"))
    if night.sweep.get("interest_charged") != customers or night.sweep.get("reminders") != customers:
        night.notes.append(f"expected {customers} interest charges and reminders: {night.sweep}")
    if night.rerun.get("interest_charged") or night.rerun.get("reminders") or night.rerun.get("escalated"):
        night.notes.append(f"the re-run did something: {night.rerun}")
    night.notes += log_problems(system)
    return night
