"""The overdue sweep, set-based, a transaction per chunk of customers.

For an `as_of` date, every open invoice past its due date is announced once as a missed
payment (`ledger.payment.missed`), and again at each age threshold it crosses
(`ledger.invoice.aged`, the highest one crossed since the last sweep); customers with a new
missed payment announce their position first (`ledger.balance.changed`), so that the news
carries that version.

Per chunk: lock the next customers with overdue items (in key order, like every posting,
so the two never deadlock); record the notices not given yet with one
`INSERT ... SELECT ... RETURNING` of the thresholds crossed less the notices already there
(grouped per invoice in the same statement on PostgreSQL; see `_record_notices`); if
anything is new, read the open invoices of the customers with
news (what the events carry, and the positions' totals) and their unapplied credit; write
the events out (EventEncoder: no model per event); commit. The notices make the sweep
idempotent per invoice and threshold, so chunks commit on their own: a re-run, or a
run after a crash midway, announces only what was not announced, and concurrent sweeps
take turns on the customers' locks. A payment either committed before its customer's chunk
locked it (the invoice is no longer open: no news) or waits for the chunk's commit (and
announces a later version).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import date
from typing import Any, NamedTuple

from sqlalchemy import (
    Date,
    Integer,
    case,
    exists,
    func,
    insert,
    literal,
    literal_column,
    select,
    text,
    true,
    union_all,
    update,
)

from services.ledger.config import LedgerConfig
from services.ledger.domain.aging import overdue_announcements, threshold_cutoffs
from services.ledger.domain.commands import RunSweep
from services.ledger.domain.position import CurrencyTotals, position
from services.ledger.store import CREDIT, CUSTOMER, INVOICE, NOTICE, OPEN, UNAPPLIED
from shared.db import UnitOfWork, conflict_insert, money_sum
from shared.events import contracts as ev
from shared.runtime import ServiceRuntime

# The first sweep over a large book multiplies the notices table within minutes, faster
# than autovacuum analyzes it; planned as if it were still small, the lookups of notices
# (in the positions here, in every posting's load) read it whole each time. So when the
# sweep has added more than the table held at its last analysis (and at least this many),
# it analyzes it.
ANALYZE_FROM = 10_000


async def sweep(runtime: ServiceRuntime, as_of: date, actor: str) -> dict[str, Any]:
    """The sweep as the job and the API run it: chunks committed one by one (this is the
    edge that commits), by `sweep_workers` at a time on PostgreSQL (one database core works
    on a chunk's statements while this process builds another's events), one on SQLite
    (one writer at a time anyway)."""
    config = runtime.config or LedgerConfig()
    workers = 1 if runtime.database_url.startswith("sqlite") else config.sweep_workers
    return await run_sweep(lambda: runtime.unit_of_work(actor), RunSweep(as_of=as_of),
                           chunk=config.sweep_chunk_customers, workers=workers)


async def run_sweep(unit_of_work: Callable[[], UnitOfWork], cmd: RunSweep, *,
                    chunk: int = 200, workers: int = 1) -> dict[str, Any]:
    """Chunks of `chunk` customers, handed out in key order to `workers` tasks, each chunk
    in a unit of work of its own; answers what was announced."""
    counts: Counter[str] = Counter()
    cursor: dict[str, Any] = {"after": None, "done": False}
    hand_out = asyncio.Lock()  # chunks are taken in key order, one after the other
    # While chunks find news, one records its notices at a time while the others write their
    # events and commit: two inserting into the same table and indexes at once slow each
    # other down. When the last chunk found nothing new (a re-run, most days' sweep), only
    # looking is left to do, and two look faster than one.
    recording = asyncio.Lock()
    finding = {"news": True}
    statistics = _NoticeStatistics()

    async def work() -> None:
        while not cursor["done"]:
            async with unit_of_work() as uow:
                async with hand_out:
                    if cursor["done"]:
                        return
                    versions = await _lock_next(uow, cmd.as_of, cursor["after"], chunk)
                    if not versions:
                        cursor["done"] = True
                        return
                    cursor["after"] = next(reversed(versions))
                chunk_counts = await sweep_chunk(uow, versions, cmd.as_of,
                                                 recording if finding["news"] else None)
                await uow.commit()
            finding["news"] = chunk_counts["notices"] > 0
            counts.update(chunk_counts)
            await statistics.added(unit_of_work, chunk_counts["notices"])

    try:
        async with asyncio.TaskGroup() as group:
            for _ in range(workers):
                group.create_task(work())
    except* Exception as failed:  # what is committed stays: a re-run announces the rest
        raise failed.exceptions[0] from None
    return {"as_of": cmd.as_of, "payment_missed": counts["payment_missed"],
            "invoice_aged": counts["invoice_aged"], "balance_changed": counts["balance_changed"],
            "events": counts["payment_missed"] + counts["invoice_aged"] + counts["balance_changed"]}


class _NoticeStatistics:
    """Keeps PostgreSQL's estimate of the notices table within a factor of two of the truth
    while the sweep grows it (see ANALYZE_FROM)."""

    def __init__(self) -> None:
        self._known: float | None = None  # rows at the last analysis
        self._added = 0
        self._lock = asyncio.Lock()
        self._applies = True  # False once the database is known not to be PostgreSQL

    async def added(self, unit_of_work: Callable[[], UnitOfWork], notices: int) -> None:
        self._added += notices
        # Opening a transaction only to find there is nothing to do would cost one per chunk
        # (on SQLite, the database's write lock): only when an analysis may be due.
        if (not self._applies or self._added < ANALYZE_FROM or self._lock.locked()
                or (self._known is not None and self._added < self._known)):
            return
        async with self._lock, unit_of_work() as uow:
            if uow.session.bind.dialect.name != "postgresql":
                self._applies = False
                return
            if self._known is None:
                self._known = max(0.0, (await uow.session.execute(text(
                    "SELECT reltuples FROM pg_class WHERE oid = 'overdue_notice'::regclass"
                ))).scalar_one())
            if self._added >= self._known:
                added, self._added = self._added, 0
                await uow.session.execute(text("ANALYZE overdue_notice"))
                await uow.commit()
                self._known += added


async def _lock_next(uow: UnitOfWork, as_of: date, after: str | None, size: int
                     ) -> dict[str, int]:
    """The next `size` customers after `after` with overdue open items, locked in key
    order: customer -> balance version."""
    overdue = exists().where(INVOICE.c.customer_id == CUSTOMER.c.customer_id, OPEN,
                             INVOICE.c.due_date < as_of)
    query = select(CUSTOMER.c.customer_id, CUSTOMER.c.balance_version).where(overdue)
    if after is not None:
        query = query.where(CUSTOMER.c.customer_id > after)
    return dict((await uow.session.execute(
        query.order_by(CUSTOMER.c.customer_id).limit(size).with_for_update())).all())


async def sweep_chunk(uow: UnitOfWork, versions: dict[str, int], as_of: date,
                      recording: asyncio.Lock | None = None) -> Counter[str]:
    """Record and emit the news of these customers (locked: customer -> balance version);
    `recording`, if given, is held while the notices are recorded."""
    counts: Counter[str] = Counter()
    async with recording or contextlib.nullcontext():
        new = await _record_notices(uow, list(versions), as_of)
    if not new:
        return counts
    counts["notices"] = sum(count for _, _, count in new.values())
    items = await _open_items(uow, list(versions), as_of, new)
    news = [item for item in items if item.lowest is not None]
    missed = sorted({item.customer_id for item in news if item.lowest == 1})
    balances = await _positions(uow, missed, items) if missed else {}
    if missed:
        await uow.session.execute(update(CUSTOMER).where(CUSTOMER.c.customer_id.in_(missed))
                                  .values(balance_version=CUSTOMER.c.balance_version + 1))
        for customer_id in missed:
            versions[customer_id] += 1
    _emit(uow, as_of, news, balances, versions, counts)
    return counts


class _Item(NamedTuple):
    """An open invoice of a customer with news, and what this sweep newly noticed of it."""

    invoice_id: str
    customer_id: str
    currency: str
    open_amount: int
    due_date: date
    lowest: int | None  # the lowest and highest thresholds newly noticed, None if none
    highest: int | None
    declared: bool  # has a missed-payment notice (new or old): counts as overdue


async def _record_notices(uow: UnitOfWork, customers: list[str], as_of: date
                          ) -> dict[str, tuple[int, int, int]]:
    """A notice for every (open invoice, threshold) crossed that has none yet; answers per
    invoice newly noticed: its customer, the lowest and highest new thresholds, how many.

    On PostgreSQL, a plain INSERT of the thresholds crossed less the notices the chunk's
    invoices already have, and the RETURNING grouped per invoice in the same statement (a
    CTE), so millions of notices need not cross the wire. The customers are locked, and
    whoever writes notices (the sweep; a posting that declares a debt missed, store.save)
    holds its customer's lock: so the notices read here are all there are, and the unique
    index refuses a duplicate all the same (the chunk then rolls back whole). ON CONFLICT
    DO NOTHING gets the same rows with half as much work again per notice (a probe of the
    unique index before each insert, a speculative insertion confirmed after it), and this
    insert is the sweep's critical path. SQLite (one writer at a time, no INSERT in a CTE)
    inserts with ON CONFLICT and groups the RETURNING here."""
    thresholds = union_all(*(
        select(literal(days, Integer).label("threshold_days"), literal(cutoff, Date).label("cutoff"))
        for days, cutoff in threshold_cutoffs(as_of))).subquery("threshold")
    crossed = select(INVOICE.c.id, thresholds.c.threshold_days, literal(as_of, Date)).where(
        INVOICE.c.customer_id.in_(customers), OPEN, INVOICE.c.due_date <= thresholds.c.cutoff)
    columns = ["invoice_id", "threshold_days", "as_of"]
    if uow.session.bind.dialect.name != "postgresql":
        statement = (conflict_insert(uow.session, NOTICE).from_select(columns, crossed)
                     .on_conflict_do_nothing(index_elements=["invoice_id", "threshold_days"])
                     .returning(NOTICE.c.invoice_id, NOTICE.c.threshold_days))
        noticed: dict[str, list[int]] = defaultdict(list)
        for invoice_id, days in await uow.session.execute(statement):
            noticed[invoice_id].append(days)
        return {invoice_id: (min(days), max(days), len(days))
                for invoice_id, days in noticed.items()}
    # Compiling this statement's expressions (JIT, for its cost estimate) takes longer than
    # running them over a chunk.
    await uow.session.execute(text("SET LOCAL jit = off"))
    # The notices already there: read whole before the first row goes in (MATERIALIZED; a
    # lookup per row, interleaved with the inserts, may be planned as a scan of the table
    # the statement grows), by the unique index (= ANY of an array: IN (SELECT ...) may be
    # planned as a hash of the whole notices table).
    chunk_invoices = select(INVOICE.c.id).where(INVOICE.c.customer_id.in_(customers), OPEN)
    had = (select(NOTICE.c.invoice_id, NOTICE.c.threshold_days)
           .where(NOTICE.c.invoice_id == func.any(func.array(chunk_invoices.scalar_subquery())))
           .cte("had").prefix_with("MATERIALIZED"))
    new = (insert(NOTICE)
           .from_select(columns, crossed.where(~exists().where(
               had.c.invoice_id == INVOICE.c.id, had.c.threshold_days == thresholds.c.threshold_days)))
           .returning(NOTICE.c.invoice_id, NOTICE.c.threshold_days)
           .cte("new"))
    return {invoice_id: (lowest, highest, count) for invoice_id, lowest, highest, count in
            await uow.session.execute(
                select(new.c.invoice_id, func.min(new.c.threshold_days),
                       func.max(new.c.threshold_days), func.count())
                .group_by(new.c.invoice_id))}


async def _open_items(uow: UnitOfWork, customers: list[str], as_of: date,
                      new: dict[str, tuple[int, int, int]]) -> list[_Item]:
    """The open invoices of the customers with news, in customer and due order: what the
    events carry, and the positions' totals."""
    # Declared missed = has a notice at 1 day. Those due by the first cutoff have one now
    # (recorded just now or before); only the others are looked up, each by the unique
    # index. A scalar subquery, not EXISTS or a join: PostgreSQL may run those as one hash
    # of the whole notices table, which grows with every chunk.
    (first, missed_cutoff), *_ = threshold_cutoffs(as_of)
    declared = case((INVOICE.c.due_date <= missed_cutoff, true()), else_=select(literal_column("1"))
                    .where(NOTICE.c.invoice_id == INVOICE.c.id,
                           NOTICE.c.threshold_days == literal_column(str(first)))
                    .scalar_subquery().is_not(None))
    rows = (await uow.session.execute(
        select(INVOICE.c.id, INVOICE.c.customer_id, INVOICE.c.currency, INVOICE.c.open_amount,
               INVOICE.c.due_date, declared)
        .where(INVOICE.c.customer_id.in_(customers), OPEN)
        .order_by(INVOICE.c.customer_id, INVOICE.c.due_date, INVOICE.c.id))).all()
    with_news = {row[1] for row in rows if row[0] in new}
    items = []
    for invoice_id, customer_id, currency, open_amount, due_date, is_declared in rows:
        if customer_id in with_news:
            lowest, highest, _ = new.get(invoice_id, (None, None, 0))
            items.append(_Item(invoice_id, customer_id, currency, open_amount, due_date,
                               lowest, highest, bool(is_declared)))
    return items


async def _positions(uow: UnitOfWork, customers: list[str], items: list[_Item]
                     ) -> dict[str, list[dict[str, Any]]]:
    """The customers' positions (the notices just recorded included): their open invoices
    are the chunk's items; their unapplied credit by one grouped query."""
    wanted = set(customers)
    totals: dict[str, dict[str, CurrencyTotals]] = defaultdict(dict)
    for item in items:
        if item.customer_id in wanted:
            per_currency = totals[item.customer_id]
            if (currency := per_currency.get(item.currency)) is None:
                currency = per_currency[item.currency] = CurrencyTotals()
            currency.add(item.open_amount, item.due_date if item.declared else None)
    unapplied: dict[str, dict[str, int]] = defaultdict(dict)
    for customer_id, currency, amount in await uow.session.execute(
        select(CREDIT.c.customer_id, CREDIT.c.currency, money_sum(CREDIT.c.unapplied))
        .where(CREDIT.c.customer_id.in_(customers), UNAPPLIED)
        .group_by(CREDIT.c.customer_id, CREDIT.c.currency)
    ):
        unapplied[customer_id][currency] = amount
    return {c: position(totals[c], unapplied[c]) for c in customers}


def _emit(uow: UnitOfWork, as_of: date, news: list[_Item],
          balances: dict[str, list[dict[str, Any]]], versions: dict[str, int],
          counts: Counter[str]) -> None:
    """Customer by customer: its new position first, then its news with that version. The
    events are written out from plain data by validated templates (EventEncoder): the same
    JSON as the contracts' models, at a fraction of the cost."""
    balance_changed = uow.encoder(ev.BalanceChanged)
    news_encoders = {contract.event_type: (uow.encoder(contract), counted) for contract, counted in (
        (ev.PaymentMissed, "payment_missed"), (ev.InvoiceAged, "invoice_aged"))}
    events = []
    announced: set[str] = set()
    for item in news:
        customer_id = item.customer_id
        version = versions[customer_id]
        if customer_id in balances and customer_id not in announced:
            announced.add(customer_id)
            events.append(balance_changed({"customer_id": customer_id, "version": version,
                                           "as_of": as_of, "balances": balances[customer_id]}))
        for event_type, data in overdue_announcements(
                customer_id=customer_id, invoice_id=item.invoice_id, currency=item.currency,
                open_amount=item.open_amount, due_date=item.due_date, as_of=as_of,
                lowest=item.lowest, highest=item.highest, balance_version=version):
            encode, counted = news_encoders[event_type]
            events.append(encode(data))
            counts[counted] += 1
    counts["balance_changed"] += len(announced)
    uow.emit_encoded(events)
