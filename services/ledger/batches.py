"""ERP backfill: thousands of documents in one request, as JSON lines or CSV.

Every row is checked and answered; one bad row books nothing. The rows are checked in
memory against the books of their customers, loaded (and locked) once for the batch, and
written set-based at the end (see handlers.post_many). Documents are idempotent by id, so
a batch sent again books nothing twice.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from pydantic import BaseModel, ValidationError

from services.ledger import handlers
from services.ledger.domain.allocation import Allocation
from services.ledger.domain.commands import PostCreditNote, PostInvoice, PostPayment
from services.ledger.schemas import CreditNoteIn, InvoiceIn, PaymentIn
from services.ledger.store import Command
from shared.db import UnitOfWork
from shared.errors import Invalid, RecoupError

SCHEMAS: dict[str, type[BaseModel]] = {
    "invoice": InvoiceIn, "payment": PaymentIn, "credit_note": CreditNoteIn}
MAX_ROWS = 10_000


def parse(body: bytes, content_type: str) -> list[dict[str, Any]]:
    """Rows as dictionaries; CSV cells that are empty are absent."""
    text = body.decode("utf-8-sig")
    if content_type.startswith("text/csv"):
        rows = [{k: v for k, v in row.items() if v not in ("", None)}
                for row in csv.DictReader(io.StringIO(text))]
        for row in rows:
            if "amount" in row:
                row["amount"] = _integer(row["amount"])
    elif content_type.startswith(("application/x-ndjson", "application/jsonl")):
        rows = []
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise Invalid(f"line {number} is not JSON: {exc.msg}", field="body") from exc
    else:
        raise Invalid("send application/x-ndjson (JSON lines) or text/csv", field="Content-Type")
    if not rows:
        raise Invalid("the batch has no rows", field="body")
    if len(rows) > MAX_ROWS:
        raise Invalid(f"at most {MAX_ROWS} rows per batch", field="body")
    return rows


def _integer(cell: str) -> Any:
    try:
        return int(cell)
    except ValueError:
        return cell  # the schema refuses it, naming the field


async def book(uow: UnitOfWork, rows: list[dict[str, Any]]) -> tuple[bool, list[dict[str, Any]]]:
    """Answers (all went well, a result per row). The caller commits only if all did.
    Every row is checked against the books as the rows before it left them; the postings
    are written together at the end (one ledger.balance.changed per customer)."""
    results: list[dict[str, Any]] = []
    commands: list[tuple[int, Command]] = []  # (index in results, command)
    renamed: dict[int, bool] = {}  # rows whose invoice_id was read as invoice_ids
    for number, row in enumerate(rows, start=1):
        kind = row.get("type") if isinstance(row, dict) else None
        if not isinstance(kind, str):  # a list or an object there cannot name a kind
            kind = None
        row_id = row.get("id") if isinstance(row, dict) else None
        result: dict[str, Any] = {"row": number, "type": kind,
                                  "id": row_id if isinstance(row_id, str | int) else None}
        results.append(result)
        if kind not in SCHEMAS:
            result.update(status="error", errors=[
                {"field": "type", "message": f"one of {', '.join(SCHEMAS)}"}])
            continue
        fields = {k: v for k, v in row.items() if k != "type"}
        # A payment row naming one invoice (a CSV export's column) pays that invoice.
        one_invoice = kind == "payment" and "invoice_id" in fields
        if one_invoice:
            fields["invoice_ids"] = [fields.pop("invoice_id")]
        try:
            document = SCHEMAS[kind].model_validate(fields)
        except ValidationError as exc:
            result.update(status="error", errors=[
                {"field": _as_sent(".".join(str(p) for p in e["loc"]), one_invoice),
                 "message": e["msg"]} for e in exc.errors()])
            continue
        commands.append((number - 1, _command(kind, document)))
        renamed[number - 1] = one_invoice
    valid = len(commands) == len(rows)
    outcomes = await handlers.post_many(uow, [cmd for _, cmd in commands],
                                        check_only=not valid) if commands else []
    for (index, _), outcome in zip(commands, outcomes, strict=True):
        if isinstance(outcome, RecoupError):
            results[index].update(status="error", errors=[
                {"field": _as_sent(outcome.field or "", renamed[index]),
                 "message": outcome.detail}])
        else:
            results[index]["status"] = "created" if outcome[1] else "unchanged"
    ok = all(r["status"] != "error" for r in results)
    return ok, results


def _as_sent(field: str, one_invoice: bool) -> str:
    return "invoice_id" if one_invoice and field.startswith("invoice_ids") else field


def _command(kind: str, document: Any) -> Command:
    if kind == "invoice":
        return PostInvoice(**document.model_dump())
    if kind == "payment":
        return payment_command(document)
    return PostCreditNote(**document.model_dump())


def payment_command(document: PaymentIn) -> PostPayment:
    """A payment as posted over HTTP or in a batch."""
    data = document.model_dump()
    if document.allocations is not None:
        data["allocations"] = tuple(Allocation(a.invoice_id, a.amount)
                                    for a in document.allocations)
    if document.invoice_ids is not None:
        data["invoice_ids"] = tuple(document.invoice_ids)
    return PostPayment(**data)
