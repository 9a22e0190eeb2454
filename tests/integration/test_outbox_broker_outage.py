"""The broker is down when the business transaction commits: the change is kept, the
event waits in the outbox, and goes out once the broker is back."""

from __future__ import annotations

import uuid
from pathlib import Path

import aio_pika
import pytest
from sqlalchemy import select

from tests.support.api import eventually
from tests.support.distributed import delete_namespace
from tests.support.embedded import embedded_settings, running_app
from tests.support.seed import register_dealer
from tests.support.servers import AMQP_URL, require_rabbitmq
from tests.support.tcp_proxy import TcpProxy

pytestmark = pytest.mark.rabbitmq


async def test_event_waits_in_the_outbox_while_the_broker_is_down(tmp_path: Path) -> None:
    require_rabbitmq()
    proxy = TcpProxy("127.0.0.1", 5672)
    await proxy.start()
    namespace = f"test-{uuid.uuid4().hex[:8]}"
    settings = embedded_settings(
        tmp_path, amqp_url=f"amqp://guest:guest@127.0.0.1:{proxy.port}/?reconnect_interval=0.5",
        amqp_namespace=namespace,
    )
    watcher = await aio_pika.connect(AMQP_URL)
    try:
        channel = await watcher.channel()
        seen = await channel.declare_queue(exclusive=True)
        async with running_app(settings, ["credit"]) as app:
            await seen.bind(f"{namespace}.events", routing_key="credit.customer.registered")
            runtime = app.state.runtimes["credit"]
            await proxy.cut()

            await register_dealer(runtime, "C-OUTAGE")  # commits while the broker is away

            outbox = runtime.infra.outbox

            async def publish_failed() -> None:
                async with runtime.sessions() as session:
                    row = (await session.execute(
                        select(outbox).where(outbox.c.type == "credit.customer.registered"))).one()
                assert row.published_at is None and row.attempts >= 1, row
            await eventually(publish_failed)
            assert await seen.get(fail=False) is None

            await proxy.restore()

            async def delivered() -> None:
                message = await seen.get(fail=False)
                assert message is not None, "not published yet"
                await message.ack()
                assert b"C-OUTAGE" in message.body
            await eventually(delivered, timeout=30)

            async def marked_sent() -> None:
                assert await runtime.relay.backlog() == 0
            await eventually(marked_sent)
    finally:
        await watcher.close()
        await proxy.cut()
        await delete_namespace(namespace, ["credit"])
