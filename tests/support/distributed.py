"""The distributed mode for tests: the four services as separate `recoup serve`
processes on PostgreSQL (a database each) and RabbitMQ (a private namespace)."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aio_pika
import asyncpg
import httpx

from recoup import services as recoup_services
from tests.support.api import API_KEYS_SPEC, Api, eventually
from tests.support.servers import AMQP_URL

SERVICES = {"credit": "/credit", "ledger": "/ledger", "reconciliation": "/reconciliation",
            "collections": "/collections", "webhooks": "/webhooks"}
PG_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@asynccontextmanager
async def postgres_databases(names: list[str]) -> AsyncIterator[dict[str, str]]:
    tag = uuid.uuid4().hex[:8]
    dbs = {name: f"recoup_test_{name}_{tag}" for name in names}
    conn = await asyncpg.connect(PG_DSN)
    try:
        for db in dbs.values():
            await conn.execute(f'CREATE DATABASE "{db}"')
        yield {name: f"postgresql+asyncpg://postgres@127.0.0.1:5432/{db}" for name, db in dbs.items()}
    finally:
        for db in dbs.values():
            await conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        await conn.close()


async def delete_namespace(namespace: str, services: list[str]) -> None:
    """Remove the namespace's exchanges and queues: those of `services`, and those of every
    service, which any app of the namespace declared (the whole topology, at start)."""
    connection = await aio_pika.connect(AMQP_URL)
    async with connection:
        channel = await connection.channel()
        for service in sorted({*services, *recoup_services.definitions()}):
            await channel.queue_delete(f"{namespace}.{service}")
            await channel.queue_delete(f"{namespace}.{service}.dead")
        await channel.exchange_delete(f"{namespace}.events")
        await channel.exchange_delete(f"{namespace}.events.dlx")


@asynccontextmanager
async def distributed_api(tmp: Path) -> AsyncIterator[Api]:
    namespace = f"test-{uuid.uuid4().hex[:8]}"
    async with postgres_databases(list(SERVICES)) as urls:
        env = {
            **os.environ,
            "RECOUP_API_KEYS": API_KEYS_SPEC,
            "RECOUP_AMQP_URL": AMQP_URL,
            "RECOUP_AMQP_NAMESPACE": namespace,
            "RECOUP_DATA_DIR": str(tmp),
            "RECOUP_RELAY_POLL_SECONDS": "0.2",
            **{f"RECOUP_DATABASE_URL_{name.upper()}": url for name, url in urls.items()},
        }
        migrate = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "recoup.cli", "migrate", env=env,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        output, _ = await migrate.communicate()
        assert migrate.returncode == 0, output.decode()

        processes: list[subprocess.Popen[bytes]] = []
        clients: dict[str, httpx.AsyncClient] = {}
        try:
            for name, prefix in SERVICES.items():
                port = free_port()
                log = open(tmp / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
                processes.append(subprocess.Popen(
                    [sys.executable, "-m", "recoup.cli", "serve", name],
                    env={**env, "RECOUP_PORT": str(port)}, stdout=log, stderr=subprocess.STDOUT))
                clients[prefix] = httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30)
            for name, prefix in SERVICES.items():
                async def ready(client: httpx.AsyncClient = clients[prefix], name: str = name) -> None:
                    try:
                        response = await client.get("/readyz")
                    except httpx.TransportError as exc:
                        raise AssertionError(f"{name} not up yet") from exc
                    assert response.status_code == 200, f"{name}: {response.text}"
                await eventually(ready, timeout=60, interval=0.2)
            yield Api(clients)
        finally:
            for client in clients.values():
                await client.aclose()
            for process in processes:
                process.terminate()
            for process in processes:
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
            await delete_namespace(namespace, list(SERVICES))
