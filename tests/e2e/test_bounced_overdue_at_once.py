"""A cheque that bounces after its invoice's due date: the debt is overdue at once, so the
credit check holds and collection-plan opens a case the moment the reversal is booked, not
after the next night's sweep (all services embedded, through HTTP)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from fastapi import FastAPI

from tests.e2e.collections_steps import case_of, check, invoice, night, pay, register
from tests.support.api import Api
from tests.support.collections import collections_api, dead_letters, quiet


@pytest.fixture
async def system(tmp_path: Path) -> AsyncIterator[tuple[Api, FastAPI]]:
    async with collections_api(tmp_path) as pair:
        yield pair
        assert await dead_letters(pair[1]) == []


async def test_a_bounced_cheque_for_an_overdue_invoice_holds_and_collects_at_once(
        system: tuple[Api, FastAPI]) -> None:
    api, app = system
    await register(api, "K")
    await invoice(api, "K", "INV-1", 250_000, "2026-01-01")  # due 2026-01-31
    await pay(api, "K", "CHQ-1", 250_000, "2026-02-10", method="cheque")
    await quiet(app)
    assert (await check(api, "K"))["decision"] == "approve"

    await api.ok("POST", "/ledger/v1/payments/CHQ-1/reversal",
                 {"reversed_on": "2026-02-26", "reason": "cheque returned unpaid"})
    await quiet(app)
    assert (await check(api, "K"))["decision"] == "cash_only"  # 26 days past due, as the night says
    case = await case_of(api, "K")
    assert case["class"] == "dunning"
    assert "REV-CHQ-1" in {i["invoice_id"] for i in case["invoices"]}

    # The night's sweep has nothing to add: the same case, nothing announced twice.
    swept = await api.ok("POST", "/ledger/v1/sweeps", {"as_of": "2026-02-26"})
    assert swept["events"] == 0
    await night(api, app, "2026-02-26")
    assert (await case_of(api, "K"))["id"] == case["id"]
