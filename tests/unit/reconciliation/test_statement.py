from datetime import date

import pytest

from services.reconciliation.domain.statement import Item, Settlement, build_statement
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
