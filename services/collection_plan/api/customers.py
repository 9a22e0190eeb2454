"""What collection-plan knows of a customer, and what a person sets for it."""

from __future__ import annotations

import dataclasses
from typing import Any

from fastapi import APIRouter

from services.collection_plan.api.deps import Reader, Runtime, Writer, config_of
from services.collection_plan.handlers import common, profiles
from services.collection_plan.queries.worklist import contact_preferences
from services.collection_plan.schemas import ProfileIn
from services.collection_plan.tables import CollectionProfile, CustomerView
from shared.errors import NotFound

router = APIRouter()


@router.get("/customers/{customer_id}")
async def get_customer(customer_id: str, runtime: Runtime, _: Reader) -> dict[str, Any]:
    async with runtime.read_sessions() as session:
        view = await session.get(CustomerView, customer_id)
        if view is None:
            raise NotFound(f"customer {customer_id!r} is not known here")
        profile = await session.get(CollectionProfile, customer_id)
    limit = view.recommended_limit_amount
    return {
        "id": view.customer_id, "name": view.name, "salesperson": view.salesperson,
        "collector": common.collector(view, profile),
        "distance_km": view.distance_km, "terms": view.terms,
        "rating": {"class": view.rating_class, "score": view.rating_score,
                   "as_of": view.rating_as_of},
        "recommended_limit": None if limit is None else {
            "amount": limit, "currency": view.recommended_limit_currency},
        "financial_strength": profile.financial_strength if profile else None,
        "balances": [{"currency": c, "balance": b, "overdue": view.overdue.get(c, 0)}
                     for c, b in sorted(view.balances.items())],
        "last_order_on": view.last_order_on, "last_payment_on": view.last_payment_on,
        "contact": dataclasses.asdict(contact_preferences(config_of(runtime).contact_defaults(),
                                                          profile)),
        "profile_updated_by": profile.updated_by if profile else None,
    }


@router.put("/customers/{customer_id}/profile")
async def set_profile(customer_id: str, body: ProfileIn, runtime: Runtime,
                      caller: Writer) -> dict[str, Any]:
    """Collector, financial strength and contact preferences (unset keys keep the defaults)."""
    async with runtime.unit_of_work(caller.name) as uow:
        await profiles.set_profile(uow, customer_id, collector=body.collector,
                                   financial_strength=body.financial_strength,
                                   contact=body.contact.model_dump(exclude_none=True))
        await uow.commit()
    return await get_customer(customer_id, runtime, caller)
