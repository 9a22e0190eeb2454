"""Bank files read into lines: CAMT.053 (batches, pending entries, reversals; no DTD,
no entities), MT940 (both :86: layouts), CSV with the bank's own columns; and the line
identities that keep a second import from taking a line twice."""

from __future__ import annotations

from datetime import date

import pytest

from services.reconciliation.bank_files import CsvLayout, detect, parse
from services.reconciliation.config import DEFAULT_CSV_COLUMNS
from services.reconciliation.domain.bank import identities, line_id
from services.reconciliation.domain.money import to_minor_units
from shared.errors import Invalid
from shared.money import format_amount
from tests.support.bank_files import Row, camt053, csv_file, mt940

ON = date(2026, 4, 3)
ROWS = [Row(ON, 1_234_550, "Wang Trading Co., Ltd.", "INV-2026-0001 & INV-2026-0002", "B-1",
            payer_account="CN001"),
        Row(ON, -1_200, "Bank", "charges", "B-2")]
LAYOUT = CsvLayout(columns=dict(DEFAULT_CSV_COLUMNS))


def test_camt053_lines_with_payer_reference_and_direction() -> None:
    file = parse(camt053(ROWS), "camt053", LAYOUT)
    assert (file.format, file.account, file.statement_reference) == (
        "camt053", "CN5512345678901234567", "STMT-1")
    credit, debit = file.entries
    assert (credit.direction, credit.amount, credit.currency, credit.booking_date) == (
        "credit", 1_234_550, "CNY", ON)
    assert (credit.payer_name, credit.payer_account) == ("Wang Trading Co., Ltd.", "CN001")
    assert credit.reference == "INV-2026-0001 & INV-2026-0002" and credit.bank_reference == "B-1"
    assert (debit.direction, debit.amount, debit.payer_name) == ("debit", 1_200, "Bank")


def test_camt053_batch_booking_splits_and_pending_entries_are_skipped() -> None:
    batch = [Row(ON, 10_000, "A", "INV-1", "T-1"), Row(ON, 20_000, "B", "INV-2", "T-2")]
    file = parse(camt053([], batch=[batch], pending=[Row(ON, 5, "C", "x", "P-1")]), "camt053", LAYOUT)
    assert [(e.amount, e.payer_name, e.bank_reference) for e in file.entries] == [
        (10_000, "A", "T-1"), (20_000, "B", "T-2")]
    assert file.skipped == ["entry P-1: status PDNG, not booked"]


ENTITY_BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<Document><BkToCstmrStmt><Stmt><Id>&lol3;</Id></Stmt></BkToCstmrStmt></Document>"""
EXTERNAL = b"""<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<Document><BkToCstmrStmt><Stmt><Id>&secret;</Id></Stmt></BkToCstmrStmt></Document>"""


@pytest.mark.parametrize("hostile", [ENTITY_BOMB, EXTERNAL], ids=["entity bomb", "external entity"])
def test_camt053_refuses_dtds_and_entities(hostile: bytes) -> None:
    with pytest.raises(Invalid, match="DTD or entities"):
        parse(hostile, "camt053", LAYOUT)


def test_camt053_that_is_not_one_is_refused_clearly() -> None:
    with pytest.raises(Invalid, match="not well-formed"):
        parse(b"<Document><oops></Document>", "camt053", LAYOUT)
    with pytest.raises(Invalid, match="not a CAMT.053"):
        parse(b"<Document><Other/></Document>", "camt053", LAYOUT)


@pytest.mark.parametrize("layout", ["subfields", "keywords"])
def test_mt940_reads_name_and_remittance_from_either_layout(layout: str) -> None:
    file = parse(mt940(ROWS, layout=layout), "mt940", LAYOUT)
    assert file.account == "12345678/0012345678"
    credit, debit = file.entries
    assert (credit.direction, credit.amount, credit.booking_date) == ("credit", 1_234_550, ON)
    assert credit.payer_name == "Wang Trading Co., Ltd."
    assert credit.reference is not None and "INV-2026-0001" in credit.reference
    assert "INV-2026-0002" in credit.reference.replace(" ", "")
    assert (debit.direction, debit.amount) == ("debit", 1_200)


def test_csv_with_the_banks_own_columns_and_decimal_comma() -> None:
    data = csv_file(ROWS, headers=("Buchungstag", "Betrag", "Waehrung", "Name", "Verwendungszweck", "Ref"),
                    delimiter=";", decimal=",", date_format="%d.%m.%Y")
    layout = CsvLayout(columns={"booking_date": "Buchungstag", "amount": "Betrag", "currency": "Waehrung",
                                "payer_name": "Name", "reference": "Verwendungszweck",
                                "bank_reference": "Ref"}, delimiter=";", decimal=",",
                       date_format="%d.%m.%Y", account="DE-1")
    file = parse(data, "csv", layout)
    assert [(e.direction, e.amount, e.payer_name) for e in file.entries] == [
        ("credit", 1_234_550, "Wang Trading Co., Ltd."), ("debit", 1_200, "Bank")]
    assert file.account == "DE-1"


def test_csv_without_a_needed_column_names_it() -> None:
    with pytest.raises(Invalid, match="no column for amount") as refused:
        parse(b"booking_date,sum,currency\n2026-04-03,1.00,CNY\n", "csv", LAYOUT)
    assert refused.value.field == "query.csv_columns"


def test_amounts_are_exact_never_rounded() -> None:
    assert to_minor_units("1,234.50", "CNY") == 123_450
    assert to_minor_units("1.234,50", "EUR", decimal_mark=",") == 123_450
    assert to_minor_units("1500", "JPY") == 1500
    with pytest.raises(Invalid, match="more decimals"):
        to_minor_units("10.005", "CNY")
    with pytest.raises(Invalid, match="more decimals"):
        to_minor_units("10.5", "JPY")
    assert format_amount(-123_450, "CNY") == "-1,234.50" and format_amount(1500, "JPY") == "1,500"


def test_the_same_lines_have_the_same_identities_in_any_file_and_equal_lines_stay_two() -> None:
    twin = Row(ON, 50_000, "Li", "goods")
    first = parse(csv_file([twin, twin]), "csv", LAYOUT)
    later = parse(csv_file([Row(ON, 7, "x", "y"), twin, twin, twin]), "csv", LAYOUT)
    a, b = identities(first)
    assert a != b  # two equal payments on one day are two lines
    assert set(identities(later)) >= {a, b}  # an overlapping export knows them
    by_bank_ref = parse(camt053([ROWS[0]]), "camt053", LAYOUT)
    assert identities(by_bank_ref) == identities(parse(camt053([ROWS[0], ROWS[1]]), "camt053", LAYOUT))[:1]
    assert line_id(a).startswith("BL-") and len(line_id(a)) == 27


def test_the_format_is_told_by_content_type_or_by_the_file() -> None:
    assert detect(b"x", "application/xml") == "camt053"
    assert detect(camt053(ROWS), "application/octet-stream") == "camt053"
    assert detect(mt940(ROWS), "text/plain") == "mt940"
    assert detect(csv_file(ROWS), "text/plain") == "csv"


def _camt(entries: str) -> bytes:
    return (b"<Document xmlns='urn:iso:std:iso:20022:tech:xsd:camt.053.001.02'><BkToCstmrStmt>"
            b"<Stmt><Id>S-1</Id><Acct><Id><IBAN>CN1</IBAN></Id></Acct>" + entries.encode()
            + b"</Stmt></BkToCstmrStmt></Document>")


def _entry(amount: str, details: str = "", currency: str = "CNY") -> str:
    return (f"<Ntry><Amt Ccy='{currency}'>{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>"
            f"<BookgDt><Dt>2026-04-03</Dt></BookgDt><AcctSvcrRef>E-1</AcctSvcrRef>{details}</Ntry>")


def test_a_camt053_001_02_batch_takes_each_transactions_own_amount() -> None:
    """Version .02 has no TxDtls/Amt: the amount is in AmtDtls/TxAmt. Each transaction
    given the batch's total would book the money twice."""
    txs = "".join(f"<TxDtls><AmtDtls><TxAmt><Amt Ccy='CNY'>{a}</Amt></TxAmt></AmtDtls>"
                  f"<RmtInf><Ustrd>{ref}</Ustrd></RmtInf></TxDtls>"
                  for a, ref in (("100.00", "INV-1"), ("200.00", "INV-2")))
    file = parse(_camt(_entry("300.00", f"<NtryDtls>{txs}</NtryDtls>")), "camt053", LAYOUT)
    assert [(e.amount, e.reference) for e in file.entries] == [(10_000, "INV-1"), (20_000, "INV-2")]
    no_amount = "<TxDtls><RmtInf><Ustrd>INV-1</Ustrd></RmtInf></TxDtls>" * 2
    with pytest.raises(Invalid, match="transaction 1 of the batch has no amount"):
        parse(_camt(_entry("300.00", f"<NtryDtls>{no_amount}</NtryDtls>")), "camt053", LAYOUT)


@pytest.mark.parametrize(("amount", "currency", "why"), [
    ("-100.00", "CNY", "not a positive amount"), ("0.00", "CNY", "not a positive amount"),
    ("100.00", "cny", "not an ISO 4217 code"), ("1e3", "CNY", "not an amount")])
def test_camt053_amounts_must_be_positive_with_a_currency_code(amount: str, currency: str, why: str) -> None:
    with pytest.raises(Invalid, match=why):
        parse(_camt(_entry(amount, currency=currency)), "camt053", LAYOUT)


def test_an_xml_file_in_an_unknown_encoding_is_refused_not_a_crash() -> None:
    with pytest.raises(Invalid, match="not well-formed"):
        parse(b"<?xml version='1.0' encoding='klingon'?><Document/>", "camt053", LAYOUT)


MT940_SAME_PAYER_REFERENCE = (
    b":20:STMT\r\n:25:12345678/1\r\n:28C:1/1\r\n:60F:C260401EUR0,00\r\n"
    b":61:2604030403C100,00NTRFINV-1\r\n:86:/NAME/Wang/REMI/INV-1 part 1\r\n"
    b":61:2604100410C100,00NTRFINV-1\r\n:86:/NAME/Wang/REMI/INV-1 part 2\r\n"
    b":62F:C260410EUR200,00\r\n")


def test_mt940_payers_reference_is_not_the_banks_id_of_the_line() -> None:
    """The reference for the account owner (after the type code) is the payer's, repeated
    by every instalment; only the bank's reference (after //) is unique. Two payments
    reading INV-1 are two lines, not one line seen twice."""
    file = parse(MT940_SAME_PAYER_REFERENCE, "mt940", LAYOUT)
    first, second = identities(file)
    assert first != second
    assert all(e.bank_reference is None and "INV-1" in (e.reference or "") for e in file.entries)


def test_mt940_without_an_opening_balance_has_no_currency_and_says_so() -> None:
    text = MT940_SAME_PAYER_REFERENCE.replace(b":60F:C260401EUR0,00\r\n", b"").replace(
        b":62F:C260410EUR200,00\r\n", b"")
    with pytest.raises(Invalid, match="currency"):
        parse(text, "mt940", LAYOUT)


def test_csv_the_reader_cannot_read_is_refused_not_a_crash() -> None:
    huge_field = b"booking_date,amount,currency,reference\n2026-04-03,1.00,CNY,\"" + b"x" * 200_000 + b"\"\n"
    with pytest.raises(Invalid, match="line 2") as refused:
        parse(huge_field, "csv", LAYOUT)
    assert refused.value.field == "body"


@pytest.mark.parametrize(("text", "currency", "mark", "minor"), [
    ("1.234,56", "EUR", ",", 123_456), ("-1.234,56", "EUR", ",", -123_456),
    ("1 234,56", "EUR", ",", 123_456), ("1'234.50", "CHF", ".", 123_450),
    ("12,34,567.00", "INR", ".", 123_456_700), ("1,500", "CNY", ".", 150_000),
    ("1.234", "KWD", ".", 1_234), ("1,234.567", "KWD", ".", 1_234_567), ("1500", "JPY", ".", 1_500),
    ("100,", "EUR", ",", 10_000), ("+0.01", "CNY", ".", 1)])
def test_amounts_in_the_ways_banks_write_them(text: str, currency: str, mark: str, minor: int) -> None:
    assert to_minor_units(text, currency, decimal_mark=mark) == minor


@pytest.mark.parametrize(("text", "mark"), [
    ("1,5", "."), ("1,50", "."), ("1.5", ","), ("10.50", ","),  # the decimal mark misread
    ("1e3", "."), ("NaN", "."), ("1e999999999", "."), ("9" * 30, "."), ("١٢٣", "."), ("", "."),
    ("1,2,3", "."), ("--1", ".")])
def test_amounts_that_do_not_read_exactly_are_refused(text: str, mark: str) -> None:
    """A decimal comma read as a thousands separator would make 1,5 fifteen: refused, like
    exponents and amounts past 10^15 minor units (never a crash)."""
    with pytest.raises(Invalid):
        to_minor_units(text, "CNY", decimal_mark=mark)


def _statement_of(document: bytes) -> bytes:
    return document[document.index(b"<Stmt>"):document.index(b"</BkToCstmrStmt>")]


def test_a_file_of_several_accounts_keeps_each_lines_account() -> None:
    """Banks send every account's statement in one file: a line keyed by another
    account's number would not be known in the next file of its own account (booked twice)."""
    line = Row(ON, 50_000, "Li", "INV-2026-0002", "B-1")
    x, y = camt053([line], account="CN-X"), camt053([line], account="CN-Y")
    both = x.replace(b"</BkToCstmrStmt>", _statement_of(y) + b"</BkToCstmrStmt>")
    assert identities(parse(both, "camt053", LAYOUT)) == [
        *identities(parse(x, "camt053", LAYOUT)), *identities(parse(y, "camt053", LAYOUT))]
    assert [e.account for e in parse(both, "camt053", LAYOUT).entries] == ["CN-X", "CN-Y"]
    mx, my = mt940([line], account="DE-X"), mt940([line], account="DE-Y")
    assert identities(parse(mx + my, "mt940", LAYOUT)) == [
        *identities(parse(mx, "mt940", LAYOUT)), *identities(parse(my, "mt940", LAYOUT))]
