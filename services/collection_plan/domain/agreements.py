"""Repayment agreements (DOMAIN.md): old arrears go into a separate, signed instalment plan;
new business runs under its own terms. The two must never be mixed or contradict each
other, so an agreement is checked before it is accepted, and refused with the reason and
the field at fault."""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from shared.errors import Invalid


@dataclass(frozen=True)
class AgreementPolicy:
    max_instalments: int = 12
    max_months: int = 12  # the last instalment at most this many months after signing
    # The longest gap between instalments when the terms give no period of their own
    # (cash, one-off), and for "deliver two, settle one" without days.
    default_period_days: int = 30
    grace_days: int = 0  # days after an instalment's date before it counts as missed


@dataclass(frozen=True)
class InvoiceFacts:
    invoice_id: str
    customer_id: str
    currency: str
    issue_date: date
    due_date: date
    open_amount: int
    agreement_id: str | None = None  # an active agreement that already covers it
    disputed: bool = False
    interest_charged_through: date | None = None  # the end of its last month charged


@dataclass(frozen=True)
class Instalment:
    due_date: date
    amount: int


def terms_period_days(terms: dict | None, policy: AgreementPolicy) -> int:
    """How long the customer's terms give new business to pay: an instalment plan may not
    give arrears longer between payments, or the arrears would be financed on easier terms
    than new orders."""
    terms = terms or {}
    mode, days = terms.get("mode"), terms.get("days")
    if mode in ("net_days", "deliver_two_settle_one") and days:
        return int(days)
    if mode == "monthly":
        return 31  # from one settlement day to the next
    return policy.default_period_days


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def check_agreement(*, customer_id: str, invoice_ids: Sequence[str],
                    invoices: dict[str, InvoiceFacts], instalments: Sequence[Instalment],
                    signed_on: date, as_of: date, terms: dict | None,
                    policy: AgreementPolicy, currency: str | None = None) -> tuple[str, int]:
    """Answers (currency, total) of a valid agreement; raises Invalid naming the field."""
    if signed_on > as_of:
        raise Invalid(f"an agreement is recorded once signed; {signed_on.isoformat()} is after "
                      f"{as_of.isoformat()}", field="signed_on")
    if len(set(invoice_ids)) != len(invoice_ids):
        raise Invalid("an invoice is named twice", field="invoice_ids")
    currencies: set[str] = set()
    total = 0
    for i, invoice_id in enumerate(invoice_ids):
        where = f"invoice_ids[{i}]"
        invoice = invoices.get(invoice_id)
        if invoice is None or invoice.customer_id != customer_id:
            raise Invalid(f"invoice {invoice_id} is not one of this customer's", field=where)
        if invoice.issue_date > signed_on:
            raise Invalid(f"invoice {invoice_id} was issued on {invoice.issue_date.isoformat()}, "
                          "after the agreement: new business runs under the customer's terms "
                          "and is never mixed into the arrears", field=where)
        if invoice.due_date >= signed_on:
            raise Invalid(f"invoice {invoice_id} is not overdue (due {invoice.due_date.isoformat()})"
                          ": an agreement covers overdue arrears only, never new business",
                          field=where)
        if invoice.open_amount <= 0:
            raise Invalid(f"invoice {invoice_id} has nothing open", field=where)
        if invoice.agreement_id:
            raise Invalid(f"invoice {invoice_id} is already in agreement {invoice.agreement_id}",
                          field=where)
        if invoice.disputed:
            raise Invalid(f"invoice {invoice_id} is disputed: settle the dispute first",
                          field=where)
        charged = invoice.interest_charged_through
        if charged is not None and charged >= signed_on:
            raise Invalid(f"late interest on invoice {invoice_id} is charged through "
                          f"{charged.isoformat()}: an agreement signed on {signed_on.isoformat()} "
                          "would shield days already charged; date it after", field="signed_on")
        currencies.add(invoice.currency)
        total += invoice.open_amount
    if len(currencies) > 1:
        raise Invalid(f"the invoices are in {', '.join(sorted(currencies))}: one agreement per "
                      "currency", field="invoice_ids")
    (found,) = currencies
    if currency is not None and currency != found:
        raise Invalid(f"the invoices are in {found}", field="currency")
    _check_instalments(instalments, total, found, signed_on, terms, policy)
    return found, total


def _check_instalments(instalments: Sequence[Instalment], total: int, currency: str,
                       signed_on: date, terms: dict | None, policy: AgreementPolicy) -> None:
    if not 1 <= len(instalments) <= policy.max_instalments:
        raise Invalid(f"1 to {policy.max_instalments} instalments", field="instalments")
    planned = sum(i.amount for i in instalments)
    if planned != total:
        raise Invalid(f"the instalments add up to {planned} {currency}; the named invoices have "
                      f"{total} {currency} open, and an agreement covers exactly that",
                      field="instalments")
    period = terms_period_days(terms, policy)
    latest = _add_months(signed_on, policy.max_months)
    previous = signed_on
    for i, instalment in enumerate(instalments):
        where = f"instalments[{i}].due_date"
        if instalment.due_date < signed_on:
            raise Invalid(f"{instalment.due_date.isoformat()} is before the signing "
                          f"({signed_on.isoformat()})", field=where)
        if i and instalment.due_date <= previous:
            raise Invalid("instalment dates must increase", field=where)
        if instalment.due_date - previous > timedelta(days=period):
            raise Invalid(f"{(instalment.due_date - previous).days} days after the "
                          f"{'signing' if i == 0 else 'previous instalment'}: the customer's "
                          f"terms give new business {period} days, and arrears get no longer",
                          field=where)
        if instalment.due_date > latest:
            raise Invalid(f"beyond {latest.isoformat()}: an agreement runs at most "
                          f"{policy.max_months} months", field=where)
        previous = instalment.due_date


@dataclass(frozen=True)
class Miss:
    due_date: date
    missing: int


def first_miss(instalments: Sequence[Instalment], payments: Iterable[tuple[date, int]],
               as_of: date, grace_days: int) -> Miss | None:
    """The first instalment whose date (plus grace) has passed with less paid by then, in
    total, than the instalments due so far."""
    paid = sorted(payments)
    due_so_far = 0
    for instalment in instalments:
        due_so_far += instalment.amount
        if as_of <= instalment.due_date + timedelta(days=grace_days):
            return None
        by_then = sum(a for on, a in paid if on <= instalment.due_date + timedelta(days=grace_days))
        if by_then < due_so_far:
            return Miss(instalment.due_date, due_so_far - by_then)
    return None
