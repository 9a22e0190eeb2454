"""Write-off proposals for bad debt: made by the strategy's write-off step or by a collector,
approved (or rejected) by a person with the collections:approve scope; an approval asks
the ledger to book the write-off (`collections.write_off.approved`)."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import select

from services.collection_plan.handlers import common
from services.collection_plan.tables import Case, CaseInvoice, InvoiceView, WriteOff
from shared.db import UnitOfWork
from shared.errors import Conflict, Invalid, NotFound
from shared.events import contracts as ev

PENDING = ("proposed", "approved", "booked")


async def _pending_for(uow: UnitOfWork, invoice_id: str) -> WriteOff | None:
    return (await uow.session.execute(
        select(WriteOff).where(WriteOff.invoice_id == invoice_id, WriteOff.status.in_(PENDING))
    )).scalars().first()


def _new(case: Case, item: CaseInvoice, amount: int, reason: str, by: str, on: date) -> WriteOff:
    return WriteOff(id=str(uuid.uuid4()), customer_id=case.customer_id, case_id=case.id,
                    invoice_id=item.invoice_id, currency=item.currency, amount=amount,
                    reason=reason, status="proposed", proposed_by=by, proposed_on=on)


async def _open_amount(uow: UnitOfWork, item: CaseInvoice) -> int:
    invoice = await uow.session.get(InvoiceView, item.invoice_id)
    return invoice.open_amount if invoice is not None else item.open_amount


async def propose_for_case(uow: UnitOfWork, case: Case, as_of: date) -> list[WriteOff]:
    """The strategy reached its write-off step: propose what is still open."""
    made = []
    for item in await common.case_invoices(uow, case):
        amount = await _open_amount(uow, item)
        if amount <= 0 or await _pending_for(uow, item.invoice_id) is not None:
            continue
        made.append(_new(case, item, amount, f"bad debt: {case.max_days_past_due} days past due, "
                         f"classed {case.receivable_class.replace('_', ' ')}",
                         "strategy", as_of))
    uow.session.add_all(made)
    if made:
        common.record(uow, case, as_of, "write_off_proposed",
                      f"{len(made)} invoices proposed for write-off by the strategy")
    return made


async def propose(uow: UnitOfWork, invoice_id: str, reason: str, as_of: date) -> WriteOff:
    item = (await uow.session.execute(
        select(CaseInvoice).join(Case, Case.id == CaseInvoice.case_id)
        .where(CaseInvoice.invoice_id == invoice_id, Case.status == "open")
    )).scalars().first()
    if item is None:
        raise Invalid(f"invoice {invoice_id} is in no open collection case", field="invoice_id")
    case = await uow.session.get(Case, item.case_id)
    assert case is not None
    allowed = common.config(uow).write_off_classes
    if case.receivable_class not in allowed:
        raise Invalid(f"the case is classed {case.receivable_class}; write-offs are proposed for "
                      f"{', '.join(allowed)}", field="invoice_id")
    amount = await _open_amount(uow, item)
    if amount <= 0:
        raise Invalid(f"invoice {invoice_id} has nothing open", field="invoice_id")
    if (pending := await _pending_for(uow, invoice_id)) is not None:
        raise Conflict(f"write-off {pending.id} for this invoice is already {pending.status}",
                       field="invoice_id")
    write_off = _new(case, item, amount, reason, uow.actor, as_of)
    uow.session.add(write_off)
    common.record(uow, case, as_of, "write_off_proposed", f"{invoice_id}: {reason}")
    return write_off


async def _proposal(uow: UnitOfWork, write_off_id: str) -> WriteOff:
    write_off = (await uow.session.execute(
        select(WriteOff).where(WriteOff.id == write_off_id).with_for_update()
    )).scalar_one_or_none()
    if write_off is None:
        raise NotFound(f"write-off {write_off_id!r} not found")
    if write_off.status != "proposed":
        raise Conflict(f"write-off {write_off_id} is {write_off.status}, not proposed")
    return write_off


async def approve(uow: UnitOfWork, write_off_id: str, as_of: date, note: str | None) -> WriteOff:
    write_off = await _proposal(uow, write_off_id)
    if (common.config(uow).write_off_four_eyes and write_off.proposed_by.startswith("key:")
            and write_off.proposed_by == uow.actor):
        raise Conflict("the person who proposed a write-off does not approve it (four eyes)")
    if as_of < write_off.proposed_on:
        raise Invalid("approved before it was proposed", field="as_of")
    invoice = await uow.session.get(InvoiceView, write_off.invoice_id)
    amount = invoice.open_amount if invoice is not None else write_off.amount
    if amount <= 0:
        raise Conflict(f"invoice {write_off.invoice_id} has nothing open any more")
    write_off.amount, write_off.status = amount, "approved"
    write_off.decided_by, write_off.decided_on, write_off.note = uow.actor, as_of, note
    uow.emit(ev.WriteOffApproved(
        customer_id=write_off.customer_id, write_off_id=write_off.id,
        invoice_id=write_off.invoice_id, amount=amount, currency=write_off.currency,
        written_off_on=as_of, reason=write_off.reason, approved_by=uow.actor))
    await _record(uow, write_off, as_of, "write_off_approved",
                  f"{write_off.invoice_id}: {amount} {write_off.currency} approved")
    return write_off


async def reject(uow: UnitOfWork, write_off_id: str, as_of: date, note: str) -> WriteOff:
    write_off = await _proposal(uow, write_off_id)
    write_off.status = "rejected"
    write_off.decided_by, write_off.decided_on, write_off.note = uow.actor, as_of, note
    await _record(uow, write_off, as_of, "write_off_rejected", f"{write_off.invoice_id}: {note}")
    return write_off


async def _record(uow: UnitOfWork, write_off: WriteOff, on: date | None, kind: str,
                  detail: str) -> None:
    """On the case's history; news without a business date is dated by the case's."""
    case = await uow.session.get(Case, write_off.case_id) if write_off.case_id else None
    if case is not None:
        common.record(uow, case, on or case.last_seen_on or write_off.proposed_on, kind, detail)


async def booked(uow: UnitOfWork, write_off_id: str, on: date) -> None:
    """The ledger booked a write-off: if it was one of ours, it is done."""
    write_off = await uow.session.get(WriteOff, write_off_id)
    if write_off is not None and write_off.status == "approved":
        write_off.status = "booked"
        await _record(uow, write_off, on, "write_off_booked", f"{write_off.invoice_id} written off")


async def refused(uow: UnitOfWork, write_off_id: str, reason: str) -> None:
    write_off = await uow.session.get(WriteOff, write_off_id)
    if write_off is not None:
        write_off.status, write_off.note = "refused", f"the ledger refused: {reason}"
        await _record(uow, write_off, None, "write_off_refused", write_off.note)
