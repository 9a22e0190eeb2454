"""Single POSTs and batches are one implementation (hypothesis): the same random documents
posted one by one (each in its own transaction, refusals rolled back) and posted as one batch
give the same books and the same events; a batch with refused rows books nothing and refuses
exactly the rows the single path refused."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from services.ledger import handlers
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
from services.ledger.store import Command
from services.ledger.tables import (
    Allocation,
    CreditDocument,
    Invoice,
    JournalEntry,
    JournalLine,
    LedgerCustomer,
    infra,
    metadata,
)
from shared.db import UnitOfWork, create_engine, sessionmaker
from shared.errors import RecoupError
from shared.events import CloudEvent, new_event
from shared.migrations import upgrade
from tests.integration.test_ledger_invariants import CURRENCIES, CUSTOMERS, START

# Few distinct amounts and dates, so that payments often settle invoices exactly, credit
# meets later invoices, discounts are earned and documents name settled ones.
amounts = st.sampled_from((100, 250, 500, 1_000))
days = st.integers(0, 40)
refs = st.integers(0, 8)
customers = st.sampled_from((CUSTOMERS[0], *CUSTOMERS))  # mostly one customer and currency
currencies = st.sampled_from((CURRENCIES[0], CURRENCIES[0], *CURRENCIES))
operations = st.lists(st.one_of(
    st.tuples(st.just("invoice"), customers, currencies, amounts, days,
              st.one_of(st.none(), st.integers(0, 20))),
    st.tuples(st.just("payment"), customers, currencies, amounts, days,
              st.one_of(st.none(), st.lists(st.tuples(refs, amounts), max_size=2))),
    st.tuples(st.just("credit_note"), customers, currencies, amounts, days,
              st.one_of(st.none(), refs)),
    st.tuples(st.just("charge"), customers, currencies, amounts, days,
              st.sampled_from(("interest", "fee"))),
    st.tuples(st.just("refund"), customers, currencies, amounts, days, st.none()),
    st.tuples(st.just("write_off"), customers, currencies, st.one_of(st.none(), amounts), days,
              refs),
    st.tuples(st.just("apply"), st.none(), st.none(), amounts, days, st.tuples(refs, refs)),
    st.tuples(st.just("reversal"), st.none(), st.none(), st.none(), days, refs),
), min_size=1, max_size=30)

TEMPLATE: Path | None = None


@pytest.fixture(scope="module", autouse=True)
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """One migrated database (triggers included) that each example copies."""
    global TEMPLATE
    TEMPLATE = tmp_path_factory.mktemp("template") / "ledger.sqlite3"

    async def build() -> None:
        engine = create_engine(f"sqlite+aiosqlite:///{TEMPLATE}")
        try:
            await upgrade(engine, ledger_definition().migrations, metadata)
            async with sessionmaker(engine)() as s, s.begin():
                s.add(LedgerCustomer(customer_id="A", terms_mode="net_days", terms_days=30,
                                     discount_percent=2, discount_within_days=10))
                s.add(LedgerCustomer(customer_id="B", terms_mode="net_days", terms_days=30))
        finally:
            await engine.dispose()
    asyncio.run(build())
    yield


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(operations)
# a credit note and a write-off naming an invoice already settled (in an earlier transaction)
@example([("invoice", "A", "CNY", 100, 0, None), ("payment", "A", "CNY", 1000, 1, None),
          ("credit_note", "A", "CNY", 100, 2, 0), ("write_off", "A", "CNY", None, 3, 0)])
# a bounced payment whose invoices were settled, then unapplied credit re-applied
@example([("invoice", "A", "CNY", 500, 0, None), ("payment", "A", "CNY", 1000, 5, None),
          ("reversal", None, None, None, 6, 0), ("invoice", "A", "CNY", 250, 7, None),
          ("apply", None, None, 250, 8, (0, 1))])
def test_singles_and_one_batch_give_the_same_books_and_events(ops: list[tuple[Any, ...]]) -> None:
    asyncio.run(_compare(_commands(ops)))


def _commands(ops: list[tuple[Any, ...]]) -> list[Command]:
    """The operations as commands; a reference to an earlier document names it whether or
    not it was booked (then the command is refused), as an ERP's would."""
    debits: list[str] = []
    credits: list[tuple[str, str]] = []
    commands: list[Command] = []
    for n, (kind, customer, currency, amount, day, extra) in enumerate(ops):
        on = START + timedelta(days=day)
        debit = debits[extra % len(debits)] if isinstance(extra, int) and debits else "none"
        if kind == "invoice":
            due = on + timedelta(days=extra) if extra is not None else None
            commands.append(PostInvoice(f"I{n}", customer, amount, currency, on, due_date=due))
            debits.append(f"I{n}")
        elif kind == "payment":
            allocations = None if extra is None else tuple(
                Alloc(debits[ref % len(debits)] if debits else "none", share) for ref, share in extra)
            commands.append(PostPayment(f"P{n}", customer, amount, currency, on,
                                        allocations=allocations))
            credits.append(("payment", f"P{n}"))
        elif kind == "credit_note":
            commands.append(PostCreditNote(f"C{n}", customer, amount, currency, on,
                                           invoice_id=debit if extra is not None else None))
            credits.append(("credit_note", f"C{n}"))
        elif kind in ("charge", "refund"):
            commands.append(PostInvoice(f"X{n}", customer, amount, currency, on,
                                        kind=extra or "refund", memo="test"))
            debits.append(f"X{n}")
        elif kind == "write_off":
            commands.append(WriteOff(f"W{n}", debit, on, "test", amount=amount))
        elif kind == "apply":
            document, invoice_ref = extra
            doc_kind, doc_id = credits[document % len(credits)] if credits else ("payment", "none")
            target = debits[invoice_ref % len(debits)] if debits else "none"
            commands.append(ApplyCredit(doc_kind, doc_id, on, (Alloc(target, amount),)))
        else:
            payments = [doc_id for k, doc_id in credits if k == "payment"]
            target = payments[extra % len(payments)] if payments else "none"
            commands.append(ReversePayment(target, on, "test"))
            debits.append(f"REV-{target}")
    return commands


async def _compare(commands: list[Command]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        singles, batch = Path(tmp) / "singles.sqlite3", Path(tmp) / "batch.sqlite3"
        assert TEMPLATE is not None
        shutil.copy(TEMPLATE, singles)
        shutil.copy(TEMPLATE, batch)
        async with _database(singles) as sessions:
            accepted = []
            for cmd in commands:
                try:
                    async with _uow(sessions) as uow:
                        await handlers.post(uow, cmd)
                        await uow.commit()
                    accepted.append(True)
                except RecoupError:
                    accepted.append(False)
            books_one_by_one, events_one_by_one = await _books(sessions), await _events(sessions)
        async with _database(batch) as sessions:
            async with _uow(sessions) as uow:  # everything, refused rows included
                outcomes = await handlers.post_many(uow, commands)
                assert [not isinstance(o, RecoupError) for o in outcomes] == accepted
                if not all(accepted):
                    assert not uow._pending, "a refused batch emits nothing"
            async with _uow(sessions) as uow:  # the rows the single path accepted
                outcomes = await handlers.post_many(uow, [c for c, ok in zip(
                    commands, accepted, strict=True) if ok])
                assert not any(isinstance(o, RecoupError) for o in outcomes), outcomes
                await uow.commit()
            assert await _books(sessions) == books_one_by_one
            assert _comparable(await _events(sessions)) == _comparable(events_one_by_one)
            assert _positions(await _events(sessions)) == _positions(events_one_by_one)
            await _written_as_their_models_write_them(sessions)


class _database:
    def __init__(self, path: Path) -> None:
        self._engine = create_engine(f"sqlite+aiosqlite:///{path}")

    async def __aenter__(self) -> Any:
        return sessionmaker(self._engine)

    async def __aexit__(self, *_: Any) -> None:
        await self._engine.dispose()


def _uow(sessions: Any) -> UnitOfWork:
    return UnitOfWork(sessions, source="test", outbox=infra.outbox)


async def _books(sessions: Any) -> dict[str, Any]:
    """Every booked row, without what differs by nature (when it was recorded, the random
    ids of applications' entries, the position counter)."""
    async with sessions() as s:
        def rows(query: Any) -> Any:
            return s.execute(query)
        invoices = sorted((await rows(select(Invoice))).scalars(), key=lambda i: i.id)
        credits = sorted((await rows(select(CreditDocument))).scalars(), key=lambda c: (c.kind, c.id))
        allocations = sorted((await rows(select(
            Allocation.document_kind, Allocation.document_id, Allocation.invoice_id,
            Allocation.amount, Allocation.effective_on))).all())
        lines = sorted((await rows(select(
            JournalLine.document_kind, func.iif(JournalLine.document_kind == "application", "",
                                                JournalLine.document_id),
            JournalLine.customer_id, JournalLine.account, JournalLine.currency,
            JournalLine.amount, JournalLine.booked_on))).all())
        entries = (await rows(select(func.count()).select_from(JournalEntry))).scalar_one()
    return {
        "invoices": [i.model_dump(exclude={"recorded_at"}) for i in invoices],
        "credits": [c.model_dump(exclude={"recorded_at"}) for c in credits],
        "allocations": allocations, "journal_lines": lines, "journal_entries": entries,
    }


async def _events(sessions: Any) -> list[CloudEvent]:
    async with sessions() as s:
        envelopes = (await s.execute(select(infra.outbox.c.envelope)
                                     .order_by(infra.outbox.c.id))).scalars()
        return [CloudEvent.model_validate_json(e) for e in envelopes]


async def _written_as_their_models_write_them(sessions: Any) -> None:
    """Every event in the outbox is byte for byte what its contract's model writes (the
    batch writes them from the rules' plain data, without a model per event)."""
    async with sessions() as s:
        envelopes = (await s.execute(select(infra.outbox.c.envelope))).scalars().all()
    for envelope in envelopes:
        parsed = CloudEvent.model_validate_json(envelope)
        rebuilt = new_event(parsed.source, parsed.payload(), subject=parsed.subject)
        assert rebuilt.model_copy(update={"id": parsed.id, "time": parsed.time}
                                  ).to_json() == envelope


def _comparable(events: list[CloudEvent]) -> list[tuple[str, dict[str, Any]]]:
    """The events in order, but the positions (once per document one by one, once per
    customer in a batch) and the position version an invoice names."""
    return [(e.type, {k: v for k, v in e.data.items() if k != "balance_version"})
            for e in events if e.type != "ledger.balance.changed"]


def _positions(events: list[CloudEvent]) -> dict[str, Any]:
    """Each customer's last announced balances."""
    return {e.data["customer_id"]: e.data["balances"] for e in events
            if e.type == "ledger.balance.changed"}

