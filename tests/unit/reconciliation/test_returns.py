"""Returned payments: read from the three file formats (a CAMT reversal is booked on the
side CdtDbtInd says), and linked to the credit they undo by end-to-end id, bank reference,
or amount, payer account and remittance, within the window; anything doubtful waits."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from services.reconciliation.bank_files import CsvLayout, parse
from services.reconciliation.config import DEFAULT_CSV_COLUMNS
from services.reconciliation.domain.bank import BankFile, earlier_identities, identities
from services.reconciliation.domain.returns import Credit, Return, link, reason_text
from tests.support.bank_files import Row, camt053, csv_file, mt940

PAID = date(2026, 3, 2)
BACK = date(2026, 3, 9)
LAYOUT = CsvLayout(columns=dict(DEFAULT_CSV_COLUMNS))
CREDIT = Row(PAID, 250_000, "Dealer K", "INV-2026-0042", "B-77", payer_account="CN0001",
             end_to_end="E2E-K-0042")
RETURN = Row(BACK, -250_000, "Dealer K", "INV-2026-0042", "R-9", payer_account="CN0001",
             end_to_end="E2E-K-0042", returned="AM04")


@pytest.mark.parametrize("marks", [("RvslInd",), ("RtrInf",), ("BkTxCd",), ("RvslInd", "RtrInf")])
def test_camt053_returns_are_debits_that_say_so(marks: tuple[str, ...]) -> None:
    file = parse(camt053([CREDIT, RETURN], return_marks=marks), "camt053", LAYOUT)
    paid, back = file.entries
    assert (paid.direction, paid.is_return, paid.end_to_end_id) == ("credit", False, "E2E-K-0042")
    assert (back.direction, back.amount, back.is_return) == ("debit", 250_000, True)
    assert (back.end_to_end_id, back.payer_name, back.payer_account) == ("E2E-K-0042", "Dealer K", "CN0001")
    expected = {"RtrInf": "AM04 insufficient funds", "BkTxCd": "bank transaction code PMNT/RCDT/RRTN",
                "RvslInd": "reversed by the bank"}
    assert back.return_reason == expected[next(m for m in ("RtrInf", "BkTxCd", "RvslInd") if m in marks)]


def test_a_camt053_reversal_stays_on_the_side_it_was_booked() -> None:
    """ISO 20022: DBIT with RvslInd=true reverses a credit, money out. Read as a credit, a
    bounced direct debit was matched and booked as a second payment."""
    back, = parse(camt053([RETURN], return_marks=("RvslInd",)), "camt053", LAYOUT).entries
    assert (back.direction, back.is_return) == ("debit", True)
    refund_back = Row(BACK, 30_000, "Dealer K", "refund", "R-10", returned="AC04")
    came_back, = parse(camt053([refund_back], return_marks=("RvslInd",)), "camt053", LAYOUT).entries
    assert (came_back.direction, came_back.is_return) == ("credit", True)


@pytest.mark.parametrize("layout", ["subfields", "keywords"])
def test_mt940_reversal_of_a_credit_with_reason_and_end_to_end_id(layout: str) -> None:
    paid, back = parse(mt940([CREDIT, RETURN], layout=layout), "mt940", LAYOUT).entries
    assert (paid.direction, paid.is_return, paid.end_to_end_id) == ("credit", False, "E2E-K-0042")
    assert (back.direction, back.amount, back.is_return) == ("debit", 250_000, True)
    assert back.end_to_end_id == "E2E-K-0042" and back.return_reason == "AM04 insufficient funds"
    assert back.reference is not None and "INV-2026-0042" in back.reference


def test_csv_return_reason_column() -> None:
    headers = ("booking_date", "amount", "currency", "payer_name", "reference", "bank_reference",
               "end_to_end_id", "return_reason")
    paid, back = parse(csv_file([CREDIT, RETURN], headers=headers), "csv", LAYOUT).entries
    assert (paid.is_return, back.is_return, back.direction) == (False, True, "debit")
    assert (back.return_reason, back.end_to_end_id) == ("AM04 insufficient funds", "E2E-K-0042")
    plain = parse(csv_file([RETURN]), "csv", LAYOUT).entries[0]  # no such column: a debit
    assert (plain.direction, plain.is_return) == ("debit", False)


def test_reason_text() -> None:
    assert reason_text("md06") == "MD06 refund requested by the payer"
    assert reason_text("AC04", "Konto erloschen") == "AC04 account closed (Konto erloschen)"
    assert reason_text("Rücklastschrift") == "Rücklastschrift" and reason_text(None) is None


def credit(line_id: str, **kw: object) -> Credit:
    base = dict(booking_date=PAID, amount=250_000, currency="CNY", payer_account="CN0001",
                reference="INV-2026-0042", bank_reference=f"B-{line_id}", end_to_end_id=None)
    return Credit(line_id, **{**base, **kw})  # type: ignore[arg-type]


def returned(**kw: object) -> Return:
    base = dict(booking_date=BACK, amount=250_000, currency="CNY", payer_account="CN0001",
                reference="RETURN INV-2026-0042", end_to_end_id=None)
    return Return("R", **{**base, **kw})  # type: ignore[arg-type]


def test_linked_by_the_strongest_evidence() -> None:
    by_e2e = link(returned(end_to_end_id="e2e-1"), [credit("A"), credit("B", end_to_end_id="E2E-1")], 60)
    assert by_e2e.original == "B" and "end-to-end id" in by_e2e.reason
    by_ref = link(returned(reference="back: ref B-LONG1 AM04"), [credit("A"), credit("LONG1")], 60)
    assert by_ref.original == "LONG1" and "bank reference B-LONG1" in by_ref.reason
    by_content = link(returned(), [credit("A"), credit("C", payer_account="CN0002")], 60)
    assert by_content.original == "A" and "payer account" in by_content.reason


def test_doubt_waits_for_a_person() -> None:
    twins = link(returned(), [credit("A"), credit("B")], 60)
    assert twins.original is None and twins.suggestions == ("A", "B") and "several" in twins.reason
    partial = link(returned(amount=100_000, end_to_end_id="E"), [credit("A", end_to_end_id="E")], 60)
    assert partial.original is None and partial.suggestions == ("A",)
    assert "returns 1,000.00 of the 2,500.00 credit A" in partial.reason and "partial" in partial.reason
    old = link(returned(end_to_end_id="E"), [credit("A", end_to_end_id="E",
                                                    booking_date=BACK - timedelta(days=61))], 60)
    assert old.original is None and "60 days" in old.reason
    later = link(returned(end_to_end_id="E"),
                 [credit("A", end_to_end_id="E", booking_date=BACK + timedelta(1))], 60)
    assert later.original is None
    usd = link(returned(end_to_end_id="E"), [credit("A", end_to_end_id="E", currency="USD")], 60)
    assert usd.original is None
    again = link(returned(end_to_end_id="E"), [credit("A", end_to_end_id="E", returned_by="R0")], 60)
    assert again.original is None and "already returned by R0" in again.reason
    no_account = link(returned(payer_account=None), [credit("A")], 60)
    assert no_account.original is None  # amount and remittance alone are not enough


@pytest.mark.parametrize("marks", [("RvslInd",), ("RtrInf",)])
def test_a_return_imported_before_returns_were_read_is_known_by_its_old_identity(
        marks: tuple[str, ...]) -> None:
    """Before, a DBIT with RvslInd was read as a credit from its Dbtr, and other returns as
    plain debits to their Cdtr, with the remittance alone: an overlapping export must know
    those lines (here without a bank reference: the identity is their content)."""
    back = Row(BACK, -250_000, "Dealer K", "INV-2026-0042", None, payer_account="CN0001",
               end_to_end="E2E-K-0042", returned="AM04")
    file = parse(camt053([back], return_marks=marks), "camt053", LAYOUT)
    (entry,) = file.entries
    reversal = marks == ("RvslInd",)
    old = replace(entry, direction="credit" if reversal else "debit", is_return=False,
                  payer_name="Dealer K" if reversal else None,
                  payer_account="CN0001" if reversal else None,
                  reference="INV-2026-0042 E2E-K-0042", read_before=None)
    before = BankFile(file.format, file.account, file.statement_reference, [old])
    assert earlier_identities(file) == identities(before)
    assert identities(file) != identities(before)
    plain = parse(camt053([CREDIT]), "camt053", LAYOUT)
    assert earlier_identities(plain) == [None]
