"""Disputes from reconciliation pause the disputed invoices only (no escalation, no late
interest) until the dispute is resolved; the rest of the case goes on.

Reconciliation's dispute events carry no business date: a dispute is dated by the latest
business date its case was looked at (the sweeps keep that current), or by the event's
time when the customer has no open case."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select, update

from services.collection_plan.handlers import cases, common
from services.collection_plan.tables import Case, CaseInvoice, Dispute, InvoicePause
from shared.db import UnitOfWork
from shared.events import CloudEvent
from shared.events import contracts as ev


def _business_date(case: Case | None, event: CloudEvent) -> date:
    return case.last_seen_on if case is not None and case.last_seen_on else event.time.date()


async def on_disputed(uow: UnitOfWork, data: ev.StatementDisputed, event: CloudEvent) -> None:
    dispute_id = data.dispute_id or f"statement:{data.statement_id}"
    await common.customer(uow, data.customer_id)  # the customer first, like every writer
    case = await common.open_case_of(uow, data.customer_id)
    on = _business_date(case, event)
    invoice_ids = sorted({*data.invoice_ids, *(line.document_id for line in data.lines)})
    dispute = await uow.session.get(Dispute, dispute_id)
    if dispute is not None and dispute.resolved_on is not None:
        return  # the resolution overtook the dispute: nothing to pause
    if dispute is None:
        dispute = Dispute(id=dispute_id, customer_id=data.customer_id)
        uow.session.add(dispute)
    dispute.statement_id, dispute.invoice_ids = data.statement_id, invoice_ids
    dispute.reason, dispute.opened_on = data.reason, on
    for invoice_id in invoice_ids:
        if await uow.session.get(InvoicePause, (invoice_id, "dispute", dispute_id)) is None:
            uow.session.add(InvoicePause(invoice_id=invoice_id, reason="dispute",
                                         reference_id=dispute_id, customer_id=data.customer_id,
                                         starts_on=on))
    if case is not None:
        common.record(uow, case, on, "disputed",
                      f"{', '.join(invoice_ids)} disputed: escalation of those waits ({data.reason})")


async def on_resolved(uow: UnitOfWork, data: ev.DisputeResolved, event: CloudEvent) -> None:
    view = await common.customer(uow, data.customer_id)  # the customer first, like every writer
    case = await common.open_case_of(uow, data.customer_id)
    on = _business_date(case, event)
    dispute = await uow.session.get(Dispute, data.dispute_id)
    if dispute is None:  # resolved before we heard of it: remember, so it pauses nothing
        dispute = Dispute(id=data.dispute_id, customer_id=data.customer_id,
                          statement_id=data.statement_id, invoice_ids=data.invoice_ids)
        uow.session.add(dispute)
    if dispute.resolved_on is not None:
        return
    dispute.resolved_on, dispute.resolution = on, data.resolution
    await uow.session.execute(
        update(InvoicePause).where(InvoicePause.reason == "dispute",
                                   InvoicePause.reference_id == data.dispute_id,
                                   InvoicePause.ends_on.is_(None)).values(ends_on=on))
    if case is None:
        return
    common.record(uow, case, on, "dispute_resolved",
                  f"{', '.join(dispute.invoice_ids)}: {data.resolution} ({data.note})")
    chased = (await uow.session.execute(select(CaseInvoice.invoice_id).where(
        CaseInvoice.case_id == case.id))).scalars().all()
    if set(chased) & set(dispute.invoice_ids):
        # Escalation resumes: the invoices' days past due count again, as of the resolution.
        await cases.evaluate(uow, case, view, on)
