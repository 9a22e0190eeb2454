"""Returned payments: a debit line that takes back money a customer's credit brought in (a
direct debit the payer's bank refused, a transfer sent back). The return is linked to the
credit it undoes by what banks carry over from it, strongest first: the end-to-end id,
the original's bank reference written in the return, or the same amount from the same
payer account with the same remittance text; only credits booked within the window before
the return count. A return that fits no credit, fits several, or takes back another
amount than the credit brought waits for a person: a payment wrongly undone reopens a
customer's debt and brings its holds back."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from services.reconciliation.domain.bank import NO_REFERENCE
from shared.money import format_amount

# ISO 20022 external return reason codes (ExternalReturnReason1Code) a credit manager meets.
REASONS = {
    "AC01": "incorrect account number", "AC04": "account closed", "AC06": "account blocked",
    "AG01": "transaction forbidden on this account", "AG02": "invalid bank operation code",
    "AM04": "insufficient funds", "AM05": "duplicate collection", "BE05": "creditor unknown",
    "CUST": "requested by the customer", "DUPL": "duplicate payment", "FOCR": "after a cancellation request",
    "FR01": "fraud", "MD01": "no mandate", "MD02": "mandate data missing or wrong",
    "MD06": "refund requested by the payer", "MD07": "payer deceased",
    "MS02": "refused by the payer", "MS03": "reason not specified", "RR04": "regulatory reason",
    "SL01": "service of the payer's bank", "TECH": "technical problem",
}
_CODE = re.compile(r"\b(" + "|".join(REASONS) + r")\b")
# ISO bank transaction sub-families that are returns or reversals of a payment.
RETURN_SUB_FAMILIES = frozenset({"RRTN", "UPDD", "PRDD", "RPCR"})
MIN_REFERENCE = 4  # a shorter bank reference is too likely found by chance
_RUN = re.compile(r"[A-Z0-9]+")


def reason_text(code: str | None, text: str | None = None) -> str | None:
    """`AM04 insufficient funds (the bank's words)`; a code we do not know stays as given."""
    code = (code or "").strip()
    words = " ".join((text or "").split())
    label = REASONS.get(code.upper())
    parts = [code.upper() if label else code, label, f"({words})" if words and code else words]
    return " ".join(p for p in parts if p)[:256] or None


def reason_in(text: str | None) -> str | None:
    """A return reason code written in free text (MT940 :86:), as reason_text writes it."""
    found = _CODE.search((text or "").upper())
    return reason_text(found.group(1)) if found else None


@dataclass(frozen=True)
class Credit:
    """An earlier credit line a return might undo."""

    line_id: str
    booking_date: date
    amount: int
    currency: str
    payer_account: str | None = None
    reference: str | None = None
    bank_reference: str | None = None
    end_to_end_id: str | None = None
    returned_by: str | None = None  # the return already linked to it


@dataclass(frozen=True)
class Return:
    line_id: str
    booking_date: date
    amount: int
    currency: str
    payer_account: str | None = None
    reference: str | None = None
    end_to_end_id: str | None = None


@dataclass(frozen=True)
class Link:
    original: str | None  # the credit line it undoes (None: waits for a person)
    reason: str  # how it was linked, or why it waits
    suggestions: tuple[str, ...] = ()  # credits a person might link it to


def _plain(text: str | None) -> str:
    return "".join(_RUN.findall((text or "").upper()))


def _given(reference: str | None) -> bool:
    return (reference or "").strip().upper() not in NO_REFERENCE


# The kinds of evidence, strongest first: evidence() answers the index with its words.
STRENGTH = ("end-to-end id", "bank reference", "amount, payer account and remittance")


def evidence(ret: Return, credit: Credit) -> tuple[int, str] | None:
    """What ties the return to the credit, the strongest there is (its rank in STRENGTH,
    and its words); None: nothing does."""
    if _given(ret.end_to_end_id) and _given(credit.end_to_end_id) and (
            ret.end_to_end_id or "").strip().upper() == (credit.end_to_end_id or "").strip().upper():
        return 0, f"end-to-end id {credit.end_to_end_id}"
    own = _plain(credit.bank_reference)
    if len(own) >= MIN_REFERENCE and _given(credit.bank_reference) and own in _plain(ret.reference):
        return 1, f"bank reference {credit.bank_reference}"
    remittance = _plain(credit.reference)
    if (ret.amount == credit.amount and ret.payer_account and credit.payer_account
            and _plain(ret.payer_account) == _plain(credit.payer_account)
            and len(remittance) >= MIN_REFERENCE and remittance in _plain(ret.reference)):
        return 2, STRENGTH[2]
    return None


def link(ret: Return, credits: list[Credit], window_days: int) -> Link:
    """The credit `ret` undoes, among `credits` (any: those outside the window, in another
    currency or already returned are passed over here)."""
    earliest = ret.booking_date - timedelta(days=window_days)
    fits: list[tuple[int, str, Credit]] = []
    for credit in credits:
        if credit.line_id == ret.line_id or credit.currency != ret.currency or not (
                earliest <= credit.booking_date <= ret.booking_date):
            continue
        found = evidence(ret, credit)
        if found is not None:
            fits.append((*found, credit))
    if not fits:
        return Link(None, f"no credit booked in the {window_days} days before it has its end-to-end "
                          "id, its bank reference, or its amount, payer account and remittance")
    strongest = min(n for n, _, _ in fits)
    best = [(found, c) for n, found, c in fits if n == strongest]
    open_ = [(found, c) for found, c in best if c.returned_by is None]
    if not open_:
        taken = best[0][1]
        return Link(None, f"the credit it names ({taken.line_id}, by {best[0][0]}) was already "
                          f"returned by {taken.returned_by}", (taken.line_id,))
    if len(open_) > 1:
        same = [(f, c) for f, c in open_ if c.amount == ret.amount]
        if len(same) != 1:
            ids = tuple(c.line_id for _, c in open_)
            return Link(None, f"several credits fit by {STRENGTH[strongest]}: {', '.join(ids)}", ids)
        open_ = same
    found, credit = open_[0]
    if ret.amount != credit.amount:
        what = "less" if ret.amount < credit.amount else "more"
        return Link(None, f"returns {format_amount(ret.amount, ret.currency)} of the "
                          f"{format_amount(credit.amount, credit.currency)} credit {credit.line_id} "
                          f"({found}), {what} than it brought: a partial return is not booked "
                          "without a person (the ledger reverses whole payments)", (credit.line_id,))
    return Link(credit.line_id, f"returns credit {credit.line_id} ({found})")
