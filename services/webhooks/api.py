"""The webhook service's HTTP edge: subscriptions and their deliveries."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy import select

from services.webhooks import handlers
from services.webhooks.interest import Interest
from services.webhooks.schemas import (
    DeliveryOut,
    SubscriptionIn,
    SubscriptionOut,
    SubscriptionPatch,
    SubscriptionWithSecret,
)
from services.webhooks.tables import Delivery, Subscription
from shared.auth import Principal
from shared.pagination import Page, finish, keyset
from shared.runtime import ServiceRuntime
from shared.web import get_runtime, require

router = APIRouter(prefix="/v1", tags=["webhooks"])
Runtime = Annotated[ServiceRuntime, Depends(get_runtime)]
Reader = Annotated[Principal, require("webhooks:read")]
Writer = Annotated[Principal, require("webhooks:write")]


@router.post("/subscriptions", status_code=201, response_model=SubscriptionWithSecret)
async def subscribe(body: SubscriptionIn, runtime: Runtime, caller: Writer) -> Any:
    """Every event matching `event_types` is POSTed to `url`, signed with the secret in the
    answer (Standard Webhooks), retried with back-off until it is accepted (2xx)."""
    async with runtime.unit_of_work(caller.name) as uow:
        subscription = await handlers.subscribe(uow, body.url, body.event_types, body.description)
        await uow.commit()
    Interest.of(runtime).forget()
    return subscription


@router.get("/subscriptions", response_model=list[SubscriptionOut])
async def list_subscriptions(runtime: Runtime, _: Reader, page: Page, request: Request,
                             response: Response) -> Any:
    async with runtime.read_sessions() as session:
        rows = (await session.execute(keyset(select(Subscription), [Subscription.id], page))).scalars().all()
    return finish(rows, page, lambda s: (s.id,), request, response)


@router.get("/subscriptions/{subscription_id}", response_model=SubscriptionOut)
async def get_subscription(subscription_id: str, runtime: Runtime, _: Reader) -> Any:
    async with runtime.unit_of_work(read_only=True) as uow:
        subscription = await handlers.get_subscription(uow, subscription_id)
        return SubscriptionOut.model_validate(subscription, from_attributes=True)


@router.patch("/subscriptions/{subscription_id}", response_model=SubscriptionOut)
async def change_subscription(subscription_id: str, body: SubscriptionPatch, runtime: Runtime,
                              caller: Writer) -> Any:
    async with runtime.unit_of_work(caller.name) as uow:
        subscription = await handlers.change(
            uow, subscription_id, handlers.SubscriptionChange(**body.model_dump()))
        await uow.commit()
    Interest.of(runtime).forget()
    return subscription


@router.delete("/subscriptions/{subscription_id}", status_code=204)
async def unsubscribe(subscription_id: str, runtime: Runtime, caller: Writer) -> None:
    async with runtime.unit_of_work(caller.name) as uow:
        await handlers.unsubscribe(uow, subscription_id)
        await uow.commit()
    Interest.of(runtime).forget()


@router.post("/subscriptions/{subscription_id}/secret", response_model=SubscriptionWithSecret)
async def rotate_secret(subscription_id: str, runtime: Runtime, caller: Writer) -> Any:
    """A new signing secret; the old one stops working at once."""
    async with runtime.unit_of_work(caller.name) as uow:
        subscription = await handlers.rotate_secret(uow, subscription_id)
        await uow.commit()
    return subscription


@router.get("/subscriptions/{subscription_id}/deliveries", response_model=list[DeliveryOut])
async def list_deliveries(
    subscription_id: str, runtime: Runtime, _: Reader, page: Page, request: Request,
    response: Response,
    status: Annotated[Literal["pending", "delivered", "dead"] | None, Query()] = None,
) -> Any:
    """Newest first."""
    async with runtime.unit_of_work(read_only=True) as uow:
        await handlers.get_subscription(uow, subscription_id)
        query = select(Delivery).where(Delivery.subscription_id == subscription_id)
        if status:
            query = query.where(Delivery.status == status)
        rows = (await uow.session.execute(
            keyset(query, [Delivery.id], page, descending=True))).scalars().all()
        return finish([DeliveryOut.model_validate(d, from_attributes=True) for d in rows], page,
                      lambda d: (d.id,), request, response)


@router.post("/deliveries/{delivery_id}/retry", response_model=DeliveryOut)
async def retry_delivery(delivery_id: int, runtime: Runtime, caller: Writer) -> Any:
    """Send a dead delivery again (a new round of tries)."""
    async with runtime.unit_of_work(caller.name) as uow:
        delivery = await handlers.retry(uow, delivery_id)
        await uow.commit()
    return delivery
