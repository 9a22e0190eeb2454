"""Bank statement files as banks write them, built by the tests: CAMT.053 (ISO 20022 XML),
MT940 and CSV, from plain rows. A row with `returned` (an ISO return reason code, or the
bank's words) is a return: negative, it takes back an earlier credit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from xml.sax.saxutils import escape


@dataclass(frozen=True)
class Row:
    booked: date
    amount: int  # minor units, negative for money out
    payer: str | None = None
    reference: str | None = None
    bank_reference: str | None = None
    currency: str = "CNY"
    payer_account: str | None = None
    end_to_end: str | None = None
    returned: str | None = None


def _decimal(minor: int) -> str:
    return f"{Decimal(abs(minor)) / 100:.2f}"


def camt053(rows: list[Row], *, account: str = "CN5512345678901234567", statement_id: str = "STMT-1",
            pending: list[Row] = (), batch: list[list[Row]] = (),
            return_marks: tuple[str, ...] = ("RvslInd", "RtrInf")) -> bytes:
    """A camt.053.001.08 statement; `batch` entries book several transactions at once.
    A return says so by `return_marks`: RvslInd (the entry reverses a credit), RtrInf (its
    reason code), BkTxCd (the ISO code PMNT/RCDT/RRTN); the original's parties (Dbtr)."""
    def tx(row: Row) -> str:
        role = "Dbtr" if row.amount > 0 or row.returned else "Cdtr"
        party = (f"<RltdPties><{role}><Pty><Nm>{escape(row.payer)}</Nm></Pty></{role}>"
                 + (f"<{role}Acct><Id><IBAN>{row.payer_account}</IBAN></Id></{role}Acct>"
                    if row.payer_account else "") + "</RltdPties>") if row.payer else ""
        remittance = f"<RmtInf><Ustrd>{escape(row.reference)}</Ustrd></RmtInf>" if row.reference else ""
        refs = (f"<Refs><AcctSvcrRef>{row.bank_reference}</AcctSvcrRef>"
                f"<EndToEndId>{escape(row.end_to_end or 'NOTPROVIDED')}</EndToEndId></Refs>"
                ) if row.bank_reference or row.end_to_end else ""
        returned = (f"<RtrInf><Rsn><Cd>{row.returned}</Cd></Rsn></RtrInf>"
                    if row.returned and "RtrInf" in return_marks else "")
        return (f"<TxDtls>{refs}<Amt Ccy='{row.currency}'>{_decimal(row.amount)}</Amt>{party}"
                f"{remittance}{returned}</TxDtls>")

    def entry(rows_: list[Row], status: str = "BOOK") -> str:
        first = rows_[0]
        total = sum(r.amount for r in rows_)
        ref = f"<AcctSvcrRef>{first.bank_reference}</AcctSvcrRef>" if first.bank_reference else ""
        reversal = "<RvslInd>true</RvslInd>" if first.returned and "RvslInd" in return_marks else ""
        code = ("<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>RRTN</SubFmlyCd></Fmly>"
                "</Domn></BkTxCd>") if first.returned and "BkTxCd" in return_marks else "<BkTxCd/>"
        return (f"<Ntry><Amt Ccy='{first.currency}'>{_decimal(total)}</Amt>"
                f"<CdtDbtInd>{'CRDT' if total > 0 else 'DBIT'}</CdtDbtInd>{reversal}"
                f"<Sts><Cd>{status}</Cd></Sts>"
                f"<BookgDt><Dt>{first.booked.isoformat()}</Dt></BookgDt>"
                f"<ValDt><Dt>{first.booked.isoformat()}</Dt></ValDt>{ref}"
                f"{code}<NtryDtls>{''.join(tx(r) for r in rows_)}</NtryDtls></Ntry>")

    entries = ("".join(entry([r]) for r in rows) + "".join(entry(b) for b in batch)
               + "".join(entry([r], "PDNG") for r in pending))
    return (f"<?xml version='1.0' encoding='UTF-8'?>"
            f"<Document xmlns='urn:iso:std:iso:20022:tech:xsd:camt.053.001.08'><BkToCstmrStmt>"
            f"<GrpHdr><MsgId>MSG-1</MsgId><CreDtTm>2026-04-30T18:00:00</CreDtTm></GrpHdr>"
            f"<Stmt><Id>{statement_id}</Id><Acct><Id><IBAN>{account}</IBAN></Id><Ccy>CNY</Ccy></Acct>"
            f"{entries}</Stmt></BkToCstmrStmt></Document>").encode()


def mt940(rows: list[Row], *, account: str = "12345678/0012345678", layout: str = "subfields") -> bytes:
    """An MT940 statement; `:86:` as `?20`.. subfields or as /NAME/ /REMI/ keywords. A return
    is marked RC (reversal of a credit), its reason /RTRN/ or in the booking text, its
    end-to-end id /EREF/ or `EREF+` (the German SEPA subfields)."""
    lines = [":20:STMT-940-1", f":25:{account}", ":28C:00042/001", ":60F:C260401CNY0,00"]
    for row in rows:
        mark = "RC" if row.returned else "C" if row.amount > 0 else "D"
        amount = _decimal(row.amount).replace(".", ",")
        ref = f"//{row.bank_reference}" if row.bank_reference else ""
        lines.append(f":61:{row.booked:%y%m%d}{row.booked:%m%d}{mark}{amount}NTRFNONREF{ref}")
        if layout == "subfields":
            purpose = (f"EREF+{row.end_to_end}" if row.end_to_end else "") + (
                f"SVWZ+{row.reference}" if row.end_to_end and row.reference else row.reference or "")
            booking = f"RUECKLASTSCHRIFT {row.returned}" if row.returned else "TRANSFER"
            text = f"?00{booking}" + "".join(
                f"?{20 + n}{purpose[n * 27:(n + 1) * 27]}" for n in range(0, (len(purpose) + 26) // 27))
            if row.payer:
                text += f"?32{row.payer[:27]}" + (f"?33{row.payer[27:54]}" if len(row.payer) > 27 else "")
            lines.append(f":86:{'109' if row.returned else '166'}{text}")
        else:
            lines.append(f":86:/NAME/{row.payer or ''}/REMI/{row.reference or ''}"
                         + (f"/EREF/{row.end_to_end}" if row.end_to_end else "")
                         + (f"/RTRN/{row.returned}" if row.returned else ""))
    lines.append(":62F:C260430CNY0,00")
    return ("\r\n".join(lines) + "\r\n").encode()


def csv_file(rows: list[Row], *, headers: tuple[str, ...] = (
        "booking_date", "amount", "currency", "payer_name", "reference", "bank_reference"),
        delimiter: str = ",", decimal: str = ".", date_format: str = "%Y-%m-%d") -> bytes:
    out = [delimiter.join(headers)]
    for row in rows:
        amount = f"{'-' if row.amount < 0 else ''}{_decimal(row.amount)}".replace(".", decimal)
        fields = {"booking_date": row.booked.strftime(date_format), "amount": amount,
                  "currency": row.currency, "payer_name": row.payer or "",
                  "reference": row.reference or "", "bank_reference": row.bank_reference or "",
                  "payer_account": row.payer_account or "", "end_to_end_id": row.end_to_end or "",
                  "return_reason": row.returned or ""}
        # the default headers are our field names; other headers stand in the same order
        names = headers if set(headers) <= set(fields) else list(fields)[:len(headers)]
        values = [fields[n] for n in names]
        out.append(delimiter.join(f'"{v}"' if delimiter in v else v for v in values))
    return ("\n".join(out) + "\n").encode()
