"""CSV bank exports, whose columns differ per bank: a layout names the column of each of
our fields (settings, or the request's query). Amounts are decimal text, signed (negative
is money out) unless a `direction` column says C/D, CRDT/DBIT or credit/debit. A row with
a `return_reason` (the column the layout names) is a return: a debit taking back an earlier
credit, linked to it by the `end_to_end_id` column, the bank reference or the remittance."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime

from services.reconciliation.domain.bank import BankEntry, BankFile
from services.reconciliation.domain.money import is_currency_code, to_minor_units
from services.reconciliation.domain.returns import reason_text
from shared.errors import Invalid

REQUIRED = ("booking_date", "amount")
KNOWN = ("booking_date", "value_date", "amount", "currency", "direction", "payer_name",
         "payer_account", "reference", "bank_reference", "end_to_end_id", "return_reason")
CREDIT_MARKS = {"c", "cr", "crdt", "credit", "h", "haben", "贷"}
DEBIT_MARKS = {"d", "dr", "dbit", "debit", "s", "soll", "借"}


@dataclass(frozen=True)
class CsvLayout:
    columns: dict[str, str] = field(default_factory=dict)  # our field -> the file's header
    delimiter: str = ","
    decimal: str = "."
    date_format: str = "%Y-%m-%d"
    currency: str | None = None  # for files without a currency column
    account: str | None = None


def _date(value: str, layout: CsvLayout, row: int, column: str) -> date:
    try:
        return datetime.strptime(value.strip(), layout.date_format).date()
    except ValueError as exc:
        raise Invalid(f"row {row}: {column} {value!r} does not read as {layout.date_format}",
                      field="body") from exc


def parse(data: bytes, layout: CsvLayout) -> BankFile:
    unknown = set(layout.columns) - set(KNOWN)
    if unknown:
        raise Invalid(f"unknown fields {sorted(unknown)}; known: {', '.join(KNOWN)}",
                      field="query.csv_columns")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Invalid("a CSV file must be UTF-8", field="body") from exc
    reader = csv.DictReader(io.StringIO(text), delimiter=layout.delimiter)
    try:
        return _read(reader, layout)
    except csv.Error as exc:  # a field past the reader's limit, a stray quote, ...
        raise Invalid(f"line {reader.line_num + 1}: not readable as CSV: {exc}", field="body") from exc


def _read(reader: csv.DictReader[str], layout: CsvLayout) -> BankFile:
    headers = set(reader.fieldnames or ())
    wanted = {f: c for f, c in layout.columns.items() if c in headers}
    missing = [f"{f} ({layout.columns.get(f, f)!r})" for f in REQUIRED if f not in wanted]
    if not layout.currency and "currency" not in wanted:
        missing.append(f"currency ({layout.columns.get('currency', 'currency')!r})")
    if missing:
        raise Invalid(f"the file has no column for {', '.join(missing)}; its columns: "
                      f"{', '.join(sorted(headers))}", field="query.csv_columns")
    file = BankFile("csv", layout.account, None)
    for row_number, row in enumerate(reader, start=2):
        def get(name: str, row: dict[str, str] = row) -> str | None:
            value = row.get(wanted[name]) if name in wanted else None
            return value.strip() if value and value.strip() else None

        amount_text, booked = get("amount"), get("booking_date")
        if amount_text is None or booked is None:
            raise Invalid(f"row {row_number}: no amount or booking date", field="body")
        currency = (get("currency") or layout.currency or "").upper()
        if not is_currency_code(currency):
            raise Invalid(f"row {row_number}: currency {currency!r} is not an ISO 4217 code",
                          field="body")
        amount = to_minor_units(amount_text, currency, decimal_mark=layout.decimal, field="body")
        direction = "credit" if amount > 0 else "debit"
        if mark := get("direction"):
            if mark.casefold() not in CREDIT_MARKS | DEBIT_MARKS:
                raise Invalid(f"row {row_number}: direction {mark!r} is neither credit nor debit",
                              field="body")
            direction = "credit" if mark.casefold() in CREDIT_MARKS else "debit"
        if amount == 0:
            raise Invalid(f"row {row_number}: the amount is zero", field="body")
        value = get("value_date")
        returned = get("return_reason")
        file.entries.append(BankEntry(
            booking_date=_date(booked, layout, row_number, "booking_date"),
            value_date=_date(value, layout, row_number, "value_date") if value else None,
            direction=direction, amount=abs(amount), currency=currency,
            payer_name=get("payer_name"), payer_account=get("payer_account"),
            reference=get("reference"), bank_reference=get("bank_reference"),
            is_return=returned is not None, return_reason=returned and reason_text(returned),
            end_to_end_id=get("end_to_end_id")))
    return file
