"""What a service has announced: the events in its outbox, parsed."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select


async def emitted(runtime: Any, event_type: str) -> list[dict[str, Any]]:
    """The data of every `event_type` event the service wrote to its outbox, oldest first."""
    outbox = runtime.infra.outbox
    async with runtime.read_sessions() as session:
        rows = (await session.execute(select(outbox.c.envelope).where(outbox.c.type == event_type)
                                      .order_by(outbox.c.id))).scalars().all()
    return [json.loads(row)["data"] for row in rows]
