"""The system under test, started as real server processes in either mode, with an HTTP
client (tests.support.api.Api) and read-only access to each service's database.

- embedded: `python -m recoup.cli run`, one process, SQLite files in a temporary folder,
  events in-process;
- distributed: `python -m recoup.cli serve NAME` for each of the four services, each on a
  fresh PostgreSQL database, events through a private RabbitMQ namespace.

Everything started here is stopped and removed on the way out, also after a failure or
Ctrl-C: the processes, the temporary folder, the databases, the RabbitMQ queues and
exchanges.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import asyncpg
import httpx

from tests.support.api import API_KEYS_SPEC, Api
from tests.support.distributed import (
    SERVICES,
    delete_namespace,
    free_port,
    postgres_databases,
)
from tests.support.servers import (
    AMQP_URL,
    POSTGRES_HOST,
    POSTGRES_PORT,
    RABBITMQ_HOST,
    RABBITMQ_PORT,
    reachable,
)

READY_TIMEOUT = 60.0
PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Unavailable(Exception):
    """A mode cannot run here (a server it needs is not reachable); the message says why."""


class Store(Protocol):
    """Read-only SQL against one service's database (placeholders: none; literals only)."""

    async def fetch(self, service: str, sql: str) -> list[tuple[Any, ...]]: ...


@dataclass
class System:
    mode: str
    description: str
    api: Api
    store: Store
    logs: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def log_problems(system: System, sample: int = 3) -> list[str]:
    """Warnings, errors and tracebacks the servers logged so far: a count and a few lines."""
    found: list[str] = []
    for log in system.logs:
        try:
            lines = log.read_text(errors="replace").splitlines()
        except OSError:
            continue
        found += [f"{log.stem}: {line.strip()[:200]}" for line in lines
                  if "[warning" in line or "[error" in line or "[critical" in line
                  or line.startswith("Traceback")]
    if not found:
        return []
    return [f"the servers logged {len(found)} warnings or errors, e.g.:", *found[:sample]]


def as_epoch(value: Any) -> float:
    """A timestamp column as seconds since the epoch (SQLite hands back naive UTC text)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


# --- database access ---------------------------------------------------------------------------
class SqliteStore:
    def __init__(self, data_dir: Path) -> None:
        self._data_dir = data_dir

    def _fetch(self, service: str, sql: str) -> list[tuple[Any, ...]]:
        path = self._data_dir / f"{service}.sqlite3"
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
        try:
            return list(connection.execute(sql).fetchall())
        finally:
            connection.close()

    async def fetch(self, service: str, sql: str) -> list[tuple[Any, ...]]:
        return await asyncio.to_thread(self._fetch, service, sql)


class PostgresStore:
    def __init__(self, urls: dict[str, str]) -> None:
        # postgresql+asyncpg://... is SQLAlchemy's spelling; asyncpg wants postgresql://...
        self._dsns = {name: url.replace("+asyncpg", "") for name, url in urls.items()}
        self._connections: dict[str, asyncpg.Connection] = {}

    async def fetch(self, service: str, sql: str) -> list[tuple[Any, ...]]:
        connection = self._connections.get(service)
        if connection is None:
            connection = self._connections[service] = await asyncpg.connect(self._dsns[service])
        return [tuple(row) for row in await connection.fetch(sql)]

    async def close(self) -> None:
        for connection in self._connections.values():
            with contextlib.suppress(Exception):
                await connection.close()
        self._connections.clear()


# --- processes ---------------------------------------------------------------------------------
def _clean_env(**recoup: str) -> dict[str, str]:
    """This environment without any RECOUP_* of the caller's, plus `recoup`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECOUP_")}
    return {**env, **recoup}


async def _spawn(args: Sequence[str], env: dict[str, str], log: Path) -> asyncio.subprocess.Process:
    with log.open("wb") as out:  # the child keeps its own descriptor
        return await asyncio.create_subprocess_exec(
            sys.executable, *args, env=env, stdout=out, stderr=asyncio.subprocess.STDOUT,
            cwd=PROJECT_ROOT,
        )


async def _stop(processes: list[asyncio.subprocess.Process]) -> None:
    for process in processes:
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.terminate()
    for process in processes:
        try:
            await asyncio.wait_for(process.wait(), 15)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()


def _tail(log: Path, lines: int = 30) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


async def _wait_ready(client: httpx.AsyncClient, process: asyncio.subprocess.Process,
                      log: Path, name: str) -> None:
    deadline = asyncio.get_running_loop().time() + READY_TIMEOUT
    while True:
        if process.returncode is not None:
            raise RuntimeError(f"{name} exited with {process.returncode}:\n{_tail(log)}")
        try:
            if (await client.get("/readyz")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if asyncio.get_running_loop().time() > deadline:
            raise RuntimeError(f"{name} not ready after {READY_TIMEOUT:.0f} s:\n{_tail(log)}")
        await asyncio.sleep(0.2)


def _client(port: int) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", timeout=60,
        limits=httpx.Limits(max_connections=200, max_keepalive_connections=200))


# --- the two modes -----------------------------------------------------------------------------
@asynccontextmanager
async def embedded(settings: Mapping[str, str] | None = None) -> AsyncIterator[System]:
    """`settings`: RECOUP_* variables the benchmark needs, e.g. a service's policy."""
    with tempfile.TemporaryDirectory(prefix="recoup-bench-") as tmp_name:
        tmp = Path(tmp_name)
        port = free_port()
        env = _clean_env(
            RECOUP_PORT=str(port), RECOUP_DATA_DIR=str(tmp / "data"), RECOUP_API_KEYS=API_KEYS_SPEC,
            RECOUP_SCHEDULER_ENABLED="false", **(settings or {}),
        )
        log = tmp / "embedded.log"
        processes: list[asyncio.subprocess.Process] = []
        client = _client(port)
        try:
            processes.append(await _spawn(["-m", "recoup.cli", "run"], env, log))
            await _wait_ready(client, processes[0], log, "embedded app")
            yield System(
                mode="embedded",
                description="1 process (recoup run): SQLite (WAL), events in-process",
                api=Api({"/": client}), store=SqliteStore(tmp / "data"), logs=[log],
            )
        finally:
            await client.aclose()
            await _stop(processes)


async def check_distributed_available() -> None:
    missing = [f"{name} on {host}:{port}" for name, host, port in (
        ("PostgreSQL", POSTGRES_HOST, POSTGRES_PORT), ("RabbitMQ", RABBITMQ_HOST, RABBITMQ_PORT),
    ) if not reachable(host, port)]
    if missing:
        raise Unavailable(f"not reachable: {', '.join(missing)}")
    try:
        connection = await asyncpg.connect(f"postgresql://postgres@{POSTGRES_HOST}:{POSTGRES_PORT}/postgres")
        await connection.close()
    except Exception as exc:
        raise Unavailable(f"PostgreSQL refused user postgres: {exc}") from exc


@asynccontextmanager
async def distributed(names: Sequence[str] = tuple(SERVICES),
                      settings: Mapping[str, str] | None = None) -> AsyncIterator[System]:
    """`names`: the services to start (default all), each on its own database; `settings`:
    RECOUP_* variables for every process."""
    await check_distributed_available()
    services = {name: SERVICES[name] for name in names}
    namespace = f"bench-{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory(prefix="recoup-bench-") as tmp_name:
        tmp = Path(tmp_name)
        async with postgres_databases(list(services)) as urls:
            env = _clean_env(
                RECOUP_API_KEYS=API_KEYS_SPEC, RECOUP_AMQP_URL=AMQP_URL,
                RECOUP_AMQP_NAMESPACE=namespace, RECOUP_DATA_DIR=str(tmp / "data"),
                **{f"RECOUP_DATABASE_URL_{name.upper()}": url for name, url in urls.items()},
                **(settings or {}),
            )
            store = PostgresStore(urls)
            processes: list[asyncio.subprocess.Process] = []
            clients: dict[str, httpx.AsyncClient] = {}
            logs: list[Path] = []
            try:
                migrate_log = tmp / "migrate.log"
                migrate = await _spawn(["-m", "recoup.cli", "migrate", *services], env, migrate_log)
                processes.append(migrate)
                if await migrate.wait() != 0:
                    raise RuntimeError(f"recoup migrate failed:\n{_tail(migrate_log)}")
                for name, prefix in services.items():
                    port = free_port()
                    log = tmp / f"{name}.log"
                    logs.append(log)
                    processes.append(await _spawn(["-m", "recoup.cli", "serve", name],
                                                  {**env, "RECOUP_PORT": str(port)}, log))
                    clients[prefix] = _client(port)
                for (name, prefix), process, log in zip(services.items(), processes[1:], logs,
                                                        strict=True):
                    await _wait_ready(clients[prefix], process, log, name)
                yield System(
                    mode="distributed",
                    description=f"{len(services)} process{'es' if len(services) > 1 else ''} "
                                f"(recoup serve {' '.join(services)}): PostgreSQL, RabbitMQ",
                    api=Api(clients), store=store, logs=logs,
                )
            finally:
                for client in clients.values():
                    await client.aclose()
                await store.close()
                await _stop(processes)
                try:
                    await delete_namespace(namespace, list(SERVICES))  # migrate declares every queue
                except Exception as exc:  # the databases below still go
                    print(f"warning: could not delete RabbitMQ namespace {namespace}: {exc}",
                          file=sys.stderr)
