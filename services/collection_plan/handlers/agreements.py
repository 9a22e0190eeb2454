"""Repayment agreements: checked against the invoices and the customer's current terms,
then they shield their invoices from escalation and interest while kept. A missed
instalment breaks one (escalation resumes where it was); paying it all completes it. A
payment towards it that bounces paid nothing: what it reopened is the agreement's too."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select, update

from services.collection_plan.domain.agreements import (
    Instalment,
    InvoiceFacts,
    Miss,
    check_agreement,
    first_miss,
)
from services.collection_plan.domain.interest import month_of
from services.collection_plan.handlers import cases, common
from services.collection_plan.queries.agreements import payments_towards
from services.collection_plan.tables import (
    Agreement,
    Case,
    Charge,
    CustomerView,
    InvoicePause,
    InvoiceReduction,
    InvoiceView,
    PaymentView,
)
from shared.clock import now
from shared.db import UnitOfWork
from shared.errors import NotFound
from shared.events import contracts as ev


@dataclass(frozen=True)
class SignAgreement:
    customer_id: str
    invoice_ids: tuple[str, ...]
    instalments: tuple[Instalment, ...]
    signed_on: date
    as_of: date
    currency: str | None = None


async def _facts(uow: UnitOfWork, invoice_ids: tuple[str, ...]) -> dict[str, InvoiceFacts]:
    invoices = (await uow.session.execute(
        select(InvoiceView).where(InvoiceView.invoice_id.in_(invoice_ids)))).scalars().all()
    paused: dict[str, dict[str, str]] = {}
    for invoice_id, reason, reference in (await uow.session.execute(
        select(InvoicePause.invoice_id, InvoicePause.reason, InvoicePause.reference_id)
        .where(InvoicePause.invoice_id.in_(invoice_ids), InvoicePause.ends_on.is_(None))
    )).all():
        paused.setdefault(invoice_id, {})[reason] = reference
    charged = dict((await uow.session.execute(
        select(Charge.invoice_id, func.max(Charge.period))
        .where(Charge.invoice_id.in_(invoice_ids), Charge.kind == "interest",
               Charge.status == "charged").group_by(Charge.invoice_id))).all())
    return {i.invoice_id: InvoiceFacts(
        invoice_id=i.invoice_id, customer_id=i.customer_id, currency=i.currency,
        issue_date=i.issue_date, due_date=i.due_date, open_amount=i.open_amount,
        agreement_id=paused.get(i.invoice_id, {}).get("agreement"),
        disputed="dispute" in paused.get(i.invoice_id, {}),
        interest_charged_through=month_of(date.fromisoformat(f"{charged[i.invoice_id]}-01")).end
        if i.invoice_id in charged else None) for i in invoices}


async def sign(uow: UnitOfWork, cmd: SignAgreement) -> Agreement:
    view = (await uow.session.execute(
        select(CustomerView).where(CustomerView.customer_id == cmd.customer_id).with_for_update()
    )).scalar_one_or_none()
    if view is None:
        raise NotFound(f"customer {cmd.customer_id!r} is not known here", field="customer_id")
    currency, total = check_agreement(
        customer_id=cmd.customer_id, invoice_ids=cmd.invoice_ids,
        invoices=await _facts(uow, cmd.invoice_ids), instalments=cmd.instalments,
        signed_on=cmd.signed_on, as_of=cmd.as_of, terms=view.terms,
        policy=common.config(uow).agreement_policy(), currency=cmd.currency)
    case = await common.open_case_of(uow, cmd.customer_id)
    agreement = Agreement(
        id=str(uuid.uuid4()), customer_id=cmd.customer_id, case_id=case.id if case else None,
        currency=currency, total=total, invoice_ids=list(cmd.invoice_ids),
        instalments=[{"due_date": i.due_date.isoformat(), "amount": i.amount}
                     for i in cmd.instalments],
        status="active", signed_on=cmd.signed_on, terms=view.terms, recorded_by=uow.actor,
        recorded_at=now())
    uow.session.add(agreement)
    uow.session.add_all(InvoicePause(
        invoice_id=invoice_id, reason="agreement", reference_id=agreement.id,
        customer_id=cmd.customer_id, starts_on=cmd.signed_on) for invoice_id in cmd.invoice_ids)
    uow.emit(ev.AgreementSigned(
        customer_id=cmd.customer_id, agreement_id=agreement.id, invoice_ids=list(cmd.invoice_ids),
        currency=currency, total=total, signed_on=cmd.signed_on,
        instalments=[ev.Instalment(due_date=i.due_date, amount=i.amount) for i in cmd.instalments]))
    if case is not None:
        common.record(uow, case, cmd.as_of, "agreement_signed",
                      f"{len(cmd.instalments)} instalments for {total} {currency} over "
                      f"{', '.join(cmd.invoice_ids)}")
    return agreement


def instalments_of(agreement: Agreement) -> list[Instalment]:
    return [Instalment(date.fromisoformat(i["due_date"]), i["amount"]) for i in agreement.instalments]


async def _end(uow: UnitOfWork, agreement: Agreement, status: str, on: date) -> None:
    agreement.status, agreement.ended_on = status, on
    await uow.session.execute(
        update(InvoicePause).where(InvoicePause.reason == "agreement",
                                   InvoicePause.reference_id == agreement.id,
                                   InvoicePause.ends_on.is_(None)).values(ends_on=on))


async def _active(uow: UnitOfWork, customer_id: str) -> list[Agreement]:
    return list((await uow.session.execute(
        select(Agreement).where(Agreement.customer_id == customer_id, Agreement.status == "active")
        .order_by(Agreement.signed_on, Agreement.id))).scalars())


async def check_completion(uow: UnitOfWork, customer_id: str, invoice_ids: list[str], on: date) -> None:
    """Everything an agreement covers is paid: it is completed."""
    for agreement in await _active(uow, customer_id):
        if not set(agreement.invoice_ids) & set(invoice_ids):
            continue
        await uow.session.flush()
        still_open = (await uow.session.execute(
            select(InvoiceView.invoice_id).where(InvoiceView.invoice_id.in_(agreement.invoice_ids),
                                                 InvoiceView.open_amount > 0))).first()
        if still_open is None:
            await _end(uow, agreement, "completed", on)
            uow.emit(ev.AgreementCompleted(customer_id=customer_id, agreement_id=agreement.id,
                                           invoice_ids=agreement.invoice_ids, completed_on=on))
            await _record(uow, agreement, on, "agreement_completed", "every instalment paid")


async def _record(uow: UnitOfWork, agreement: Agreement, on: date, kind: str, detail: str) -> None:
    case = await uow.session.get(Case, agreement.case_id) if agreement.case_id else None
    if case is None:
        case = await common.open_case_of(uow, agreement.customer_id)
    if case is not None:
        common.record(uow, case, on, kind, f"agreement {agreement.id}: {detail}")


async def _miss(uow: UnitOfWork, agreement: Agreement, as_of: date) -> Miss | None:
    grace = common.config(uow).agreement_policy().grace_days
    paid = await payments_towards(uow.session, agreement)
    return first_miss(instalments_of(agreement), paid, as_of, grace)


async def _break(uow: UnitOfWork, view: CustomerView, agreement: Agreement, miss: Miss,
                 as_of: date) -> None:
    """An instalment was missed: the agreement is broken, its invoices escalate again from
    the level the case had."""
    await _end(uow, agreement, "broken", as_of)
    agreement.missed_due_date, agreement.missed_amount = miss.due_date, miss.missing
    uow.emit(ev.AgreementBroken(
        customer_id=view.customer_id, agreement_id=agreement.id,
        invoice_ids=agreement.invoice_ids, currency=agreement.currency,
        missed_due_date=miss.due_date, missed_amount=miss.missing, as_of=as_of))
    await _record(uow, agreement, as_of, "agreement_broken",
                  f"{miss.missing} {agreement.currency} short on the instalment of "
                  f"{miss.due_date.isoformat()}")
    case = await common.open_case_of(uow, view.customer_id)
    if case is not None:
        case.broken_commitments += 1
        await cases.evaluate(uow, case, view, as_of, event="agreement_broken")


async def sweep(uow: UnitOfWork, view: CustomerView, as_of: date) -> int:
    """Instalments whose date has passed short break their agreements. Answers how many
    broke."""
    broken = 0
    for agreement in await _active(uow, view.customer_id):
        miss = await _miss(uow, agreement, as_of)
        if miss is not None:
            await _break(uow, view, agreement, miss, as_of)
            broken += 1
    return broken


async def paid_by(uow: UnitOfWork, payment: PaymentView) -> list[Agreement]:
    """The agreements, running or completed, that the (bounced) payment paid towards."""
    paid = (await uow.session.execute(
        select(InvoiceReduction.invoice_id, InvoiceReduction.on)
        .where(InvoiceReduction.payment_id == payment.payment_id))).all()
    return [agreement for agreement in (await uow.session.execute(
        select(Agreement).where(Agreement.customer_id == payment.customer_id,
                                Agreement.status.in_(("active", "completed")))
        .order_by(Agreement.signed_on, Agreement.id))).scalars()
        if any(invoice_id in agreement.invoice_ids and on >= agreement.signed_on
               for invoice_id, on in paid)]


async def unpay(uow: UnitOfWork, view: CustomerView, case: Case | None, agreement: Agreement,
                payment_id: str, reversal: InvoiceView) -> None:
    """A payment towards the agreement bounced: the reversal item that owes its amount again
    joins the agreement's arrears. An instalment whose date has passed short breaks the
    agreement now, as the sweep would; otherwise it runs on (a completed one again) and
    shields the reversal item too. `case` is where the debt is chased now."""
    on = reversal.issue_date
    if case is not None and agreement.case_id != case.id:
        old = await uow.session.get(Case, agreement.case_id) if agreement.case_id else None
        if old is not None:
            common.record(uow, old, on, "agreement_moved", f"payment {payment_id} bounced: "
                          f"agreement {agreement.id} goes on in case {case.id}")
        agreement.case_id = case.id
    if reversal.invoice_id not in agreement.invoice_ids:
        agreement.invoice_ids = [*agreement.invoice_ids, reversal.invoice_id]
    miss = await _miss(uow, agreement, on)
    await _record(uow, agreement, on, "payment_bounced",
                  f"payment {payment_id} bounced: {reversal.invoice_id} owes its "
                  f"{reversal.amount} {reversal.currency} again"
                  + (f", the instalment of {miss.due_date.isoformat()} is missed" if miss else
                     ", the agreement runs on"))
    if miss is not None:
        await _break(uow, view, agreement, miss, on)
        return
    agreement.status, agreement.ended_on = "active", None
    if await uow.session.get(InvoicePause, (reversal.invoice_id, "agreement", agreement.id)) is None:
        uow.session.add(InvoicePause(invoice_id=reversal.invoice_id, reason="agreement",
                                     reference_id=agreement.id, customer_id=view.customer_id,
                                     starts_on=on))
