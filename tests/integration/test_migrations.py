"""Every service's migrations go up and down step by step (the stairway), on SQLite and
PostgreSQL, and the tables the code declares are exactly what the migrations build."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text

from recoup import services
from shared.db import create_engine
from shared.migrations import alembic_config, run_alembic, upgrade
from tests.support.databases import database_url

DEFINITIONS = services.load()


@pytest.mark.parametrize("db", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
@pytest.mark.parametrize("definition", DEFINITIONS, ids=[d.name for d in DEFINITIONS])
async def test_stairway_and_no_drift(db: str, definition: Any, tmp_path: Path) -> None:
    async with database_url(db, tmp_path, definition.name) as url:
        engine = create_engine(url)
        try:
            script = ScriptDirectory.from_config(
                alembic_config(definition.migrations, definition.metadata))
            revisions = list(reversed(list(script.walk_revisions())))
            assert revisions, "no migrations"
            for revision in revisions:
                await run_alembic(engine, definition.migrations, definition.metadata,
                                  "upgrade", revision.revision)
                await run_alembic(engine, definition.migrations, definition.metadata,
                                  "downgrade", revision.down_revision or "base")
                await run_alembic(engine, definition.migrations, definition.metadata,
                                  "upgrade", revision.revision)
            await upgrade(engine, definition.migrations, definition.metadata)  # idempotent

            async with engine.connect() as conn:
                diff = await conn.run_sync(lambda sync: compare_metadata(
                    MigrationContext.configure(sync, opts={"compare_type": True}),
                    definition.metadata))
            assert diff == [], f"tables and migrations disagree: {diff}"
        finally:
            await engine.dispose()


@pytest.mark.parametrize("db", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def test_ledger_data_survives_every_migration(db: str, tmp_path: Path) -> None:
    """Books written at the first revision come through all later ones (SQLite copies a
    table to change it: the rows that refer to it must survive)."""
    ledger = next(d for d in DEFINITIONS if d.name == "ledger")
    script = ScriptDirectory.from_config(alembic_config(ledger.migrations, ledger.metadata))
    first = list(script.walk_revisions())[-1].revision
    async with database_url(db, tmp_path, "ledger") as url:
        engine = create_engine(url)
        try:
            await run_alembic(engine, ledger.migrations, ledger.metadata, "upgrade", first)
            async with engine.begin() as conn:
                await conn.execute(text(
                    "INSERT INTO invoice (id, customer_id, amount, currency, issue_date, due_date,"
                    " open_amount, recorded_by, recorded_at) VALUES ('I1', 'C', 100, 'CNY',"
                    " '2026-01-01', '2026-01-31', 40, 't', '2026-01-01 00:00:00+00')"))
                await conn.execute(text(
                    "INSERT INTO allocation (document_kind, document_id, invoice_id, amount,"
                    " effective_on) VALUES ('payment', 'P1', 'I1', 60, '2026-01-05')"))
                await conn.execute(text(
                    "INSERT INTO journal_line (document_kind, document_id, customer_id, account,"
                    " currency, amount, booked_on) VALUES ('invoice', 'I1', 'C', 'receivable',"
                    " 'CNY', 100, '2026-01-01'), ('invoice', 'I1', 'C', 'revenue', 'CNY', -100,"
                    " '2026-01-01')"))
            await upgrade(engine, ledger.migrations, ledger.metadata)
            async with engine.connect() as conn:
                kinds = (await conn.execute(text("SELECT kind FROM invoice"))).scalars().all()
                allocations = (await conn.execute(text("SELECT count(*) FROM allocation"))).scalar()
                entries = (await conn.execute(text("SELECT id FROM journal_entry"))).scalars().all()
        finally:
            await engine.dispose()
    assert (kinds, allocations, entries) == (["invoice"], 1, ["invoice:I1"])


@pytest.mark.parametrize("db", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def test_credit_keeps_what_open_cases_asked_for(db: str, tmp_path: Path) -> None:
    """The collection holds active before the revision that keeps what a case asked for
    become what it asked for (so a kept agreement can lift them and a broken one bring
    them back); released ones do not."""
    credit = next(d for d in DEFINITIONS if d.name == "credit")
    async with database_url(db, tmp_path, "credit") as url:
        engine = create_engine(url)
        try:
            await run_alembic(engine, credit.migrations, credit.metadata, "upgrade", "05da49439645")
            async with engine.begin() as conn:
                await conn.execute(text(
                    "INSERT INTO customer (id, name, financials, documents, dossier_version, terms,"
                    " terms_version, credit_limit_amount, credit_limit_currency, rating_class,"
                    " rating_score, rating_reasons, rated_worst_days, has_payment_history,"
                    " balance_version, broken_promise, created_at, updated_at, updated_by) VALUES"
                    " ('C', 'Dealer', '{}', '{}', 1, '{\"mode\": \"cash\"}', 0, 100, 'CNY', 'C', 50,"
                    " '[]', 0, false, 0, false, '2026-01-01 00:00:00+00', '2026-01-01 00:00:00+00', 't')"))
                for hold_id, kind, released in (("H1", "cash_only", None),
                                                 ("H2", "stop_shipments", datetime(2026, 1, 3, tzinfo=UTC))):
                    await conn.execute(text(
                        "INSERT INTO hold (id, customer_id, kind, reason, cause, stage, incentives,"
                        " automatic, placed_by, placed_at, released_at, override, override_lapsed)"
                        " VALUES (:id, 'C', :kind, 'collection step visit (level 2)', 'collection',"
                        " 2, '[]', true, 't', '2026-01-02 00:00:00+00', :released, false, false)"),
                        {"id": hold_id, "kind": kind, "released": released})
                at = datetime(2026, 1, 2, tzinfo=UTC)
                await conn.execute(text(  # invoiced, the position that includes it still to come
                    "INSERT INTO reservation (order_id, customer_id, check_id, amount, currency,"
                    " status, expires_at, invoice_id, consumed_at_version, created_at, created_by,"
                    " updated_at, updated_by) VALUES ('SO-1', 'C', 'K', 500, 'CNY', 'shipped', :at,"
                    " 'I1', 7, :at, 't', :at, 't')"), {"at": at})
            await upgrade(engine, credit.migrations, credit.metadata)
            async with engine.connect() as conn:
                asked = (await conn.execute(text("SELECT collection_holds FROM customer"))).scalar()
                invoices = (await conn.execute(text("SELECT invoices FROM reservation"))).scalar()
        finally:
            await engine.dispose()
    asked = json.loads(asked) if isinstance(asked, str) else asked
    assert asked == {"cash_only": {"reason": "collection step visit (level 2)", "stage": 2}}
    invoices = json.loads(invoices) if isinstance(invoices, str) else invoices
    assert invoices == [{"invoice_id": "I1", "amount": 500, "version": 7}]  # still ends it whole


@pytest.mark.parametrize("db", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def test_payments_booked_before_remember_what_their_posting_allocated(
        db: str, tmp_path: Path) -> None:
    """A payment sent again is compared with what its posting allocated: for payments booked
    before that was kept, the migration reads it from the payment's journal entry."""
    ledger = next(d for d in DEFINITIONS if d.name == "ledger")
    async with database_url(db, tmp_path, "ledger") as url:
        engine = create_engine(url)
        try:
            await run_alembic(engine, ledger.migrations, ledger.metadata, "upgrade",
                              "7a1e0c9d2b64")
            async with engine.begin() as conn:
                for payment_id, unapplied in (("P1", 20), ("P2", 60)):
                    await conn.execute(text(
                        "INSERT INTO credit_document (kind, id, customer_id, amount, currency,"
                        " document_date, unapplied, recorded_by, recorded_at) VALUES ('payment',"
                        f" '{payment_id}', 'C', 60, 'CNY', '2026-01-05', {unapplied}, 't',"
                        " '2026-01-05 00:00:00+00')"))
                await conn.execute(text(
                    "INSERT INTO journal_line (entry_id, document_kind, document_id, customer_id,"
                    " account, currency, amount, booked_on) VALUES"
                    " ('payment:P1', 'payment', 'P1', 'C', 'cash', 'CNY', 60, '2026-01-05'),"
                    " ('payment:P1', 'payment', 'P1', 'C', 'receivable', 'CNY', -40, '2026-01-05'),"
                    " ('payment:P1', 'payment', 'P1', 'C', 'customer_credit', 'CNY', -20,"
                    " '2026-01-05'),"
                    " ('payment:P2', 'payment', 'P2', 'C', 'cash', 'CNY', 60, '2026-01-05'),"
                    " ('payment:P2', 'payment', 'P2', 'C', 'customer_credit', 'CNY', -60,"
                    " '2026-01-05')"))
                await conn.execute(text(
                    "INSERT INTO journal_entry (id, document_kind, document_id, customer_id,"
                    " booked_on, recorded_by, recorded_at) VALUES"
                    " ('payment:P1', 'payment', 'P1', 'C', '2026-01-05', 't',"
                    " '2026-01-05 00:00:00+00'),"
                    " ('payment:P2', 'payment', 'P2', 'C', '2026-01-05', 't',"
                    " '2026-01-05 00:00:00+00')"))
            await upgrade(engine, ledger.migrations, ledger.metadata)
            async with engine.connect() as conn:
                posted = dict((await conn.execute(text(
                    "SELECT id, allocated_on_posting FROM credit_document ORDER BY id"))).all())
        finally:
            await engine.dispose()
    assert posted == {"P1": 40, "P2": 0}
