"""The matching rules on their own: each kind of evidence, the discrepancies, and the
doubts that keep a line unmatched rather than paid to the wrong customer."""

from __future__ import annotations

from datetime import date

import pytest

from services.reconciliation.domain.matching import (
    AgreementPlan,
    Book,
    CreditLine,
    OpenItem,
    Policy,
    assess,
    match,
)
from tests.support.bank_lines import generate

ON = date(2026, 4, 10)


def book(*items: OpenItem, agreements: tuple[AgreementPlan, ...] = ()) -> Book:
    names = [("WANG", "Wang Trading Co., Ltd."), ("WANG", "Wang Wei"),
             ("LI", "Li Hardware Company Limited"), ("ZHAO", "Zhao Paints Co., Ltd."),
             ("ZHAO2", "Zhao Paints Co., Ltd.")]
    return Book(list(items), names, agreements)


def item(doc_id: str, customer: str, amount: int, due: str = "2026-03-01", currency: str = "CNY") -> OpenItem:
    return OpenItem(doc_id, customer, currency, amount, date.fromisoformat(due))


def line(amount: int, payer: str | None = None, reference: str | None = None,
         currency: str = "CNY") -> CreditLine:
    return CreditLine("L1", amount, currency, ON, payer, reference)


def standard() -> tuple[OpenItem, ...]:
    """Fresh each time: a book owns its items and changes them as lines pay them."""
    return (item("INV-2026-0001234", "WANG", 150_000), item("INV-2026-0001235", "WANG", 80_000, "2026-03-20"),
            item("INV-2026-0004321", "LI", 99_950), item("INV-2026-0009999", "ZHAO", 42_000))


def test_an_exact_reference_with_the_right_amount_is_sure() -> None:
    m = match(line(150_000, "somebody", "Payment INV-2026-0001234 thanks"), book(*standard()))
    assert (m.status, m.customer_id, m.invoice_ids) == ("matched", "WANG", ["INV-2026-0001234"])
    assert m.confidence == 0.99 and m.discrepancy is None
    assert "INV-2026-0001234 in the remittance text" in m.reason


@pytest.mark.parametrize("written", ["inv 2026 0001234", "INV20260001234", "INV/2026/0001234",
                                     "for inv-2026-0001234."])
def test_a_reference_is_read_whatever_its_separators_and_case(written: str) -> None:
    m = match(line(150_000, None, written), book(*standard()))
    assert (m.status, m.invoice_ids) == ("matched", ["INV-2026-0001234"])


def test_several_references_pay_several_invoices() -> None:
    m = match(line(230_000, None, "INV-2026-0001234 and INV-2026-0001235"), book(*standard()))
    assert (m.status, m.invoice_ids) == ("matched", ["INV-2026-0001234", "INV-2026-0001235"])


def test_a_typo_in_the_reference_is_forgiven_when_the_amount_bears_it_out() -> None:
    m = match(line(99_950, None, "INV-2026-0004312"), book(*standard()))  # two digits swapped
    assert (m.status, m.customer_id, m.invoice_ids) == ("matched", "LI", ["INV-2026-0004321"])
    assert "read as INV-2026-0004321 (1 typo)" in m.reason


def test_a_typo_that_reads_as_another_customers_invoice_is_corrected_by_name_and_amount() -> None:
    books = book(*standard(), item("INV-2026-0004322", "ZHAO", 10))  # the typo is a real number
    m = match(line(99_950, "LI HARDWARE CO LTD", "INV-2026-0004322"), books)
    assert (m.status, m.customer_id) == ("matched", "LI")


def test_a_typo_alone_points_nowhere() -> None:
    m = match(line(12_345, None, "INV-2026-0004312"), book(*standard()))
    assert m.status == "unmatched" and m.customer_id is None


def test_a_partial_payment_with_its_reference_and_known_payer_is_matched_and_flagged() -> None:
    m = match(line(50_000, "Wang Trading Company Limited", "INV-2026-0001234"), book(*standard()))
    assert (m.status, m.customer_id) == ("matched", "WANG")
    assert m.discrepancy == "short of INV-2026-0001234: paid 50000 of 150000 open"


def test_a_partial_payment_from_an_unknown_payer_waits_for_a_person() -> None:
    m = match(line(50_000, "Someone Else", "INV-2026-0001234"), book(*standard()))
    assert m.status == "unmatched"
    assert m.suggestions[0]["customer_id"] == "WANG"


def test_payer_name_and_amount_find_the_invoice() -> None:
    m = match(line(80_000, "WANG TRADING CO., LTD", "goods"), book(*standard()))
    assert (m.status, m.customer_id, m.invoice_ids) == ("matched", "WANG", ["INV-2026-0001235"])


def test_payer_name_with_a_typo_and_amount() -> None:
    m = match(line(99_950, "Li Hardwre", None), book(*standard()))
    assert (m.status, m.customer_id) == ("matched", "LI")
    assert "resembles" in m.reason


def test_a_combination_that_sums_exactly() -> None:
    m = match(line(230_000, "Wang Wei", None), book(*standard()))  # the legal representative
    assert (m.status, m.invoice_ids) == ("matched", ["INV-2026-0001234", "INV-2026-0001235"])
    assert "INV-2026-0001234 + INV-2026-0001235" in m.reason


def test_a_payment_on_account_from_a_known_payer_is_matched_with_its_discrepancy() -> None:
    m = match(line(7_000, "Wang Trading", None), book(*standard()))
    assert (m.status, m.customer_id, m.invoice_ids) == ("matched", "WANG", [])
    assert "matches no open item" in (m.discrepancy or "")


def test_an_instalment_of_an_agreement_is_what_was_agreed() -> None:
    plan = AgreementPlan("AG-1", "WANG", "CNY", ("INV-2026-0001234",),
                         ((date(2026, 4, 1), 50_000), (date(2026, 5, 1), 100_000)))
    agreed = match(line(50_000, "Wang Trading", "INV-2026-0001234"), book(*standard(), agreements=(plan,)))
    assert agreed.status == "matched" and agreed.discrepancy is None
    assert "instalment due 2026-04-01 of agreement AG-1" in agreed.reason
    short = match(line(30_000, "Wang Trading", "INV-2026-0001234"), book(*standard(), agreements=(plan,)))
    assert short.discrepancy == (
        "short of the instalment due 2026-04-01 of agreement AG-1: paid 30000 of 50000")


def test_a_parent_paying_for_another_customer_is_a_doubt() -> None:
    """The text names LI's invoice, the payer is WANG by name: a person decides."""
    m = match(line(99_950, "Wang Trading Co., Ltd.", "INV-2026-0004321"), book(*standard()))
    assert m.status == "unmatched" and m.customer_id is None
    assert {s["customer_id"] for s in m.suggestions} == {"WANG", "LI"}


def test_two_customers_of_the_same_name_are_a_doubt() -> None:
    books = book(*standard(), item("INV-2026-0008888", "ZHAO2", 42_000))
    m = match(line(42_000, "Zhao Paints", None), books)
    assert m.status == "unmatched" and "in doubt between" in m.reason


def test_a_shared_name_and_an_amount_that_fits_one_of_them_is_a_doubt() -> None:
    """Between two customers of one name, the amount is all that is left, and an amount
    alone only suggests: ZHAO2 paying on account (or an invoice not known here yet) the
    sum of ZHAO's open invoice is ZHAO2's money. A number decides; the amount does not."""
    books = book(*standard(), item("INV-2026-0008888", "ZHAO2", 10_000))
    m = match(line(42_000, "Zhao Paints", None), books)
    assert m.status == "unmatched" and "in doubt between ZHAO and ZHAO2" in m.reason
    assert m.suggestions[0]["customer_id"] == "ZHAO"
    nothing_open = match(line(42_000, "Zhao Paints", None), book(*standard()))
    assert nothing_open.status == "unmatched"
    numbered = match(line(42_000, "Zhao Paints", "INV-2026-0009999"), books)
    assert (numbered.status, numbered.customer_id) == ("matched", "ZHAO")


def test_a_line_naming_an_invoice_in_another_currency_waits_for_a_person() -> None:
    """A USD line naming a CNY invoice is not matched, even where the payer's name and a
    USD open item agree: the text says the money is for something else (LI's invoice)."""
    usd = item("INV-USD-1", "WANG", 5_000, currency="USD")
    for reference in ("INV-2026-0004321", "INV-2026-0001234"):  # LI's, then WANG's own
        m = match(line(5_000, "Wang Trading Co., Ltd.", reference, currency="USD"),
                  book(*standard(), usd))
        assert m.status == "unmatched", reference
        assert "nothing converts currencies" in m.reason
        assert m.suggestions[0]["customer_id"] == "WANG"


def test_references_to_several_customers_are_a_doubt() -> None:
    m = match(line(249_950, None, "INV-2026-0001234 INV-2026-0004321"), book(*standard()))
    assert m.status == "unmatched"


def test_amount_alone_is_only_a_suggestion() -> None:
    m = match(line(42_000, "Unknown Person", None), book(*standard()))
    assert m.status == "unmatched"
    assert m.suggestions == [{"customer_id": "ZHAO", "invoice_ids": ["INV-2026-0009999"],
                              "confidence": 0.5, "reason": m.suggestions[0]["reason"]}]


def test_another_currency_is_never_matched_to_an_invoice() -> None:
    m = match(line(150_000, "Wang Trading", "INV-2026-0001234", currency="USD"), book(*standard()))
    assert m.status == "unmatched"
    assert "nothing converts currencies" in m.reason


def test_a_paid_invoice_number_still_names_its_customer_but_not_surely() -> None:
    books = book(*standard())
    first = match(line(150_000, None, "INV-2026-0001234"), books)
    again = match(line(150_000, "Li Hardware", "INV-2026-0001234"), books)  # paid twice?
    assert first.status == "matched" and again.status == "unmatched"
    assert any("already paid" in s["reason"] for s in again.suggestions)


def test_a_match_claims_what_it_pays_for_the_lines_after_it() -> None:
    books = book(*standard())
    assert match(line(80_000, "Wang Trading", None), books).invoice_ids == ["INV-2026-0001235"]
    second = match(line(80_000, "Wang Trading", None), books)
    assert second.invoice_ids == [] and second.discrepancy  # nothing of that amount is open now


def test_a_stricter_threshold_leaves_more_for_people() -> None:
    strict = Policy(auto_match_confidence=0.96)
    assert match(line(99_950, "Li Hardwre", None), book(*standard()), strict).status == "unmatched"


def test_assessing_a_persons_choice_keeps_the_invoices_and_says_the_discrepancy() -> None:
    judged = assess(line(100_000), book(*standard()), "WANG", ["INV-2026-0001234"])
    assert judged.invoice_ids == ["INV-2026-0001234"]
    assert judged.discrepancy == "short of INV-2026-0001234: paid 100000 of 150000 open"


def test_generated_lines_are_never_matched_to_the_wrong_customer() -> None:
    data = generate(customers=300, invoices=6_000, lines=3_000, seed=11)
    books = Book(data.items, data.names)
    outcomes = [(g, match(g.line, books)) for g in data.lines]
    wrong = [(g.scenario, g.truth, m.customer_id, m.reason) for g, m in outcomes
             if m.status == "matched" and m.customer_id != g.truth]
    assert wrong == []
    by_scenario: dict[str, list[str]] = {}
    for g, m in outcomes:
        by_scenario.setdefault(g.scenario, []).append(m.status)
    rate = {s: statuses.count("matched") / len(statuses) for s, statuses in by_scenario.items()}
    for must_wait in ("stranger", "typo_partial_stranger", "other_currency"):
        assert rate[must_wait] == 0, must_wait
    assert rate["parent_pays"] < 0.05  # only where the payer's name also resembles the owner's
    for sure in ("exact_reference", "noisy_reference", "typo_reference", "partial_known_payer",
                 "amount_and_name", "combination"):
        assert rate[sure] > 0.9, (sure, rate[sure])


def test_a_combination_of_three_and_a_doubt_between_two() -> None:
    items = [item(f"INV-2026-00000{n}", "LI", amount, f"2026-03-0{n}")
             for n, amount in enumerate((10_000, 25_000, 40_000, 70_000, 5_000), 1)]
    three = match(line(75_000, "Li Hardware", None), book(*items))
    # 10,000 + 25,000 + 40,000 and 5,000 + 70,000 both make 75,000: a doubt on the invoices
    assert three.status == "matched" and three.invoice_ids == []
    assert "more than one combination" in three.reason
    unique = match(line(115_000, "Li Hardware", None), book(*[
        item(f"INV-2026-00000{n}", "LI", amount, f"2026-03-0{n}")
        for n, amount in enumerate((10_000, 25_000, 40_000, 70_000, 5_000), 1)]))
    assert unique.invoice_ids == ["INV-2026-000003", "INV-2026-000004", "INV-2026-000005"]
