"""Subscriptions are managed by people; every event is queued for each subscription whose
patterns it matches, in the consumer's transaction (so once, even when redelivered)."""

from __future__ import annotations

import base64
import secrets
import uuid
from dataclasses import dataclass

from sqlalchemy import select, update

from services.webhooks.domain.policy import check_url
from services.webhooks.tables import Delivery, Subscription
from shared.clock import now
from shared.db import UnitOfWork, conflict_insert
from shared.errors import Conflict, Invalid, NotFound
from shared.events import CloudEvent, EventData
from shared.events.topics import check_pattern, matches


@dataclass(frozen=True)
class SubscriptionChange:
    url: str | None = None
    event_types: list[str] | None = None
    description: str | None = None
    active: bool | None = None


def new_secret() -> str:
    """The Standard Webhooks secret format: `whsec_` and 24 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def _checked_patterns(patterns: list[str]) -> list[str]:
    if not patterns:
        raise Invalid("name at least one event type or pattern (# is every event)",
                      field="event_types")
    for index, pattern in enumerate(patterns):
        try:
            check_pattern(pattern)
        except ValueError as exc:
            raise Invalid(str(exc), field=f"event_types.{index}") from exc
    return sorted(set(patterns))


async def get_subscription(uow: UnitOfWork, subscription_id: str, *, lock: bool = False
                           ) -> Subscription:
    query = select(Subscription).where(Subscription.id == subscription_id)
    found = (await uow.session.execute(query.with_for_update() if lock else query)).scalar_one_or_none()
    if found is None:
        raise NotFound(f"webhook subscription {subscription_id!r} not found")
    return found


async def subscribe(uow: UnitOfWork, url: str, event_types: list[str], description: str | None
                    ) -> Subscription:
    check_url(url, allow_http=uow.config.allow_http)
    moment = now()
    subscription = Subscription(
        id=str(uuid.uuid4()), url=url, event_types=_checked_patterns(event_types),
        secret=new_secret(), description=description, created_by=uow.actor, created_at=moment,
        updated_by=uow.actor, updated_at=moment)
    uow.session.add(subscription)
    return subscription


async def change(uow: UnitOfWork, subscription_id: str, cmd: SubscriptionChange) -> Subscription:
    subscription = await get_subscription(uow, subscription_id, lock=True)
    if cmd.url is not None:
        check_url(cmd.url, allow_http=uow.config.allow_http)
        subscription.url = cmd.url
    if cmd.event_types is not None:
        subscription.event_types = _checked_patterns(cmd.event_types)
    if cmd.description is not None:
        subscription.description = cmd.description
    if cmd.active is not None:
        subscription.active = cmd.active
    subscription.updated_by, subscription.updated_at = uow.actor, now()
    return subscription


async def unsubscribe(uow: UnitOfWork, subscription_id: str) -> None:
    """Stop sending: the subscription stays, inactive, with its delivery history; what was
    still waiting is marked dead so it can be retried should the endpoint come back."""
    subscription = await change(uow, subscription_id, SubscriptionChange(active=False))
    await uow.session.execute(
        update(Delivery).where(Delivery.subscription_id == subscription.id,
                               Delivery.status == "pending")
        .values(status="dead", last_error="the subscription was removed", lease_until=None))


async def rotate_secret(uow: UnitOfWork, subscription_id: str) -> Subscription:
    subscription = await get_subscription(uow, subscription_id, lock=True)
    subscription.secret = new_secret()
    subscription.updated_by, subscription.updated_at = uow.actor, now()
    return subscription


async def retry(uow: UnitOfWork, delivery_id: int) -> Delivery:
    """A person sends a dead delivery again: a new round of tries, starting now."""
    delivery = (await uow.session.execute(
        select(Delivery).where(Delivery.id == delivery_id).with_for_update()
    )).scalar_one_or_none()
    if delivery is None:
        raise NotFound(f"webhook delivery {delivery_id} not found")
    if delivery.status != "dead":
        raise Conflict(f"delivery {delivery_id} is {delivery.status}; only dead ones are retried")
    subscription = await get_subscription(uow, delivery.subscription_id)
    if not subscription.active:
        raise Conflict("the subscription is inactive; activate it first", field="subscription_id")
    delivery.status, delivery.attempts, delivery.next_attempt_at = "pending", 0, now()
    delivery.lease_until = None
    return delivery


async def on_event(uow: UnitOfWork, _: EventData | None, event: CloudEvent) -> None:
    """Queue the event for every active subscription that wants it."""
    subscriptions = (await uow.session.execute(
        select(Subscription.id, Subscription.event_types).where(Subscription.active.is_(True))
    )).all()
    wanted = [sid for sid, patterns in subscriptions
              if any(matches(pattern, event.type) for pattern in patterns)]
    if not wanted:
        return
    moment = now()
    await uow.session.execute(
        conflict_insert(uow.session, Delivery).on_conflict_do_nothing(),
        [dict(subscription_id=sid, event_id=event.id, event_type=event.type,
              envelope=event.to_json(), status="pending", attempts=0, next_attempt_at=moment,
              created_at=moment) for sid in wanted])
