"""The delivery worker: POSTs each due delivery, signed the Standard Webhooks way
(`webhook-id` = the event id, so receivers drop repeats; `webhook-timestamp`;
`webhook-signature` = HMAC-SHA256 of id, timestamp and body), and reschedules failures
with back-off and jitter until the last try, after which the delivery is dead (listed,
and retried by a person). Rows are leased, so replicas never send the same try twice."""

from __future__ import annotations

import asyncio
import random
import socket
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import structlog
from prometheus_client import Counter
from sqlalchemy import select, update
from standardwebhooks.webhooks import Webhook

from services.webhooks.config import WebhookConfig
from services.webhooks.domain.policy import check_url, is_private
from services.webhooks.tables import Delivery, Subscription
from shared.clock import now

log = structlog.get_logger(__name__)

DELIVERIES = Counter("recoup_webhook_deliveries_total",
                     "Webhook delivery attempts: delivered, failed (tried again later), dead",
                     ["outcome"])
LEASE = timedelta(seconds=60)
CONTENT_TYPE = "application/cloudevents+json"


@dataclass(frozen=True)
class Due:
    id: int
    event_id: str
    envelope: str
    attempts: int
    url: str
    secret: str


@dataclass(frozen=True)
class Outcome:
    delivery_id: int
    ok: bool
    status_code: int | None = None
    error: str | None = None


class DeliveryWorker:
    def __init__(self, sessions: Any, config: WebhookConfig) -> None:
        self._sessions = sessions
        self._config = config
        self._stopping = False
        self._wake = asyncio.Event()

    @classmethod
    def for_runtime(cls, runtime: Any) -> DeliveryWorker:
        return cls(runtime.sessions, runtime.config)

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    async def run(self) -> None:
        async with httpx.AsyncClient(timeout=self._config.timeout_seconds,
                                     follow_redirects=False) as client:
            while not self._stopping:
                try:
                    sent = await self.deliver_due(client)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("webhook delivery round failed")
                    sent = 0
                if sent == self._config.batch_size or self._stopping:
                    continue
                try:
                    async with asyncio.timeout(self._config.poll_seconds):
                        await self._wake.wait()
                except TimeoutError:
                    pass

    async def deliver_due(self, client: httpx.AsyncClient) -> int:
        """One round: lease what is due, send it, record each outcome. Answers how many."""
        due = await self._lease()
        if not due:
            return 0
        gate = asyncio.Semaphore(self._config.concurrency)

        async def send(item: Due) -> Outcome:
            async with gate:
                return await self._send(client, item)

        outcomes = await asyncio.gather(*(send(item) for item in due))
        await self._settle(due, outcomes)
        return len(due)

    async def _lease(self) -> list[Due]:
        moment = now()
        async with self._sessions() as session, session.begin():
            rows = (await session.execute(
                select(Delivery.id, Delivery.event_id, Delivery.envelope, Delivery.attempts,
                       Subscription.url, Subscription.secret)
                .join(Subscription, Subscription.id == Delivery.subscription_id)
                .where(Delivery.status == "pending", Delivery.next_attempt_at <= moment,
                       (Delivery.lease_until.is_(None)) | (Delivery.lease_until < moment),
                       Subscription.active.is_(True))
                .order_by(Delivery.next_attempt_at, Delivery.id)
                .limit(self._config.batch_size)
                .with_for_update(skip_locked=True, of=Delivery)
            )).all()
            if rows:
                await session.execute(update(Delivery).where(Delivery.id.in_([r.id for r in rows]))
                                      .values(lease_until=moment + LEASE))
        return [Due(*row) for row in rows]

    async def _send(self, client: httpx.AsyncClient, item: Due) -> Outcome:
        try:
            await self._refuse_private(item.url)
            moment = now()
            headers = {
                "content-type": CONTENT_TYPE,
                "webhook-id": item.event_id,
                "webhook-timestamp": str(int(moment.timestamp())),
                "webhook-signature": Webhook(item.secret).sign(item.event_id, moment, item.envelope),
            }
            response = await client.post(item.url, content=item.envelope.encode(), headers=headers)
        except (httpx.HTTPError, OSError, PermissionError) as exc:
            return Outcome(item.id, False, error=f"{type(exc).__name__}: {exc}"[:500])
        if 200 <= response.status_code < 300:
            return Outcome(item.id, True, response.status_code)
        return Outcome(item.id, False, response.status_code,
                       f"answered {response.status_code}: {response.text[:200]}")

    async def _refuse_private(self, url: str) -> None:
        """Checked at every try, not only when subscribing: a name may resolve elsewhere
        later (DNS rebinding)."""
        if self._config.allow_private_addresses:
            return
        endpoint = check_url(url, allow_http=self._config.allow_http)
        infos = await asyncio.get_running_loop().getaddrinfo(
            endpoint.host, endpoint.port, type=socket.SOCK_STREAM)
        private = sorted({info[4][0] for info in infos if is_private(info[4][0])})
        if private:
            raise PermissionError(f"{endpoint.host} resolves to private addresses {private}; "
                                  "set RECOUP_WEBHOOKS_ALLOW_PRIVATE_ADDRESSES to allow them")

    async def _settle(self, due: list[Due], outcomes: list[Outcome]) -> None:
        attempts = {item.id: item.attempts for item in due}
        moment = now()
        async with self._sessions() as session, session.begin():
            for outcome in outcomes:
                tried = attempts[outcome.delivery_id] + 1
                values: dict[str, Any] = dict(attempts=tried, lease_until=None,
                                              last_status_code=outcome.status_code,
                                              last_error=outcome.error)
                if outcome.ok:
                    values.update(status="delivered", delivered_at=moment)
                    DELIVERIES.labels("delivered").inc()
                elif (delay := self._config.retry.next_delay(tried, random.random())) is None:
                    values.update(status="dead")
                    DELIVERIES.labels("dead").inc()
                    log.warning("webhook delivery dead", delivery_id=outcome.delivery_id,
                                error=outcome.error)
                else:
                    values.update(next_attempt_at=moment + timedelta(seconds=delay))
                    DELIVERIES.labels("failed").inc()
                await session.execute(
                    update(Delivery).where(Delivery.id == outcome.delivery_id).values(**values))

