"""A monthly statement of account, and its digest: SHA-256 of a canonical JSON form, so
that any changed figure changes the digest and both sides can tell they hold the same
statement."""

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
# What the customer owes (debits); everything else is a credit.
DEBIT_KINDS = frozenset({"invoice", "interest", "fee", "refund", "reversal"})


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
        return self.amount if self.kind in DEBIT_KINDS else -self.amount


@dataclass(frozen=True)
class Settlement:
    invoice_id: str
    amount: int
    on: date


def period_bounds(period: str) -> tuple[date, date]:
    try:
        year, month = (int(p) for p in period.split("-"))
        first = date(year, month, 1)
    except ValueError as exc:
        raise Invalid("period must read YYYY-MM", field="period") from exc
    return first, date(year, month, calendar.monthrange(year, month)[1])


def build_statement(customer_id: str, period: str, currency: str, items: list[Item],
                    settlements: list[Settlement]) -> dict[str, Any]:
    first, last = period_bounds(period)
    ordered = sorted(items, key=lambda i: (i.on, LINE_ORDER.get(i.kind, len(LINE_ORDER)), i.doc_id))
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
        "customer_id": customer_id, "period": period, "currency": currency,
        "period_start": first.isoformat(), "period_end": last.isoformat(),
        "opening_balance": opening, "lines": lines, "closing_balance": running,
        "aging": aging_at(last, ordered, settlements),
    }
    return {**content, "digest": digest(content)}


def aging_at(as_of: date, items: list[Item], settlements: list[Settlement]) -> dict[str, int]:
    paid: dict[str, int] = {}
    for s in settlements:
        if s.on <= as_of:
            paid[s.invoice_id] = paid.get(s.invoice_id, 0) + s.amount
    buckets = dict.fromkeys(LABELS, 0)
    for item in items:
        if item.kind in DEBIT_KINDS and item.on <= as_of and item.due_date is not None:
            open_amount = item.amount - paid.get(item.doc_id, 0)
            if open_amount > 0:
                buckets[bucket_for((as_of - item.due_date).days)] += open_amount
    return buckets


def canonical(content: dict[str, Any]) -> bytes:
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def digest(content: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(content)).hexdigest()
