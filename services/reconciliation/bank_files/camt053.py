"""CAMT.053 (ISO 20022 BankToCustomerStatement, any version: elements are found by local
name). Parsed with defusedxml and no DTD allowed: a bank statement never needs one, and
entity expansion (billion laughs) and external entities (file or network reads) are the
holes XML statement parsers have shipped (RELIABILITY.md).

An entry (Ntry) with several transactions (TxDtls: a batch booking) becomes one line per
transaction; entries not booked (Sts PDNG, INFO) are skipped and said so.

CdtDbtInd is the side the entry was booked on; RvslInd=true says it undoes an earlier entry
of the other side (ISO 20022: DBIT with a reversal is the reversal of a credit). A return
is such a reversal, a transaction with return information (RtrInf, its reason code), or a
bank transaction code of a return sub-family (RRTN, UPDD, ...)."""

from __future__ import annotations

from datetime import date
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from services.reconciliation.domain.bank import BankEntry, BankFile
from services.reconciliation.domain.money import is_currency_code, to_minor_units
from services.reconciliation.domain.returns import RETURN_SUB_FAMILIES, reason_text
from shared.errors import Invalid


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _find(element: Element | None, path: str) -> Element | None:
    """The first element down `path` (local names separated by '/')."""
    for name in path.split("/"):
        if element is None:
            return None
        element = next((child for child in element if _local(child.tag) == name), None)
    return element


def _all(element: Element | None, name: str) -> list[Element]:
    return [] if element is None else [c for c in element if _local(c.tag) == name]


def _text(element: Element | None, path: str) -> str | None:
    found = _find(element, path)
    return found.text.strip() if found is not None and found.text and found.text.strip() else None


def _date(element: Element | None, path: str) -> date | None:
    raw = _text(element, f"{path}/Dt") or _text(element, f"{path}/DtTm")
    try:
        return date.fromisoformat(raw[:10]) if raw else None
    except ValueError as exc:
        raise Invalid(f"{path} {raw!r} is not a date", field="body") from exc


def _amount(element: Element | None) -> tuple[int, str] | None:
    amount = _find(element, "Amt")
    if amount is None or not amount.text:
        return None
    currency = amount.get("Ccy", "")
    if not is_currency_code(currency):
        raise Invalid(f"an Amt's Ccy {currency!r} is not an ISO 4217 code", field="body")
    minor = to_minor_units(amount.text, currency, field="body")
    if minor <= 0:  # the side is CdtDbtInd's: an amount is never negative, nor zero
        raise Invalid(f"Amt {amount.text!r} is not a positive amount", field="body")
    return minor, currency


def _transaction_amount(tx: Element) -> tuple[int, str] | None:
    """TxDtls/Amt from version .04 on; AmtDtls/TxAmt/Amt in .02 and .03 (and beside it)."""
    return _amount(tx) or _amount(_find(tx, "AmtDtls/TxAmt"))


def _party(tx: Element | None, role: str) -> tuple[str | None, str | None]:
    parties = _find(tx, "RltdPties")
    name = _text(parties, f"{role}/Nm") or _text(parties, f"{role}/Pty/Nm")
    account = _text(parties, f"{role}Acct/Id/IBAN") or _text(parties, f"{role}Acct/Id/Othr/Id")
    return name, account


def _remittance(tx: Element | None) -> str | None:
    info = _find(tx, "RmtInf")
    texts = [u.text.strip() for u in _all(info, "Ustrd") if u.text and u.text.strip()]
    for structured in _all(info, "Strd"):
        ref = _text(structured, "CdtrRefInf/Ref")
        if ref:
            texts.append(ref)
        texts += [t for r in _all(structured, "RfrdDocInf") if (t := _text(r, "Nb"))]
    end_to_end = _text(tx, "Refs/EndToEndId")
    if end_to_end and end_to_end.upper() != "NOTPROVIDED":
        texts.append(end_to_end)
    return " ".join(texts) or None


def parse(data: bytes) -> BankFile:
    try:
        root = fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise Invalid("the XML declares a DTD or entities; a CAMT.053 statement has none and "
                      "they are refused (entity expansion and external entities)", field="body") from exc
    except (ParseError, LookupError) as exc:  # LookupError: an encoding Python does not know
        raise Invalid(f"not well-formed XML: {exc}", field="body") from exc
    statements = [s for s in root.iter() if _local(s.tag) == "Stmt"]
    if _local(root.tag) != "Document" or not statements:
        raise Invalid("not a CAMT.053 document (no BkToCstmrStmt/Stmt)", field="body")
    first = statements[0]
    account = _text(first, "Acct/Id/IBAN") or _text(first, "Acct/Id/Othr/Id")
    file = BankFile("camt053", account, _text(first, "Id"))
    for statement in statements:  # a file may hold several accounts' statements
        own = _text(statement, "Acct/Id/IBAN") or _text(statement, "Acct/Id/Othr/Id")
        for entry in _all(statement, "Ntry"):
            _read_entry(entry, file, own)
    return file


def _read_entry(entry: Element, file: BankFile, own_account: str | None) -> None:
    status = _text(entry, "Sts/Cd") or _text(entry, "Sts")
    entry_ref = _text(entry, "AcctSvcrRef") or _text(entry, "NtryRef")
    if status and status.upper() != "BOOK":
        file.skipped.append(f"entry {entry_ref or '?'}: status {status}, not booked")
        return
    indicator = _text(entry, "CdtDbtInd")
    if indicator not in ("CRDT", "DBIT"):
        raise Invalid(f"entry {entry_ref or '?'}: CdtDbtInd must be CRDT or DBIT", field="body")
    # The side stays CdtDbtInd's: a reversal is booked on the side its money moves.
    reversal = (_text(entry, "RvslInd") or "").lower() in ("true", "1")
    entry_amount = _amount(entry)
    booked = _date(entry, "BookgDt") or _date(entry, "ValDt")
    if entry_amount is None or booked is None:
        raise Invalid(f"entry {entry_ref or '?'} has no Amt or BookgDt", field="body")
    transactions = [t for d in _all(entry, "NtryDtls") for t in _all(d, "TxDtls")]
    payer_role = "Dbtr" if indicator == "CRDT" else "Cdtr"
    for n, tx in enumerate(transactions or [None]):
        amount, currency = entry_amount
        if tx is not None and len(transactions) > 1:  # a batch: each transaction its own amount
            found = _transaction_amount(tx)
            if found is None:
                raise Invalid(f"entry {entry_ref or '?'}: transaction {n + 1} of the batch has no "
                              "amount (TxDtls/Amt or AmtDtls/TxAmt/Amt)", field="body")
            amount, currency = found
        returned = _return(entry, tx)
        name, account = _party(tx, payer_role)
        if indicator == "DBIT" and (reversal or returned is not None):
            # A return names the original's parties (Dbtr the customer who paid) or its own
            # (Cdtr the customer it goes back to), as banks choose: the one that is not us.
            for role in ("Dbtr", "Cdtr"):
                named = _party(tx, role)
                if any(named) and named[1] != own_account:
                    name, account = named
                    break
        tx_ref = _text(tx, "Refs/AcctSvcrRef") or (
            f"{entry_ref}/{n + 1}" if entry_ref and len(transactions) > 1 else entry_ref)
        reference = remittance = _remittance(tx)
        if returned is not None or reversal:
            # What the bank says beside a return may name the original (its reference).
            extra = [t for t in (_text(tx, "AddtlTxInf"), _text(entry, "AddtlNtryInf"),
                                 _text(tx, "RtrInf/AddtlInf")) if t]
            reference = " ".join([reference or "", *extra]).strip() or None
        end_to_end = _text(tx, "Refs/EndToEndId")
        file.entries.append(BankEntry(
            booking_date=booked, value_date=_date(entry, "ValDt"),
            direction="credit" if indicator == "CRDT" else "debit", amount=amount,
            currency=currency, payer_name=name, payer_account=account,
            reference=reference, bank_reference=tx_ref, account=own_account,
            is_return=reversal or returned is not None,
            return_reason=returned or ("reversed by the bank" if reversal else None),
            end_to_end_id=end_to_end if end_to_end and end_to_end.upper() != "NOTPROVIDED" else None,
            read_before=_read_before(tx, indicator, reversal, remittance)
            if reversal or returned is not None else None))


def _read_before(tx: Element | None, indicator: str, reversal: bool, remittance: str | None
                 ) -> tuple[str, str | None, str | None, str | None]:
    """A return as it was read before returns were recognised: a reversal turned the side
    round, the payer was that side's party, the text the remittance alone."""
    side = ("DBIT" if indicator == "CRDT" else "CRDT") if reversal else indicator
    return ("credit" if side == "CRDT" else "debit",
            *_party(tx, "Dbtr" if side == "CRDT" else "Cdtr"), remittance)


def _return(entry: Element, tx: Element | None) -> str | None:
    """The return's reason when the transaction (or its entry) says it is a return."""
    info = _find(tx, "RtrInf")
    if info is not None:
        code = _text(info, "Rsn/Cd") or _text(info, "Rsn/Prtry")
        return reason_text(code, _text(info, "AddtlInf")) or "returned by the bank"
    for holder in (tx, entry):
        sub_family = _text(holder, "BkTxCd/Domn/Fmly/SubFmlyCd")
        if sub_family and sub_family.upper() in RETURN_SUB_FAMILIES:
            family = _text(holder, "BkTxCd/Domn/Fmly/Cd") or "?"
            return f"bank transaction code {_text(holder, 'BkTxCd/Domn/Cd') or '?'}/{family}/{sub_family}"
    return None


