"""What a person sets for a customer: another collector than the salesperson, the
financial strength the priority weighs, and contact preferences."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from services.collection_plan.handlers import common
from services.collection_plan.tables import CollectionProfile, CustomerView, Task
from shared.clock import now
from shared.db import UnitOfWork
from shared.errors import NotFound


async def set_profile(uow: UnitOfWork, customer_id: str, *, collector: str | None,
                      financial_strength: str | None, contact: dict[str, Any]) -> CollectionProfile:
    view = (await uow.session.execute(
        select(CustomerView).where(CustomerView.customer_id == customer_id).with_for_update()
    )).scalar_one_or_none()
    if view is None:
        raise NotFound(f"customer {customer_id!r} is not known here")
    common.config(uow).contact_defaults().overridden(contact).validated()
    profile = await uow.session.get(CollectionProfile, customer_id)
    if profile is None:
        profile = CollectionProfile(customer_id=customer_id, updated_by=uow.actor, updated_at=now())
        uow.session.add(profile)
    profile.collector, profile.financial_strength, profile.contact = (
        collector, financial_strength, contact)
    profile.updated_by, profile.updated_at = uow.actor, now()
    # Open tasks go to whoever collects now.
    for task in (await uow.session.execute(
        select(Task).where(Task.customer_id == customer_id, Task.status == "open"))).scalars():
        task.collector = common.collector(view, profile)
    return profile
