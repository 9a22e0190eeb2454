"""From the sweep's `ledger.payment.missed` to the hold being visible in the credit check.

N customers on net 30 days each owe one invoice issued 2026-01-01 (due 2026-01-31). With
the system quiet, a sweep as of 2026-02-20 (20 days past due) announces the missed
payments; credit answers each with a cash_only hold, and from then on POST
/credit/v1/checks answers `cash_only` instead of `approve`.

Two rounds, each on a freshly started system (same mode) with N customers:

1. unobserved: nothing but the sweep runs; every customer is timed on the server clock
   (credit's `hold.placed_at`, written in the transaction that makes the hold visible,
   against the ledger outbox's `created_at` of the missed payments).
2. observed: the same, while a few pollers repeatedly run the credit check for a sample
   of the customers (spread over the sweep's order); their first `cash_only` answer is
   the hold becoming visible to a client. This checks the server-clock figure and shows
   what a trickle of credit checks does to the event pipeline (they compete with it).

The baseline, in the same run, mode and system, just before the sweep: a plain credit
check round trip on the quiet system (sequential, one request at a time).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from bench.systems import System, as_epoch, log_problems

SERVICES = ("credit", "ledger", "reconciliation", "collections")
CREDIT_LIMIT = 1_000_000  # minor units: 10,000.00 CNY, as in tests/e2e/flow.py
INVOICE_AMOUNT = 300_000
CHECK_AMOUNT = 100_000  # approved before the sweep: 3,000.00 owed + 1,000.00 < the limit
ISSUE_DATE, DUE_DATE, SWEEP_AS_OF = "2026-01-01", "2026-01-31", "2026-02-20"
SETUP_CONCURRENCY = 16


@dataclass
class Poll:
    """What the pollers saw of one probed customer (perf_counter seconds)."""

    checks: int = 0
    last_miss_sent: float | None = None  # send time of the last answer without the hold
    hit_sent: float | None = None  # send time of the first answer with the hold
    hit_received: float | None = None  # ... and when it arrived
    decision: str | None = None
    previous_sent: float | None = None
    gaps: list[float] = field(default_factory=list)  # between consecutive checks, while pending


@dataclass
class Round:
    """One sweep over `customers` fresh customers. Durations in seconds."""

    name: str
    customers: int
    setup_seconds: float = 0.0
    baseline: list[float] = field(default_factory=list)  # credit check round trips, quiet
    sweep: dict[str, Any] = field(default_factory=dict)
    sweep_seconds: float = 0.0  # sending the sweep -> its HTTP answer
    event_written_after_sent: float = math.nan  # -> the missed payments' outbox rows
    # Server clock, every customer: hold.placed_at after the missed payments were written,
    # and after the sweep was sent (wall clock, same machine).
    placed_after_event: list[float] = field(default_factory=list)
    placed_after_sent: list[float] = field(default_factory=list)
    not_held: int = 0  # customers without a cash_only hold at the end
    events_emitted: dict[str, int] = field(default_factory=dict)  # by type, all services
    deliveries: int = 0  # events handled by consumers (inbox rows) after the sweep
    last_delivery_after_sent: float = math.nan
    # Client clock, probed customers only (the observed round)
    probes: int = 0
    pollers: int = 0
    poll_interval: float = 0.0
    visible_after_sent: list[float] = field(default_factory=list)
    visible_after_returned: list[float] = field(default_factory=list)
    lower_bound_after_sent: list[float] = field(default_factory=list)
    visible_minus_placed: list[float] = field(default_factory=list)
    not_seen: int = 0  # probed customers whose check never showed the hold
    decisions: dict[str, int] = field(default_factory=dict)
    poll_checks: int = 0
    poll_seconds: float = 0.0
    poll_errors: int = 0
    poll_latency: list[float] = field(default_factory=list)
    poll_gaps: list[float] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def holds_placed(self) -> int:
        return len(self.placed_after_sent)

    @property
    def path_events(self) -> int:
        """The sweep's events plus one hold per held customer (the issue's count)."""
        return int(self.sweep.get("events", 0)) + self.holds_placed

    @property
    def last_hold_after_sent(self) -> float:
        return max([*self.placed_after_sent, *self.visible_after_sent], default=math.nan)

    @property
    def path_events_per_second(self) -> float:
        return _per_second(self.path_events, self.last_hold_after_sent)

    @property
    def deliveries_per_second(self) -> float:
        return _per_second(self.deliveries, self.last_delivery_after_sent)

    @property
    def checks_per_second(self) -> float:
        return _per_second(self.poll_checks, self.poll_seconds)


@dataclass
class Result:
    """One mode: its rounds, each on a freshly started system."""

    mode: str
    description: str = ""
    rounds: list[Round] = field(default_factory=list)


def _per_second(count: int, seconds: float) -> float:
    return count / seconds if seconds and not math.isnan(seconds) else math.nan


def probe_sample(ids: list[str], probes: int) -> list[str]:
    """`probes` customers spread evenly over the sweep's order (by id), first and last
    included: the sweep announces customers in id order, so early and late ones are probed."""
    if probes >= len(ids):
        return list(ids)
    if probes == 1:
        return [ids[-1]]
    step = (len(ids) - 1) / (probes - 1)
    return [ids[round(i * step)] for i in range(probes)]


async def bounded(items: Iterable[Any], work: Callable[[Any], Awaitable[None]],
                  concurrency: int = SETUP_CONCURRENCY) -> None:
    semaphore = asyncio.Semaphore(concurrency)

    async def one(item: Any) -> None:
        async with semaphore:
            await work(item)

    await asyncio.gather(*(one(item) for item in items))


async def until(probe: Callable[[], Awaitable[bool]], *, within: float, what: str,
                interval: float = 0.05) -> None:
    deadline = time.monotonic() + within
    while not await probe():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {within:.0f} s waiting for {what}")
        await asyncio.sleep(interval)


# --- setup ---------------------------------------------------------------------------------------
async def setup(system: System, ids: list[str]) -> None:
    """Register the customers, wait until the ledger knows them, post one invoice each and
    wait until every service has handled every event (the system is quiet)."""
    api = system.api

    async def register(customer_id: str) -> None:
        await api.ok("POST", "/credit/v1/customers", {
            "id": customer_id, "name": f"Dealer {customer_id}", "salesperson": "li.na",
            "terms": {"mode": "net_days", "days": 30},
            "credit_limit": {"amount": CREDIT_LIMIT, "currency": "CNY"},
        })

    async def ledger_knows(customer_id: str) -> None:
        async def known() -> bool:
            response = await api.get(
                f"/ledger/v1/customers/{customer_id}/account?as_of={ISSUE_DATE}")
            return response.status_code == 200
        await until(known, within=60, what=f"the ledger to know {customer_id}")

    async def invoice(customer_id: str) -> None:
        posted = await api.ok("POST", "/ledger/v1/invoices", {
            "id": f"{customer_id}-INV-1", "customer_id": customer_id, "amount": INVOICE_AMOUNT,
            "currency": "CNY", "issue_date": ISSUE_DATE,
        })
        assert posted["due_date"] == DUE_DATE, posted

    await bounded(ids, register)
    await bounded(ids, ledger_knows)
    await bounded(ids, invoice)
    await wait_quiet(system, within=120)


async def _scalar_sum(system: System, sql: str) -> int:
    rows = await asyncio.gather(*(system.store.fetch(s, sql) for s in SERVICES))
    return sum(int(r[0][0]) for r in rows)


async def wait_quiet(system: System, *, within: float, settle: float = 0.5) -> None:
    """Until no outbox holds an unpublished event and no consumer handled anything for
    `settle` seconds (in the distributed mode a published event may still sit in a queue;
    a stable inbox over `settle` seconds says the queues are drained)."""
    deadline = time.monotonic() + within
    previous, stable_since = -1, time.monotonic()
    while True:
        unpublished = await _scalar_sum(
            system, "SELECT count(*) FROM outbox WHERE published_at IS NULL")
        handled = await _scalar_sum(system, "SELECT count(*) FROM inbox")
        if unpublished or handled != previous:
            previous, stable_since = handled, time.monotonic()
        elif time.monotonic() - stable_since >= settle:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"the system did not go quiet in {within:.0f} s "
                               f"({unpublished} events unpublished)")
        await asyncio.sleep(0.1)


# --- the credit check ----------------------------------------------------------------------------
async def check(system: System, customer_id: str) -> dict[str, Any]:
    return await system.api.ok("POST", "/credit/v1/checks", {
        "customer_id": customer_id, "amount": CHECK_AMOUNT, "currency": "CNY"})


async def measure_baseline(system: System, ids: list[str], count: int) -> list[float]:
    """Sequential credit check round trips on the quiet system (after one warm-up)."""
    await check(system, ids[0])
    latencies = []
    for i in range(count):
        started = time.perf_counter()
        answer = await check(system, ids[i % len(ids)])
        latencies.append(time.perf_counter() - started)
        assert answer["decision"] == "approve", answer
    return latencies


class Pollers:
    """`workers` tasks take turns over the probed customers not held yet, the longest
    unchecked first; one customer is checked again no sooner than `interval` seconds
    after its previous check."""

    def __init__(self, system: System, ids: list[str], workers: int, interval: float) -> None:
        self.system = system
        self.polls = {customer_id: Poll() for customer_id in ids}
        self.pending: deque[str] = deque(ids)
        self.workers = workers
        self.interval = interval
        self.latencies: list[float] = []
        self.errors = 0
        self.all_seen_once = asyncio.Event()
        self.all_held = asyncio.Event()
        self.early_holds: list[str] = []  # answers other than approve before the sweep: wrong
        self._seen_once = 0
        self._held = 0
        self._sweep_sent: float | None = None
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._work()) for _ in range(self.workers)]

    def sweep_sent(self, at: float) -> None:
        self._sweep_sent = at

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _work(self) -> None:
        while self.pending:
            customer_id = self.pending.popleft()
            poll = self.polls[customer_id]
            if poll.previous_sent is not None:
                wait = poll.previous_sent + self.interval - time.perf_counter()
                if wait > 0:
                    await asyncio.sleep(wait)
            sent = time.perf_counter()
            try:
                response = await self.system.api.post("/credit/v1/checks", {
                    "customer_id": customer_id, "amount": CHECK_AMOUNT, "currency": "CNY"})
            except Exception:
                self.errors += 1
                self.pending.append(customer_id)
                continue
            received = time.perf_counter()
            self.latencies.append(received - sent)
            if poll.previous_sent is not None:
                poll.gaps.append(sent - poll.previous_sent)
            poll.previous_sent = sent
            poll.checks += 1
            if poll.checks == 1:
                self._seen_once += 1
                if self._seen_once == len(self.polls):
                    self.all_seen_once.set()
            if response.status_code != 200:
                self.errors += 1
                self.pending.append(customer_id)
                continue
            decision = response.json()["decision"]
            before_sweep = self._sweep_sent is None or sent < self._sweep_sent
            if decision == "approve" or before_sweep:
                if decision != "approve":
                    self.early_holds.append(f"{customer_id}: {decision}")
                poll.last_miss_sent = sent
                self.pending.append(customer_id)
                continue
            poll.hit_sent, poll.hit_received, poll.decision = sent, received, decision
            self._held += 1
            if self._held == len(self.polls):
                self.all_held.set()


# --- one round -----------------------------------------------------------------------------------
async def sweep_round(system: System, name: str, ids: list[str], *, probes: int, pollers: int,
                      poll_interval: float, give_up: float) -> Round:
    """Sweep with `ids` set up and the system quiet, and time their holds (probing `probes`
    of them with credit checks; 0 = none)."""
    result = Round(name=name, customers=len(ids))
    outbox_before = {
        s: int((await system.store.fetch(s, "SELECT coalesce(max(id), 0) FROM outbox"))[0][0])
        for s in SERVICES
    }

    polling = Pollers(system, probe_sample(ids, probes), pollers, poll_interval) if probes else None
    result.probes = len(polling.polls) if polling else 0
    result.pollers, result.poll_interval = (pollers, poll_interval) if polling else (0, 0.0)
    if polling:
        polling.start()
    try:
        if polling:  # every probe has answered approve once before the sweep goes out
            await asyncio.wait_for(polling.all_seen_once.wait(), 60)
        wall_sent = time.time()
        sent = time.perf_counter()
        if polling:
            polling.sweep_sent(sent)
        result.sweep = await system.api.ok("POST", "/ledger/v1/sweeps", {"as_of": SWEEP_AS_OF})
        returned = time.perf_counter()
        result.sweep_seconds = returned - sent
        if polling:
            try:
                await asyncio.wait_for(polling.all_held.wait(), give_up)
            except TimeoutError:
                result.notes.append(f"gave up polling {give_up:.0f} s after the sweep")
            result.poll_seconds = time.perf_counter() - sent
    finally:
        if polling:
            await polling.stop()

    if result.sweep.get("payment_missed") != len(ids):
        result.notes.append(f"the sweep reported {result.sweep.get('payment_missed')} missed "
                            f"payments for {len(ids)} new customers")
    visible_at: dict[str, float] = {}  # customer -> wall clock of the first answer with the hold
    if polling:
        for customer_id, poll in polling.polls.items():
            if poll.hit_received is None:
                result.not_seen += 1
                continue
            visible_at[customer_id] = wall_sent + (poll.hit_received - sent)
            result.visible_after_sent.append(poll.hit_received - sent)
            result.visible_after_returned.append(poll.hit_received - returned)
            result.lower_bound_after_sent.append(max((poll.last_miss_sent or sent) - sent, 0.0))
            decision = poll.decision or "?"
            result.decisions[decision] = result.decisions.get(decision, 0) + 1
            result.poll_gaps.extend(poll.gaps)
        if polling.early_holds:
            result.notes.append(f"{len(polling.early_holds)} answers other than approve before "
                                f"the sweep, e.g. {polling.early_holds[0]}")
        result.poll_checks = len(polling.latencies)
        result.poll_errors = polling.errors
        result.poll_latency = polling.latencies

    await server_side(system, result, set(ids), wall_sent, outbox_before, visible_at, give_up)
    return result


async def server_side(system: System, result: Round, ids: set[str], wall_sent: float,
                      outbox_before: dict[str, int], visible_at: dict[str, float],
                      give_up: float) -> None:
    """What the databases recorded (no polling error): when each customer's cash_only hold
    was placed, when the sweep wrote the missed payments, which events the round caused,
    and when a consumer handled the last of them."""
    try:
        await wait_quiet(system, within=give_up)
    except TimeoutError as exc:
        result.notes.append(str(exc))
    written = await system.store.fetch(
        "ledger", "SELECT min(created_at) FROM outbox WHERE type = 'ledger.payment.missed' "
                  f"AND id > {outbox_before['ledger']}")
    event_written = as_epoch(written[0][0]) if written and written[0][0] is not None else math.nan
    result.event_written_after_sent = event_written - wall_sent
    placed = {customer_id: as_epoch(at) for customer_id, at in await system.store.fetch(
        "credit", "SELECT customer_id, placed_at FROM hold WHERE kind = 'cash_only'")
        if customer_id in ids}
    result.not_held = len(ids) - len(placed)
    result.placed_after_sent = [at - wall_sent for at in placed.values()]
    result.placed_after_event = [at - event_written for at in placed.values()]
    result.visible_minus_placed = [at - placed[c] for c, at in visible_at.items() if c in placed]
    last_handled = 0.0
    for service in SERVICES:
        rows = await system.store.fetch(
            service, f"SELECT type, count(*) FROM outbox WHERE id > {outbox_before[service]} "
                     "GROUP BY type")
        for event_type, count in rows:
            emitted = result.events_emitted
            emitted[event_type] = emitted.get(event_type, 0) + int(count)
        handled = [as_epoch(at) - wall_sent
                   for (at,) in await system.store.fetch(service, "SELECT processed_at FROM inbox")]
        handled = [h for h in handled if h >= 0]
        result.deliveries += len(handled)
        last_handled = max([last_handled, *handled])
    result.last_delivery_after_sent = last_handled if result.deliveries else math.nan


async def run_round(system: System, name: str, *, customers: int, probes: int, pollers: int,
                    poll_interval: float, baseline_checks: int, give_up: float) -> Round:
    """On a freshly started system: set up the customers, measure the baseline, sweep."""
    ids = [f"BENCH-{i:05d}" for i in range(customers)]
    started = time.perf_counter()
    await setup(system, ids)
    setup_seconds = time.perf_counter() - started
    baseline = await measure_baseline(system, ids, baseline_checks)
    result = await sweep_round(system, name, ids, probes=probes, pollers=pollers,
                               poll_interval=poll_interval, give_up=give_up)
    result.setup_seconds, result.baseline = setup_seconds, baseline
    result.notes += log_problems(system)
    return result
