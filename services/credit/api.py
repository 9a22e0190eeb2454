"""Credit's HTTP edge: schema -> command -> handler -> schema."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from services.credit import handlers, queries
from services.credit.check_path import CheckPath
from services.credit.domain import reservations as rsv
from services.credit.domain.check import OrderLine
from services.credit.domain.commands import (
    AcceptRecommendedLimit,
    CancelReservation,
    CheckCredit,
    ConfirmShipment,
    PlaceHold,
    RateCustomer,
    RecordSignal,
    RegisterCustomer,
    ReleaseHold,
    ResolveSignal,
    UpdateCustomer,
)
from services.credit.domain.dossier import ASSESSMENTS, FIELDS
from services.credit.domain.terms import EarlyPaymentDiscount, Terms
from services.credit.schemas import (
    CheckIn,
    CheckOut,
    CheckRecordOut,
    CustomerIn,
    CustomerOut,
    CustomerPatch,
    DossierChangeOut,
    HoldIn,
    HoldOut,
    RateIn,
    RatingRecordOut,
    ReasonIn,
    ReservationOut,
    ReviewIn,
    SignalIn,
    SignalOut,
    TermsIn,
)
from shared import clock
from shared.auth import Principal
from shared.errors import Invalid
from shared.pagination import Page, finish
from shared.runtime import ServiceRuntime
from shared.web import get_runtime, require

router = APIRouter(prefix="/v1", tags=["credit"])
Runtime = Annotated[ServiceRuntime, Depends(get_runtime)]
Reader = Annotated[Principal, require("credit:read")]
Writer = Annotated[Principal, require("credit:write")]


def _terms(body: TermsIn) -> Terms:
    discount = body.early_payment_discount
    return Terms(
        mode=body.mode, days=body.days, day_of_month=body.day_of_month, due_date=body.due_date,
        early_payment_discount=EarlyPaymentDiscount(discount.percent, discount.within_days)
        if discount else None,
    )


def _not_future(day: date | None, field: str, what: str) -> None:
    """What was observed, assessed or rated has happened: a day's grace for callers east
    of UTC, as the review allows."""
    if day is not None and clock.is_future(day):
        raise Invalid(f"{what} cannot be dated in the future ({day.isoformat()})", field=field)


def _dossier_values(body: CustomerIn | CustomerPatch) -> dict[str, Any]:
    """The dossier fields the caller sent, as stored (JSON)."""
    for name in ASSESSMENTS:
        assessment = getattr(body, name)
        _not_future(assessment and assessment.assessed_on, f"{name}.assessed_on", "an assessment")
    for kind, document in body.documents.items():
        _not_future(document.received_on, f"documents.{kind}.received_on", "a document received")
    return body.model_dump(mode="json", include=set(FIELDS) & body.model_fields_set - {"terms"})


async def _customer(runtime: ServiceRuntime, customer_id: str) -> dict[str, Any]:
    async with runtime.unit_of_work(read_only=True) as uow:
        return await queries.customer_out(uow, await handlers.get_customer(uow, customer_id))


async def _customers_list(runtime: ServiceRuntime, customer_id: str,
                          rows: Callable[[AsyncSession], Awaitable[list[Any]]]) -> list[Any]:
    """One of a customer's lists (404 for an unknown customer)."""
    async with runtime.unit_of_work(read_only=True) as uow:
        await handlers.get_customer(uow, customer_id)
        return await rows(uow.session)


# --- the dossier ---------------------------------------------------------------------------
@router.post("/customers", status_code=201, response_model=CustomerOut, response_model_by_alias=True)
async def register_customer(body: CustomerIn, runtime: Runtime, caller: Writer,
                            response: Response) -> Any:
    """Register a customer (201), or update the dossier fields sent (200)."""
    values = _dossier_values(body)
    cmd = RegisterCustomer(
        id=body.id, name=body.name, terms=_terms(body.terms),
        credit_limit_amount=body.credit_limit.amount, credit_limit_currency=body.credit_limit.currency,
        salesperson=body.salesperson, region=body.region, distance_km=body.distance_km,
        legal_representative=body.legal_representative, financials=body.financials,
        address=body.address, assessments={k: values.get(k) for k in ASSESSMENTS},
        documents=values.get("documents", {}),
        given=frozenset(body.model_fields_set & set(FIELDS)),
    )
    async with runtime.unit_of_work(caller.name) as uow:
        customer, created = await handlers.register_customer(uow, cmd)
        await uow.commit()
        out = await queries.customer_out(uow, customer)
    response.status_code = 201 if created else 200
    return out


@router.patch("/customers/{customer_id}", response_model=CustomerOut, response_model_by_alias=True)
async def update_customer(customer_id: str, body: CustomerPatch, runtime: Runtime,
                          caller: Writer) -> Any:
    """Change the fields sent; each change is kept in the history and announced."""
    if "name" in body.model_fields_set and body.name is None:
        raise Invalid("a customer keeps a name", field="name")
    for required in ("terms", "credit_limit"):
        if required in body.model_fields_set and getattr(body, required) is None:
            raise Invalid(f"{required} cannot be cleared", field=required)
    cmd = UpdateCustomer(customer_id, _dossier_values(body),
                         _terms(body.terms) if body.terms else None)
    async with runtime.unit_of_work(caller.name) as uow:
        customer = await handlers.update_customer(uow, cmd)
        await uow.commit()
        return await queries.customer_out(uow, customer)


@router.get("/customers/{customer_id}", response_model=CustomerOut, response_model_by_alias=True)
async def get_customer(customer_id: str, runtime: Runtime, _: Reader) -> Any:
    return await _customer(runtime, customer_id)


@router.get("/customers/{customer_id}/history", response_model=list[DossierChangeOut])
async def dossier_history(customer_id: str, runtime: Runtime, _: Reader, page: Page,
                          request: Request, response: Response,
                          field: Annotated[str | None, Query(max_length=64)] = None) -> Any:
    """Every change of the dossier, oldest first: who, when, which field, before and after."""
    rows = await _customers_list(runtime, customer_id,
                                 lambda session: queries.history(session, customer_id, page, field))
    return finish(rows, page, lambda r: [r["id"]], request, response)


@router.post("/customers/{customer_id}/recommended-limit/accept", response_model=CustomerOut,
             response_model_by_alias=True)
async def accept_recommended_limit(customer_id: str, body: ReasonIn, runtime: Runtime,
                                   caller: Writer) -> Any:
    """A person makes the rating's recommended limit the credit limit."""
    async with runtime.unit_of_work(caller.name) as uow:
        customer = await handlers.accept_recommended_limit(
            uow, AcceptRecommendedLimit(customer_id, body.reason))
        await uow.commit()
        return await queries.customer_out(uow, customer)


# --- ratings -------------------------------------------------------------------------------
@router.get("/customers/{customer_id}/ratings", response_model=list[RatingRecordOut],
            response_model_by_alias=True)
async def rating_history(customer_id: str, runtime: Runtime, _: Reader, page: Page,
                         request: Request, response: Response) -> Any:
    """Every rating kept, oldest first, with its factors and inputs."""
    rows = await _customers_list(runtime, customer_id,
                                 lambda session: queries.ratings(session, customer_id, page))
    return finish(rows, page, lambda r: [r["id"]], request, response)


@router.post("/customers/{customer_id}/ratings", status_code=201, response_model=RatingRecordOut,
             response_model_by_alias=True)
async def rate_customer(customer_id: str, runtime: Runtime, caller: Writer,
                        body: RateIn | None = None) -> Any:
    """Re-rate the customer now (as of a date, default today) and keep the rating."""
    as_of = (body.as_of if body else None) or clock.today()
    _not_future(as_of, "as_of", "a rating")
    async with runtime.unit_of_work(caller.name) as uow:
        row = await handlers.rate_customer(uow, RateCustomer(customer_id, as_of))
        await uow.commit()
    return queries.ratings_out([row])[0]


@router.post("/reviews")
async def run_reviews(runtime: Runtime, _: Writer, body: ReviewIn | None = None) -> dict[str, Any]:
    """The daily review for a date (what the `review` job runs): periodic re-ratings due,
    detectors, the ladder on ageing invoices. Running it twice for a date changes nothing."""
    as_of = (body.as_of if body else None) or clock.today()
    if clock.is_future(as_of):
        raise Invalid("a review cannot run for a future date", field="as_of")
    return await handlers.run_reviews(runtime, as_of)


# --- the check and reservations ------------------------------------------------------------
@router.post("/checks", response_model=CheckOut)
async def check_credit(body: CheckIn, runtime: Runtime, caller: Reader) -> Any:
    cmd = CheckCredit(
        customer_id=body.customer_id, amount=body.amount, currency=body.currency,
        as_of=body.as_of or clock.today(), order_id=body.order_id,
        lines=tuple(OrderLine(amount=line.amount, key_product=line.key_product, sku=line.sku,
                              debt_free_only=line.debt_free_only, product_class=line.product_class,
                              incentive=line.incentive) for line in body.lines),
    )
    path = CheckPath.of(runtime)
    if cmd.order_id is None:  # nothing to reserve: read, answer once the audit row is written
        async with path.reading() as read:
            result = await handlers.quick_check(read, runtime.config, cmd, caller.name)
        await path.audit.write(result.audit)
    else:
        reserved = await path.in_transaction(lambda read, write: handlers.reserving_check(
            read, write, runtime.config, cmd, caller.name))
        if reserved is not None:
            result = reserved
        else:  # SQLite's write lock is taken just now: wait for it in a unit of work
            async with runtime.unit_of_work(caller.name) as uow:
                result = await handlers.check_credit(uow, cmd)
                await uow.commit()
    decision, currency = result.decision, body.currency
    exposure = result.receivables + result.reserved
    # Validated here and written at once: the hot path skips FastAPI's second validation.
    return Response(CheckOut.model_validate({
        "check_id": result.check_id, "customer_id": cmd.customer_id,
        "decision": decision.decision, "max_amount": decision.max_amount,
        "reasons": decision.reasons, "holds": queries.holds_out(result.holds),
        "rating_class": result.rating_class,
        "credit_limit": {**queries.money(result.limit.amount, currency),
                         "reasons": list(result.limit.reasons)},
        "exposure": queries.money(exposure, currency),
        "available": queries.money(max(result.limit.amount - exposure, 0), currency),
        "incentives_suspended": decision.incentives_suspended,
        "refused_lines": [{"line": i, "sku": body.lines[i].sku, "amount": body.lines[i].amount,
                           "reason": why} for i, why in decision.refused_lines],
        "reservation": queries.reservation_out(result.reservation) if result.reservation else None,
    }).model_dump_json(), media_type="application/json")


@router.get("/customers/{customer_id}/checks", response_model=list[CheckRecordOut])
async def check_history(customer_id: str, runtime: Runtime, _: Reader, page: Page,
                        request: Request, response: Response) -> Any:
    """Every answer the check gave, newest first."""
    rows = await _customers_list(runtime, customer_id,
                                 lambda session: queries.checks(session, customer_id, page))
    return finish(rows, page, lambda r: [r["checked_at"].isoformat(), r["id"]], request, response)


@router.get("/customers/{customer_id}/reservations", response_model=list[ReservationOut])
async def list_reservations(
    customer_id: str, runtime: Runtime, _: Reader, page: Page, request: Request,
    response: Response,
    status: Annotated[str | None, Query(pattern="^(" + "|".join((*rsv.STATUSES, "expired")) + ")$")] = None,
) -> Any:
    rows = await _customers_list(runtime, customer_id,
                                 lambda session: queries.reservations(session, customer_id, page, status))
    return finish(rows, page, lambda r: [r["order_id"]], request, response)


@router.get("/reservations/{order_id}", response_model=ReservationOut)
async def get_reservation(order_id: str, runtime: Runtime, _: Reader) -> Any:
    async with runtime.unit_of_work(read_only=True) as uow:
        return queries.reservation_out(await queries.reservation(uow.session, order_id))


@router.post("/reservations/{order_id}/shipment", response_model=ReservationOut)
async def confirm_shipment(order_id: str, runtime: Runtime, caller: Writer) -> Any:
    """The ERP shipped the order: it counts until its invoice is booked, and no longer lapses."""
    async with runtime.unit_of_work(caller.name) as uow:
        reservation = await handlers.confirm_shipment(uow, ConfirmShipment(order_id))
        await uow.commit()
    return queries.reservation_out(reservation)


@router.post("/reservations/{order_id}/cancel", response_model=ReservationOut)
async def cancel_reservation(order_id: str, body: ReasonIn, runtime: Runtime, caller: Writer) -> Any:
    async with runtime.unit_of_work(caller.name) as uow:
        reservation = await handlers.cancel_reservation(uow, CancelReservation(order_id, body.reason))
        await uow.commit()
    return queries.reservation_out(reservation)


# --- warning signals -----------------------------------------------------------------------
@router.post("/customers/{customer_id}/signals", status_code=201, response_model=SignalOut)
async def record_signal(customer_id: str, body: SignalIn, runtime: Runtime, caller: Writer) -> Any:
    _not_future(body.observed_on, "observed_on", "a warning sign")
    async with runtime.unit_of_work(caller.name) as uow:
        signal = await handlers.record_signal(uow, RecordSignal(customer_id, **body.model_dump()))
        await uow.commit()
    return signal


@router.get("/customers/{customer_id}/signals", response_model=list[SignalOut])
async def list_signals(customer_id: str, runtime: Runtime, _: Reader, page: Page,
                       request: Request, response: Response) -> Any:
    """Reported and detected warning signs, newest first."""
    rows = await _customers_list(runtime, customer_id,
                                 lambda session: queries.signals(session, customer_id, page))
    return finish(rows, page, lambda r: [r["recorded_at"].isoformat(), r["id"]], request, response)


@router.post("/signals/{signal_id}/resolve", response_model=SignalOut)
async def resolve_signal(signal_id: str, body: ReasonIn, runtime: Runtime, caller: Writer,
                         ) -> Any:
    """The sign no longer holds: the holds it caused go, and the customer is re-rated."""
    async with runtime.unit_of_work(caller.name) as uow:
        signal = await handlers.resolve_signal(uow, ResolveSignal(signal_id, body.reason),
                                               clock.today())
        await uow.commit()
    return signal


# --- holds ---------------------------------------------------------------------------------
@router.get("/customers/{customer_id}/holds", response_model=list[HoldOut])
async def list_holds(customer_id: str, runtime: Runtime, _: Reader, page: Page, request: Request,
                     response: Response,
                     include_released: Annotated[bool, Query(description="every hold, newest first")] = False,
                     ) -> Any:
    """The active holds (all of them), or with `include_released` every hold, page by page."""
    async with runtime.unit_of_work(read_only=True) as uow:
        await handlers.get_customer(uow, customer_id)
        if not include_released:
            return queries.holds_out(await handlers.active_holds(uow, customer_id))
        rows = await queries.holds(uow.session, customer_id, page)
    return finish(rows, page, lambda h: [h.placed_at.isoformat(), h.id], request, response)


@router.post("/customers/{customer_id}/holds", status_code=201, response_model=HoldOut)
async def place_hold(customer_id: str, body: HoldIn, runtime: Runtime, caller: Writer) -> Any:
    async with runtime.unit_of_work(caller.name) as uow:
        hold = await handlers.place_hold(uow, PlaceHold(customer_id, body.kind, body.reason,
                                                        tuple(body.incentives)))
        await uow.commit()
    return hold


@router.post("/holds/{hold_id}/release", response_model=HoldOut)
async def release_hold(hold_id: str, body: ReasonIn, runtime: Runtime, caller: Writer) -> Any:
    """Release a hold. Releasing an automatic hold while its cause remains is an override:
    the policy does not place it again until the default worsens or clears and returns."""
    async with runtime.unit_of_work(caller.name) as uow:
        hold = await handlers.release_hold(uow, ReleaseHold(hold_id, body.reason))
        await uow.commit()
    return hold
