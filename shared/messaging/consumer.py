"""A service's event consumer: the inbox makes every handler idempotent by event id.

The inbox row `(consumer, event_id)` is inserted in the same transaction as the
handler's effect; if it already exists the event was handled and nothing happens.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

import structlog
from sqlalchemy import Table, insert

from shared.clock import now
from shared.db import UnitOfWork, conflict_insert
from shared.events import EVENT_TYPES, CloudEvent, EventData
from shared.events.topics import matches
from shared.messaging.metrics import EVENTS_DEAD_LETTERED, EVENTS_HANDLED

log = structlog.get_logger(__name__)

EventHandler = Callable[[UnitOfWork, EventData | None, CloudEvent], Awaitable[None]]
# Whether the service has anything to do with an event at all (a cheap look, no database
# write): a consumer that hears every event, such as the webhook sender, skips the rest.
EventFilter = Callable[[CloudEvent], Awaitable[bool]]


class ServiceConsumer:
    def __init__(
        self,
        service: str,
        handlers: Mapping[str, EventHandler],
        unit_of_work: Callable[[], UnitOfWork],
        *,
        inbox: Table,
        dead_letters: Table,
        wants: EventFilter | None = None,
    ) -> None:
        self.service = service
        self._handlers = handlers
        self._wants = wants
        self._unit_of_work = unit_of_work
        self._inbox = inbox
        self._dead_letters = dead_letters

    @property
    def event_types(self) -> list[str]:
        return list(self._handlers)

    def _handler_for(self, event_type: str) -> EventHandler:
        """The handler of this type, or of the first pattern (`ledger.#`, `#`) it matches."""
        if event_type in self._handlers:
            return self._handlers[event_type]
        return next(h for pattern, h in self._handlers.items() if matches(pattern, event_type))

    async def handle(self, event: CloudEvent) -> None:
        if self._wants is not None and not await self._wants(event):
            # Nothing to do, so nothing to record: no transaction at all.
            EVENTS_HANDLED.labels(self.service, event.type, "skipped").inc()
            return
        handler = self._handler_for(event.type)
        # A pattern may take types no contract names (an outside producer's): raw data then.
        payload = event.payload() if event.type in EVENT_TYPES else None
        async with self._unit_of_work() as uow:
            if not await self._record_in_inbox(uow, event):
                log.info("duplicate event ignored", consumer=self.service, event_id=event.id)
                EVENTS_HANDLED.labels(self.service, event.type, "duplicate").inc()
                return
            await handler(uow, payload, event)
            await uow.commit()
        EVENTS_HANDLED.labels(self.service, event.type, "applied").inc()

    async def _record_in_inbox(self, uow: UnitOfWork, event: CloudEvent) -> bool:
        statement = (
            conflict_insert(uow.session, self._inbox)
            .values(consumer=self.service, event_id=event.id, type=event.type, processed_at=now())
            .on_conflict_do_nothing()
        )
        result = await uow.session.execute(statement)
        return result.rowcount == 1

    async def dead_letter(self, event: CloudEvent, error: str) -> None:
        async with self._unit_of_work() as uow:
            await uow.session.execute(
                insert(self._dead_letters).values(
                    consumer=self.service, event_id=event.id, type=event.type,
                    envelope=event.to_json(), error=error, failed_at=now(),
                )
            )
            await uow.commit()
        log.error("event dead-lettered", consumer=self.service, event_id=event.id, error=error)
        EVENTS_DEAD_LETTERED.labels(self.service, event.type).inc()
