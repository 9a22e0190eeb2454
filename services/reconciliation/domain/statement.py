"""Statements of account, and their digest: SHA-256 of a canonical JSON form, so that any
changed figure changes the digest and both sides can tell they hold the same statement.

A monthly statement: opening balance, every document of the month, closing balance, aging
at month end, the open items and the settlement terms. A balance statement: the open items
on a date, for the customer to confirm before an amount falls due (DOMAIN.md)."""

from __future__ import annotations

import calendar
import hashlib
import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from shared.aging import LABELS, bucket_for
from shared.errors import Invalid

# Within a day: what was billed or charged, then what was paid, then what it earned.
LINE_ORDER = {"invoice": 0, "interest": 1, "fee": 2, "refund": 3, "reversal": 4, "payment": 5,
              "credit_note": 6, "discount": 7, "write_off": 8}
# What settles what the customer owes (credits): the kinds this service gives the ledger's
# payments, credit notes, discounts and write-offs. Every other kind is a debit: whatever
# `ledger.invoice.posted` carries (invoice, interest, fee, refund, reversal, and a kind
# added later, which must not print as a credit).
CREDIT_KINDS = frozenset({"payment", "credit_note", "discount", "write_off"})


def is_debit(kind: str) -> bool:
    return kind not in CREDIT_KINDS


@dataclass(frozen=True)
class Item:
    """A document on the customer's account: invoices, charges and refunds debit; payments,
    credit notes, discounts and write-offs credit."""

    kind: str
    doc_id: str
    on: date
    amount: int  # positive; the kind says which side
    due_date: date | None = None

    @property
    def signed(self) -> int:
        return self.amount if is_debit(self.kind) else -self.amount


@dataclass(frozen=True)
class Settlement:
    invoice_id: str
    amount: int
    on: date


@dataclass(frozen=True)
class Party:
    """Who the statement is for, as the dossier says (credit's events)."""

    name: str | None = None
    salesperson: str | None = None
    terms: dict[str, Any] | None = None


def period_bounds(period: str) -> tuple[date, date]:
    try:
        year, month = (int(p) for p in period.split("-"))
        first = date(year, month, 1)
    except ValueError as exc:
        raise Invalid("period must read YYYY-MM", field="period") from exc
    return first, date(year, month, calendar.monthrange(year, month)[1])


def previous_period(day: date) -> str:
    year, month = (day.year, day.month - 1) if day.month > 1 else (day.year - 1, 12)
    return f"{year:04d}-{month:02d}"


def statement_period_due(as_of: date, run_day: int) -> str:
    """The latest month whose statements were due by `as_of`, when each month's are issued
    on `run_day` of the month after: the month before from that day on, else the one before
    that. A job that missed its day still knows which month to catch up."""
    period = previous_period(as_of)
    return period if as_of.day >= run_day else previous_period(period_bounds(period)[0])


def _ordered(items: list[Item]) -> list[Item]:
    return sorted(items, key=lambda i: (i.on, LINE_ORDER.get(i.kind, len(LINE_ORDER)), i.doc_id))


def _party(customer_id: str, party: Party | None) -> dict[str, Any]:
    party = party or Party()
    return {"customer_id": customer_id, "customer_name": party.name,
            "salesperson": party.salesperson, "terms": party.terms}


def build_statement(customer_id: str, period: str, currency: str, items: list[Item],
                    settlements: list[Settlement], *, party: Party | None = None) -> dict[str, Any]:
    first, last = period_bounds(period)
    ordered = _ordered(items)
    opening = sum(i.signed for i in ordered if i.on < first)
    running = opening
    lines = []
    for item in (i for i in ordered if first <= i.on <= last):
        running += item.signed
        lines.append({
            "date": item.on.isoformat(), "kind": item.kind, "document_id": item.doc_id,
            "debit": item.amount if item.signed > 0 else 0,
            "credit": item.amount if item.signed < 0 else 0,
            "balance": running,
            **({"due_date": item.due_date.isoformat()} if item.due_date else {}),
        })
    content = {
        "kind": "monthly", **_party(customer_id, party), "period": period, "currency": currency,
        "period_start": first.isoformat(), "period_end": last.isoformat(),
        "opening_balance": opening, "lines": lines, "closing_balance": running,
        "total_debits": sum(line["debit"] for line in lines),
        "total_credits": sum(line["credit"] for line in lines),
        "aging": aging_at(last, ordered, settlements),
        "open_items": open_items_at(last, ordered, settlements),
    }
    content.update(_unapplied(running, content["open_items"]))
    return {**content, "digest": digest(content)}


def build_balance_statement(customer_id: str, as_of: date, currency: str, items: list[Item],
                            settlements: list[Settlement], *, due: dict[str, Any],
                            party: Party | None = None) -> dict[str, Any]:
    """What the customer owes on `as_of`, and the amount falling due (`due`: reminder_id,
    due_date, amount, invoice_ids) it is asked to confirm."""
    ordered = _ordered(items)
    content = {
        "kind": "balance", **_party(customer_id, party), "as_of": as_of.isoformat(),
        "currency": currency,
        "balance": sum(i.signed for i in ordered if i.on <= as_of),
        "falling_due": due,
        "aging": aging_at(as_of, ordered, settlements),
        "open_items": open_items_at(as_of, ordered, settlements),
    }
    content.update(_unapplied(content["balance"], content["open_items"]))
    return {**content, "digest": digest(content)}


def _unapplied(balance: int, open_items: list[dict[str, Any]]) -> dict[str, int]:
    """Money received and not yet applied to an invoice (an overpayment, a payment on
    account, a credit note's rest): what reconciles the open items with the balance.
    Absent when nil, so statements without any keep their digest."""
    unapplied = sum(i["open_amount"] for i in open_items) - balance
    return {"unapplied_credit": unapplied} if unapplied > 0 else {}


def _paid_by(as_of: date, settlements: list[Settlement]) -> dict[str, int]:
    paid: dict[str, int] = {}
    for s in settlements:
        if s.on <= as_of:
            paid[s.invoice_id] = paid.get(s.invoice_id, 0) + s.amount
    return paid


def open_items_at(as_of: date, items: list[Item], settlements: list[Settlement]) -> list[dict[str, Any]]:
    paid = _paid_by(as_of, settlements)
    rows = []
    for item in items:
        if is_debit(item.kind) and item.on <= as_of and item.due_date is not None:
            open_amount = item.amount - paid.get(item.doc_id, 0)
            if open_amount > 0:
                rows.append({"document_id": item.doc_id, "kind": item.kind,
                             "date": item.on.isoformat(), "due_date": item.due_date.isoformat(),
                             "amount": item.amount, "open_amount": open_amount,
                             "days_past_due": max(0, (as_of - item.due_date).days)})
    return sorted(rows, key=lambda r: (r["due_date"], r["document_id"]))


def aging_at(as_of: date, items: list[Item], settlements: list[Settlement]) -> dict[str, int]:
    buckets = dict.fromkeys(LABELS, 0)
    for row in open_items_at(as_of, items, settlements):
        days = (as_of - date.fromisoformat(row["due_date"])).days
        buckets[bucket_for(days)] += row["open_amount"]
    return buckets


def canonical(content: dict[str, Any]) -> bytes:
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def digest(content: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(content)).hexdigest()
