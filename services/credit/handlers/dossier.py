"""The dossier: registration, updates with their history, and the credit limit."""

from __future__ import annotations

import dataclasses
from typing import Any

from services.credit.domain import dossier
from services.credit.domain.commands import (
    AcceptRecommendedLimit,
    RegisterCustomer,
    UpdateCustomer,
)
from services.credit.domain.terms import Terms, check_terms
from services.credit.handlers import holds, rating, signals
from services.credit.handlers.common import find_customer, get_customer
from services.credit.tables import Customer, DossierChange
from shared.clock import now, today
from shared.db import UnitOfWork
from shared.errors import Invalid
from shared.events import contracts as ev

ALWAYS_GIVEN = frozenset({"name", "terms", "credit_limit"})


def terms_json(terms: Terms) -> dict[str, Any]:
    """The terms as stored and announced (JSON: dates as ISO strings, no empty fields)."""
    return ev.Terms.model_validate(dataclasses.asdict(check_terms(terms))).model_dump(
        mode="json", exclude_none=True)


def dossier_of(customer: Customer) -> dict[str, Any]:
    values = {f: getattr(customer, f) for f in dossier.FIELDS if f != "credit_limit"}
    values["credit_limit"] = {"amount": customer.credit_limit_amount,
                              "currency": customer.credit_limit_currency}
    return values


def _assign(customer: Customer, field: str, value: Any) -> None:
    if field == "credit_limit":
        customer.credit_limit_amount, customer.credit_limit_currency = value["amount"], value["currency"]
    else:
        setattr(customer, field, value)


def _announce(uow: UnitOfWork, customer: Customer, changed: list[str]) -> None:
    uow.emit(ev.CustomerUpdated(
        customer_id=customer.id, version=customer.dossier_version, name=customer.name,
        salesperson=customer.salesperson, region=customer.region, distance_km=customer.distance_km,
        legal_representative=customer.legal_representative, changed=changed,
        address=customer.address, financial_status=customer.financial_status,
        market_network=customer.market_network, sales_ability=customer.sales_ability,
        organisation=customer.organisation, documents=customer.documents,
        credit_limit=ev.MoneyField(amount=customer.credit_limit_amount,
                                   currency=customer.credit_limit_currency),
    ))


def _record(uow: UnitOfWork, customer: Customer, found: list[dossier.Change], *, by: str,
            note: str | None = None) -> None:
    """Apply changes: one new version, a history row per field, the events."""
    customer.dossier_version += 1
    moment = now()
    for change in found:
        _assign(customer, change.field, change.after)
        uow.session.add(DossierChange(
            customer_id=customer.id, version=customer.dossier_version, field=change.field,
            before=change.before, after=change.after, changed_by=by, changed_at=moment, note=note))
    customer.updated_at, customer.updated_by = moment, by[:64]
    fields = [c.field for c in found]
    if "terms" in fields:
        customer.terms_version += 1
        uow.emit(ev.TermsChanged(customer_id=customer.id, terms=ev.Terms(**customer.terms),
                                 version=customer.terms_version))
    if others := [f for f in fields if f != "terms"]:
        _announce(uow, customer, others)


async def set_limit(uow: UnitOfWork, customer: Customer, amount: int, *, by: str,
                    note: str) -> None:
    """A new credit limit in the limit's currency (no re-rating: ratings call this)."""
    found = dossier.changes(dossier_of(customer), {"credit_limit": {
        "amount": amount, "currency": customer.credit_limit_currency}})
    if found:
        _record(uow, customer, found, by=by, note=note)


async def _update(uow: UnitOfWork, customer: Customer, values: dict[str, Any]) -> None:
    limit = values.get("credit_limit")
    if limit and limit["currency"] != customer.credit_limit_currency:
        # Exposure, reservations and the history are kept in the limit's currency.
        raise Invalid(f"the credit limit is kept in {customer.credit_limit_currency}; a limit in "
                      "another currency would convert silently", field="credit_limit.currency")
    found = dossier.changes(dossier_of(customer), values)
    if not found:
        return
    _record(uow, customer, found, by=uow.actor)
    if any(c.field == "terms" for c in found):
        # The ladder depends on the terms (deliver two, settle one stops at one day late).
        await holds.apply_overdue_policy(uow, customer, by=uow.actor)
    await signals.dossier_signs(uow, customer, dossier.warning_signs(found), today())
    await rating.rerate(uow, customer, trigger="dossier:" + ",".join(c.field for c in found))


async def register_customer(uow: UnitOfWork, cmd: RegisterCustomer) -> tuple[Customer, bool]:
    values: dict[str, Any] = {
        "name": cmd.name, "salesperson": cmd.salesperson, "region": cmd.region,
        "address": cmd.address, "distance_km": cmd.distance_km,
        "legal_representative": cmd.legal_representative, "financials": cmd.financials,
        **{name: cmd.assessments.get(name) for name in dossier.ASSESSMENTS},
        "documents": cmd.documents, "terms": terms_json(cmd.terms),
        "credit_limit": {"amount": cmd.credit_limit_amount, "currency": cmd.credit_limit_currency},
    }
    customer = await find_customer(uow, cmd.id, lock=True)
    if customer is not None:
        given = dossier.FIELDS if cmd.given is None else cmd.given | ALWAYS_GIVEN
        await _update(uow, customer, {f: v for f, v in values.items() if f in given})
        return customer, False
    moment = now()
    customer = Customer(id=cmd.id, terms=values["terms"], credit_limit_amount=cmd.credit_limit_amount,
                        credit_limit_currency=cmd.credit_limit_currency, rating_class="C",
                        rating_score=0, created_at=moment, updated_at=moment, updated_by=uow.actor,
                        name=cmd.name)
    uow.session.add(customer)
    found = dossier.changes({}, {f: v for f, v in values.items() if v not in (None, {})})
    customer.dossier_version = 1
    for change in found:
        _assign(customer, change.field, change.after)
        uow.session.add(DossierChange(customer_id=cmd.id, version=1, field=change.field, before=None,
                                      after=change.after, changed_by=uow.actor, changed_at=moment,
                                      note="registered"))
    uow.emit(ev.CustomerRegistered(
        customer_id=cmd.id, name=cmd.name, salesperson=cmd.salesperson, region=cmd.region,
        terms=ev.Terms(**values["terms"]), distance_km=cmd.distance_km,
        legal_representative=cmd.legal_representative, address=cmd.address,
        credit_limit=ev.MoneyField(amount=cmd.credit_limit_amount, currency=cmd.credit_limit_currency),
    ))
    await rating.rerate(uow, customer, trigger="credit.customer.registered")
    return customer, True


async def update_customer(uow: UnitOfWork, cmd: UpdateCustomer) -> Customer:
    customer = await get_customer(uow, cmd.customer_id, lock=True)
    values = dict(cmd.values)
    if cmd.terms is not None:
        values["terms"] = terms_json(cmd.terms)
    await _update(uow, customer, values)
    return customer


async def accept_recommended_limit(uow: UnitOfWork, cmd: AcceptRecommendedLimit) -> Customer:
    customer = await get_customer(uow, cmd.customer_id, lock=True)
    if customer.recommended_limit_amount is None:
        raise Invalid("the rating recommends no limit for this customer", field="customer_id")
    await set_limit(uow, customer, customer.recommended_limit_amount, by=uow.actor,
                    note=f"recommended limit accepted: {cmd.reason}")
    await rating.rerate(uow, customer, trigger="limit accepted")
    return customer
