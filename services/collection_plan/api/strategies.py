"""Strategies: listed by anyone who reads collections, changed with collections:write."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy import select

from services.collection_plan.api.deps import Reader, Runtime, Writer
from services.collection_plan.handlers import strategies
from services.collection_plan.schemas import StrategyIn, StrategyReplaceIn
from services.collection_plan.tables import Strategy

router = APIRouter()


@router.get("/strategies")
async def list_strategies(runtime: Runtime, _: Reader,
                          active: Annotated[bool | None, Query()] = None) -> list[dict[str, Any]]:
    """In the order they are tried (rank); the first whose segment a customer is in serves it."""
    query = select(Strategy).order_by(Strategy.rank)
    if active is not None:
        query = query.where(Strategy.active.is_(active))
    async with runtime.read_sessions() as session:
        return [strategies.out(r) for r in (await session.execute(query)).scalars()]


@router.get("/strategies/{strategy_id}")
async def get_strategy(strategy_id: str, runtime: Runtime, _: Reader) -> dict[str, Any]:
    async with runtime.unit_of_work(read_only=True) as uow:
        return strategies.out(await strategies.get(uow, strategy_id))


@router.post("/strategies", status_code=201)
async def create_strategy(body: StrategyIn, runtime: Runtime, caller: Writer) -> dict[str, Any]:
    async with runtime.unit_of_work(caller.name) as uow:
        row = await strategies.create(uow, body.to_domain(body.id))
        await uow.commit()
    return strategies.out(row)


@router.put("/strategies/{strategy_id}")
async def replace_strategy(strategy_id: str, body: StrategyReplaceIn, runtime: Runtime,
                           caller: Writer) -> dict[str, Any]:
    async with runtime.unit_of_work(caller.name) as uow:
        row = await strategies.replace(uow, body.to_domain(strategy_id), body.version)
        await uow.commit()
    return strategies.out(row)


@router.delete("/strategies/{strategy_id}")
async def retire_strategy(strategy_id: str, runtime: Runtime, caller: Writer) -> dict[str, Any]:
    """Retire it: it serves nobody any more (its history stays)."""
    async with runtime.unit_of_work(caller.name) as uow:
        row = await strategies.retire(uow, strategy_id)
        await uow.commit()
    return strategies.out(row)
