"""Returned payments: a bank line taking back a customer's earlier credit is linked to it
(domain/returns.py), or waits unmatched for a person who links it to a payment or dismisses
it. A return of a credit the ledger booked as a payment emits
`reconciliation.payment.returned` once the booking is known here (`booked_on`), so the
ledger never hears of a return before the payment it undoes; a credit taken back before
anything was booked is only marked `returned`: nothing is booked, nothing reversed."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from services.reconciliation.domain import returns as rules
from services.reconciliation.tables import AccountItem, BankLine
from shared.clock import now
from shared.db import UnitOfWork
from shared.errors import Conflict, Invalid, NotFound
from shared.events import contracts as ev
from shared.money import format_amount

BOOKED = ("matched", "assigned")  # a credit identified to a customer: the ledger books it
NOT_A_CUSTOMERS = ("the bank reversed a debit (money paid out came back): not a customer's "
                   "payment until a person says so (assign it, or ignore it)")


def _credit(line: BankLine) -> rules.Credit:
    return rules.Credit(line.id, line.booking_date, line.amount, line.currency,
                        line.payer_account, line.reference, line.bank_reference,
                        line.end_to_end_id, line.returned_by)


def _return(line: BankLine) -> rules.Return:
    return rules.Return(line.id, line.booking_date, line.amount, line.currency,
                        line.payer_account, line.reference, line.end_to_end_id)


async def take(uow: UnitOfWork, lines: list[BankLine]) -> None:
    """The returns among an import's new lines (its credits already in the session): each
    linked to the credit it undoes, or left unmatched with the reason."""
    for line in lines:
        if line.direction == "credit":  # a reversal of money paid out
            line.status, line.match_reason = "unmatched", NOT_A_CUSTOMERS
    await _link_all(uow, [n for n in lines if n.direction == "debit"])


async def retry_waiting(uow: UnitOfWork, credits: list[BankLine]) -> None:
    """Returns waiting for a person that these new credits may explain (a file imported
    after the one that returned its money): linked now if one fits."""
    if not credits:
        return
    window = timedelta(days=uow.config.return_window_days)
    waiting = list((await uow.session.execute(select(BankLine).where(
        BankLine.status == "unmatched", BankLine.is_return.is_(True),
        BankLine.direction == "debit", BankLine.decided_by.is_(None),
        BankLine.import_id != credits[0].import_id,  # this import's own were just tried
        BankLine.currency.in_({c.currency for c in credits}),
        BankLine.booking_date >= min(c.booking_date for c in credits),
        BankLine.booking_date <= max(c.booking_date for c in credits) + window))).scalars())
    await _link_all(uow, waiting)


def _words(text: str | None) -> set[str]:
    """The whole words of a text, as a bank reference written in it would be."""
    return {w for w in (t.strip(".,;:()[]") for t in (text or "").split())
            if len(w) >= rules.MIN_REFERENCE}


def _keys(end_to_end: str | None, references: set[str], amount: int) -> list[tuple[str, object]]:
    return ([("e2e", end_to_end.strip().upper())] if end_to_end else []) + [
        ("ref", r) for r in references if r] + [("amount", amount)]


async def _candidates(uow: UnitOfWork, taken: list[BankLine]) -> dict[str, BankLine]:
    """The credits in the window that could be linked: of an end-to-end id, a bank
    reference or an amount the returns have (the rules decide among them)."""
    earliest = min(n.booking_date for n in taken) - timedelta(days=uow.config.return_window_days)
    window = (BankLine.direction == "credit", BankLine.is_return.is_(False),
              BankLine.currency.in_({n.currency for n in taken}), BankLine.booking_date >= earliest,
              BankLine.booking_date <= max(n.booking_date for n in taken))
    keys: list[tuple[Any, list[Any]]] = [
        (BankLine.end_to_end_id, sorted({n.end_to_end_id for n in taken if n.end_to_end_id})),
        (BankLine.bank_reference, sorted(set().union(*(_words(n.reference) for n in taken)))),
        (BankLine.amount, sorted({n.amount for n in taken}))]
    found: dict[str, BankLine] = {}
    for column, values in keys:
        for n in range(0, len(values), 1000):  # drivers bound the parameters of one statement
            found.update((c.id, c) for c in (await uow.session.execute(select(BankLine).where(
                *window, column.in_(values[n:n + 1000])))).scalars())
    return found


async def _link_all(uow: UnitOfWork, taken: list[BankLine]) -> None:
    if not taken:
        return
    taken.sort(key=lambda n: (n.booking_date, n.id))
    credits = await _candidates(uow, taken)
    # Each return is judged among the credits sharing a key with it, not all of them.
    by_key: dict[tuple[str, object], list[BankLine]] = defaultdict(list)
    for credit in credits.values():
        for key in _keys(credit.end_to_end_id, {credit.bank_reference or ""}, credit.amount):
            by_key[key].append(credit)
    window = uow.config.return_window_days
    for line in taken:
        near = {c.id: c for k in _keys(line.end_to_end_id, _words(line.reference), line.amount)
                for c in by_key.get(k, ())}
        found = rules.link(_return(line), [_credit(c) for c in near.values()], window)
        line.match_reason = found.reason[:1000]
        line.suggestions = [{"line_id": s} for s in found.suggestions]
        if found.original is None:
            line.status = "unmatched"
            continue
        # Locked and read again: a return imported at the same time may have taken it.
        original = (await uow.session.execute(select(BankLine).where(
            BankLine.id == found.original).with_for_update()
            .execution_options(populate_existing=True))).scalar_one()
        if original.returned_by is not None:
            line.status = "unmatched"
            line.match_reason = f"its credit {original.id} was already returned by {original.returned_by}"
            line.suggestions = [{"line_id": original.id}]
            continue
        await _undo(uow, line, original, _payment_of(original, None), linked_by="matching")


@dataclass(frozen=True)
class _Payment:
    """The ledger's payment a return undoes."""

    id: str
    customer_id: str
    amount: int
    booked: bool  # the ledger's booking is known here: the return may be announced


def _payment_of(original: BankLine | None, item: AccountItem | None) -> _Payment | None:
    if item is not None:
        return _Payment(item.doc_id, item.customer_id, item.amount, True)
    if original is not None and original.status in BOOKED and original.customer_id:
        return _Payment(original.id, original.customer_id, original.amount,
                        original.booked_on is not None)
    return None  # a credit never identified: nothing was booked


async def _undo(uow: UnitOfWork, line: BankLine, original: BankLine | None,
                payment: _Payment | None, *, linked_by: str, note: str | None = None) -> None:
    """Link the return `line` to what it undoes; announce it once its payment is booked."""
    line.status = "linked"
    if original is not None:
        line.returns_line_id, original.returned_by = original.id, line.id
        line.customer_id, line.invoice_ids = original.customer_id, list(original.invoice_ids)
    if payment is None:
        if original is not None and original.status == "unmatched":  # it waits for no one now
            original.status = "returned"
        line.match_reason = f"{line.match_reason}; it was never booked: nothing to reverse"[:1000]
        return
    # The unique index on returns_payment_id makes a concurrent link of the payment lose.
    line.returns_payment_id, line.customer_id = payment.id, payment.customer_id
    if payment.booked:
        announce(uow, line, linked_by, note, payment.amount)


async def never_booked(uow: UnitOfWork, original: BankLine) -> None:
    """The ledger refused to book the credit `original` a return had undone before the
    booking was heard: the credit is `returned` (its money went back), and its return waits
    for nothing (nothing was booked, nothing is reversed)."""
    original.status = "returned"
    line = (await uow.session.execute(select(BankLine).where(
        BankLine.id == original.returned_by).with_for_update())).scalar_one_or_none()
    if line is not None and line.return_announced_at is None:
        line.returns_payment_id = None
        line.match_reason = f"{line.match_reason}; it was never booked: nothing to reverse"[:1000]


async def on_reversal_refused(uow: UnitOfWork, data: ev.PostingRefused) -> None:
    """The ledger would not reverse a returned payment (e.g. a person linked a payment
    received after the return): nothing was reversed, so the return waits for a person
    again, with the ledger's reason, and the payment is free to be linked."""
    for line in (await uow.session.execute(select(BankLine).where(
            BankLine.customer_id == data.customer_id, BankLine.status == "linked",
            BankLine.returns_payment_id.is_not(None)).with_for_update())).scalars():
        assert line.returns_payment_id is not None
        if data.document_id != ev.reversal_id(line.returns_payment_id):
            continue
        if line.returns_line_id is not None:
            original = await uow.session.get(BankLine, line.returns_line_id, with_for_update=True)
            if original is not None and original.returned_by == line.id:
                original.returned_by = None
        line.match_reason = (f"the ledger refused to reverse payment {line.returns_payment_id}: "
                             f"{data.reason}")[:1000]
        line.status, line.returns_line_id, line.returns_payment_id = "unmatched", None, None
        line.return_announced_at = None
        return


def announce(uow: UnitOfWork, line: BankLine, linked_by: str, note: str | None,
             payment_amount: int | None) -> None:
    assert line.customer_id is not None and line.returns_payment_id is not None
    uow.emit(ev.PaymentReturned(
        customer_id=line.customer_id, payment_id=line.returns_payment_id, bank_line_id=line.id,
        amount=line.amount, currency=line.currency, returned_on=line.booking_date,
        reason=line.return_reason, original_bank_line_id=line.returns_line_id,
        payment_amount=payment_amount if payment_amount != line.amount else None,
        linked_by=linked_by, note=note))
    line.return_announced_at = now()


async def on_payment_booked(uow: UnitOfWork, payment_id: str, amount: int) -> None:
    """The ledger booked a payment: a return already linked to it is announced now."""
    waiting = (await uow.session.execute(select(BankLine).where(
        BankLine.returns_payment_id == payment_id, BankLine.status == "linked",
        BankLine.return_announced_at.is_(None)).with_for_update())).scalars().first()
    if waiting is not None:
        announce(uow, waiting, waiting.decided_by or "matching", waiting.decision_note, amount)


async def link(uow: UnitOfWork, line_id: str, payment_id: str, note: str | None) -> BankLine:
    """A person's decision: the unmatched return undoes this payment (the ledger's id; for
    a payment from a bank line, the line's id)."""
    line = (await uow.session.execute(
        select(BankLine).where(BankLine.id == line_id).with_for_update()
        .execution_options(populate_existing=True))).scalar_one_or_none()
    if line is None:
        raise NotFound(f"bank line {line_id!r} not found")
    if not line.is_return or line.direction != "debit":
        raise Conflict("only a returned payment (a return taking money back) is linked to a payment")
    if line.status != "unmatched":
        who = f" by {line.decided_by}" if line.decided_by else ""
        raise Conflict(f"the line is {line.status}{who}; only unmatched lines wait for a decision")
    item = (await uow.session.execute(select(AccountItem).where(
        AccountItem.kind == "payment", AccountItem.doc_id == payment_id))).scalar_one_or_none()
    original = (await uow.session.execute(select(BankLine).where(
        BankLine.id == payment_id, BankLine.direction == "credit", BankLine.is_return.is_(False))
        .with_for_update())).scalar_one_or_none()
    known = item or original
    if known is None:
        raise Invalid(f"no payment {payment_id!r} is known here (a ledger payment, or the credit "
                      "bank line it came from)", field="payment_id")
    if known.currency != line.currency:
        raise Invalid(f"the payment is in {known.currency}, the return in {line.currency}",
                      field="payment_id")
    if line.amount > known.amount:
        raise Invalid(f"the return takes back {format_amount(line.amount, line.currency)}, more "
                      f"than the payment's {format_amount(known.amount, known.currency)}",
                      field="payment_id")
    earlier = (await uow.session.execute(select(BankLine.id).where(
        BankLine.returns_payment_id == payment_id))).scalars().first() or (
        original.returned_by if original is not None else None)
    if earlier is not None:
        raise Conflict(f"payment {payment_id} was already returned by {earlier}", field="payment_id")
    payment = _payment_of(original, item)
    line.decided_by, line.decided_at, line.decision_note = uow.actor, now(), note
    line.match_reason = f"linked to {payment_id} by a person{': ' + note if note else ''}"[:1000]
    if payment is not None and line.amount < payment.amount:
        line.discrepancy = (f"returns {format_amount(line.amount, line.currency)} of the payment's "
                            f"{format_amount(payment.amount, known.currency)}: the ledger reverses "
                            "the whole payment")
    await _undo(uow, line, original, payment, linked_by=uow.actor, note=note)
    return line
