"""Structured logs: readable lines in development, JSON lines in production."""

from __future__ import annotations

import logging

import structlog

from shared.settings import Settings


def configure_logging(settings: Settings) -> None:
    renderer = (structlog.processors.JSONRenderer() if settings.environment == "production"
                else structlog.dev.ConsoleRenderer(colors=False))
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
    )
    logging.basicConfig(level=logging.INFO, format="%(message)s")
