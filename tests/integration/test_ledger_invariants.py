"""Invariants of the books after any sequence of postings, good or refused (hypothesis):
- every document's journal lines sum to zero per currency (debits equal credits);
- an invoice's open amount is its amount less its allocations, and never negative;
- a payment's or credit note's unapplied rest is its amount less its allocations, >= 0;
- a customer's balance equals its open items less its unapplied credit, and equals the
  receivable and customer-credit accounts of the journal;
- as of any earlier date too: the account then equals the journal up to that date
  (documents are often dated before others booked earlier);
- a refused posting changes nothing.
Customer A earns early-payment discounts; unapplied credit pays later invoices; charges,
refunds, write-offs, applications of credit and payment reversals come in between."""

from __future__ import annotations

import asyncio
import tempfile
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from services.ledger import handlers, queries
from services.ledger.app import definition as ledger_definition
from services.ledger.domain.allocation import Allocation as Alloc
from services.ledger.domain.commands import (
    ApplyCredit,
    PostCreditNote,
    PostInvoice,
    PostPayment,
    ReversePayment,
    WriteOff,
)
from services.ledger.tables import (
    Allocation,
    CreditDocument,
    Invoice,
    JournalLine,
    LedgerCustomer,
    infra,
    metadata,
)
from shared.db import UnitOfWork, create_engine, sessionmaker
from shared.errors import RecoupError
from shared.migrations import upgrade

START = date(2026, 1, 1)
CUSTOMERS = ("A", "B")
CURRENCIES = ("CNY", "USD")

amounts = st.integers(1, 50_000)
days = st.integers(0, 90)
invoice_refs = st.integers(0, 30)  # an index into the invoices posted so far (or none yet)

invoice_op = st.tuples(st.just("invoice"), st.sampled_from(CUSTOMERS), st.sampled_from(CURRENCIES),
                       amounts, days, st.one_of(st.none(), st.integers(0, 60)))
payment_op = st.tuples(st.just("payment"), st.sampled_from(CUSTOMERS), st.sampled_from(CURRENCIES),
                       amounts, days,
                       st.one_of(st.none(), st.lists(st.tuples(invoice_refs, amounts), max_size=3)))
credit_note_op = st.tuples(st.just("credit_note"), st.sampled_from(CUSTOMERS),
                           st.sampled_from(CURRENCIES), amounts, days,
                           st.one_of(st.none(), invoice_refs))
charge_op = st.tuples(st.just("charge"), st.sampled_from(CUSTOMERS), st.sampled_from(CURRENCIES),
                      amounts, days, st.sampled_from(("interest", "fee")))
refund_op = st.tuples(st.just("refund"), st.sampled_from(CUSTOMERS), st.sampled_from(CURRENCIES),
                      amounts, days, st.none())
write_off_op = st.tuples(st.just("write_off"), st.sampled_from(CUSTOMERS),
                         st.sampled_from(CURRENCIES), st.one_of(st.none(), amounts), days,
                         invoice_refs)
document_refs = st.integers(0, 30)  # an index into the payments/credit notes so far
apply_op = st.tuples(st.just("apply"), st.none(), st.none(), amounts, days,
                     st.tuples(document_refs, invoice_refs))
reversal_op = st.tuples(st.just("reversal"), st.none(), st.none(), st.none(), days, document_refs)
operations = st.lists(st.one_of(invoice_op, payment_op, credit_note_op, charge_op, refund_op,
                                write_off_op, apply_op, reversal_op), min_size=1, max_size=25)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(operations)
def test_books_stay_right_after_any_sequence(ops: list[tuple[Any, ...]]) -> None:
    asyncio.run(_play(ops))


async def _play(ops: list[tuple[Any, ...]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(f"sqlite+aiosqlite:///{Path(tmp) / 'ledger.sqlite3'}")
        try:
            # Through the migrations: the database's own bookkeeping checks run too.
            await upgrade(engine, ledger_definition().migrations, metadata)
            sessions = sessionmaker(engine)
            async with sessions() as s, s.begin():
                s.add(LedgerCustomer(customer_id="A", terms_mode="net_days", terms_days=30,
                                     discount_percent=2, discount_within_days=10))
                s.add(LedgerCustomer(customer_id="B", terms_mode="net_days", terms_days=30))
            posted: list[str] = []
            credits: list[tuple[str, str]] = []
            for n, op in enumerate(ops):
                before = await _books(sessions)
                try:
                    async with UnitOfWork(sessions, source="test", outbox=infra.outbox) as uow:
                        await _post(uow, n, op, posted, credits)
                        await uow.commit()
                except RecoupError:
                    assert await _books(sessions) == before, f"refused {op} changed the books"
                await _check_invariants(sessions)
            await _check_as_of(sessions)
        finally:
            await engine.dispose()


async def _post(uow: UnitOfWork, n: int, op: tuple[Any, ...], posted: list[str],
                credits: list[tuple[str, str]]) -> None:
    kind, customer, currency, amount, day, extra = op
    on = START + timedelta(days=day)
    if kind == "apply":
        document, invoice_ref = extra
        doc_kind, doc_id = credits[document % len(credits)] if credits else ("payment", "none")
        target = posted[invoice_ref % len(posted)] if posted else "none"
        await handlers.apply_credit(uow, ApplyCredit(doc_kind, doc_id, on,
                                                     (Alloc(target, amount),)))
        return
    if kind == "reversal":
        payments = [doc_id for k, doc_id in credits if k == "payment"]
        target = payments[extra % len(payments)] if payments else "none"
        reversal, _ = await handlers.reverse_payment(uow, ReversePayment(target, on, "test"))
        posted.append(reversal.id)
        return
    if kind == "invoice":
        due = on + timedelta(days=extra) if extra is not None else None
        invoice, _ = await handlers.post_invoice(uow, PostInvoice(
            f"I{n}", customer, amount, currency, on, due_date=due))
        posted.append(invoice.id)
    elif kind == "payment":
        allocations = None if extra is None else tuple(
            Alloc(posted[ref % len(posted)] if posted else "none", share) for ref, share in extra)
        await handlers.post_payment(uow, PostPayment(
            f"P{n}", customer, amount, currency, on, allocations=allocations))
        credits.append(("payment", f"P{n}"))
    elif kind == "credit_note":
        target = posted[extra % len(posted)] if extra is not None and posted else None
        await handlers.post_credit_note(uow, PostCreditNote(
            f"C{n}", customer, amount, currency, on, invoice_id=target))
        credits.append(("credit_note", f"C{n}"))
    elif kind in ("charge", "refund"):
        charge, _ = await handlers.post_invoice(uow, PostInvoice(
            f"X{n}", customer, amount, currency, on, kind=extra or "refund", memo="test"))
        posted.append(charge.id)
    else:
        target = posted[extra % len(posted)] if posted else "none"
        await handlers.write_off(uow, WriteOff(f"W{n}", target, on, "test", amount=amount))


async def _books(sessions: Any) -> tuple[Any, ...]:
    async with sessions() as s:
        return tuple([
            (await s.execute(select(func.count()).select_from(table))).scalar_one()
            for table in (Invoice, CreditDocument, Allocation, JournalLine, infra.outbox)
        ] + [(await s.execute(select(func.sum(Invoice.open_amount)))).scalar_one()])


async def _check_invariants(sessions: Any) -> None:
    async with sessions() as s:
        unbalanced = (await s.execute(
            select(JournalLine.document_kind, JournalLine.document_id, JournalLine.currency)
            .group_by(JournalLine.document_kind, JournalLine.document_id, JournalLine.currency)
            .having(func.sum(JournalLine.amount) != 0)
        )).all()
        assert unbalanced == []

        allocated_to: dict[str, int] = defaultdict(int)
        allocated_from: dict[tuple[str, str], int] = defaultdict(int)
        for a in (await s.execute(select(Allocation))).scalars():
            allocated_to[a.invoice_id] += a.amount
            allocated_from[(a.document_kind, a.document_id)] += a.amount
        invoices = list((await s.execute(select(Invoice))).scalars())
        documents = list((await s.execute(select(CreditDocument))).scalars())
        for i in invoices:
            assert 0 <= i.open_amount == i.amount - allocated_to[i.id], i
        for d in documents:
            assert 0 <= d.unapplied == d.amount - allocated_from[(d.kind, d.id)], d

        journal: dict[tuple[str, str], int] = defaultdict(int)
        for customer, currency, account, total in (await s.execute(
            select(JournalLine.customer_id, JournalLine.currency, JournalLine.account,
                   func.sum(JournalLine.amount))
            .group_by(JournalLine.customer_id, JournalLine.currency, JournalLine.account)
        )).all():
            if account in ("receivable", "customer_credit"):
                journal[(customer, currency)] += total

        for customer in CUSTOMERS:
            account = await queries.account(s, customer, START + timedelta(days=1000))
            for money in account["balance"]:
                key = (customer, money["currency"])
                open_items = sum(i.open_amount for i in invoices
                                 if (i.customer_id, i.currency) == key)
                unapplied = sum(d.unapplied for d in documents
                                if (d.customer_id, d.currency) == key)
                assert money["amount"] == open_items - unapplied == journal[key], (key, account)


async def _check_as_of(sessions: Any) -> None:
    """The account as of a past date says what the journal said by then."""
    async with sessions() as s:
        for day in range(0, 95, 5):
            on = START + timedelta(days=day)
            journal = dict(((customer, currency), total) for customer, currency, total in (
                await s.execute(
                    select(JournalLine.customer_id, JournalLine.currency,
                           func.sum(JournalLine.amount))
                    .where(JournalLine.account.in_(queries.CUSTOMER_ACCOUNTS),
                           JournalLine.booked_on <= on)
                    .group_by(JournalLine.customer_id, JournalLine.currency))).all())
            for customer in CUSTOMERS:
                account = await queries.account(s, customer, on)
                shown = {(customer, m["currency"]): m["amount"] for m in account["balance"]}
                expected = {k: v for k, v in journal.items() if k[0] == customer and v}
                assert {k: v for k, v in shown.items() if v} == expected, (on, account)
