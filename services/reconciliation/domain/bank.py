"""A bank statement's lines as every file format is read into, and their identity: the
same line in a second file (an overlapping export, the same file again) is known as seen."""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date

NO_REFERENCE = frozenset({"", "NONREF", "NOTPROVIDED", "NONE"})


@dataclass(frozen=True)
class BankEntry:
    booking_date: date
    direction: str  # credit (money in) or debit (money out)
    amount: int  # minor units, positive
    currency: str
    value_date: date | None = None
    payer_name: str | None = None
    payer_account: str | None = None
    reference: str | None = None  # remittance text
    bank_reference: str | None = None  # the bank's own id for the entry, when it gives one
    account: str | None = None  # its statement's account, when a file holds several
    # A return (reversal) undoes an earlier entry of the other side: a debit that takes
    # back a customer's credit (a bounced direct debit or transfer), or a credit that
    # brings back money paid out. The bank's reason, and the end-to-end id it carries over
    # from the original, link it to what it undoes.
    is_return: bool = False
    return_reason: str | None = None
    end_to_end_id: str | None = None
    # (direction, payer name, payer account, remittance) as files were read before returns
    # were recognised, where that differs: the identity a line imported then has.
    read_before: tuple[str, str | None, str | None, str | None] | None = None


@dataclass
class BankFile:
    format: str
    account: str | None
    statement_reference: str | None
    entries: list[BankEntry] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # why entries were not taken (pending, ...)


def _key(account: str | None, entry: BankEntry) -> str:
    bank_ref = (entry.bank_reference or "").strip()
    if bank_ref.upper() not in NO_REFERENCE:  # the bank's id is unique on its account
        parts = [account or "", bank_ref, entry.direction, str(entry.amount), entry.currency]
    else:
        parts = [account or "", entry.booking_date.isoformat(), entry.direction, str(entry.amount),
                 entry.currency, entry.payer_account or "", entry.payer_name or "",
                 entry.reference or ""]
    return "\x1f".join(parts)


def identities(file: BankFile) -> list[str]:
    """A stable identity per entry: the bank's reference when it gives one, else the entry's
    content, with the count of identical entries before it in the file (two equal
    payments on one day are two lines; the same export twice is the same lines)."""
    seen: Counter[str] = Counter()
    result = []
    for entry in file.entries:
        key = _key(entry.account or file.account, entry)
        result.append(hashlib.sha256(f"{key}\x1f{seen[key]}".encode()).hexdigest())
        seen[key] += 1
    return result


def earlier_identities(file: BankFile) -> list[str | None]:
    """Per entry read differently now (a return), the identity it had when imported before:
    an overlapping export then knows the line as seen."""
    if not any(e.read_before for e in file.entries):
        return [None] * len(file.entries)
    before = BankFile(file.format, file.account, file.statement_reference, [
        replace(e, direction=e.read_before[0], payer_name=e.read_before[1],
                payer_account=e.read_before[2], reference=e.read_before[3]) if e.read_before else e
        for e in file.entries])
    return [i if e.read_before else None for e, i in zip(file.entries, identities(before), strict=True)]


def line_id(identity: str) -> str:
    """Short, safe as the ledger's payment id (no spaces or slashes)."""
    return f"BL-{identity[:24]}"
