"""RabbitMQ transport (aio-pika).

Topology, declared whole by every process and by `recoup migrate` (declarations are
idempotent), so that no service publishes before the queues of the others exist:
- topic exchange `<ns>.events`, durable; the event type is the routing key;
- per service a durable quorum queue `<ns>.<service>` bound to the types it consumes,
  with an explicit delivery limit (RabbitMQ 3.x has no default) and a dead-letter
  exchange `<ns>.events.dlx` that routes to `<ns>.<service>.dead`.
Messages are persistent and published with confirms. A message is acked only after
its handler committed; a failure is nacked with requeue after an exponential pause, so
the broker counts the delivery and dead-letters it past the limit. An unreadable message is rejected
straight to the dead-letter queue.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence

import aio_pika
import structlog
from aio_pika.abc import (
    AbstractChannel,
    AbstractExchange,
    AbstractIncomingMessage,
    AbstractQueue,
    AbstractRobustConnection,
)
from pydantic import ValidationError

from shared.events import CloudEvent
from shared.messaging.transport import Subscriber, Transport, backoff

log = structlog.get_logger(__name__)

CONTENT_TYPE = "application/cloudevents+json"


class RabbitMQTransport(Transport):
    def __init__(
        self,
        url: str,
        *,
        namespace: str = "recoup",
        prefetch: int = 16,
        delivery_limit: int = 5,
        retry_base_seconds: float = 0.5,
        publish_timeout: float = 10.0,
    ) -> None:
        self._url = url
        self.namespace = namespace
        self._prefetch = prefetch
        self._delivery_limit = delivery_limit
        self._retry_base_seconds = retry_base_seconds
        self._publish_timeout = publish_timeout
        self._connection: AbstractRobustConnection | None = None
        self._publish_channel: AbstractChannel | None = None
        self._exchange: AbstractExchange | None = None

    @property
    def exchange_name(self) -> str:
        return f"{self.namespace}.events"

    @property
    def dead_letter_exchange_name(self) -> str:
        return f"{self.namespace}.events.dlx"

    def queue_name(self, service: str) -> str:
        return f"{self.namespace}.{service}"

    async def start(self) -> None:
        self._connection = await aio_pika.connect_robust(self._url)
        self._publish_channel = await self._connection.channel(publisher_confirms=True)
        self._exchange = await self._declare_exchanges(self._publish_channel)

    async def _declare_exchanges(self, channel: AbstractChannel) -> AbstractExchange:
        await channel.declare_exchange(
            self.dead_letter_exchange_name, aio_pika.ExchangeType.DIRECT, durable=True
        )
        return await channel.declare_exchange(
            self.exchange_name, aio_pika.ExchangeType.TOPIC, durable=True
        )

    async def publish(self, event: CloudEvent) -> None:
        if self._exchange is None:
            raise RuntimeError("transport not started")
        message = aio_pika.Message(
            body=event.to_json().encode(),
            content_type=CONTENT_TYPE,
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            message_id=event.id,
            type=event.type,
            timestamp=event.time,
        )
        # With publisher confirms this returns once the broker has the message on disk
        # (or accepted by a quorum) and raises if the broker refuses it.
        await self._exchange.publish(
            message, routing_key=event.type, timeout=self._publish_timeout
        )

    async def publish_batch(self, events: Sequence[CloudEvent]) -> list[BaseException | None]:
        """Publish them all, then wait for all the confirms together: one round trip to
        the broker's disk instead of one per event."""
        results = await asyncio.gather(*(self.publish(e) for e in events), return_exceptions=True)
        return [r if isinstance(r, BaseException) else None for r in results]

    async def declare(self, topology: Mapping[str, Iterable[str]]) -> None:
        if self._connection is None:
            raise RuntimeError("transport not started")
        channel = await self._connection.channel()
        try:
            for service, event_types in topology.items():
                await self._declare_queue(channel, service, event_types)
        finally:
            await channel.close()

    async def _declare_queue(
        self, channel: AbstractChannel, service: str, event_types: Iterable[str]
    ) -> AbstractQueue:
        exchange = await self._declare_exchanges(channel)
        queue_name = self.queue_name(service)
        dead = await channel.declare_queue(
            f"{queue_name}.dead", durable=True, arguments={"x-queue-type": "quorum"}
        )
        await dead.bind(self.dead_letter_exchange_name, routing_key=queue_name)
        queue = await channel.declare_queue(
            queue_name,
            durable=True,
            arguments={
                "x-queue-type": "quorum",
                "x-delivery-limit": self._delivery_limit,
                "x-dead-letter-exchange": self.dead_letter_exchange_name,
                "x-dead-letter-routing-key": queue_name,
            },
        )
        for event_type in event_types:
            await queue.bind(exchange, routing_key=event_type)
        return queue

    async def subscribe(self, subscriber: Subscriber) -> None:
        if self._connection is None:
            raise RuntimeError("transport not started")
        channel = await self._connection.channel()
        await channel.set_qos(prefetch_count=self._prefetch)
        queue = await self._declare_queue(channel, subscriber.service, subscriber.event_types)
        queue_name = queue.name

        async def on_message(message: AbstractIncomingMessage) -> None:
            try:
                event = CloudEvent.model_validate_json(message.body)
            except ValidationError as exc:
                log.error("unreadable message dead-lettered", queue=queue_name, error=str(exc))
                await message.reject(requeue=False)
                return
            try:
                await subscriber.handle(event)
            except Exception as exc:
                redelivery = int((message.headers or {}).get("x-delivery-count", 0)) + 1
                log.warning(
                    "event handler failed; requeued after a pause",
                    consumer=subscriber.service, event_id=event.id, type=event.type,
                    redelivery=redelivery, error=repr(exc),
                )
                # Holding the message (unacked) while waiting slows a failing consumer
                # down instead of burning its redeliveries in milliseconds.
                await asyncio.sleep(backoff(self._retry_base_seconds, redelivery))
                await message.nack(requeue=True)
                return
            await message.ack()

        await queue.consume(on_message)

    async def is_ready(self) -> bool:
        return self._connection is not None and not self._connection.is_closed

    async def close(self) -> None:
        if self._connection is not None:
            await self._connection.close()
            self._connection = None
