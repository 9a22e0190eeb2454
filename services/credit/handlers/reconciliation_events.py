"""What reconciliation tells credit: statement disputes (open ones weigh in the rating)."""

from __future__ import annotations

from services.credit.handlers import rating
from services.credit.handlers.common import find_customer
from services.credit.tables import Dispute
from shared.db import UnitOfWork
from shared.events import CloudEvent
from shared.events import contracts as ev


async def on_statement_disputed(uow: UnitOfWork, data: ev.StatementDisputed, event: CloudEvent) -> None:
    customer = await find_customer(uow, data.customer_id, lock=True)
    dispute_id = data.dispute_id or data.statement_id
    if await uow.session.get(Dispute, dispute_id) is None:
        uow.session.add(Dispute(id=dispute_id, customer_id=data.customer_id,
                                statement_id=data.statement_id,
                                invoice_ids=list(data.invoice_ids), reason=data.reason))
    if customer is not None:
        await rating.rerate_on_news(uow, customer, event, None)


async def on_dispute_resolved(uow: UnitOfWork, data: ev.DisputeResolved, event: CloudEvent) -> None:
    customer = await find_customer(uow, data.customer_id, lock=True)
    dispute = await uow.session.get(Dispute, data.dispute_id, with_for_update=True)
    if dispute is None:  # the resolution overtook the dispute: keep it, already resolved
        dispute = Dispute(id=data.dispute_id, customer_id=data.customer_id,
                          statement_id=data.statement_id, invoice_ids=list(data.invoice_ids),
                          reason="")
        uow.session.add(dispute)
    dispute.resolved, dispute.resolution = True, data.resolution
    if customer is not None:
        await rating.rerate_on_news(uow, customer, event, None)

