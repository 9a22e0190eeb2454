"""MT940 through the mt-940 library (tags, :61: lines, amounts, dates). What the :86:
field holds is bank-specific (RELIABILITY.md); read here are the two common layouts:
subfields `?20`-`?29` (remittance), `?32`-`?33` (name), `?31` (account), as German and
Chinese banks write them; and SWIFT keywords `/NAME/`, `/REMI/`, `/IBAN/`, `/EREF/`.
Anything else is taken whole as remittance text, without a payer name.

A return is a :61: line marked RC (reversal of a credit: money out) or RD (reversal of a
debit), or a debit of transaction type RTI (returned item). Its reason is the `/RTRN/`
keyword or a reason code in the text; the end-to-end id is `/EREF/` or `EREF+` (the German
banks' SEPA subfields)."""

from __future__ import annotations

import re
from datetime import date

import mt940

from services.reconciliation.domain.bank import NO_REFERENCE, BankEntry, BankFile
from services.reconciliation.domain.money import is_currency_code, to_minor_units
from services.reconciliation.domain.returns import reason_in, reason_text
from shared.errors import Invalid

_TAG = re.compile(r"^:(25|61):(.*)$", re.MULTILINE)
_SUBFIELD = re.compile(r"\?(\d\d)")
SUBFIELD_LENGTH = 27
_KEYWORD = re.compile(r"/(NAME|REMI|IBAN|ACCW|EREF|ORDP|BENM|ADDR|BIC)/")
# Read apart from the others: the remittance stays as it was read before (line identities).
_RETURN_KEYWORD = re.compile(r"/RTRN/([A-Za-z0-9]+)")
# German SEPA subfields ?20-?29 hold `KEY+value` items, a long value continuing in the next.
_SEPA_EREF = re.compile(r"EREF\+(.*?)(?=(?:EREF|KREF|MREF|CRED|DEBT|SVWZ|ABWA|ABWE|COAM|OAMT|SQTP)\+|$)")


def details(text: str) -> tuple[str | None, str | None, str | None]:
    """(payer name, payer account, remittance text) from an :86: field."""
    text = text.replace("\r", "").replace("\n", "")
    if _SUBFIELD.search(text):
        parts = _SUBFIELD.split(text)
        fields: dict[str, list[str]] = {}
        for code, value in zip(parts[1::2], parts[2::2], strict=True):
            fields.setdefault(code, []).append(value.strip())
        remittance = [v for c in sorted(fields) if "20" <= c <= "29" or "60" <= c <= "63"
                      for v in fields[c]]
        name = [v for c in ("32", "33") for v in fields.get(c, [])]
        return (_joined(name), _joined(fields.get("31", [])), _joined(remittance))
    if _KEYWORD.search(text):
        found = _keywords(text)
        remittance = " ".join(v for k in ("REMI", "EREF") if (v := found.get(k)))
        return (found.get("NAME") or found.get("ORDP") or None,
                found.get("IBAN") or found.get("ACCW") or None, remittance or None)
    return None, None, text.strip() or None


def _keywords(text: str) -> dict[str, str]:
    parts = _KEYWORD.split(text.replace("\r", "").replace("\n", ""))
    return {k: v.strip(" /") for k, v in zip(parts[1::2], parts[2::2], strict=True)}


def _reason(text: str) -> str:
    code = _RETURN_KEYWORD.search(text.replace("\r", "").replace("\n", ""))
    return reason_text(code.group(1)) if code else reason_in(text) or "returned by the bank"


def _end_to_end(text: str) -> str | None:
    if _SUBFIELD.search(text):
        parts = _SUBFIELD.split(text.replace("\r", "").replace("\n", ""))
        purpose = "".join(v for c, v in zip(parts[1::2], parts[2::2], strict=True) if "20" <= c <= "29")
        found = _SEPA_EREF.search(purpose)
        value = found.group(1).strip() if found else None
    else:
        text = _RETURN_KEYWORD.sub("", text)
        value = _keywords(text).get("EREF") if _KEYWORD.search(text) else None
    return value[:128] if value and value.upper() not in NO_REFERENCE else None


def _joined(parts: list[str]) -> str | None:
    """Subfields hold 27 characters: a full one was cut mid-word, a shorter one ended a word."""
    text = "".join(part if len(part) >= SUBFIELD_LENGTH else part + " " for part in parts)
    return text.strip() or None


def parse(data: bytes) -> BankFile:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    # The library's :86: post-processor would read ?31 (an account) into the name: ours reads it.
    transactions = mt940.models.Transactions(processors={"post_transaction_details": []})
    try:
        transactions.parse(text)
    except Exception as exc:  # the library raises plain errors for malformed tags
        raise Invalid(f"not a readable MT940 statement: {exc}", field="body") from exc
    if not transactions.data and not transactions.transactions:
        raise Invalid("not an MT940 statement (no :20:, :25: or :61:)", field="body")
    file = BankFile("mt940", transactions.data.get("account_identification"),
                    transactions.data.get("transaction_reference"))
    read = list(transactions)
    accounts = _accounts(text)
    if len(accounts) != len(read):
        accounts = [None] * len(read)  # the file's account then, as the library read it
    for transaction, own_account in zip(read, accounts, strict=True):
        d = transaction.data
        status = d.get("status")
        if status not in ("C", "D", "RC", "RD"):
            raise Invalid(f"a :61: line has the mark {status!r}", field="body")
        amount = d["amount"]
        currency = amount.currency or d.get("currency")
        if not currency or not is_currency_code(currency):
            raise Invalid(f"a :61: line has no currency ({currency!r}): the statement needs its "
                          ":60F: opening balance, which names it", field="body")
        name, payer_account, remittance = details(d.get("transaction_details") or "")
        # Only the bank's reference (after //) is unique on the account; the one for the
        # account owner is the payer's, repeated by every instalment of an invoice.
        bank_reference = d.get("bank_reference") or None
        payer_reference = (d.get("customer_reference") or "").strip()
        if payer_reference.upper() not in NO_REFERENCE and payer_reference not in (remittance or ""):
            remittance = f"{remittance} {payer_reference}" if remittance else payer_reference
        booked: date = d.get("entry_date") or d["date"]
        direction = "credit" if status in ("C", "RD") else "debit"
        raw = d.get("transaction_details") or ""
        is_return = status in ("RC", "RD") or (
            direction == "debit" and (d.get("id") or "").upper().endswith("RTI"))
        file.entries.append(BankEntry(
            booking_date=date(booked.year, booked.month, booked.day),
            value_date=date(d["date"].year, d["date"].month, d["date"].day),
            direction=direction,
            amount=abs(to_minor_units(f"{amount.amount:f}", currency, field="body")),
            currency=currency, payer_name=name, payer_account=payer_account, reference=remittance,
            bank_reference=bank_reference, account=own_account, is_return=is_return,
            return_reason=_reason(raw) if is_return else None, end_to_end_id=_end_to_end(raw)))
    return file


def _accounts(text: str) -> list[str | None]:
    """The account (:25:) each :61: line is under, in order: a file may hold several
    accounts' statements, and the library keeps only the last account."""
    accounts: list[str | None] = []
    current = None
    for tag, value in _TAG.findall(text):
        if tag == "25":
            current = value.strip() or None
        else:
            accounts.append(current)
    return accounts
