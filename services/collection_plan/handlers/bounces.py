"""Payments that bounced. The ledger reverses one by posting a reversal item (an invoice of
kind `reversal` naming the payment) that owes its amount again, with the age of what it
had paid. The money never came: the promises and instalments it paid are not paid. The
reversal and the payment may arrive in either order; whichever comes second does this,
once."""

from __future__ import annotations

from services.collection_plan.handlers import agreements, cases, common, promises
from services.collection_plan.tables import Case, CustomerView, InvoiceView, PaymentView
from shared.db import UnitOfWork


async def _chasing_case(uow: UnitOfWork, view: CustomerView, payment: PaymentView,
                        reversal: InvoiceView) -> Case | None:
    """The open case, chasing the reversal item; a new case when none is open (the one the
    payment closed stays closed) and the item is still owed."""
    on = reversal.issue_date
    case = await common.open_case_of(uow, view.customer_id)
    if case is None:
        if reversal.open_amount == 0:
            return None
        case = await cases.open_case(uow, view.customer_id, on,
                                     f"payment {payment.payment_id} bounced: "
                                     f"{reversal.invoice_id} owed again")
    await common.join_case(uow, case, reversal, invoice_id=reversal.invoice_id,
                           currency=reversal.currency, open_amount=reversal.open_amount,
                           due_date=reversal.due_date, as_of=on)
    return case


async def payment_bounced(uow: UnitOfWork, view: CustomerView, payment: PaymentView,
                          reversal: InvoiceView) -> None:
    if payment.reversed_on is not None:
        return  # done when the first of the two arrived twice
    payment.reversed_on = on = reversal.issue_date
    await uow.session.flush()
    promised = await promises.counted_by(uow, payment)
    unpaid = await agreements.paid_by(uow, payment)
    if not promised and not unpaid:
        return  # the ledger's sweep chases the reversal item like any overdue one
    case = await _chasing_case(uow, view, payment, reversal)
    for promise in promised:
        own = case or await uow.session.get(Case, promise.case_id)
        assert own is not None
        await promises.payment_bounced(uow, view, own, promise, payment.payment_id, on)
    for agreement in unpaid:
        await agreements.unpay(uow, view, case, agreement, payment.payment_id, reversal)
    if case is not None:
        await cases.evaluate(uow, case, view, on)
