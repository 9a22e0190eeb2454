"""Strategies are data: listed, created, replaced and retired through the API, validated
before they are stored, and read by every escalation."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from services.collection_plan.domain import strategy as domain
from services.collection_plan.tables import CustomerView
from services.collection_plan.tables import Strategy as StrategyRow
from shared.clock import now
from shared.db import UnitOfWork
from shared.errors import Conflict, Invalid, NotFound

CACHE = "collections.strategies"


def _domain(row: StrategyRow) -> domain.Strategy:
    return domain.from_data({**row.definition, "id": row.id, "rank": row.rank})


async def active(uow: UnitOfWork) -> list[domain.Strategy]:
    """The active strategies, read once per transaction (a sweep evaluates many cases)."""
    cached = uow.context.get(CACHE)
    if cached is None:
        rows = (await uow.session.execute(
            select(StrategyRow).where(StrategyRow.active.is_(True)).order_by(StrategyRow.rank)
        )).scalars()
        cached = uow.context[CACHE] = [_domain(r) for r in rows]
    return cached


async def for_customer(uow: UnitOfWork, view: CustomerView, overdue: dict[str, int]) -> domain.Strategy:
    return domain.choose(await active(uow), view.rating_class, overdue)


async def _row(uow: UnitOfWork, strategy_id: str, *, lock: bool = False) -> StrategyRow:
    query = select(StrategyRow).where(StrategyRow.id == strategy_id)
    row = (await uow.session.execute(query.with_for_update() if lock else query)).scalar_one_or_none()
    if row is None:
        raise NotFound(f"strategy {strategy_id!r} not found")
    return row


async def _check_rank_free(uow: UnitOfWork, rank: int, strategy_id: str) -> None:
    taken = (await uow.session.execute(
        select(StrategyRow.id).where(StrategyRow.rank == rank, StrategyRow.id != strategy_id)
    )).scalar_one_or_none()
    if taken is not None:
        raise Invalid(f"rank {rank} is strategy {taken}'s; each rank is one strategy's",
                      field="rank")


async def _check_coverage(uow: UnitOfWork, changed: domain.Strategy | None, removed: str) -> None:
    others = [s for s in await active(uow) if s.id != removed]
    domain.check_catch_all_remains([*others, *([changed] if changed else [])])


def out(row: StrategyRow) -> dict[str, Any]:
    return {**domain.to_data(_domain(row)), "active": row.active, "version": row.version,
            "updated_by": row.updated_by, "updated_at": row.updated_at}


async def get(uow: UnitOfWork, strategy_id: str) -> StrategyRow:
    return await _row(uow, strategy_id)


async def create(uow: UnitOfWork, strategy: domain.Strategy) -> StrategyRow:
    domain.validate(strategy)
    if await uow.session.get(StrategyRow, strategy.id) is not None:
        raise Conflict(f"strategy {strategy.id} exists; replace it with PUT", field="id")
    await _check_rank_free(uow, strategy.rank, strategy.id)
    row = StrategyRow(id=strategy.id, rank=strategy.rank, definition=domain.to_data(strategy),
                      updated_by=uow.actor, updated_at=now())
    uow.session.add(row)
    uow.context.pop(CACHE, None)
    return row


async def replace(uow: UnitOfWork, strategy: domain.Strategy, expected_version: int | None) -> StrategyRow:
    """A new version of the strategy. Open cases follow it from their next escalation (a
    case beyond the new ladder's last step stays at that step)."""
    domain.validate(strategy)
    row = await _row(uow, strategy.id, lock=True)
    if expected_version is not None and expected_version != row.version:
        raise Conflict(f"strategy {strategy.id} is at version {row.version}, not "
                       f"{expected_version}: someone changed it; reload and retry", field="version")
    await _check_rank_free(uow, strategy.rank, strategy.id)
    if row.active:
        await _check_coverage(uow, strategy, strategy.id)
    row.rank, row.definition = strategy.rank, domain.to_data(strategy)
    row.version += 1
    row.updated_by, row.updated_at = uow.actor, now()
    uow.context.pop(CACHE, None)
    return row


async def retire(uow: UnitOfWork, strategy_id: str) -> StrategyRow:
    """No longer chosen for anyone; open cases on it move to their segment's strategy at
    their next escalation."""
    row = await _row(uow, strategy_id, lock=True)
    if row.active:
        await _check_coverage(uow, None, strategy_id)
        row.active = False
        row.version += 1
        row.updated_by, row.updated_at = uow.actor, now()
    uow.context.pop(CACHE, None)
    return row
