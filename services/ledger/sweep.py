"""The overdue sweep, set-based, a transaction per chunk of customers.

For an `as_of` date, every open invoice past its due date is announced once as a missed
payment (`ledger.payment.missed`), and again at each age threshold it crosses
(`ledger.invoice.aged`); customers with a new missed payment announce their position first
(`ledger.balance.changed`), so that the news carries that version.

Per chunk: lock the next customers with overdue items (in key order, like every posting,
so the two never deadlock), insert the notices not yet given with one
`INSERT ... SELECT ... ON CONFLICT DO NOTHING RETURNING`, read what the events carry for
the invoices that statement returned, the positions by one grouped query, and commit. The
notices make the sweep idempotent per invoice and threshold, so chunks commit on their
own: a re-run, or a run after a crash midway, announces only what was not announced, and
concurrent sweeps take turns on the customers' locks. A payment either committed before
its customer's chunk locked it (its invoice is no longer open: no news) or waits for the
chunk's commit (and announces a later version).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy import Date, Integer, exists, func, literal, literal_column, select, union_all, update
from sqlalchemy.dialects import postgresql, sqlite

from services.ledger.domain.aging import days_past_due, overdue_news, threshold_cutoffs
from services.ledger.domain.commands import RunSweep
from services.ledger.domain.position import CurrencyTotals, position
from services.ledger.store import CREDIT, CUSTOMER, INVOICE, NOTICE, OPEN, UNAPPLIED
from shared.db import UnitOfWork
from shared.events import contracts as ev

DEFAULT_CHUNK = 200


async def run_sweep(unit_of_work: Callable[[], UnitOfWork], cmd: RunSweep) -> dict[str, Any]:
    """The whole sweep, committing chunk by chunk (this is the edge that commits: the job
    and the API call it with a factory of units of work)."""
    counts: Counter[str] = Counter()
    after: str | None = None
    while True:
        async with unit_of_work() as uow:
            size = getattr(uow.config, "sweep_chunk_customers", DEFAULT_CHUNK)
            last, chunk_counts = await sweep_chunk(uow, cmd.as_of, after, size)
            await uow.commit()
        counts.update(chunk_counts)
        if last is None:
            break
        after = last
    return {"as_of": cmd.as_of, "payment_missed": counts["payment_missed"],
            "invoice_aged": counts["invoice_aged"], "balance_changed": counts["balance_changed"],
            "events": counts["payment_missed"] + counts["invoice_aged"] + counts["balance_changed"]}


async def sweep_chunk(uow: UnitOfWork, as_of: date, after: str | None, size: int
                      ) -> tuple[str | None, Counter[str]]:
    """The next `size` customers after `after` with overdue open items: lock them, record
    and emit their news. Answers the last customer handled (None: nothing was left)."""
    s = uow.session
    overdue = exists().where(INVOICE.c.customer_id == CUSTOMER.c.customer_id, OPEN,
                             INVOICE.c.due_date < as_of)
    chunk = select(CUSTOMER.c.customer_id, CUSTOMER.c.balance_version).where(overdue)
    if after is not None:
        chunk = chunk.where(CUSTOMER.c.customer_id > after)
    versions = dict((await s.execute(
        chunk.order_by(CUSTOMER.c.customer_id).limit(size).with_for_update())).all())
    counts: Counter[str] = Counter()
    if not versions:
        return None, counts
    customers = list(versions)

    new = await _record_notices(uow, customers, as_of)
    if new:
        news = await _news(uow, customers, as_of, new)
        missed = sorted({row["customer_id"] for row, is_missed, _ in news if is_missed})
        balances = await _positions(uow, missed) if missed else {}
        if missed:
            await s.execute(update(CUSTOMER).where(CUSTOMER.c.customer_id.in_(missed))
                            .values(balance_version=CUSTOMER.c.balance_version + 1))
            for customer_id in missed:
                versions[customer_id] += 1
        _emit(uow, as_of, news, balances, versions, counts)
    return customers[-1], counts


async def _record_notices(uow: UnitOfWork, customers: list[str], as_of: date
                          ) -> dict[str, set[int]]:
    """Insert a notice for every (open invoice, threshold) it has crossed that has none
    yet; answers the thresholds newly recorded per invoice."""
    thresholds = union_all(*(
        select(literal(days, Integer).label("threshold_days"), literal(cutoff, Date).label("cutoff"))
        for days, cutoff in threshold_cutoffs(as_of))).subquery("threshold")
    crossed = select(INVOICE.c.id, thresholds.c.threshold_days, literal(as_of, Date)).where(
        INVOICE.c.customer_id.in_(customers), OPEN, INVOICE.c.due_date <= thresholds.c.cutoff)
    dialect = postgresql if uow.session.bind.dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(NOTICE)
        .from_select(["invoice_id", "threshold_days", "as_of"], crossed)
        .on_conflict_do_nothing(index_elements=["invoice_id", "threshold_days"])
        .returning(NOTICE.c.invoice_id, NOTICE.c.threshold_days)
    )
    new: dict[str, set[int]] = defaultdict(set)
    for invoice_id, days in (await uow.session.execute(statement)).all():
        new[invoice_id].add(days)
    return new


async def _news(uow: UnitOfWork, customers: list[str], as_of: date, new: dict[str, set[int]]
                ) -> list[tuple[dict[str, Any], bool, int | None]]:
    """What the events of the newly noticed invoices carry, in customer and due order:
    (invoice fields, missed payment?, highest new age threshold)."""
    rows = (await uow.session.execute(
        select(INVOICE.c.id, INVOICE.c.customer_id, INVOICE.c.currency, INVOICE.c.open_amount,
               INVOICE.c.due_date)
        .where(INVOICE.c.customer_id.in_(customers), OPEN, INVOICE.c.due_date < as_of)
        .order_by(INVOICE.c.customer_id, INVOICE.c.due_date, INVOICE.c.id)
    )).all()
    news = []
    for invoice_id, customer_id, currency, open_amount, due_date in rows:
        thresholds = new.get(invoice_id)
        if thresholds:
            missed, aged = overdue_news(thresholds)
            news.append(({"customer_id": customer_id, "invoice_id": invoice_id,
                          "currency": currency, "open_amount": open_amount, "due_date": due_date,
                          "as_of": as_of, "days_past_due": days_past_due(due_date, as_of)},
                         missed, aged))
    return news


async def _positions(uow: UnitOfWork, customers: list[str]) -> dict[str, list[dict[str, Any]]]:
    """The customers' positions (the notices just recorded included), by two grouped queries."""
    declared = exists().where(NOTICE.c.invoice_id == INVOICE.c.id,
                              NOTICE.c.threshold_days == literal_column("1"))
    totals: dict[str, dict[str, CurrencyTotals]] = defaultdict(dict)
    for customer_id, currency, open_amount, overdue, oldest in (await uow.session.execute(
        select(INVOICE.c.customer_id, INVOICE.c.currency, func.sum(INVOICE.c.open_amount),
               func.sum(INVOICE.c.open_amount).filter(declared),
               func.min(INVOICE.c.due_date).filter(declared))
        .where(INVOICE.c.customer_id.in_(customers), OPEN)
        .group_by(INVOICE.c.customer_id, INVOICE.c.currency)
    )).all():
        totals[customer_id][currency] = CurrencyTotals(open_amount, overdue or 0, oldest)
    unapplied: dict[str, dict[str, int]] = defaultdict(dict)
    for customer_id, currency, amount in (await uow.session.execute(
        select(CREDIT.c.customer_id, CREDIT.c.currency, func.sum(CREDIT.c.unapplied))
        .where(CREDIT.c.customer_id.in_(customers), UNAPPLIED)
        .group_by(CREDIT.c.customer_id, CREDIT.c.currency)
    )).all():
        unapplied[customer_id][currency] = amount
    return {c: position(totals[c], unapplied[c]) for c in customers}


def _emit(uow: UnitOfWork, as_of: date, news: list[tuple[dict[str, Any], bool, int | None]],
          balances: dict[str, list[dict[str, Any]]], versions: dict[str, int],
          counts: Counter[str]) -> None:
    """Customer by customer: its new position first, then its news with that version."""
    announced: set[str] = set()
    for fields, missed, aged in news:
        customer_id = fields["customer_id"]
        if customer_id in balances and customer_id not in announced:
            announced.add(customer_id)
            uow.emit(ev.BalanceChanged(customer_id=customer_id, version=versions[customer_id],
                                       as_of=as_of, balances=balances[customer_id]))
            counts["balance_changed"] += 1
        if missed:
            uow.emit(ev.PaymentMissed(**fields, balance_version=versions[customer_id]))
            counts["payment_missed"] += 1
        if aged is not None:
            uow.emit(ev.InvoiceAged(**fields, balance_version=versions[customer_id],
                                    threshold_days=aged))
            counts["invoice_aged"] += 1
