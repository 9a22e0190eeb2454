"""`recoup run` (embedded), `recoup serve SERVICE` (distributed), `recoup migrate`, ..."""

from __future__ import annotations

import asyncio
import json
import tempfile
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from recoup import services
from recoup.app import create_app, make_transport, topology
from recoup.keys import ADMIN_KEY_FILE, load_keyring
from recoup.logging import configure_logging
from shared.auth import Keyring
from shared.db import create_engine
from shared.migrations import run_alembic, upgrade
from shared.settings import Settings

app = typer.Typer(help="Recoup: credit control and collection of trade receivables.",
                  no_args_is_help=True)


def _serve(settings: Settings, names: list[str] | None, *, schedule: bool) -> None:
    configure_logging(settings)
    keyring, new_key = load_keyring(settings)
    definitions = services.load(names)
    base = f"http://{settings.host}:{settings.port}"
    typer.echo(f"Recoup ({', '.join(d.name for d in definitions)}) on {base}")
    for d in definitions:
        typer.echo(f"  API docs: {base}{d.prefix}/docs")
    if new_key:
        typer.echo(f"  Admin API key (shown once; its hash is in {settings.data_dir / ADMIN_KEY_FILE}):")
        typer.echo(f"    {new_key}")
    uvicorn.run(create_app(settings, definitions, keyring, schedule=schedule),
                host=settings.host, port=settings.port, log_config=None, access_log=False)


@app.command()
def run() -> None:
    """Embedded mode: all four services in one process, SQLite, events in-process."""
    _serve(Settings(), None, schedule=True)


@app.command()
def serve(
    service: Annotated[str, typer.Argument(help="credit, ledger, reconciliation or collections")],
    schedule: Annotated[bool, typer.Option(help="run this service's daily jobs in-process")] = False,
) -> None:
    """One service alone (distributed mode): set its RECOUP_DATABASE_URL_* and RECOUP_AMQP_URL."""
    _serve(Settings(), [service], schedule=schedule)


@app.command()
def migrate(
    names: Annotated[list[str] | None, typer.Argument(help="services (default: all)")] = None,
) -> None:
    """Apply migrations to each service's database and declare the broker's queues
    (run once per deploy, before the apps)."""
    settings = Settings()

    async def _all() -> None:
        for d in services.load(names):
            engine = create_engine(settings.database_url(d.name))
            try:
                await upgrade(engine, d.migrations, d.metadata)
            finally:
                await engine.dispose()
            typer.echo(f"{d.name}: migrated")
        if settings.amqp_url:
            transport = make_transport(settings)
            await transport.start()
            try:
                await transport.declare(topology())
            finally:
                await transport.close()
            typer.echo(f"broker: queues and bindings of {', '.join(topology())} declared")

    asyncio.run(_all())


@app.command()
def job(
    service: Annotated[str, typer.Argument(help="the service whose daily job to run")],
    name: Annotated[str, typer.Argument(help="the job's name, e.g. overdue-sweep")],
    as_of: Annotated[str | None, typer.Option(help="YYYY-MM-DD; default today")] = None,
) -> None:
    """Run one of a service's daily jobs once (for a cron job); safe to repeat for a date."""
    from shared import clock
    from shared.messaging.inprocess import InProcessTransport
    from shared.runtime import ServiceRuntime

    settings = Settings()
    known = services.definitions()
    if service not in known:
        raise typer.BadParameter(f"the services are {list(known)}", param_hint="service")
    definition = known[service]()
    jobs = {j.name: j for j in definition.jobs}
    if name not in jobs:
        raise typer.BadParameter(f"{service} has the jobs {sorted(jobs)}", param_hint="name")
    day = date.fromisoformat(as_of) if as_of else clock.today()
    if clock.is_future(day):
        raise typer.BadParameter(f"{day} has not come yet: a daily job runs for today or "
                                 "an earlier day", param_hint="--as-of")

    async def _run() -> object:
        # Events go to the outbox; the running service's relay publishes them.
        runtime = ServiceRuntime(definition, settings, Keyring(), InProcessTransport())
        try:
            if runtime.migrates_on_start:
                await runtime.migrate()
            return await jobs[name].run(runtime, day)
        finally:
            await runtime.engine.dispose()

    typer.echo(json.dumps(asyncio.run(_run()), default=str))


@app.command()
def sweep(
    as_of: Annotated[str | None, typer.Option(help="YYYY-MM-DD; default today")] = None,
) -> None:
    """The ledger's overdue sweep once: `recoup job ledger overdue-sweep`."""
    job("ledger", "overdue-sweep", as_of)


@app.command()
def makemigration(
    service: Annotated[str, typer.Argument()],
    message: Annotated[str, typer.Option("-m", "--message")],
) -> None:
    """Autogenerate a migration for a service from its tables (against a scratch SQLite)."""
    definition = services.load([service])[0]

    async def _make() -> None:
        with tempfile.TemporaryDirectory() as tmp:
            engine = create_engine(f"sqlite+aiosqlite:///{Path(tmp) / 'scratch.sqlite3'}")
            try:
                await upgrade(engine, definition.migrations, definition.metadata)
                await run_alembic(engine, definition.migrations, definition.metadata, "revision",
                                  message=message, autogenerate=True)
            finally:
                await engine.dispose()

    asyncio.run(_make())


if __name__ == "__main__":
    app()
