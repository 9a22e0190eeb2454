"""The composition root: one ASGI app hosting one service (distributed mode) or all
four (embedded mode) under their prefixes, so the URLs are the same in both."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import structlog
from fastapi import FastAPI
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from recoup import services
from recoup.scheduler import run_daily
from shared.auth import Keyring
from shared.idempotency import IdempotencyMiddleware
from shared.messaging.inprocess import InProcessTransport
from shared.messaging.rabbitmq import RabbitMQTransport
from shared.messaging.transport import Transport
from shared.runtime import ServiceDefinition, ServiceRuntime
from shared.settings import Settings
from shared.web import install_problem_handlers

log = structlog.get_logger(__name__)


def make_transport(settings: Settings) -> Transport:
    if settings.amqp_url:
        return RabbitMQTransport(
            settings.amqp_url, namespace=settings.amqp_namespace,
            prefetch=settings.prefetch, delivery_limit=settings.delivery_limit,
            retry_base_seconds=settings.retry_base_seconds,
        )
    return InProcessTransport(delivery_limit=settings.delivery_limit,
                              retry_base_seconds=settings.retry_base_seconds)


def topology() -> dict[str, list[str]]:
    """Every service's queue and the event types bound to it."""
    return {d.name: d.event_types for d in services.load()}


def service_app(definition: ServiceDefinition) -> FastAPI:
    app = FastAPI(title=f"Recoup {definition.title}", version="1")
    for router in definition.routers:
        app.include_router(router)
    install_problem_handlers(app)
    app.add_middleware(IdempotencyMiddleware)
    return app


def create_app(
    settings: Settings,
    definitions: list[ServiceDefinition],
    keyring: Keyring,
    *,
    schedule: bool = False,
) -> FastAPI:
    sub_apps = {d.name: service_app(d) for d in definitions}
    runtimes: list[ServiceRuntime] = []

    @asynccontextmanager
    async def lifespan(root: FastAPI) -> AsyncIterator[None]:
        transport = make_transport(settings)
        await transport.start()
        for d in definitions:
            runtime = ServiceRuntime(d, settings, keyring, transport)
            sub_apps[d.name].state.runtime = runtime
            runtimes.append(runtime)
        root.state.runtimes = {r.name: r for r in runtimes}
        await transport.declare(topology())
        for runtime in runtimes:
            await runtime.prepare()
        for runtime in runtimes:
            runtime.start_background()
        jobs = [
            asyncio.create_task(run_daily(settings.sweep_at, job, runtime))
            for runtime in runtimes
            for job in runtime.definition.jobs
            if schedule and settings.scheduler_enabled
        ]
        try:
            yield
        finally:
            for task in jobs:
                task.cancel()
            await asyncio.gather(*jobs, return_exceptions=True)
            # Every relay and worker first: a relay may be handing events to another service's consumer.
            for runtime in runtimes:
                await runtime.stop_background()
            for runtime in runtimes:
                await runtime.close()
            runtimes.clear()
            await transport.close()

    root = FastAPI(title="Recoup", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    install_problem_handlers(root)

    @root.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}  # liveness: the process answers; no dependency checks

    @root.get("/readyz", include_in_schema=False)
    async def readyz() -> JSONResponse:
        checks: dict[str, Any] = {}
        for runtime in runtimes:
            checks[f"{runtime.name}.database"] = await runtime.database_ready()
        if runtimes:
            checks["broker"] = await runtimes[0].transport.is_ready()
        ready = bool(checks) and all(checks.values())
        return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)

    @root.get("/metrics", include_in_schema=False)
    async def metrics() -> PlainTextResponse:
        return PlainTextResponse(generate_latest().decode(), media_type=CONTENT_TYPE_LATEST)

    for d in definitions:
        root.mount(d.prefix, sub_apps[d.name])
    return root
