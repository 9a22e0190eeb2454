"""Reachability of the real PostgreSQL and RabbitMQ. Without CI a missing server skips
the tests that need it, saying why; under CI=true it fails them."""

from __future__ import annotations

import os
import socket

import pytest

POSTGRES_HOST, POSTGRES_PORT = "127.0.0.1", 5432
RABBITMQ_HOST, RABBITMQ_PORT = "127.0.0.1", 5672
POSTGRES_ADMIN_URL = os.environ.get(
    "RECOUP_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
AMQP_URL = os.environ.get("RECOUP_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")


def reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def require_server(name: str, host: str, port: int, how_to_start: str) -> None:
    if reachable(host, port):
        return
    message = f"{name} is not reachable on {host}:{port}; start it with: {how_to_start}"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(message)
    pytest.skip(message)


def require_postgres() -> None:
    require_server("PostgreSQL", POSTGRES_HOST, POSTGRES_PORT,
                   "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start")


def require_rabbitmq() -> None:
    require_server("RabbitMQ", RABBITMQ_HOST, RABBITMQ_PORT, "rabbitmq-server -detached")
