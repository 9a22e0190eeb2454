"""The embedded app (all four services in one process) on a temporary data folder,
driven through ASGI with its lifespan running."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from recoup import services
from recoup.app import create_app
from shared.auth import Keyring
from shared.settings import Settings
from tests.support.api import API_KEYS_SPEC, Api


def embedded_settings(data_dir: Path, **overrides: Any) -> Settings:
    return Settings(data_dir=data_dir, api_keys=API_KEYS_SPEC, relay_poll_seconds=0.2,
                    scheduler_enabled=False, **overrides)


@asynccontextmanager
async def running_app(settings: Settings, names: list[str] | None = None) -> AsyncIterator[FastAPI]:
    app = create_app(settings, services.load(names), Keyring.parse(settings.api_keys or ""))
    async with app.router.lifespan_context(app):
        yield app


@asynccontextmanager
async def embedded_api(settings: Settings) -> AsyncIterator[tuple[Api, FastAPI]]:
    async with running_app(settings) as app:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://recoup") as client:
            yield Api({"/": client}), app


@asynccontextmanager
async def service_on(db: str, tmp: Path, name: str) -> AsyncIterator[tuple[FastAPI, Any]]:
    """One service running alone on a fresh database of the given kind (sqlite, postgres)."""
    from tests.support.databases import database_url

    async with database_url(db, tmp, name) as url:
        settings = embedded_settings(tmp, migrate_on_start=True,
                                     **{f"database_url_{name}": url})
        async with running_app(settings, [name]) as app:
            yield app, app.state.runtimes[name]
