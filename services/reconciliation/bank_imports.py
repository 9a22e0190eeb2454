"""Importing a bank statement file: read it, keep each line once (the file's digest and
each line's identity), match the new credit lines, and answer what became of every line.

Debit lines are money going out (bank fees, refunds paid, transfers): kept and listed with
the status `debit`, never matched or booked. Credit lines in a currency no open item uses
wait unmatched for a person: nothing converts currencies.

Returns (a debit taking back an earlier credit: a bounced direct debit or transfer) are
linked to the credit they undo before the new credits are matched, so a credit returned
within the same file, or by a file imported before it, is never booked (returns.py)."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from sqlalchemy import select

from services.reconciliation import bank_files, cash_matching, returns
from services.reconciliation.bank_files import CsvLayout
from services.reconciliation.domain import matching as rules
from services.reconciliation.domain.bank import earlier_identities, identities, line_id
from services.reconciliation.domain.references import tokens
from services.reconciliation.tables import BankImport, BankLine
from shared.clock import now
from shared.db import UnitOfWork

CHUNK = 1000


async def import_file(uow: UnitOfWork, data: bytes, file_format: str, layout: CsvLayout
                      ) -> tuple[dict[str, Any], bool]:
    """(the import's summary, created); a file imported before answers its first import."""
    digest = hashlib.sha256(data).hexdigest()
    existing = (await uow.session.execute(
        select(BankImport).where(BankImport.file_digest == digest))).scalar_one_or_none()
    if existing is not None:
        return await summary(uow, existing, duplicate_file=True), False
    parsed = bank_files.parse(data, file_format, layout)
    record = BankImport(id=uuid.uuid4().hex, file_digest=digest, format=parsed.format,
                        account=(parsed.account or None) and parsed.account[:64],
                        statement_reference=(parsed.statement_reference or None)
                        and parsed.statement_reference[:128],
                        line_count=len(parsed.entries), imported_at=now(), imported_by=uow.actor)
    uow.session.add(record)
    keys = identities(parsed)
    # A return imported before returns were recognised was read otherwise: known by that.
    earlier = earlier_identities(parsed)
    wanted = keys + [k for k in earlier if k]
    seen: set[str] = set()
    for n in range(0, len(wanted), CHUNK):  # drivers bound the parameters of one statement
        seen.update((await uow.session.execute(select(BankLine.identity).where(
            BankLine.identity.in_(wanted[n:n + CHUNK])))).scalars())
    new: list[BankLine] = []
    for entry, identity, before in zip(parsed.entries, keys, earlier, strict=True):
        if identity in seen or before in seen:
            continue
        new.append(BankLine(
            id=line_id(identity), identity=identity, import_id=record.id,
            account=_cut(entry.account, 64) or record.account,
            booking_date=entry.booking_date, value_date=entry.value_date,
            direction=entry.direction, amount=entry.amount, currency=entry.currency,
            payer_name=_cut(entry.payer_name, 256), payer_account=_cut(entry.payer_account, 64),
            reference=_cut(entry.reference, 1000), bank_reference=_cut(entry.bank_reference, 128),
            status="debit" if entry.direction == "debit" and not entry.is_return else "unmatched",
            is_return=entry.is_return, return_reason=_cut(entry.return_reason, 256),
            end_to_end_id=_cut(entry.end_to_end_id, 128)))
    uow.session.add_all(new)
    await returns.take(uow, [n for n in new if n.is_return])
    fresh = [n for n in new if n.direction == "credit" and not n.is_return]
    await returns.retry_waiting(uow, fresh)  # a return imported before its credit
    credits = sorted((n for n in fresh if n.status == "unmatched"), key=lambda n: (n.booking_date, n.id))
    if credits:
        policy = cash_matching.policy(uow.config)
        numbers = {t.key for n in credits for t in tokens(n.reference, policy.min_reference_length)}
        book = await cash_matching.load_book(uow, {n.currency for n in credits}, numbers)
        for line in credits:
            cash_matching.apply(uow, line, rules.match(cash_matching.credit_line(line), book, policy))
    await uow.session.flush()
    result = await summary(uow, record, duplicate_file=False)
    result["already_imported"] = len(parsed.entries) - len(new)
    result["skipped"] = parsed.skipped
    return result, True


def _cut(text: str | None, length: int) -> str | None:
    return text[:length] if text else None


async def summary(uow: UnitOfWork, record: BankImport, *, duplicate_file: bool) -> dict[str, Any]:
    lines = list((await uow.session.execute(
        select(BankLine).where(BankLine.import_id == record.id)
        .order_by(BankLine.booking_date, BankLine.id))).scalars())
    counts: dict[str, int] = {}
    for line in lines:
        counts[line.status] = counts.get(line.status, 0) + 1
    return {
        "id": record.id, "format": record.format, "file_digest": record.file_digest,
        "account": record.account, "statement_reference": record.statement_reference,
        "imported_at": record.imported_at, "imported_by": record.imported_by,
        "duplicate_file": duplicate_file, "entries": record.line_count, "new_lines": len(lines),
        "counts": counts, "lines": [line_out(line) for line in lines],
    }


def line_out(line: BankLine) -> dict[str, Any]:
    return {
        "id": line.id, "import_id": line.import_id, "status": line.status,
        "booking_date": line.booking_date, "value_date": line.value_date,
        "direction": line.direction, "amount": line.amount, "currency": line.currency,
        "payer_name": line.payer_name, "payer_account": line.payer_account,
        "reference": line.reference, "bank_reference": line.bank_reference,
        "customer_id": line.customer_id, "invoice_ids": line.invoice_ids,
        "confidence": line.confidence, "match_reason": line.match_reason,
        "discrepancy": line.discrepancy, "suggestions": line.suggestions,
        "decided_by": line.decided_by, "decided_at": line.decided_at,
        "decision_note": line.decision_note, "booked_on": line.booked_on,
        "end_to_end_id": line.end_to_end_id, "is_return": line.is_return,
        "return_reason": line.return_reason, "returns_line_id": line.returns_line_id,
        "returns_payment_id": line.returns_payment_id,
        "return_announced_at": line.return_announced_at, "returned_by": line.returned_by,
    }
