"""Credit's HTTP edge: schema -> command -> handler -> schema."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response

from services.credit import handlers
from services.credit.domain.check import OrderLine
from services.credit.domain.commands import (
    CheckCredit,
    PlaceHold,
    RecordSignal,
    RegisterCustomer,
    ReleaseHold,
)
from services.credit.domain.terms import EarlyPaymentDiscount, Terms
from services.credit.schemas import (
    CheckIn,
    CheckOut,
    CustomerIn,
    CustomerOut,
    HoldIn,
    HoldOut,
    ReleaseIn,
    SignalIn,
    SignalOut,
)
from services.credit.tables import Customer, Hold
from shared import clock
from shared.auth import Principal
from shared.db import UnitOfWork
from shared.runtime import ServiceRuntime
from shared.web import get_runtime, require

router = APIRouter(prefix="/v1", tags=["credit"])
Runtime = Annotated[ServiceRuntime, Depends(get_runtime)]
Reader = Annotated[Principal, require("credit:read")]
Writer = Annotated[Principal, require("credit:write")]


async def _customer_out(uow: UnitOfWork, customer: Customer) -> dict[str, Any]:
    balances = await handlers.balances(uow, customer.id)
    currency = customer.credit_limit_currency
    exposure = max(sum(b.balance for b in balances if b.currency == currency), 0)
    return {
        **customer.model_dump(include={"id", "name", "salesperson", "region", "distance_km",
                                       "legal_representative", "financials", "terms"}),
        "credit_limit": {"amount": customer.credit_limit_amount, "currency": currency},
        "rating": {"rating_class": customer.rating_class, "score": customer.rating_score,
                   "reasons": customer.rating_reasons},
        "exposure": {"amount": exposure, "currency": currency},
        "available": {"amount": max(customer.credit_limit_amount - exposure, 0), "currency": currency},
        "balances": [{"currency": b.currency, "balance": b.balance, "overdue": b.overdue}
                     for b in balances],
        "holds": _holds_out(await handlers.active_holds(uow, customer.id)),
    }


def _holds_out(holds: list[Hold]) -> list[HoldOut]:
    return [HoldOut.model_validate(h, from_attributes=True) for h in holds]


@router.post("/customers", status_code=201, response_model=CustomerOut, response_model_by_alias=True)
async def register_customer(body: CustomerIn, runtime: Runtime, caller: Writer,
                            response: Response) -> Any:
    discount = body.terms.early_payment_discount
    terms = Terms(
        mode=body.terms.mode, days=body.terms.days, day_of_month=body.terms.day_of_month,
        due_date=body.terms.due_date,
        early_payment_discount=EarlyPaymentDiscount(discount.percent, discount.within_days)
        if discount else None,
    )
    cmd = RegisterCustomer(
        id=body.id, name=body.name, terms=terms, credit_limit_amount=body.credit_limit.amount,
        credit_limit_currency=body.credit_limit.currency, salesperson=body.salesperson,
        region=body.region, distance_km=body.distance_km,
        legal_representative=body.legal_representative, financials=body.financials,
    )
    async with runtime.unit_of_work(caller.name) as uow:
        customer, created = await handlers.register_customer(uow, cmd)
        await uow.commit()
        out = await _customer_out(uow, customer)
    response.status_code = 201 if created else 200
    return out


@router.get("/customers/{customer_id}", response_model=CustomerOut, response_model_by_alias=True)
async def get_customer(customer_id: str, runtime: Runtime, _: Reader) -> Any:
    async with runtime.unit_of_work(read_only=True) as uow:
        return await _customer_out(uow, await handlers.get_customer(uow, customer_id))


@router.post("/checks", response_model=CheckOut)
async def check_credit(body: CheckIn, runtime: Runtime, caller: Reader) -> Any:
    cmd = CheckCredit(
        customer_id=body.customer_id, amount=body.amount, currency=body.currency,
        as_of=body.as_of or clock.today(), order_id=body.order_id,
        lines=tuple(OrderLine(line.amount, line.key_product, line.sku, line.debt_free_only)
                    for line in body.lines),
    )
    async with runtime.unit_of_work(caller.name) as uow:
        check_id, decision, holds = await handlers.check_credit(
            uow, cmd, reduced_batch_percent=runtime.settings.reduced_batch_percent)
        await uow.commit()
    return {"check_id": check_id, "customer_id": cmd.customer_id, "decision": decision.decision,
            "max_amount": decision.max_amount, "reasons": decision.reasons,
            "holds": _holds_out(holds)}


@router.post("/customers/{customer_id}/signals", status_code=201, response_model=SignalOut)
async def record_signal(customer_id: str, body: SignalIn, runtime: Runtime, caller: Writer) -> Any:
    async with runtime.unit_of_work(caller.name) as uow:
        signal = await handlers.record_signal(uow, RecordSignal(customer_id, **body.model_dump()))
        await uow.commit()
    return signal


@router.get("/customers/{customer_id}/holds", response_model=list[HoldOut])
async def list_holds(customer_id: str, runtime: Runtime, _: Reader) -> Any:
    async with runtime.unit_of_work(read_only=True) as uow:
        await handlers.get_customer(uow, customer_id)
        return _holds_out(await handlers.active_holds(uow, customer_id))


@router.post("/customers/{customer_id}/holds", status_code=201, response_model=HoldOut)
async def place_hold(customer_id: str, body: HoldIn, runtime: Runtime, caller: Writer) -> Any:
    async with runtime.unit_of_work(caller.name) as uow:
        hold = await handlers.place_hold(uow, PlaceHold(customer_id, body.kind, body.reason))
        await uow.commit()
    return hold


@router.post("/holds/{hold_id}/release", response_model=HoldOut)
async def release_hold(hold_id: str, body: ReleaseIn, runtime: Runtime, caller: Writer) -> Any:
    async with runtime.unit_of_work(caller.name) as uow:
        hold = await handlers.release_hold(uow, ReleaseHold(hold_id, body.reason))
        await uow.commit()
    return hold
