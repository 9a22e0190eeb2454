"""Reading bank statement files: CAMT.053 (ISO 20022 XML), MT940 and CSV, into BankFile."""

from __future__ import annotations

from services.reconciliation.bank_files import camt053, csv_file, mt940_file
from services.reconciliation.bank_files.csv_file import CsvLayout
from services.reconciliation.domain.bank import BankFile
from shared.errors import Invalid

FORMATS = ("camt053", "mt940", "csv")


def detect(data: bytes, content_type: str) -> str:
    kind = content_type.split(";")[0].strip().lower()
    if kind in ("application/xml", "text/xml") or kind.endswith("+xml"):
        return "camt053"
    if kind == "text/csv":
        return "csv"
    head = data.lstrip()[:2000]
    if head.startswith((b"<", b"\xef\xbb\xbf<")):
        return "camt053"
    if b":20:" in head and (b":25:" in head or b":61:" in data):
        return "mt940"
    return "csv"


def parse(data: bytes, file_format: str, layout: CsvLayout) -> BankFile:
    if not data.strip():
        raise Invalid("the file is empty", field="body")
    if file_format == "camt053":
        return camt053.parse(data)
    if file_format == "mt940":
        return mt940_file.parse(data)
    if file_format == "csv":
        return csv_file.parse(data, layout)
    raise Invalid(f"unknown format {file_format!r}; one of {', '.join(FORMATS)}", field="query.format")


__all__ = ["FORMATS", "CsvLayout", "detect", "parse"]
