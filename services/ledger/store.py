"""Loads the books that postings need and writes what they caused, set-based.

`load` locks the customers concerned in one statement, in key order (so that concurrent
batches, single POSTs and the sweep's chunks, which all lock that way, never deadlock),
then reads their open invoices, their unapplied credit and every document the commands
name by id: a handful of statements however many commands there are. `save` writes the
effects one statement per table for any number of rows (shared/bulk.py: COPY for many rows
on PostgreSQL, else executemany; updates by executemany), and hands the events to the unit
of work's outbox. The rules themselves are in `domain/books.py`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import bindparam, exists, literal_column, select, update

from services.ledger.domain.books import CREDITING, Books
from services.ledger.domain.commands import (
    ApplyCredit,
    PostCreditNote,
    PostInvoice,
    PostPayment,
    ReversePayment,
    WriteOff,
)
from services.ledger.domain.documents import Credit, Customer, Effects, Event, Invoice
from services.ledger.domain.terms import Terms
from services.ledger.tables import (
    Allocation,
    CreditDocument,
    JournalEntry,
    JournalLine,
    LedgerCustomer,
    OverdueNotice,
)
from services.ledger.tables import Invoice as InvoiceRow
from shared.bulk import insert_rows
from shared.clock import now
from shared.db import UnitOfWork, money_sum
from shared.events import EventEncoder
from shared.events.contracts import EVENT_TYPES, reversal_id

Command = PostInvoice | PostPayment | PostCreditNote | WriteOff | ApplyCredit | ReversePayment

INVOICE = InvoiceRow.__table__
CREDIT = CreditDocument.__table__
ALLOCATION = Allocation.__table__
CUSTOMER = LedgerCustomer.__table__
NOTICE = OverdueNotice.__table__
# Literal, not a bound parameter: the planners then use the partial indexes of open items.
OPEN = INVOICE.c.open_amount > literal_column("0")
UNAPPLIED = CREDIT.c.unapplied > literal_column("0")
IN_LIST = 5_000  # ids per IN (...): far under SQLite's and asyncpg's parameter limits

INVOICE_COLUMNS = ("id", "kind", "customer_id", "amount", "currency", "issue_date", "due_date",
                   "open_amount", "recorded_by", "recorded_at", "shipment_id", "salesperson",
                   "reference_id", "memo", "order_id", "settled_on")
CREDIT_COLUMNS = ("kind", "id", "customer_id", "amount", "currency", "document_date",
                  "unapplied", "recorded_by", "recorded_at", "method", "invoice_id", "memo",
                  "allocated_on_posting")


# --- loading ---------------------------------------------------------------------------
async def load(uow: UnitOfWork, commands: Sequence[Command]) -> Books:
    """The books of every customer the commands concern, locked until the commit."""
    s = uow.session
    await s.flush()  # rows the ORM holds for this transaction (a customer just registered)
    customer_ids, invoice_ids, credit_keys = _named(commands)
    customer_ids |= await _owners(uow, commands)
    customers = await _lock(uow, customer_ids)

    invoices: dict[str, Invoice] = {}
    locked = list(customers)
    for part in _parts(locked):
        await _read_invoices(uow, invoices, INVOICE.c.customer_id.in_(part) & OPEN)
    await _read_by_id(uow, invoices, invoice_ids)
    await _read_credited(uow, invoices, [c for c, customer in customers.items()
                                         if customer.terms and customer.terms.discount_percent])

    credits: dict[tuple[str, str], Credit] = {}
    for part in _parts(locked):
        await _read_credits(uow, credits, CREDIT.c.customer_id.in_(part) & UNAPPLIED)
    named_credits = await _read_credits_by_key(uow, credits, credit_keys)
    await _read_allocations(uow, named_credits)
    # A reversal takes back the discounts its payment earned: those of the invoices it paid.
    reversed_ = {("payment", cmd.payment_id) for cmd in commands
                 if isinstance(cmd, ReversePayment)}
    await _read_credits_by_key(uow, credits, {
        ("discount", invoice_id) for c in named_credits if c.key in reversed_
        for invoice_id, _ in c.allocations or ()})
    # A reversal keeps the age of what the payment paid: those invoices, settled or not.
    await _read_by_id(uow, invoices, {invoice_id for c in named_credits if c.kind == "payment"
                                      for invoice_id, _ in c.allocations or ()})
    return Books(customers.values(), invoices.values(), credits.values(), actor=uow.actor,
                 recorded_at=now())


def _named(commands: Iterable[Command]) -> tuple[set[str], set[str], set[tuple[str, str]]]:
    customers: set[str] = set()
    invoices: set[str] = set()
    credits: set[tuple[str, str]] = set()
    for cmd in commands:
        match cmd:
            case PostInvoice():
                customers.add(cmd.customer_id)
                invoices.add(cmd.id)
            case PostPayment():
                customers.add(cmd.customer_id)
                credits.add(("payment", cmd.id))
                invoices.update(cmd.invoice_ids or ())  # settled ones too: named, not unknown
            case PostCreditNote():
                customers.add(cmd.customer_id)
                credits.add(("credit_note", cmd.id))
                if cmd.invoice_id is not None:
                    invoices.add(cmd.invoice_id)
            case WriteOff():
                invoices.add(cmd.invoice_id)
                credits.add(("write_off", cmd.id))
            case ApplyCredit():
                credits.add((cmd.document_kind, cmd.document_id))
            case ReversePayment():
                credits.add(("payment", cmd.payment_id))
                invoices.add(reversal_id(cmd.payment_id))
    return customers, invoices, credits


async def _owners(uow: UnitOfWork, commands: Iterable[Command]) -> set[str]:
    """Customers that commands name only through another document (a write-off through its
    invoice, an application or reversal through its payment); read before locking."""
    invoice_ids = [c.invoice_id for c in commands if isinstance(c, WriteOff)]
    credit_keys = [(c.document_kind, c.document_id) if isinstance(c, ApplyCredit)
                   else ("payment", c.payment_id)
                   for c in commands if isinstance(c, ApplyCredit | ReversePayment)]
    owners: set[str] = set()
    for part in _parts(invoice_ids):
        owners |= set((await uow.session.execute(
            select(INVOICE.c.customer_id).where(INVOICE.c.id.in_(part)))).scalars())
    wanted = set(credit_keys)
    for part in _parts(sorted({doc_id for _, doc_id in credit_keys})):
        owners |= {customer for kind, doc_id, customer in (await uow.session.execute(
            select(CREDIT.c.kind, CREDIT.c.id, CREDIT.c.customer_id).where(CREDIT.c.id.in_(part))
        )).all() if (kind, doc_id) in wanted}
    return owners


async def _lock(uow: UnitOfWork, customer_ids: set[str]) -> dict[str, Customer]:
    """The customers' rows, locked in key order (PostgreSQL; SQLite's write lock is the
    whole database's, taken at BEGIN)."""
    if len(customer_ids) > IN_LIST:  # several statements: still in one key order
        ordered: dict[str, Customer] = {}
        for part in _parts(sorted(customer_ids)):
            ordered |= await _lock(uow, set(part))
        return ordered
    rows = (await uow.session.execute(
        select(CUSTOMER).where(CUSTOMER.c.customer_id.in_(sorted(customer_ids)))
        .order_by(CUSTOMER.c.customer_id).with_for_update()
    )).mappings() if customer_ids else []
    return {row["customer_id"]: Customer(row["customer_id"], _terms(row), row["balance_version"])
            for row in rows}


def _terms(row: Any) -> Terms | None:
    if row["terms_mode"] is None:
        return None
    return Terms(row["terms_mode"], row["terms_days"], row["terms_day_of_month"],
                 row["terms_due_date"], row["discount_percent"], row["discount_within_days"])


async def _read_invoices(uow: UnitOfWork, into: dict[str, Invoice], where: Any) -> None:
    declared = exists().where(NOTICE.c.invoice_id == INVOICE.c.id,
                              NOTICE.c.threshold_days == literal_column("1"))
    columns = [INVOICE.c[name] for name in INVOICE_COLUMNS]
    for row in (await uow.session.execute(
            select(*columns, declared.label("declared")).where(where))).all():
        if row[0] not in into:
            into[row[0]] = Invoice(**dict(zip(INVOICE_COLUMNS, row, strict=False)),
                                   declared=bool(row[-1]))


async def _read_credited(uow: UnitOfWork, into: dict[str, Invoice], customers: list[str]
                         ) -> None:
    """What credit notes and write-offs took off the open invoices of customers whose terms
    grant an early-payment discount: it is earned on what is left billed."""
    for part in _parts(customers):
        for invoice_id, credited in (await uow.session.execute(
            select(ALLOCATION.c.invoice_id, money_sum(ALLOCATION.c.amount))
            .join(INVOICE, INVOICE.c.id == ALLOCATION.c.invoice_id)
            .where(INVOICE.c.customer_id.in_(part), OPEN,
                   ALLOCATION.c.document_kind.in_(CREDITING))
            .group_by(ALLOCATION.c.invoice_id)
        )).all():
            if invoice_id in into:
                into[invoice_id].credited = credited


async def _read_by_id(uow: UnitOfWork, into: dict[str, Invoice], ids: Iterable[str]) -> None:
    for part in _parts(sorted(set(ids) - set(into))):
        await _read_invoices(uow, into, INVOICE.c.id.in_(part))


async def _read_credits(uow: UnitOfWork, into: dict[tuple[str, str], Credit], where: Any
                        ) -> list[Credit]:
    found = []
    columns = [CREDIT.c[name] for name in CREDIT_COLUMNS]
    for row in (await uow.session.execute(select(*columns).where(where))).all():
        credit = into.setdefault((row[0], row[1]),
                                 Credit(**dict(zip(CREDIT_COLUMNS, row, strict=True))))
        found.append(credit)
    return found


async def _read_credits_by_key(uow: UnitOfWork, into: dict[tuple[str, str], Credit],
                               keys: set[tuple[str, str]]) -> list[Credit]:
    named = []
    for part in _parts(sorted({doc_id for _, doc_id in keys})):
        named += [c for c in await _read_credits(uow, into, CREDIT.c.id.in_(part))
                  if c.key in keys]
    return named


async def _read_allocations(uow: UnitOfWork, credits: list[Credit]) -> None:
    """Every allocation made from these documents (a re-sent payment is compared with them;
    a reversal dates itself by them)."""
    by_key = {c.key: c for c in credits}
    for credit in credits:
        credit.allocations = []
    for part in _parts(sorted({c.id for c in credits})):
        for kind, doc_id, invoice_id, amount in (await uow.session.execute(
            select(ALLOCATION.c.document_kind, ALLOCATION.c.document_id,
                   ALLOCATION.c.invoice_id, ALLOCATION.c.amount)
            .where(ALLOCATION.c.document_id.in_(part)).order_by(ALLOCATION.c.id)
        )).all():
            credit = by_key.get((kind, doc_id))
            if credit is not None and credit.allocations is not None:
                credit.allocations.append((invoice_id, amount))


def _parts(items: Sequence[str] | Iterable[str], size: int = IN_LIST) -> Iterator[list[str]]:
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start:start + size]


# --- writing ---------------------------------------------------------------------------
async def save(uow: UnitOfWork, books: Books) -> Effects:
    """Write what the postings caused (after announcing each customer's position once) and
    emit their events; answers the effects."""
    effects = books.close()
    s = uow.session
    await insert_rows(s, INVOICE, [{name: getattr(i, name) for name in INVOICE_COLUMNS}
                                   for i in effects.invoices_added.values()])
    await insert_rows(s, CREDIT, [{name: getattr(c, name) for name in CREDIT_COLUMNS}
                                  for c in effects.credits_added.values()])
    if effects.invoices_changed:
        await s.execute(
            update(INVOICE).where(INVOICE.c.id == bindparam("b_id"))
            .values(open_amount=bindparam("b_open"), settled_on=bindparam("b_settled")),
            [{"b_id": i.id, "b_open": i.open_amount, "b_settled": i.settled_on}
             for i in effects.invoices_changed.values()])
    if effects.credits_changed:
        await s.execute(
            update(CREDIT).where(CREDIT.c.kind == bindparam("b_kind"),
                                 CREDIT.c.id == bindparam("b_id"))
            .values(unapplied=bindparam("b_unapplied")),
            [{"b_kind": c.kind, "b_id": c.id, "b_unapplied": c.unapplied}
             for c in effects.credits_changed.values()])
    await insert_rows(s, ALLOCATION, [
        {"document_kind": a.document_kind, "document_id": a.document_id,
         "invoice_id": a.invoice_id, "amount": a.amount, "effective_on": a.effective_on}
        for a in effects.allocations])
    if effects.journal:
        await _write_journal(uow, effects)
    if effects.versions:
        await s.execute(
            update(CUSTOMER).where(CUSTOMER.c.customer_id == bindparam("b_customer"))
            .values(balance_version=bindparam("b_version")),
            [{"b_customer": c, "b_version": v} for c, v in effects.versions.items()])
    await _write_notices(uow, effects)
    _emit(uow, effects.events)
    return effects


def _emit(uow: UnitOfWork, events: Iterable[Event]) -> None:
    """The events in their order, written out from the rules' plain data (EventEncoder: the
    same JSON as the contracts' models, the first of each type checked against its model to
    the byte, at a fraction of the cost: a batch emits thousands). Data whose fields are not
    the contract's, in its order, goes through the model instead."""
    encoders: dict[str, tuple[EventEncoder, tuple[str, ...]]] = {}
    for event in events:
        if (known := encoders.get(event.type)) is None:
            contract = EVENT_TYPES[event.type]
            known = encoders[event.type] = (uow.encoder(contract), tuple(contract.model_fields))
        encoder, fields = known
        if tuple(event.data) == fields:
            uow.emit_encoded((encoder(event.data),))
        else:
            uow.emit(EVENT_TYPES[event.type](**event.data))


async def _write_notices(uow: UnitOfWork, effects: Effects) -> None:
    """The overdue notices of a debt declared missed on posting (a bounced payment's): the
    sweep then finds them and does not announce it again."""
    await insert_rows(uow.session, NOTICE, [
        {"invoice_id": n.invoice_id, "threshold_days": n.threshold_days, "as_of": n.as_of}
        for n in effects.notices])


async def _write_journal(uow: UnitOfWork, effects: Effects) -> None:
    """The lines, then the entries that seal them: in that order, because the database
    checks each entry's balance when it arrives and refuses lines of a sealed entry."""
    await insert_rows(uow.session, JournalLine.__table__, [
        {"entry_id": e.id, "document_kind": e.document_kind, "document_id": e.document_id,
         "customer_id": e.customer_id, "account": account, "currency": e.currency,
         "amount": amount, "booked_on": e.booked_on}
        for e in effects.journal for account, amount in e.lines])
    recorded_at = now()
    await insert_rows(uow.session, JournalEntry.__table__, [
        {"id": e.id, "document_kind": e.document_kind, "document_id": e.document_id,
         "customer_id": e.customer_id, "booked_on": e.booked_on, "recorded_by": uow.actor,
         "recorded_at": recorded_at}
        for e in effects.journal])
