"""In-process transport for the embedded mode.

`publish` hands the event to every subscribed service and returns once each has
committed it (or dead-lettered it after the delivery limit, retrying with back-off), so
the outbox row is marked sent only when every consumer has the event on disk: a crash
loses nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence

import structlog

from shared.events import CloudEvent
from shared.events.topics import matches
from shared.messaging.transport import Subscriber, Transport, backoff

log = structlog.get_logger(__name__)


class InProcessTransport(Transport):
    def __init__(self, *, delivery_limit: int = 5, retry_base_seconds: float = 0.5) -> None:
        self._subscribers: list[Subscriber] = []
        self._delivery_limit = delivery_limit
        self._retry_base_seconds = retry_base_seconds

    async def start(self) -> None:
        return None

    async def declare(self, topology: Mapping[str, Iterable[str]]) -> None:
        """Nothing to declare: the subscribers are the routing, and the app subscribes
        every hosted service before any relay runs."""

    async def subscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.append(subscriber)

    async def publish(self, event: CloudEvent) -> None:
        (failure,) = await self.publish_batch([event])
        if failure is not None:
            raise failure

    async def publish_batch(self, events: Sequence[CloudEvent]) -> list[BaseException | None]:
        """Each service takes the events in order; services, having a database each,
        work side by side. An event counts as handed over once every subscriber has it."""
        outcomes = await asyncio.gather(*(self._deliver_all(s, events) for s in self._subscribers))
        first_failure, error = min(outcomes, key=lambda o: o[0], default=(len(events), None))
        return [None] * first_failure + [error] * (len(events) - first_failure)

    async def _deliver_all(
        self, subscriber: Subscriber, events: Sequence[CloudEvent]
    ) -> tuple[int, BaseException | None]:
        """Answers how many events went through before a failure, and the failure."""
        patterns = list(subscriber.event_types)  # as the broker's topic bindings
        for index, event in enumerate(events):
            if any(matches(pattern, event.type) for pattern in patterns):
                try:
                    await self._deliver(subscriber, event)
                except Exception as exc:  # could not even dead-letter it: retry later
                    return index, exc
        return len(events), None

    async def _deliver(self, subscriber: Subscriber, event: CloudEvent) -> None:
        """The first delivery and up to `delivery_limit` redeliveries, as RabbitMQ counts."""
        for redelivery in range(self._delivery_limit + 1):
            if redelivery:
                await asyncio.sleep(backoff(self._retry_base_seconds, redelivery))
            try:
                await subscriber.handle(event)
                return
            except Exception as exc:
                log.warning(
                    "event handler failed",
                    consumer=subscriber.service, event_id=event.id, type=event.type,
                    redelivery=redelivery, error=repr(exc),
                )
                error = f"{type(exc).__name__}: {exc}"
        await subscriber.dead_letter(event, error)

    async def is_ready(self) -> bool:
        return True

    async def close(self) -> None:
        self._subscribers.clear()
