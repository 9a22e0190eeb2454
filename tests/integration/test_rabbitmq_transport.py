"""Delivery semantics against the real broker: ack after the handler, bounded retries,
poison messages dead-lettered while the consumer goes on."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator

import aio_pika
import pytest

from shared.events import CloudEvent, new_event
from shared.events import contracts as ev
from shared.messaging.rabbitmq import RabbitMQTransport
from tests.support.api import eventually
from tests.support.distributed import delete_namespace
from tests.support.servers import AMQP_URL, require_rabbitmq
from tests.support.tcp_proxy import TcpProxy

pytestmark = pytest.mark.rabbitmq
DELIVERY_LIMIT = 2
RETRY_BASE = 0.2


class RecordingSubscriber:
    service = "probe"
    event_types = ("credit.signal.recorded",)

    def __init__(self, failures_before_success: dict[str, int] | None = None) -> None:
        self.attempts: dict[str, int] = {}
        self._times: dict[str, list[float]] = {}
        self.handled: list[str] = []
        self._failures = failures_before_success or {}

    async def handle(self, event: CloudEvent) -> None:
        self.attempts[event.id] = self.attempts.get(event.id, 0) + 1
        self._times.setdefault(event.id, []).append(time.monotonic())
        if self.attempts[event.id] <= self._failures.get(event.id, 0):
            raise RuntimeError("handler failed")
        self.handled.append(event.id)

    async def dead_letter(self, event: CloudEvent, error: str) -> None:
        raise AssertionError("the broker dead-letters, not the subscriber")

    def seconds_to_last_attempt(self, event_id: str) -> float:
        times = self._times[event_id]
        return times[-1] - times[0]


def signal_event(note: str = "") -> CloudEvent:
    return new_event("test", ev.SignalRecorded(
        customer_id="C1", signal_id=str(uuid.uuid4()), kind="closure",
        observed_on="2026-01-01", note=note, serious=True))


@pytest.fixture
async def transport() -> AsyncIterator[RabbitMQTransport]:
    require_rabbitmq()
    namespace = f"test-{uuid.uuid4().hex[:8]}"
    transport = RabbitMQTransport(AMQP_URL, namespace=namespace, delivery_limit=DELIVERY_LIMIT,
                                  retry_base_seconds=RETRY_BASE)
    await transport.start()
    yield transport
    await transport.close()
    await delete_namespace(namespace, ["probe"])


async def dead_lettered(transport: RabbitMQTransport, expected: int) -> list[aio_pika.IncomingMessage]:
    connection = await aio_pika.connect(AMQP_URL)
    async with connection:
        channel = await connection.channel()
        queue = await channel.get_queue(f"{transport.queue_name('probe')}.dead")
        messages = []
        while (message := await queue.get(fail=False)) is not None:
            await message.ack()
            messages.append(message)
        assert len(messages) == expected, f"{len(messages)} in the dead-letter queue"
        return messages


async def test_published_messages_are_persistent_and_typed(transport: RabbitMQTransport) -> None:
    connection = await aio_pika.connect(AMQP_URL)
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(exclusive=True)
        await queue.bind(transport.exchange_name, routing_key="credit.signal.recorded")
        event = signal_event()
        await transport.publish(event)
        message = await queue.get(timeout=5)
        await message.ack()
    assert message.delivery_mode == aio_pika.DeliveryMode.PERSISTENT
    assert message.message_id == event.id and message.type == event.type
    assert CloudEvent.model_validate_json(message.body) == event


async def test_an_event_published_before_its_consumer_starts_is_kept(
    transport: RabbitMQTransport,
) -> None:
    await transport.declare({"probe": RecordingSubscriber.event_types})
    early = signal_event()
    await transport.publish(early)  # the consuming service is not running yet
    subscriber = RecordingSubscriber()
    await transport.subscribe(subscriber)

    async def handled() -> None:
        assert subscriber.handled == [early.id]
    await eventually(handled)


async def test_a_failed_handler_is_retried_then_succeeds(transport: RabbitMQTransport) -> None:
    event = signal_event()
    subscriber = RecordingSubscriber({event.id: 1})
    await transport.subscribe(subscriber)
    await transport.publish(event)

    async def handled() -> None:
        assert subscriber.handled == [event.id]
    await eventually(handled)
    assert subscriber.attempts[event.id] == 2
    await dead_lettered(transport, 0)


async def test_poison_message_is_dead_lettered_and_the_consumer_goes_on(
    transport: RabbitMQTransport,
) -> None:
    poison, good = signal_event("poison"), signal_event("good")
    subscriber = RecordingSubscriber({poison.id: 1000})
    await transport.subscribe(subscriber)
    await transport.publish(poison)
    await transport.publish(good)

    async def settled() -> None:
        assert subscriber.handled == [good.id]
        (message,) = await dead_lettered(transport, 1)
        assert json.loads(message.body)["id"] == poison.id
    await eventually(settled)
    # The broker counted the deliveries: the first one plus the allowed redeliveries,
    # each after a growing pause (0.2 s, then 0.4 s, before the dead-letter queue).
    assert subscriber.attempts[poison.id] == DELIVERY_LIMIT + 1
    assert subscriber.seconds_to_last_attempt(poison.id) >= RETRY_BASE * (1 + 2)


async def test_unreadable_message_goes_straight_to_dead_letters(transport: RabbitMQTransport) -> None:
    subscriber = RecordingSubscriber()
    await transport.subscribe(subscriber)
    connection = await aio_pika.connect(AMQP_URL)
    async with connection:
        channel = await connection.channel()
        exchange = await channel.get_exchange(transport.exchange_name)
        await exchange.publish(aio_pika.Message(b"not a cloudevent"),
                               routing_key="credit.signal.recorded")
    good = signal_event()
    await transport.publish(good)

    async def settled() -> None:
        assert subscriber.handled == [good.id]
        await dead_lettered(transport, 1)
    await eventually(settled)


async def test_queue_is_a_durable_quorum_queue_with_a_delivery_limit(
    transport: RabbitMQTransport,
) -> None:
    await transport.subscribe(RecordingSubscriber())
    connection = await aio_pika.connect(AMQP_URL)
    async with connection:
        channel = await connection.channel()
        # Declaring with other arguments fails if the queue is not what we claim it is.
        await channel.declare_queue(transport.queue_name("probe"), durable=True, passive=False,
                                    arguments={
                                        "x-queue-type": "quorum",
                                        "x-delivery-limit": DELIVERY_LIMIT,
                                        "x-dead-letter-exchange": transport.dead_letter_exchange_name,
                                        "x-dead-letter-routing-key": transport.queue_name("probe"),
                                    })
        with pytest.raises(aio_pika.exceptions.ChannelPreconditionFailed):
            channel2 = await connection.channel()
            await channel2.declare_queue(transport.queue_name("probe"), durable=True,
                                         arguments={"x-queue-type": "classic"})


async def test_consumer_resumes_after_the_connection_drops() -> None:
    """aio-pika consumers were reported idle after a broker restart: ours must resume."""
    require_rabbitmq()
    proxy = TcpProxy("127.0.0.1", 5672)
    await proxy.start()
    namespace = f"test-{uuid.uuid4().hex[:8]}"
    consumer_side = RabbitMQTransport(
        f"amqp://guest:guest@127.0.0.1:{proxy.port}/?reconnect_interval=0.3",
        namespace=namespace, delivery_limit=DELIVERY_LIMIT)
    publisher = RabbitMQTransport(AMQP_URL, namespace=namespace)
    try:
        await consumer_side.start()
        await publisher.start()
        subscriber = RecordingSubscriber()
        await consumer_side.subscribe(subscriber)
        before = signal_event()
        await publisher.publish(before)

        async def got(events: list[CloudEvent]) -> None:
            assert subscriber.handled == [e.id for e in events]
        await eventually(lambda: got([before]))

        await proxy.cut()  # the broker "restarts": connections drop, new ones refused
        during = signal_event()
        await publisher.publish(during)  # waits in the durable queue
        await proxy.restore()
        after = signal_event()
        await publisher.publish(after)
        await eventually(lambda: got([before, during, after]), timeout=30)
    finally:
        await consumer_side.close()
        await publisher.close()
        await proxy.cut()
        await delete_namespace(namespace, ["probe"])


async def test_a_pattern_subscription_hears_every_matching_type(transport: RabbitMQTransport) -> None:
    """The webhook service binds `#`: the broker routes every type to it, as the in-process
    transport does."""

    class Everything(RecordingSubscriber):
        event_types = ("#",)

    subscriber = Everything()
    await transport.subscribe(subscriber)
    events = [signal_event(), new_event("test", ev.CaseOpened(
        customer_id="C1", case_id="K1", opened_on="2026-01-01"))]
    for event in events:
        await transport.publish(event)

    async def handled() -> None:
        assert sorted(subscriber.handled) == sorted(e.id for e in events)
    await eventually(handled)
