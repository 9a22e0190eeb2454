"""Every service's migrations go up and down step by step (the stairway), on SQLite and
PostgreSQL, and the tables the code declares are exactly what the migrations build."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

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
