"""The one interface both transports (in-process and RabbitMQ) implement."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol

from shared.events import CloudEvent


class Subscriber(Protocol):
    """A service's consuming side: which types it wants, and what to do with them."""

    service: str

    @property
    def event_types(self) -> Iterable[str]: ...

    async def handle(self, event: CloudEvent) -> None:
        """Apply the event and commit; raise to have it retried."""

    async def dead_letter(self, event: CloudEvent, error: str) -> None:
        """Keep an event that failed every delivery, for a person to look at."""


MAX_BACKOFF_SECONDS = 30.0


def backoff(base_seconds: float, redelivery: int) -> float:
    """How long to wait before redelivery number `redelivery` (1, 2, ...): long enough for
    a database failover to pass before an event is given up as poison."""
    return min(base_seconds * 2 ** (redelivery - 1), MAX_BACKOFF_SECONDS)


class Transport(ABC):
    @abstractmethod
    async def start(self) -> None: ...

    @abstractmethod
    async def declare(self, topology: Mapping[str, Iterable[str]]) -> None:
        """Make sure every service's queue exists with its bindings (service -> event
        types) before anything is published, so no event is routed to nowhere."""

    @abstractmethod
    async def publish(self, event: CloudEvent) -> None:
        """Return only once the event is safely handed over; raise otherwise."""

    async def publish_batch(self, events: Sequence[CloudEvent]) -> list[BaseException | None]:
        """Hand over several events; answers, per event, None or why it was not handed
        over. This default goes one by one and stops at the first failure."""
        results: list[BaseException | None] = []
        for event in events:
            try:
                await self.publish(event)
            except Exception as exc:
                return results + [exc] * (len(events) - len(results))
            results.append(None)
        return results

    @abstractmethod
    async def subscribe(self, subscriber: Subscriber) -> None: ...

    @abstractmethod
    async def is_ready(self) -> bool: ...

    @abstractmethod
    async def close(self) -> None: ...
