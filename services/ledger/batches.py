"""ERP backfill: thousands of documents in one request, as JSON lines or CSV.

Every row is checked and answered; one bad row books nothing (each row runs in a
savepoint so that all errors are found, then the whole batch is rolled back). Documents
are idempotent by id, so a batch sent again books nothing twice.
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
            if row.get("type") == "payment" and "invoice_id" in row:  # pays that invoice
                row["allocations"] = [{"invoice_id": row.pop("invoice_id"),
                                       "amount": row["amount"]}]
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
    """Answers (all went well, a result per row). The caller commits only if all did."""
    handlers.defer_positions(uow)  # one ledger.balance.changed per customer, not per row
    results = []
    for number, row in enumerate(rows, start=1):
        kind = row.get("type") if isinstance(row, dict) else None
        result: dict[str, Any] = {"row": number, "type": kind, "id": (row or {}).get("id")
                                  if isinstance(row, dict) else None}
        if kind not in SCHEMAS:
            results.append({**result, "status": "error", "errors": [
                {"field": "type", "message": f"one of {', '.join(SCHEMAS)}"}]})
            continue
        try:
            document = SCHEMAS[kind].model_validate({k: v for k, v in row.items() if k != "type"})
        except ValidationError as exc:
            results.append({**result, "status": "error", "errors": [
                {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]}
                for e in exc.errors()]})
            continue
        try:
            async with uow.savepoint():
                created = await _post(uow, kind, document)
        except RecoupError as exc:
            results.append({**result, "status": "error",
                            "errors": [{"field": exc.field or "", "message": exc.detail}]})
            continue
        results.append({**result, "status": "created" if created else "unchanged"})
    ok = all(r["status"] != "error" for r in results)
    if ok:
        await handlers.announce_deferred_positions(uow)
    return ok, results


async def _post(uow: UnitOfWork, kind: str, document: Any) -> bool:
    data = document.model_dump()
    if kind == "invoice":
        _, created = await handlers.post_invoice(uow, PostInvoice(**data))
    elif kind == "payment":
        if document.allocations is not None:
            data["allocations"] = tuple(Allocation(a.invoice_id, a.amount)
                                        for a in document.allocations)
        _, created = await handlers.post_payment(uow, PostPayment(**data))
    else:
        _, created = await handlers.post_credit_note(uow, PostCreditNote(**data))
    return created
