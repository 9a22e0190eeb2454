"""Which events any subscription wants, known without a transaction per event: the webhook
service hears every event, and most concern no subscription. The active patterns are read
at most every `subscription_refresh_seconds`, and at once after a change made here; a
change made on another replica takes effect within that time."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import select

from services.webhooks.tables import Subscription
from shared.events import CloudEvent
from shared.events.topics import matches

KEY = "webhooks.interest"


class Interest:
    def __init__(self, runtime: Any) -> None:
        self._read_sessions = runtime.read_sessions
        self._refresh = runtime.config.subscription_refresh_seconds
        self._patterns: frozenset[str] = frozenset()
        self._read_at: float | None = None

    @classmethod
    def of(cls, runtime: Any) -> Interest:
        interest = runtime.resources.get(KEY)
        if interest is None:
            interest = runtime.resources[KEY] = cls(runtime)
        return interest

    def forget(self) -> None:
        """Read the subscriptions again before the next event (one changed here)."""
        self._read_at = None

    async def wants(self, event: CloudEvent) -> bool:
        if self._read_at is None or time.monotonic() - self._read_at > self._refresh:
            async with self._read_sessions() as session:
                rows = (await session.execute(
                    select(Subscription.event_types).where(Subscription.active.is_(True))
                )).scalars().all()
            self._patterns = frozenset(p for patterns in rows for p in patterns)
            self._read_at = time.monotonic()
        return any(matches(pattern, event.type) for pattern in self._patterns)
