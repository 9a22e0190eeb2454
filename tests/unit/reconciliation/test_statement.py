from datetime import date

import pytest

from services.reconciliation.domain.statement import (
    Item,
    Party,
    Settlement,
    build_balance_statement,
    build_statement,
    previous_period,
    statement_period_due,
)
from services.reconciliation.domain.versions import changes
from shared.errors import Invalid

ITEMS = [
    Item("invoice", "I1", date(2026, 2, 10), 300_000, due_date=date(2026, 3, 12)),
    Item("invoice", "I2", date(2026, 3, 5), 100_000, due_date=date(2026, 4, 4)),
    Item("payment", "P1", date(2026, 3, 20), 120_000),
]
SETTLED = [Settlement("I1", 120_000, date(2026, 3, 20))]


def test_opening_lines_and_closing() -> None:
    s = build_statement("C1", "2026-03", "CNY", ITEMS, SETTLED)
    assert s["opening_balance"] == 300_000
    assert [(line["document_id"], line["balance"]) for line in s["lines"]] == [
        ("I2", 400_000), ("P1", 280_000)]
    assert s["closing_balance"] == 280_000
    assert s["aging"]["1-30"] == 180_000 and s["aging"]["current"] == 100_000


def test_digest_is_stable_and_changes_with_any_figure() -> None:
    a = build_statement("C1", "2026-03", "CNY", ITEMS, SETTLED)
    b = build_statement("C1", "2026-03", "CNY", list(reversed(ITEMS)), SETTLED)
    assert a["digest"] == b["digest"] and len(a["digest"]) == 64
    changed = [*ITEMS[:2], Item("payment", "P1", date(2026, 3, 20), 120_001)]
    assert build_statement("C1", "2026-03", "CNY", changed, SETTLED)["digest"] != a["digest"]


def test_bad_period_is_refused() -> None:
    with pytest.raises(Invalid):
        build_statement("C1", "2026-13", "CNY", ITEMS, SETTLED)


def test_open_items_and_aging_at_month_end_and_the_party() -> None:
    party = Party("Wang Trading", "li.na", {"mode": "net_days", "days": 30})
    s = build_statement("C1", "2026-03", "CNY", ITEMS, SETTLED, party=party)
    assert s["open_items"] == [
        {"document_id": "I1", "kind": "invoice", "date": "2026-02-10", "due_date": "2026-03-12",
         "amount": 300_000, "open_amount": 180_000, "days_past_due": 19},
        {"document_id": "I2", "kind": "invoice", "date": "2026-03-05", "due_date": "2026-04-04",
         "amount": 100_000, "open_amount": 100_000, "days_past_due": 0}]
    assert (s["total_debits"], s["total_credits"]) == (100_000, 120_000)
    assert (s["customer_name"], s["terms"]["days"]) == ("Wang Trading", 30)


def test_a_balance_statement_states_what_falls_due() -> None:
    due = {"reminder_id": "R1", "due_date": "2026-04-04", "amount": 100_000, "invoice_ids": ["I2"]}
    s = build_balance_statement("C1", date(2026, 4, 1), "CNY", ITEMS, SETTLED, due=due)
    assert (s["kind"], s["balance"], s["falling_due"]) == ("balance", 280_000, due)
    assert [i["document_id"] for i in s["open_items"]] == ["I1", "I2"]
    assert len(s["digest"]) == 64


def test_the_month_before() -> None:
    assert previous_period(date(2026, 1, 1)) == "2025-12"
    assert previous_period(date(2026, 4, 30)) == "2026-03"


def test_a_version_that_differs_only_in_the_salesperson_says_so() -> None:
    """Any difference makes a new version (the digest); its `changes` must name it."""
    before = build_statement("C1", "2026-03", "CNY", ITEMS, SETTLED, party=Party("Wang", "li.na"))
    after = build_statement("C1", "2026-03", "CNY", ITEMS, SETTLED, party=Party("Wang", "zhou.min"))
    assert before["digest"] != after["digest"]
    assert changes(before, after)["party"] == {"salesperson": {"before": "li.na", "after": "zhou.min"}}


def test_a_kind_of_charge_the_ledger_adds_later_is_owed_not_paid() -> None:
    """Whatever ledger.invoice.posted carries is a debit; a new kind printed as a credit
    would lower the balance the customer confirms."""
    penalty = Item("penalty", "PEN-1", date(2026, 3, 28), 5_000, due_date=date(2026, 4, 7))
    s = build_statement("C1", "2026-03", "CNY", [*ITEMS, penalty], SETTLED)
    assert s["lines"][-1] == {"date": "2026-03-28", "kind": "penalty", "document_id": "PEN-1",
                              "debit": 5_000, "credit": 0, "balance": 285_000, "due_date": "2026-04-07"}
    assert s["open_items"][-1]["document_id"] == "PEN-1"


def test_the_month_whose_statements_are_due_from_the_run_day_on() -> None:
    """From the run day on, the month before; before it, the month before that (whose run
    day was last month's): a job that missed its day still knows which month to catch up."""
    assert statement_period_due(date(2026, 4, 1), 1) == "2026-03"
    assert statement_period_due(date(2026, 4, 30), 1) == "2026-03"
    assert statement_period_due(date(2026, 4, 5), 5) == "2026-03"
    assert statement_period_due(date(2026, 4, 4), 5) == "2026-02"
    assert statement_period_due(date(2026, 1, 3), 5) == "2025-11"


def test_money_not_yet_applied_reconciles_the_open_items_with_the_balance() -> None:
    overpaid = [*ITEMS, Item("payment", "P2", date(2026, 3, 28), 200_000)]
    settled = [*SETTLED, Settlement("I1", 180_000, date(2026, 3, 28))]  # 20,000 left over
    s = build_statement("C1", "2026-03", "CNY", overpaid, settled)
    assert s["closing_balance"] == 80_000
    assert sum(i["open_amount"] for i in s["open_items"]) == 100_000
    assert s["unapplied_credit"] == 20_000
    due = {"reminder_id": "R1", "due_date": "2026-04-04", "amount": 100_000, "invoice_ids": ["I2"]}
    b = build_balance_statement("C1", date(2026, 3, 30), "CNY", overpaid, settled, due=due)
    assert (b["balance"], b["unapplied_credit"]) == (80_000, 20_000)
    # Nothing unapplied: no such figure, and the digest of such statements is what it was.
    assert "unapplied_credit" not in build_statement("C1", "2026-03", "CNY", ITEMS, SETTLED)


def test_a_new_version_says_what_changed() -> None:
    before = build_statement("C1", "2026-03", "CNY", ITEMS, SETTLED)
    late = [*ITEMS[:2], Item("payment", "P1", date(2026, 3, 20), 100_000),
            Item("credit_note", "CN1", date(2026, 3, 25), 5_000)]
    after = build_statement("C1", "2026-03", "CNY", late, [Settlement("I1", 100_000, date(2026, 3, 20))],
                            party=Party("Wang Trading"))
    diff = changes(before, after)
    assert [line["document_id"] for line in diff["lines_added"]] == ["CN1"]
    assert diff["lines_removed"] == []
    assert diff["lines_changed"] == [{"kind": "payment", "document_id": "P1", "fields": {
        "credit": {"before": 120_000, "after": 100_000}}}]
    assert diff["figures"]["closing_balance"] == {"before": 280_000, "after": 295_000}
    assert diff["figures"]["unapplied_credit"] == {"before": None, "after": 5_000}  # CN1
    assert diff["aging"]["1-30"] == {"before": 180_000, "after": 200_000}
    assert diff["party"] == {"customer_name": {"before": None, "after": "Wang Trading"}}
    assert diff["previous_digest"] == before["digest"]
    assert changes(before, before)["figures"] == {} and changes(before, before)["lines_changed"] == []
