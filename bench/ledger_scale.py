"""The ledger at scale, on PostgreSQL, each figure against a baseline measured in the same run.

1. Posting throughput: invoices and payments per second through the bulk endpoint
   (POST /ledger/v1/batches, JSON lines) and through single POSTs (/ledger/v1/invoices,
   /ledger/v1/payments), against the same rows inserted straight with the driver (asyncpg
   `executemany` into a plain table of the same columns, in one transaction).
2. Aging and sweep over a large book: open invoices copied straight into the ledger's tables,
   then `queries.aging` against one hand-written SQL aggregate (the results are compared), and
   `handlers.run_sweep` in a unit of work against a hand-written set-based INSERT ... SELECT of
   the same notices (compared too).

The app runs in this process (`tests.support.embedded.running_app`, the ledger only, on a fresh
PostgreSQL database) and is driven through `httpx.ASGITransport`; part 2 builds a
`ServiceRuntime` of its own (no relay, no HTTP). See bench/README.md for why and how to read it.
Both databases are dropped on the way out, also after a failure or Ctrl-C.
"""

from __future__ import annotations

import asyncio
import contextlib
import cProfile
import io
import json
import pstats
import re
import statistics
import tempfile
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy import event

from recoup import services
from services.ledger import handlers, queries, sweep
from services.ledger.domain.aging import THRESHOLDS
from services.ledger.domain.commands import PostInvoice
from shared.aging import BUCKETS
from shared.auth import Keyring
from shared.events import contracts as ev
from shared.events import new_event
from shared.messaging.inprocess import InProcessTransport
from shared.runtime import ServiceRuntime
from tests.support.api import API_KEYS_SPEC, Api
from tests.support.distributed import PG_DSN, postgres_databases
from tests.support.embedded import embedded_settings, running_app
from tests.support.servers import POSTGRES_HOST, POSTGRES_PORT, reachable

AIM_BULK_SHARE = 1 / 3  # the issue: bulk posting at a third of the raw insert rate or better
AIM_AGING_RATIO = 2.0  # the issue: aging no worse than twice the hand-written query
PLAIN_WRITE_TABLES = ("invoice", "credit_document", "allocation", "journal_entry", "journal_line",
                      "outbox", "overdue_notice")


class Unavailable(Exception):
    """PostgreSQL cannot be reached; the message says why."""


@dataclass
class Options:
    bulk_rows: int = 4_000
    single_rows: int = 1_000
    batch_size: int = 2_000
    post_customers: int = 100
    concurrency: int = 4
    invoices: int = 100_000
    invoice_customers: int = 1_000
    repeat: int = 3
    sweep: bool = True
    profile: bool = False


@dataclass
class Rate:
    """`count` rows in `seconds`; `error` if the path failed (then the rate covers what went)."""

    label: str
    count: int
    seconds: float
    note: str = ""
    error: str = ""

    @property
    def per_second(self) -> float:
        return self.count / self.seconds if self.seconds > 0 else float("nan")


@dataclass
class Timing:
    label: str
    seconds: list[float]
    note: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.seconds) if self.seconds else float("nan")


@dataclass
class Result:
    posting: list[Rate] = field(default_factory=list)
    baselines: dict[str, Rate] = field(default_factory=dict)  # "invoice" / "payment"
    writes_per_document: dict[str, dict[str, float]] = field(default_factory=dict)
    reference: Rate | None = None  # the ledger's own rows for invoices, set-based
    aging: Timing | None = None
    aging_sql: Timing | None = None
    aging_agree: str = ""
    sweep_work: float | None = None  # sweep.run_sweep, every chunk committed
    sweep_again: float | None = None  # the same date again: nothing new to announce
    sweep_result: dict[str, Any] = field(default_factory=dict)
    sweep_db: float = 0.0  # of sweep_work, waiting for statements (COMMITs included)
    sweep_statements: int = 0
    sweep_top: list[tuple[str, int, float]] = field(default_factory=list)
    sweep_growing: dict[str, tuple[float, float, float]] = field(default_factory=dict)
    book_posts: dict[str, list[float]] = field(default_factory=dict)  # when -> seconds per post
    sweep_events: int = 0  # outbox rows the sweep wrote
    sweep_sql: float | None = None  # the mean of the runs before and after the sweep
    sweep_sql_runs: list[float] = field(default_factory=list)
    sweep_sql_counts: dict[str, int] = field(default_factory=dict)
    sweep_agree: str = ""
    invoices: int = 0
    customers: int = 0
    overdue: int = 0
    load_seconds: float = 0.0
    problems: list[str] = field(default_factory=list)


def short(exc: BaseException, limit: int = 240) -> str:
    """An exception as one short line (SQLAlchemy's messages carry the whole statement)."""
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    first = text[0] if text else ""
    return f"{type(exc).__name__}: {first[:limit]}"


def dsn(url: str) -> str:
    return url.replace("+asyncpg", "")  # SQLAlchemy's spelling -> asyncpg's


async def check_available() -> None:
    if not reachable(POSTGRES_HOST, POSTGRES_PORT):
        raise Unavailable(f"PostgreSQL not reachable on {POSTGRES_HOST}:{POSTGRES_PORT}")
    try:
        connection = await asyncpg.connect(PG_DSN)
        await connection.close()
    except Exception as exc:
        raise Unavailable(f"PostgreSQL refused user postgres: {exc}") from exc


@contextlib.contextmanager
def profiled(enabled: bool, title: str, limit: int = 14) -> Any:
    """cProfile around a block (everything the event loop runs meanwhile), printed after."""
    if not enabled:
        yield
        return
    profile = cProfile.Profile()
    profile.enable()
    try:
        yield
    finally:
        profile.disable()
        out = io.StringIO()
        stats = pstats.Stats(profile, stream=out)
        stats.sort_stats("tottime").print_stats(limit)
        stats.sort_stats("cumulative").print_stats(r"services/|shared/", limit)
        print(f"\n  -- profile: {title} (cProfile: own time, then cumulative in services/ and shared/)")
        for line in out.getvalue().splitlines():
            if line.strip() and not line.startswith(("   Ordered by", "   List reduced")):
                print(f"  | {line[:150]}")


class StatementTimer:
    """The wall time of every statement SQLAlchemy sends through `engine` while active (from
    before to after the cursor's execute: the round trip and the database's work), per
    statement text (parameters folded)."""

    def __init__(self, engine: Any) -> None:
        self._target = engine.sync_engine
        self.calls: dict[str, list[float]] = defaultdict(list)
        self.wall = 0.0

    def _before(self, conn: Any, *_: Any) -> None:
        conn.info["bench_started"] = time.perf_counter()

    def _after(self, conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        key = re.sub(r"\$\d+(::[A-Z ]+)?", "$", " ".join(statement.split()))
        key = re.sub(r"\$(, \$)+", "$, ...", key)
        self.calls[key].append(time.perf_counter() - conn.info.pop("bench_started"))

    def __enter__(self) -> StatementTimer:
        event.listen(self._target, "before_cursor_execute", self._before)
        event.listen(self._target, "after_cursor_execute", self._after)
        self._began = time.perf_counter()
        return self

    def __exit__(self, *_: Any) -> None:
        self.wall = time.perf_counter() - self._began
        event.remove(self._target, "before_cursor_execute", self._before)
        event.remove(self._target, "after_cursor_execute", self._after)

    @property
    def seconds(self) -> float:
        return sum(sum(times) for times in self.calls.values())

    def growing(self, factor: float = 3.0, least: int = 20) -> dict[str, tuple[float, float, float]]:
        """Statements whose calls got slower as the block went on (the last tenth of the calls
        at least `factor` times the first tenth): key -> (first mean, last mean, total)."""
        found = {}
        for key, times in self.calls.items():
            if len(times) >= least:
                tenth = len(times) // 10
                first, last = statistics.mean(times[:tenth]), statistics.mean(times[-tenth:])
                if last > factor * first:
                    found[key] = (first, last, sum(times))
        return found

    def print(self, title: str, limit: int = 8) -> None:
        count = sum(len(times) for times in self.calls.values())
        print(f"\n  -- statements: {title}: {self.seconds:.2f} s of {self.wall:.2f} s waiting for "
              f"the database ({count:,} statements); the longest:")
        for key, times in sorted(self.calls.items(), key=lambda kv: -sum(kv[1]))[:limit]:
            print(f"  | {sum(times):8.2f} s {len(times):>7,}x  {key[:118]}")
        for key, (first, last, _) in self.growing().items():
            print(f"  | grows: {first * 1000:.2f} ms per call in the first tenth of its calls, "
                  f"{last * 1000:.2f} ms in the last: {key[:80]}")


@contextlib.contextmanager
def statement_times(engine: Any, enabled: bool, title: str) -> Any:
    """With `enabled`, a StatementTimer around the block, printed after it."""
    if not enabled:
        yield
        return
    with StatementTimer(engine) as timer:
        yield
    timer.print(title)


# --- 1. posting throughput ------------------------------------------------------------------
BULK_INVOICES = "bulk: invoices (POST /batches)"
BULK_PAYMENTS = "bulk: payments (POST /batches)"
SINGLE_INVOICES = "single: invoices (POST /invoices)"
SINGLE_PAYMENTS = "single: payments (POST /payments)"
BASELINE_ROWS = 20_000
ISSUE_START = date(2025, 1, 1)


def invoice_rows(prefix: str, count: int, customers: int) -> list[dict[str, Any]]:
    """Invoice n goes to customer n % customers and is that customer's (n // customers)-th,
    issued a day after its previous one: so oldest-first payments settle them in order."""
    return [{"id": f"{prefix}I{n:07d}", "customer_id": f"{prefix}C{n % customers:04d}",
             "amount": 10_000 + (n * 7_919) % 990_000, "currency": "CNY",
             "issue_date": (ISSUE_START + timedelta(days=n // customers)).isoformat()}
            for n in range(count)]


def payment_rows(invoices: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One payment per invoice, of its amount and without allocations: the ledger pays the
    oldest due invoice first, which (posted in this order) is exactly that invoice."""
    return [{"id": invoice["id"].replace("I", "P", 1), "customer_id": invoice["customer_id"],
             "amount": invoice["amount"], "currency": "CNY",
             "received_on": (date.fromisoformat(invoice["issue_date"]) + timedelta(days=10)).isoformat(),
             "method": "bank_transfer"}
            for invoice in invoices]


async def register_customers(runtime: ServiceRuntime, ids: Sequence[str]) -> None:
    """As credit.customer.registered would: through the ledger's own handler."""
    async with runtime.unit_of_work("bench") as uow:
        for customer_id in ids:
            data = ev.CustomerRegistered(
                customer_id=customer_id, name=f"Dealer {customer_id}",
                terms=ev.Terms(mode="net_days", days=30),
                credit_limit=ev.MoneyField(amount=10**12, currency="CNY"))
            await handlers.on_customer_terms(uow, data, new_event("bench", data))
        await uow.commit()


async def table_counts(connection: asyncpg.Connection) -> dict[str, int]:
    return {t: await connection.fetchval(f"SELECT count(*) FROM {t}") for t in PLAIN_WRITE_TABLES}


async def post_bulk(api: Api, label: str, kind: str, rows: list[dict[str, Any]],
                    batch_size: int, profile: bool, engine: Any) -> Rate:
    sent = 0
    started = time.perf_counter()
    for first in range(0, len(rows), batch_size):
        batch = rows[first:first + batch_size]
        body = "\n".join(json.dumps({"type": kind, **row}) for row in batch).encode()
        title = f"{label}, first batch of {len(batch)} rows"
        try:
            with profiled(profile and first == 0, title), \
                    statement_times(engine, profile and first == 0, title):
                response = await api.post("/ledger/v1/batches", content=body,
                                           headers={"Content-Type": "application/x-ndjson"})
        except Exception as exc:  # the app's own exception (500), through ASGITransport
            return Rate(label, sent, time.perf_counter() - started,
                        error=f"batch of {len(batch):,} rows failed (500): {short(exc)}")
        answer = _json(response)
        if response.status_code != 200 or answer.get("created") != len(batch):
            error = (f"batch of {len(batch)} rows answered {response.status_code}: "
                     f"{_summary(answer, response)}")
            return Rate(label, sent, time.perf_counter() - started, error=error)
        sent += len(batch)
    seconds = time.perf_counter() - started
    batches = -(-len(rows) // batch_size)
    return Rate(label, sent, seconds, note=f"{batches} batches of <= {batch_size:,}")


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        answer = response.json()
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}


def _summary(answer: dict[str, Any], response: httpx.Response) -> str:
    errors = [r for r in answer.get("results", []) if r.get("status") == "error"]
    if errors:
        return f"{len(errors)} rows refused, e.g. {json.dumps(errors[0])[:200]}"
    return (response.text or "(no body)")[:200]


async def post_single(api: Api, label: str, path: str, rows: list[dict[str, Any]],
                      concurrency: int) -> Rate:
    """`concurrency` clients, each posting the next row as soon as its previous one answered;
    consecutive rows belong to different customers, so they do not wait for each other's lock."""
    position = 0
    failures: list[str] = []
    done = 0

    async def client() -> None:
        nonlocal position, done
        while position < len(rows) and not failures:
            row = rows[position]
            position += 1
            try:
                response = await api.post(path, row)
            except Exception as exc:  # the app's own exception (500), through ASGITransport
                failures.append(f"{row['id']} failed (500): {short(exc)}")
                return
            if response.status_code != 201:
                failures.append(f"{row['id']} answered {response.status_code}: {response.text[:200]}")
                return
            done += 1

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    seconds = time.perf_counter() - started
    return Rate(label, done, seconds, note=f"{concurrency} concurrent clients",
                error=failures[0] if failures else "")


ENVELOPE = ('{{"specversion":"1.0","id":"{id}","source":"recoup/ledger","type":"ledger.invoice.posted",'
            '"subject":"{customer}","time":"2026-01-01T00:00:00Z","datacontenttype":"application/json",'
            '"dataschema":"urn:recoup:event:ledger.invoice.posted:v1","data":{{"customer_id":"{customer}",'
            '"invoice_id":"{invoice}","amount":{amount},"currency":"CNY","issue_date":"2026-01-01",'
            '"due_date":"2026-01-31","salesperson":null,"shipment_id":null,"kind":"invoice",'
            '"reference_id":null}}}}')


async def ledger_rows_reference(connection: asyncpg.Connection, count: int, customers: int,
                                repeat: int) -> Rate:
    """What the ledger's own writes for `count` invoices cost at best: the invoice, its two
    journal lines, its journal entry and its invoice.posted outbox row (plus one
    balance.changed per customer), straight into the real tables (indexes, checks and the
    journal triggers included) with asyncpg executemany in one transaction; median of
    `repeat`, each with ids of its own. Not a baseline: a ceiling for a set-based batch."""
    times = []
    recorded_at = datetime.now(UTC)
    for attempt in range(repeat):
        rows = invoice_rows(f"W{attempt}", count, customers)
        invoices, lines, entries, events = [], [], [], []
        for r in rows:
            issue = date.fromisoformat(r["issue_date"])
            entry = f"invoice:{r['id']}"
            invoices.append((r["id"], "invoice", r["customer_id"], r["amount"], "CNY", issue,
                             issue + timedelta(days=30), r["amount"], "bench", recorded_at))
            lines += [(entry, "invoice", r["id"], r["customer_id"], "receivable", "CNY", r["amount"],
                       issue),
                      (entry, "invoice", r["id"], r["customer_id"], "revenue", "CNY", -r["amount"],
                       issue)]
            entries.append((entry, "invoice", r["id"], r["customer_id"], issue, "bench", recorded_at))
            events.append((f"{r['id']}-posted", "ledger.invoice.posted", ENVELOPE.format(
                id=f"{r['id']}-posted", customer=r["customer_id"], invoice=r["id"],
                amount=r["amount"]), recorded_at, 0))
        events += [(f"W{attempt}-balance-{c}", "ledger.balance.changed", ENVELOPE.format(
                        id=f"W{attempt}-balance-{c}", customer=c, invoice="", amount=0),
                    recorded_at, 0) for c in sorted({r["customer_id"] for r in rows})]
        started = time.perf_counter()
        async with connection.transaction():
            await connection.executemany(
                "INSERT INTO invoice (id, kind, customer_id, amount, currency, issue_date, due_date, "
                "open_amount, recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                invoices)
            await connection.executemany(
                "INSERT INTO journal_line (entry_id, document_kind, document_id, customer_id, account, "
                "currency, amount, booked_on) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)", lines)
            await connection.executemany(
                "INSERT INTO journal_entry (id, document_kind, document_id, customer_id, booked_on, "
                "recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7)", entries)
            await connection.executemany(
                "INSERT INTO outbox (event_id, type, envelope, created_at, attempts) "
                "VALUES ($1, $2, $3, $4, $5)", events)
        times.append(time.perf_counter() - started)
    rows_per_invoice = (len(invoices) + len(lines) + len(entries) + len(events)) / count
    return Rate("set-based: the ledger's own rows", count, statistics.median(times),
                note=f"{rows_per_invoice:.2f} rows per invoice into the real tables, executemany, "
                     f"median of {repeat}")


async def raw_baseline(connection: asyncpg.Connection, kind: str, rows: list[dict[str, Any]],
                       repeat: int) -> Rate:
    """The same rows, straight into a plain table of the same columns (no index, no
    constraint, no trigger), with asyncpg executemany in one transaction; median of `repeat`."""
    recorded_at = datetime.now(UTC)
    if kind == "invoice":
        table, source = "bench_raw_invoice", "invoice"
        columns = ("id", "kind", "customer_id", "amount", "currency", "issue_date", "due_date",
                   "open_amount", "recorded_by", "recorded_at")
        records = [(r["id"], "invoice", r["customer_id"], r["amount"], r["currency"],
                    date.fromisoformat(r["issue_date"]),
                    date.fromisoformat(r["issue_date"]) + timedelta(days=30), r["amount"], "bench",
                    recorded_at) for r in rows]
    else:
        table, source = "bench_raw_payment", "credit_document"
        columns = ("kind", "id", "customer_id", "amount", "currency", "document_date", "method",
                   "unapplied", "recorded_by", "recorded_at")
        records = [("payment", r["id"], r["customer_id"], r["amount"], r["currency"],
                    date.fromisoformat(r["received_on"]), r["method"], 0, "bench", recorded_at)
                   for r in rows]
    await connection.execute(f"DROP TABLE IF EXISTS {table}")
    await connection.execute(f"CREATE TABLE {table} (LIKE {source})")  # columns and NOT NULLs only
    placeholders = ", ".join(f"${i}" for i in range(1, len(columns) + 1))
    statement = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})"
    times = []
    for _ in range(repeat):
        await connection.execute(f"TRUNCATE {table}")
        started = time.perf_counter()
        async with connection.transaction():
            await connection.executemany(statement, records)
        times.append(time.perf_counter() - started)
    return Rate(f"raw insert: {kind}s (asyncpg executemany)", len(records), statistics.median(times),
                note=f"median of {repeat}, plain table {table}")


async def posting(options: Options, url: str, result: Result) -> None:
    customers = options.post_customers
    bulk_invoices = invoice_rows("B", options.bulk_rows, customers)
    bulk_payments = payment_rows(bulk_invoices)
    single_invoices = invoice_rows("S", options.single_rows, customers)
    single_payments = payment_rows(single_invoices)
    with tempfile.TemporaryDirectory(prefix="recoup-bench-") as tmp:
        settings = embedded_settings(Path(tmp), database_url_ledger=url, migrate_on_start=True)
        connection = await asyncpg.connect(dsn(url))
        try:
            async with running_app(settings, ["ledger"]) as app:
                runtime: ServiceRuntime = app.state.runtimes["ledger"]
                await register_customers(runtime, sorted({r["customer_id"] for r in
                                                          bulk_invoices + single_invoices}))
                transport = httpx.ASGITransport(app=app)  # a 500 raises the app's exception here
                async with httpx.AsyncClient(transport=transport, base_url="http://recoup",
                                             timeout=None) as client:
                    api = Api({"/": client})
                    steps: list[tuple[str, int, Callable[[], Awaitable[Rate]]]] = [
                        ("invoice", options.bulk_rows, lambda: post_bulk(
                            api, BULK_INVOICES, "invoice", bulk_invoices, options.batch_size,
                            options.profile, runtime.engine)),
                        ("payment", options.bulk_rows, lambda: post_bulk(
                            api, BULK_PAYMENTS, "payment", bulk_payments, options.batch_size,
                            options.profile, runtime.engine)),
                        ("invoice", options.single_rows, lambda: post_single(
                            api, SINGLE_INVOICES, "/ledger/v1/invoices", single_invoices,
                            options.concurrency)),
                        ("payment", options.single_rows, lambda: post_single(
                            api, SINGLE_PAYMENTS, "/ledger/v1/payments", single_payments,
                            options.concurrency)),
                    ]
                    for kind, rows, step in steps:
                        if rows < 1:
                            continue
                        before = await table_counts(connection)
                        rate = await step()
                        after = await table_counts(connection)
                        if rate.count:
                            result.writes_per_document[rate.label] = {
                                t: (after[t] - before[t]) / rate.count for t in PLAIN_WRITE_TABLES
                                if after[t] != before[t]}
                        result.posting.append(rate)
                        print(f"  {rate.label}: {rate.count:,} {kind}s in {rate.seconds:.1f} s = "
                              f"{fmt_rate(rate.per_second)}/s"
                              + (f"; FAILED: {rate.error}" if rate.error else ""), flush=True)
            # The baselines once the app (and its outbox relay) has stopped: on a quiet
            # database, and no relay picks up the reference's outbox rows. The same rows, at
            # least BASELINE_ROWS of them (a few thousand take a few milliseconds: too short
            # to time well), with ids of their own.
            print("  baselines: raw inserts and the set-based reference ...", flush=True)
            count = max(BASELINE_ROWS, options.bulk_rows)
            base_invoices = invoice_rows("R", count, customers)
            for kind, rows in (("invoice", base_invoices), ("payment", payment_rows(base_invoices))):
                result.baselines[kind] = await raw_baseline(connection, kind, rows, options.repeat)
            result.reference = await ledger_rows_reference(connection, count, customers,
                                                           options.repeat)
        finally:
            await connection.close()


# --- 2. aging and sweep over a large book ---------------------------------------------------
AS_OF = date(2026, 6, 30)
BOOK_POSTS = 50  # invoices posted into the book before and after the sweep
OLDEST_DUE_DAYS = 499  # due dates from AS_OF - 499 to AS_OF + 29: every aging bucket is used


def book(invoices: int, customers: int) -> tuple[list[tuple], list[tuple], list[tuple], list[tuple]]:
    """Rows for ledger_customer, invoice, credit_document and allocation: `invoices` open
    invoices (one in 20 in USD, the rest in CNY), one in ten partly paid by a payment."""
    recorded_at = datetime.now(UTC)
    customer_rows = [(f"K{c:05d}", "net_days", 30, 0, 0) for c in range(customers)]
    invoice_rows_, payments, allocations = [], [], []
    span = OLDEST_DUE_DAYS + 30
    for n in range(invoices):
        customer = f"K{n % customers:05d}"
        amount = 10_000 + (n * 7_919) % 990_000
        due = AS_OF - timedelta(days=OLDEST_DUE_DAYS) + timedelta(days=(n * 104_729) % span)
        issue = due - timedelta(days=30)
        currency = "USD" if n % 20 == 7 else "CNY"
        invoice_id = f"INV{n:08d}"
        open_amount = amount
        if n % 10 == 3:  # partly paid the day after it was issued
            paid = amount // 3
            open_amount -= paid
            payment_id = f"PAY{n:08d}"
            paid_on = issue + timedelta(days=1)
            payments.append(("payment", payment_id, customer, paid, currency, paid_on,
                              "bank_transfer", 0, "bench", recorded_at))
            allocations.append(("payment", payment_id, invoice_id, paid, paid_on))
        invoice_rows_.append((invoice_id, "invoice", customer, amount, currency, issue, due,
                              open_amount, "bench", recorded_at))
    return customer_rows, invoice_rows_, payments, allocations


async def load_book(connection: asyncpg.Connection, invoices: int, customers: int) -> None:
    customer_rows, invoice_rows_, payments, allocations = book(invoices, customers)
    await connection.copy_records_to_table(
        "ledger_customer", records=customer_rows,
        columns=["customer_id", "terms_mode", "terms_days", "terms_version", "balance_version"])
    await connection.copy_records_to_table(
        "invoice", records=invoice_rows_,
        columns=["id", "kind", "customer_id", "amount", "currency", "issue_date", "due_date",
                 "open_amount", "recorded_by", "recorded_at"])
    await connection.copy_records_to_table(
        "credit_document", records=payments,
        columns=["kind", "id", "customer_id", "amount", "currency", "document_date", "method",
                 "unapplied", "recorded_by", "recorded_at"])
    await connection.copy_records_to_table(
        "allocation", records=allocations,
        columns=["document_kind", "document_id", "invoice_id", "amount", "effective_on"])
    await connection.execute("VACUUM ANALYZE")


def aging_sql() -> str:
    """The aging totals per customer, currency and bucket in one statement, written by hand:
    open as of $1 = amount less the allocations effective by then; and, as the bucket
    'unapplied', the credit not applied by then (credit documents less their allocations)."""
    whens = " ".join(
        f"WHEN $1::date - i.due_date <= {high} THEN '{label}'"
        for label, _, high in BUCKETS if high is not None)
    return f"""
        SELECT i.customer_id, i.currency, CASE {whens} ELSE '{BUCKETS[-1][0]}' END AS bucket,
               SUM(i.amount - COALESCE(p.paid, 0)) AS amount
          FROM invoice i
          LEFT JOIN (SELECT invoice_id, SUM(amount) AS paid FROM allocation
                      WHERE effective_on <= $1 GROUP BY invoice_id) p ON p.invoice_id = i.id
         WHERE i.issue_date <= $1 AND i.amount - COALESCE(p.paid, 0) > 0
         GROUP BY 1, 2, 3
        UNION ALL
        SELECT c.customer_id, c.currency, 'unapplied', SUM(c.amount - COALESCE(u.used, 0))
          FROM credit_document c
          LEFT JOIN (SELECT document_kind, document_id, SUM(amount) AS used FROM allocation
                      WHERE effective_on <= $1 GROUP BY 1, 2) u
                 ON u.document_kind = c.kind AND u.document_id = c.id
         WHERE c.document_date <= $1 AND c.amount - COALESCE(u.used, 0) > 0
         GROUP BY 1, 2"""


def aging_cells(report: dict[str, Any]) -> dict[tuple[str, str, str], int]:
    cells = {(row["customer_id"], row["currency"], label): amount
             for row in report["customers"] for label, amount in row["buckets"].items() if amount}
    return cells | {(row["customer_id"], row["currency"], "unapplied"): row["unapplied"]
                    for row in report["customers"] if row["unapplied"]}


async def measure_aging(runtime: ServiceRuntime, connection: asyncpg.Connection,
                        options: Options, result: Result) -> None:
    statement = aging_sql()
    ours, theirs = [], []
    report: dict[str, Any] = {}
    rows: list[asyncpg.Record] = []
    for attempt in range(options.repeat):  # alternating, so that neither has the warmer cache
        started = time.perf_counter()
        rows = await connection.fetch(statement, AS_OF)
        theirs.append(time.perf_counter() - started)
        with profiled(options.profile and attempt == 0, "queries.aging"), statement_times(
                runtime.engine, options.profile and attempt == 0, "queries.aging"):
            started = time.perf_counter()
            async with runtime.read_sessions() as session:
                report = await queries.aging(session, AS_OF)
            ours.append(time.perf_counter() - started)
    result.aging = Timing("queries.aging (customer, currency, bucket)", ours,
                          note=f"{len(report.get('customers', []))} customer x currency rows")
    result.aging_sql = Timing("hand-written SQL aggregate (asyncpg)", theirs,
                              note=f"{len(rows)} customer x currency x bucket rows")
    expected = {(r["customer_id"], r["currency"], r["bucket"]): r["amount"] for r in rows}
    got = aging_cells(report)
    if got == expected:
        result.aging_agree = (f"yes: {len(got):,} non-zero cells, total "
                              f"{sum(got.values()):,} minor units")
    else:
        differ = sorted(k for k in set(got) | set(expected) if got.get(k) != expected.get(k))
        result.aging_agree = (f"NO: {len(differ)} cells differ, e.g. {differ[0]}: aging "
                              f"{got.get(differ[0])}, SQL {expected.get(differ[0])}")
        result.problems.append(f"aging and the hand-written SQL disagree ({len(differ)} cells)")


SWEEP_SQL = """
    WITH due AS (
        SELECT id, customer_id, currency, open_amount, due_date, $1::date - due_date AS days
          FROM invoice WHERE open_amount > 0 AND due_date < $1),
    news AS (
        SELECT d.*, t.threshold FROM due d JOIN unnest($2::int[]) AS t(threshold) ON d.days >= t.threshold
         WHERE NOT EXISTS (SELECT 1 FROM {prior} n
                            WHERE n.invoice_id = d.id AND n.threshold_days = t.threshold)),
    written AS (
        INSERT INTO {target} (invoice_id, threshold_days, as_of)
        SELECT id, threshold, $1 FROM news)
    SELECT id, customer_id, currency, open_amount, due_date, days,
           bool_or(threshold = 1) AS missed, max(threshold) FILTER (WHERE threshold > 1) AS aged
      FROM news GROUP BY id, customer_id, currency, open_amount, due_date, days"""

POSITIONS_SQL = """
    WITH declared AS (SELECT invoice_id FROM {prior} WHERE threshold_days = 1
                      UNION SELECT invoice_id FROM {target} WHERE threshold_days = 1),
    owed AS (
        SELECT i.customer_id, i.currency, SUM(i.open_amount) AS balance,
               SUM(i.open_amount) FILTER (WHERE d.invoice_id IS NOT NULL) AS overdue,
               MIN(i.due_date) FILTER (WHERE d.invoice_id IS NOT NULL) AS oldest
          FROM invoice i LEFT JOIN declared d ON d.invoice_id = i.id
         WHERE i.open_amount > 0 AND i.customer_id = ANY($1::text[])
         GROUP BY 1, 2),
    credit AS (
        SELECT customer_id, currency, SUM(unapplied) AS unapplied FROM credit_document
         WHERE unapplied > 0 AND customer_id = ANY($1::text[]) GROUP BY 1, 2)
    SELECT COALESCE(o.customer_id, c.customer_id) AS customer_id,
           COALESCE(o.currency, c.currency) AS currency,
           COALESCE(o.balance, 0) - COALESCE(c.unapplied, 0) AS balance,
           COALESCE(o.overdue, 0) AS overdue, o.oldest
      FROM owed o FULL JOIN credit c ON c.customer_id = o.customer_id AND c.currency = o.currency"""


async def sweep_by_hand(connection: asyncpg.Connection, prior: str = "overdue_notice",
                        target: str = "bench_overdue_notice") -> tuple[float, dict[str, int]]:
    """The sweep set-based: the notices not in `prior` by INSERT ... SELECT into `target`, a
    new copy of overdue_notice, and what its events carry (one row per invoice with news, one
    per customer and currency with a missed payment) fetched; no envelopes built, no outbox
    written. After the sweep, `prior` is an empty copy: overdue_notice as it was before."""
    for table in {prior, target} - {"overdue_notice"}:
        await connection.execute(f"DROP TABLE IF EXISTS {table}")
        await connection.execute(f"CREATE TABLE {table} (LIKE overdue_notice INCLUDING ALL)")
    started = time.perf_counter()
    async with connection.transaction():
        news = await connection.fetch(SWEEP_SQL.format(prior=prior, target=target), AS_OF,
                                      list(THRESHOLDS))
        missed_customers = sorted({r["customer_id"] for r in news if r["missed"]})
        positions = await connection.fetch(POSITIONS_SQL.format(prior=prior, target=target),
                                           missed_customers)
    seconds = time.perf_counter() - started
    return seconds, {"payment_missed": sum(r["missed"] for r in news),
                     "invoice_aged": sum(r["aged"] is not None for r in news),
                     "balance_changed": len(missed_customers), "positions": len(positions)}


async def settle(connection: asyncpg.Connection, *tables: str) -> None:
    """Untimed: what a run left for later (autovacuum of millions of new rows, dirty pages to
    checkpoint) would otherwise run during the next one and be charged to it."""
    await connection.execute(f"VACUUM ANALYZE {', '.join(tables)}")
    await connection.execute("CHECKPOINT")


async def measure_sweep(runtime: ServiceRuntime, connection: asyncpg.Connection,
                        options: Options, result: Result) -> None:
    print("  sweep, set-based SQL ...", flush=True)
    seconds, result.sweep_sql_counts = await sweep_by_hand(connection)
    result.sweep_sql_runs.append(seconds)
    print(f"    {seconds:.2f} s", flush=True)
    await settle(connection, "bench_overdue_notice")
    print("  sweep, sweep.run_sweep ...", flush=True)
    outbox_before = await connection.fetchval("SELECT count(*) FROM outbox")
    with profiled(options.profile, "sweep.run_sweep", limit=18), \
            StatementTimer(runtime.engine) as timer:
        started = time.perf_counter()
        result.sweep_result = await sweep.sweep(runtime, AS_OF, "bench")
        result.sweep_work = time.perf_counter() - started
    result.sweep_db = timer.seconds
    result.sweep_statements = sum(len(times) for times in timer.calls.values())
    result.sweep_top = sorted(((key, len(times), sum(times)) for key, times in timer.calls.items()),
                              key=lambda row: -row[2])[:5]
    result.sweep_growing = timer.growing()
    result.sweep_events = await connection.fetchval("SELECT count(*) FROM outbox") - outbox_before
    print(f"    {result.sweep_work:.2f} s, {result.sweep_events:,} events", flush=True)
    # The baseline again, on the machine as it is now (other work on a shared machine
    # changes within minutes): the mean of the two runs is the baseline.
    await settle(connection, "overdue_notice", "outbox")
    print("  sweep, set-based SQL again ...", flush=True)
    seconds, again_counts = await sweep_by_hand(connection, "bench_prior_notice",
                                                "bench_overdue_notice_after")
    result.sweep_sql_runs.append(seconds)
    result.sweep_sql = statistics.mean(result.sweep_sql_runs)
    print(f"    {seconds:.2f} s", flush=True)
    if again_counts != result.sweep_sql_counts:
        result.problems.append("the set-based SQL answered otherwise the second time")
    for table in ("bench_prior_notice", "bench_overdue_notice_after"):
        await connection.execute(f"DROP TABLE {table}")
    started = time.perf_counter()
    again = await sweep.sweep(runtime, AS_OF, "bench")
    result.sweep_again = time.perf_counter() - started
    if again["events"]:
        result.problems.append(f"the same sweep again announced {again['events']} events")
    counts = await connection.fetchrow("""
        SELECT (SELECT count(*) FROM (SELECT invoice_id, threshold_days, as_of FROM overdue_notice
                EXCEPT SELECT invoice_id, threshold_days, as_of FROM bench_overdue_notice) a) AS extra,
               (SELECT count(*) FROM (SELECT invoice_id, threshold_days, as_of FROM bench_overdue_notice
                EXCEPT SELECT invoice_id, threshold_days, as_of FROM overdue_notice) b) AS missing,
               (SELECT count(*) FROM overdue_notice) AS notices""")
    same_counts = all(result.sweep_result.get(k) == result.sweep_sql_counts[k]
                      for k in ("payment_missed", "invoice_aged", "balance_changed"))
    if counts["extra"] == 0 and counts["missing"] == 0 and same_counts:
        result.sweep_agree = (f"yes: {counts['notices']:,} notices identical; "
                              f"{result.sweep_sql_counts['payment_missed']:,} missed, "
                              f"{result.sweep_sql_counts['invoice_aged']:,} aged, "
                              f"{result.sweep_sql_counts['balance_changed']:,} balances")
    else:
        result.sweep_agree = (f"NO: sweep {result.sweep_result}, SQL {result.sweep_sql_counts}; "
                              f"notices only the sweep wrote {counts['extra']}, only the SQL "
                              f"{counts['missing']}")
        result.problems.append("the sweep and the set-based SQL disagree")


async def post_into_book(runtime: ServiceRuntime, when: str, count: int, customers: int,
                         result: Result) -> None:
    """`count` invoices posted one by one into the book, each in its own unit of work, as
    POST /ledger/v1/invoices does (without HTTP). Due after AS_OF: the sweep ignores them."""
    times = []
    for n in range(count):
        started = time.perf_counter()
        async with runtime.unit_of_work("bench") as uow:
            await handlers.post_invoice(uow, PostInvoice(
                id=f"NEW-{when}-{n:05d}", customer_id=f"K{(n * 7) % customers:05d}",
                amount=100_000, currency="CNY", issue_date=AS_OF))
            await uow.commit()
        times.append(time.perf_counter() - started)
    result.book_posts[when] = times


@contextlib.asynccontextmanager
async def ledger_runtime(url: str) -> AsyncIterator[ServiceRuntime]:
    """The ledger's runtime without an app: migrated, no relay, no consumer, no HTTP."""
    with tempfile.TemporaryDirectory(prefix="recoup-bench-") as tmp:
        settings = embedded_settings(Path(tmp), database_url_ledger=url, migrate_on_start=True)
        (definition,) = services.load(["ledger"])
        runtime = ServiceRuntime(definition, settings, Keyring.parse(API_KEYS_SPEC),
                                 InProcessTransport())
        try:
            await runtime.migrate()
            yield runtime
        finally:
            await runtime.close()


async def at_scale(options: Options, url: str, result: Result) -> None:
    result.invoices, result.customers = options.invoices, options.invoice_customers
    async with ledger_runtime(url) as runtime:
        connection = await asyncpg.connect(dsn(url))
        try:
            print(f"  loading {options.invoices:,} open invoices for {options.invoice_customers:,} "
                  "customers (COPY) ...", flush=True)
            started = time.perf_counter()
            await load_book(connection, options.invoices, options.invoice_customers)
            result.load_seconds = time.perf_counter() - started
            result.overdue = await connection.fetchval(
                "SELECT count(*) FROM invoice WHERE open_amount > 0 AND due_date < $1", AS_OF)
            print(f"    {result.load_seconds:.1f} s; {result.overdue:,} of them overdue as of "
                  f"{AS_OF}", flush=True)
            print(f"  aging as of {AS_OF}, {options.repeat} times each ...", flush=True)
            await measure_aging(runtime, connection, options, result)
            print(f"    aging median {result.aging.median:.2f} s, hand-written "
                  f"{result.aging_sql.median:.2f} s; agree: {result.aging_agree}", flush=True)
            if options.sweep:
                await post_into_book(runtime, "before the sweep", BOOK_POSTS,
                                     options.invoice_customers, result)
                await measure_sweep(runtime, connection, options, result)
                await post_into_book(runtime, "after the sweep", BOOK_POSTS,
                                     options.invoice_customers, result)
        finally:
            await connection.close()


# --- the whole benchmark and its report -----------------------------------------------------
async def run(options: Options) -> Result:
    await check_available()
    result = Result()
    async with postgres_databases(["ledger_post", "ledger_scale"]) as urls:
        if options.bulk_rows or options.single_rows:
            print("\n-- ledger 1: posting throughput (app in-process, PostgreSQL)", flush=True)
            await posting(options, urls["ledger_post"], result)
        if options.invoices:
            print("\n-- ledger 2: aging and sweep over a large book", flush=True)
            await at_scale(options, urls["ledger_scale"], result)
    report(options, result)
    return result


def fmt_rate(value: float) -> str:
    return "-" if value != value else f"{value:,.0f}"


def fmt_s(value: float | None) -> str:
    if value is None or value != value:
        return "-"
    return f"{value:,.2f}" if value < 100 else f"{value:,.0f}"


def fmt_x(value: float, base: float) -> str:
    if not base or value != value or base != base:
        return "-"
    r = value / base
    if r <= 0:
        return "0x"
    return f"1/{1 / r:,.0f}" if r < 0.1 else f"{r:,.2f}x"


def report(options: Options, result: Result) -> None:
    print("\n== ledger at scale (PostgreSQL; x = ratio to the baseline measured in this run)")
    if result.posting:
        print(f"\n  {'posting throughput':<34}{'rows':>7}{'s':>7}{'rows/s':>9}{'x raw':>8}  note")
        for kind in ("invoice", "payment"):
            base = result.baselines.get(kind)
            if base:
                print(f"  {'BASELINE raw insert, ' + kind + 's':<34}{base.count:>7,}"
                      f"{base.seconds:>7.2f}{fmt_rate(base.per_second):>9}{'1x':>8}  {base.note}")
            if kind == "invoice" and result.reference and base:
                ref = result.reference
                print(f"  {ref.label:<34}{ref.count:>7,}{ref.seconds:>7.2f}"
                      f"{fmt_rate(ref.per_second):>9}{fmt_x(ref.per_second, base.per_second):>8}"
                      f"  {ref.note}")
            for rate in result.posting:
                if kind in rate.label:
                    status = f"FAILED after {rate.count:,}: {rate.error}" if rate.error else rate.note
                    share = fmt_x(rate.per_second, base.per_second) if base else "-"
                    print(f"  {rate.label:<34}{rate.count:>7,}{rate.seconds:>7.1f}"
                          f"{fmt_rate(rate.per_second):>9}{share:>8}  {status}")
        bulk = [r for r in result.posting if r.label.startswith("bulk") and not r.error]
        for rate in bulk:
            kind = "invoice" if "invoice" in rate.label else "payment"
            base = result.baselines.get(kind)
            if base:
                met = rate.per_second >= AIM_BULK_SHARE * base.per_second
                print(f"  aim ({rate.label.split(' (')[0]} >= 1/3 of raw insert): "
                      f"{'met' if met else 'NOT met'} ({fmt_x(rate.per_second, base.per_second)})")
            if kind == "invoice" and result.reference:
                print(f"  {rate.label.split(' (')[0]} against the set-based reference (the same "
                      f"rows the ledger writes, executemany): "
                      f"{fmt_x(rate.per_second, result.reference.per_second)}")
        if result.writes_per_document:
            print("  rows the ledger wrote per document (the raw baseline writes 1):")
            for label, writes in result.writes_per_document.items():
                total = sum(writes.values())
                parts = ", ".join(f"{t} {n:.2g}" for t, n in writes.items())
                print(f"    {label.split(' (')[0]:<26} {total:.3g} rows: {parts}")
    if result.aging:
        print(f"\n  book: {result.invoices:,} open invoices, {result.customers:,} customers, "
              f"{result.overdue:,} overdue as of {AS_OF} (loaded by COPY in "
              f"{result.load_seconds:.1f} s)")
        base = result.aging_sql
        print(f"  {'aging report':<44}{'median s':>9}{'min s':>8}{'x':>8}")
        print(f"  {'BASELINE ' + base.label:<44}{fmt_s(base.median):>9}{fmt_s(min(base.seconds)):>8}"
              f"{'1x':>8}  {base.note}")
        ours = result.aging
        print(f"  {ours.label:<44}{fmt_s(ours.median):>9}{fmt_s(min(ours.seconds)):>8}"
              f"{fmt_x(ours.median, base.median):>8}  {ours.note}")
        met = ours.median <= AIM_AGING_RATIO * base.median
        print(f"  results agree: {result.aging_agree}")
        print(f"  aim (aging <= 2x the hand-written query): {'met' if met else 'NOT met'} "
              f"({fmt_x(ours.median, base.median)})")
    if result.sweep_work is not None:
        report_sweep(result)
    elif result.aging and result.invoices < 1_000_000:
        factor = 1_000_000 / result.invoices
        print(f"  linear extrapolation to 1,000,000 invoices (x{factor:,.0f}): aging about "
              f"{result.aging.median * factor:,.1f} s, hand-written "
              f"{result.aging_sql.median * factor:,.1f} s")
    for problem in result.problems:
        print(f"  !! {problem}")


def report_sweep(result: Result) -> None:
    base = result.sweep_sql or float("nan")
    total = result.sweep_work or float("nan")
    print(f"\n  {'overdue sweep':<58}{'s':>8}{'x':>9}")
    runs = " and ".join(fmt_s(r) for r in result.sweep_sql_runs)
    print(f"  {'BASELINE set-based SQL (INSERT ... SELECT notices + news)':<58}{fmt_s(base):>8}"
          f"{'1x':>9}  mean of the runs before and after the sweep: {runs}")
    print(f"  {'sweep.run_sweep (chunks committed, outbox rows included)':<58}{fmt_s(total):>8}"
          f"{fmt_x(total, base):>9}")
    print(f"  {'  of which waiting for its ' + format(result.sweep_statements, ',') + ' statements':<58}"
          f"{fmt_s(result.sweep_db):>8}")
    print(f"  {'the same sweep again (nothing new)':<58}{fmt_s(result.sweep_again):>8}"
          f"{fmt_x(result.sweep_again or float('nan'), base):>9}")
    met = total <= AIM_AGING_RATIO * base
    print(f"  aim (sweep <= 2x the hand-written query): {'met' if met else 'NOT met'} "
          f"({fmt_x(total, base)})")
    r = result.sweep_result
    print(f"  the sweep answered {r.get('payment_missed', 0):,} payment.missed, "
          f"{r.get('invoice_aged', 0):,} invoice.aged, {r.get('balance_changed', 0):,} "
          f"balance.changed; {result.sweep_events:,} outbox rows written")
    print(f"  results agree: {result.sweep_agree}")
    print("  the sweep's longest statements (total s, calls):")
    for key, calls, seconds in result.sweep_top:
        print(f"  | {seconds:8.2f} s {calls:>7,}x  {key[:110]}")
    growing = sum(t for _, _, t in result.sweep_growing.values())
    for key, (first, last, _) in result.sweep_growing.items():
        print(f"  | grows as the sweep goes: {first * 1000:.2f} ms per call in the first tenth, "
              f"{last * 1000:.2f} ms in the last tenth: {key[:60]}")
    before, after = (result.book_posts.get(w) for w in ("before the sweep", "after the sweep"))
    if before and after:
        b, a = statistics.median(before) * 1000, statistics.median(after) * 1000
        print(f"  posting one invoice into this book (handlers.post_invoice in its own unit of work, "
              f"median of {len(after)}): before the sweep {b:.1f} ms, after it {a:.1f} ms "
              f"= {a / b:,.1f}x")
    if result.overdue and result.invoices < 1_000_000:
        k = 1_000_000 / result.invoices
        linear = (total - growing) * k + growing * k * k
        print(f"  extrapolated to 1,000,000 invoices (x{k:,.0f}, the same invoices per customer): "
              f"set-based SQL about {base * k:,.0f} s; sweep about {total * k / 60:,.0f} min if "
              f"linear, about {linear / 60:,.0f} min with the growing statements' share "
              f"({growing:,.1f} s here) growing with the square; aging about "
              f"{result.aging.median * k:,.1f} s (hand-written {result.aging_sql.median * k:,.1f} s)")
