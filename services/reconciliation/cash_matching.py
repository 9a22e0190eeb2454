"""Matching bank lines to customers and invoices, and a person's decisions on the lines
matching left unmatched. A match, automatic or decided, emits
`reconciliation.payment.identified` with the bank line's id as the payment id, so the
ledger books each line once whatever is delivered twice."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from services.reconciliation import returns
from services.reconciliation.config import ReconciliationConfig
from services.reconciliation.domain import matching as rules
from services.reconciliation.domain.names import name_key
from services.reconciliation.read_models import add_alias
from services.reconciliation.tables import (
    AccountItem,
    Agreement,
    BankLine,
    ItemSettlement,
    PayerAlias,
    ReconCustomer,
    debit_items,
)
from shared.clock import now
from shared.db import UnitOfWork
from shared.errors import Conflict, Invalid, NotFound
from shared.events import CloudEvent
from shared.events import contracts as ev


def policy(config: ReconciliationConfig) -> rules.Policy:
    return rules.Policy(
        auto_match_confidence=config.auto_match_confidence, max_typos=config.max_typos,
        min_reference_length=config.min_reference_length,
        name_match_score=config.name_match_score, combination_limit=config.combination_limit)


ITEM_COLUMNS = (AccountItem.doc_id, AccountItem.customer_id, AccountItem.currency,
                AccountItem.open_amount, AccountItem.due_date, AccountItem.ref_key)


async def load_book(uow: UnitOfWork, currencies: set[str], numbers: set[str] = frozenset()
                    ) -> rules.Book:
    """The open items in those currencies, and the paid ones whose numbers the lines write
    (a paid invoice's number still says whose money it is), less what lines already
    matched but not yet booked by the ledger will pay; the known payer names; the active
    agreements."""
    s = uow.session
    debits = debit_items()
    rows = list((await s.execute(select(*ITEM_COLUMNS).where(
        debits, AccountItem.open_amount > 0, AccountItem.currency.in_(currencies)))).all())
    wanted = sorted(numbers)
    for n in range(0, len(wanted), 1000):
        rows += (await s.execute(select(*ITEM_COLUMNS).where(
            debits, AccountItem.open_amount <= 0, AccountItem.ref_key.in_(wanted[n:n + 1000])))).all()
    items = [rules.OpenItem(doc_id, customer_id, currency, open_amount, due_date, key or "")
             for doc_id, customer_id, currency, open_amount, due_date, key in rows]
    names = (await s.execute(select(PayerAlias.customer_id, PayerAlias.name))).all()
    agreements = [
        rules.AgreementPlan(a.agreement_id, a.customer_id, a.currency, tuple(a.invoice_ids),
                            tuple((date.fromisoformat(i["due_date"]), int(i["amount"]))
                                  for i in a.instalments))
        for a in (await s.execute(select(Agreement).where(
            Agreement.status == "active", Agreement.currency.in_(currencies)))).scalars()]
    book = rules.Book(items, [tuple(n) for n in names], agreements)
    # A returned payment's reversal is named by the numbers of the invoices the payment paid.
    reversals = dict((await s.execute(select(AccountItem.reference_id, AccountItem.doc_id).where(
        AccountItem.kind == "reversal", AccountItem.open_amount > 0,
        AccountItem.reference_id.is_not(None), AccountItem.currency.in_(currencies)))).all())
    payments = sorted(reversals)
    for n in range(0, len(payments), 1000):
        for payment_id, invoice_id in (await s.execute(select(
                ItemSettlement.doc_id, ItemSettlement.invoice_id).where(
                ItemSettlement.doc_kind == "payment",
                ItemSettlement.doc_id.in_(payments[n:n + 1000])))).all():
            book.reopens(reversals[payment_id], invoice_id)
    pending = (await s.execute(select(BankLine).where(
        BankLine.status.in_(("matched", "assigned")), BankLine.booked_on.is_(None),
        BankLine.currency.in_(currencies)))).scalars()
    for line in pending:
        book.claim(line.invoice_ids, line.amount, line.currency, line.customer_id or "")
    return book


def credit_line(line: BankLine) -> rules.CreditLine:
    return rules.CreditLine(line.id, line.amount, line.currency, line.booking_date,
                            line.payer_name, line.reference)


def apply(uow: UnitOfWork, line: BankLine, result: rules.Match) -> None:
    """Record a matcher's answer on the line; a match is announced for the ledger."""
    line.confidence = round(result.confidence, 3)
    line.match_reason = result.reason[:1000]
    line.discrepancy = result.discrepancy[:1000] if result.discrepancy else None
    line.suggestions = result.suggestions
    if result.status == "matched":
        line.status, line.customer_id, line.invoice_ids = "matched", result.customer_id, result.invoice_ids
        _identified(uow, line)
    else:
        line.status = "unmatched"


def _identified(uow: UnitOfWork, line: BankLine) -> None:
    assert line.customer_id is not None
    uow.emit(ev.PaymentIdentified(
        customer_id=line.customer_id, bank_line_id=line.id, amount=line.amount,
        currency=line.currency, received_on=line.booking_date, invoice_ids=line.invoice_ids,
        reference=line.reference, payer_name=line.payer_name, confidence=line.confidence,
        match_reason=line.match_reason, discrepancy=line.discrepancy))


async def _undecided(uow: UnitOfWork, line_id: str) -> BankLine:
    line = (await uow.session.execute(
        select(BankLine).where(BankLine.id == line_id).with_for_update()
        .execution_options(populate_existing=True))).scalar_one_or_none()
    if line is None:
        raise NotFound(f"bank line {line_id!r} not found")
    if line.status != "unmatched":
        who = f" by {line.decided_by}" if line.decided_by else ""
        raise Conflict(f"the line is {line.status}{who}; only unmatched lines wait for a decision")
    return line


async def assign(uow: UnitOfWork, line_id: str, customer_id: str, invoice_ids: list[str],
                 note: str | None) -> BankLine:
    """A person says whose money it is (and which invoices it pays)."""
    line = await _undecided(uow, line_id)
    if line.direction == "debit":
        raise Conflict("the line is a returned payment: link it to the payment it undoes "
                       "(link-return), or ignore it with a note; it pays no customer's invoices")
    if await uow.session.get(ReconCustomer, customer_id) is None and (await uow.session.execute(
            select(AccountItem.doc_id).where(AccountItem.customer_id == customer_id).limit(1))
    ).first() is None:
        raise Invalid(f"customer {customer_id!r} is unknown here", field="customer_id")
    for n, invoice_id in enumerate(invoice_ids):
        item = (await uow.session.execute(select(AccountItem).where(
            AccountItem.doc_id == invoice_id, debit_items()))).scalars().first()
        if item is None or item.customer_id != customer_id:
            raise Invalid(f"{invoice_id!r} is not an invoice of {customer_id}", field=f"invoice_ids.{n}")
        if item.currency != line.currency:
            raise Invalid(f"{invoice_id} is in {item.currency}, the line in {line.currency}: "
                          "nothing converts currencies", field=f"invoice_ids.{n}")
    book = await load_book(uow, {line.currency})
    judged = rules.assess(credit_line(line), book, customer_id, invoice_ids)
    line.status, line.customer_id, line.invoice_ids = "assigned", customer_id, judged.invoice_ids
    line.discrepancy = judged.discrepancy
    line.confidence, line.match_reason = 1.0, f"assigned by a person{': ' + note if note else ''}"[:1000]
    line.decided_by, line.decided_at, line.decision_note = uow.actor, now(), note
    if uow.config.learn_payer_names and line.payer_name and not await _known_elsewhere(
            uow, line.payer_name, customer_id):
        await add_alias(uow, customer_id, line.payer_name, "taught")
    _identified(uow, line)
    return line


async def _known_elsewhere(uow: UnitOfWork, payer_name: str, customer_id: str) -> bool:
    """A name another customer is known by is not taught to this one (a parent paying for
    a subsidiary would make every later payment of the parent a doubt)."""
    return (await uow.session.execute(select(PayerAlias.customer_id).where(
        PayerAlias.name_key == name_key(payer_name), PayerAlias.customer_id != customer_id
    ).limit(1))).first() is not None


async def on_posting_refused(uow: UnitOfWork, data: ev.PostingRefused, _: CloudEvent) -> None:
    """The ledger refused to book a line's payment (e.g. an id it already booked with other
    content, a date it does not take): nothing was booked, so the line waits for a person
    again, with the ledger's reason, and its invoices are free for other lines."""
    if data.source_event_type == ev.PaymentReturned.event_type:
        await returns.on_reversal_refused(uow, data)
        return
    if data.source_event_type != ev.PaymentIdentified.event_type or data.document_kind != "payment":
        return
    line = (await uow.session.execute(select(BankLine).where(
        BankLine.id == data.document_id).with_for_update())).scalar_one_or_none()
    if line is None or line.status not in ("matched", "assigned") or line.booked_on is not None:
        return  # already decided again, or booked after all (a later identification)
    line.status, line.invoice_ids = "unmatched", []
    line.match_reason = f"the ledger refused to book it: {data.reason}"[:1000]
    if line.returned_by is not None:
        # Its money went back already (a return linked while the booking was awaited): it
        # waits for no one, and the return for no booking, as if it had never been identified.
        await returns.never_booked(uow, line)


async def ignore(uow: UnitOfWork, line_id: str, reason: str) -> BankLine:
    """Not a customer's payment (a loan, a transfer between own accounts, ...)."""
    line = await _undecided(uow, line_id)
    line.status, line.decided_by, line.decided_at, line.decision_note = (
        "ignored", uow.actor, now(), reason)
    return line
