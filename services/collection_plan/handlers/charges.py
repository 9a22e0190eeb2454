"""Late interest and fees after a written notice (domain/interest.py): charged per invoice
and calendar month by the sweep, once, as `collections.interest.charged` for the ledger to
book; what the ledger refuses (`ledger.posting.refused`) is shown on the case."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from sqlalchemy import or_, select

from services.collection_plan.domain.interest import (
    InterestPolicy,
    accrual_days,
    ended_periods,
    interest,
)
from services.collection_plan.handlers import common, write_offs
from services.collection_plan.tables import (
    Case,
    Charge,
    CustomerView,
    InvoicePause,
    InvoiceReduction,
    InvoiceView,
)
from shared.db import UnitOfWork
from shared.events import CloudEvent
from shared.events import contracts as ev

# Charge ids are derived from what they charge, so the ledger sees the same id if a charge
# is ever announced again.
CHARGE_NAMESPACE = uuid.UUID("5d0c6f3e-4f0b-4a8e-9d7b-2f1c9a6b8e01")


def charge_id(invoice_id: str, kind: str, period: str) -> str:
    return str(uuid.uuid5(CHARGE_NAMESPACE, f"{invoice_id}|{kind}|{period}"))


async def _charge(uow: UnitOfWork, invoice: InvoiceView, case: Case | None, *, kind: str,
                  period: str, amount: int, days: int, as_of: date, reason: str) -> None:
    charge = Charge(id=charge_id(invoice.invoice_id, kind, period), customer_id=invoice.customer_id,
                    case_id=case.id if case else None, invoice_id=invoice.invoice_id, kind=kind,
                    period=period, amount=amount, currency=invoice.currency, issue_date=as_of,
                    days=days, status="charged")
    uow.session.add(charge)
    uow.emit(ev.InterestCharged(customer_id=invoice.customer_id, charge_id=charge.id, kind=kind,
                                invoice_id=invoice.invoice_id, amount=amount,
                                currency=invoice.currency, issue_date=as_of, reason=reason))
    if case is not None:
        common.record(uow, case, as_of, f"{kind}_charged", f"{amount} {invoice.currency}: {reason}")


async def sweep(uow: UnitOfWork, view: CustomerView, as_of: date) -> tuple[int, int]:
    """Charge what the ended months owe, and the fee of each newly noticed invoice:
    (interest charges, fees)."""
    cfg = common.config(uow)
    policy = cfg.interest_policy()
    invoices = (await uow.session.execute(
        select(InvoiceView).where(
            InvoiceView.customer_id == view.customer_id, InvoiceView.kind == "invoice",
            InvoiceView.notice_on.is_not(None),
            or_(InvoiceView.interest_through.is_(None), InvoiceView.settled_on.is_(None),
                InvoiceView.interest_through < InvoiceView.settled_on))
        .order_by(InvoiceView.invoice_id))).scalars().all()
    if not invoices:
        return 0, 0
    case = await common.open_case_of(uow, view.customer_id)
    paused = await common.paused_invoices(uow, [i.invoice_id for i in invoices])
    charged = fees = 0
    for invoice in invoices:
        assert invoice.notice_on is not None
        fee = cfg.late_fees.get(invoice.currency, 0)
        # No fee while a dispute or a kept agreement shields the invoice, nor on one that
        # turned out to owe nothing; it waits for the shield to go.
        if fee and as_of > invoice.notice_on and invoice.open_amount > 0 \
                and invoice.invoice_id not in paused and await uow.session.get(
                Charge, charge_id(invoice.invoice_id, "fee", "notice")) is None:
            await _charge(uow, invoice, case, kind="fee", period="notice", amount=fee, days=0,
                          as_of=as_of, reason=f"late fee for invoice {invoice.invoice_id} after "
                                              f"the written notice of {invoice.notice_on}")
            fees += 1
        charged += await _interest(uow, invoice, case, as_of, policy)
    return charged, fees


async def _interest(uow: UnitOfWork, invoice: InvoiceView, case: Case | None, as_of: date,
                    policy: InterestPolicy) -> int:
    assert invoice.notice_on is not None
    starts_after = max(invoice.notice_on, invoice.due_date)
    first = (invoice.interest_through or starts_after) + timedelta(days=1)
    periods = list(ended_periods(first, as_of))
    if not periods:
        return 0
    reductions = [(on, a) for on, a in (await uow.session.execute(
        select(InvoiceReduction.on, InvoiceReduction.amount)
        .where(InvoiceReduction.invoice_id == invoice.invoice_id))).all()]
    pauses = [(s, e) for s, e in (await uow.session.execute(
        select(InvoicePause.starts_on, InvoicePause.ends_on)
        .where(InvoicePause.invoice_id == invoice.invoice_id))).all()]
    charged = 0
    for period in periods:
        days = accrual_days(period, starts_after, pauses)
        amount = interest(invoice.amount, reductions, days, policy)
        invoice.interest_through = period.end
        if amount <= 0 or await uow.session.get(Charge, charge_id(
                invoice.invoice_id, "interest", period.label)) is not None:
            continue
        rate = f"{policy.rate_basis_points} bp per {policy.per}"
        await _charge(uow, invoice, case, kind="interest", period=period.label, amount=amount,
                      days=len(days), as_of=as_of,
                      reason=f"late interest {period.label} on invoice {invoice.invoice_id}: "
                             f"{len(days)} days at {rate} after the written notice of "
                             f"{invoice.notice_on}")
        charged += 1
    return charged


async def on_posting_refused(uow: UnitOfWork, data: ev.PostingRefused, _: CloudEvent) -> None:
    """The ledger refused a charge or a write-off we asked for: nothing was booked; the
    case shows why. A refusal for a document that is not ours is not news for us."""
    charge = await uow.session.get(Charge, data.document_id)
    if charge is None:
        await write_offs.refused(uow, data.document_id, data.reason)
        return
    charge.status, charge.refused_reason = "refused", data.reason
    case = await uow.session.get(Case, charge.case_id) if charge.case_id else None
    if case is not None:  # no business date in the refusal: the case's latest
        common.record(uow, case, case.last_seen_on or charge.issue_date, f"{charge.kind}_refused",
                      f"the ledger refused {charge.amount} {charge.currency} "
                      f"({charge.period}): {data.reason}")
