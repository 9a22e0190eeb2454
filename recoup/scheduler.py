"""The embedded mode's daily schedule. Jobs are idempotent per date, so a job that
runs twice (a restart, a second replica) changes nothing the second time."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import structlog

from shared.clock import now, today

log = structlog.get_logger(__name__)


def seconds_until(at: str, moment: datetime, after: timedelta = timedelta(0)) -> float:
    """Until the next `at` (HH:MM, UTC) plus `after`."""
    hour, minute = (int(p) for p in at.split(":"))
    target = moment.replace(hour=hour, minute=minute, second=0, microsecond=0) + after
    while target - timedelta(days=1) > moment:
        target -= timedelta(days=1)
    if target <= moment:
        target += timedelta(days=1)
    return (target - moment).total_seconds()


async def run_daily(at: str, job: Any, runtime: Any) -> None:
    while True:
        await asyncio.sleep(seconds_until(at, now(), job.after))
        try:
            result = await job.run(runtime, today())
            log.info("scheduled job ran", job=job.name, service=runtime.name, result=result)
        except Exception:
            log.exception("scheduled job failed; it runs again tomorrow", job=job.name)
