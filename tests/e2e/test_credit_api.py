"""Credit through HTTP (embedded app): the dossier and its history, ratings, signals,
the check with order lines and reservations, holds by people."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from shared.auth import hash_secret
from tests.support.api import ADMIN_KEY, KEYS, Api, eventually
from tests.support.embedded import embedded_api, embedded_settings

DEALER = {
    "id": "D-7", "name": "Dealer Zhao", "salesperson": "li.na", "region": "east",
    "address": "12 Market Street, Hangzhou", "distance_km": 180, "legal_representative": "Zhao Wei",
    "terms": {"mode": "net_days", "days": 30},
    "credit_limit": {"amount": 1_000_000, "currency": "CNY"},
    "financial_status": {"grade": "sound", "note": "2025 accounts audited", "assessed_on": "2026-01-05"},
    "market_network": {"grade": "strong"}, "sales_ability": {"grade": "sound"},
    "organisation": {"grade": "weak", "note": "family business, no deputy"},
    "documents": {"sales_agreement": {"signed": True, "sealed": True, "sealed_by": "Zhao Trading Co",
                                      "received_on": "2026-01-03"}},
}


def actor(secret: str) -> str:
    """How a key is named in what it changed (a prefix of its hash, never the secret)."""
    return f"key:{hash_secret(secret)[:12]}"


ADMIN = actor(ADMIN_KEY)


async def register(api: Api, **changes: Any) -> dict[str, Any]:
    return await api.ok("POST", "/credit/v1/customers", {**DEALER, **changes})


async def check(api: Api, amount: int, **extra: Any) -> dict[str, Any]:
    return await api.ok("POST", "/credit/v1/checks",
                        {"customer_id": "D-7", "amount": amount, "currency": "CNY", **extra})


async def test_the_dossier_is_kept_with_who_changed_what(api: Api) -> None:
    created = await register(api)
    assert created["dossier_version"] == 1
    assert created["documents"]["sales_agreement"]["sealed_by"] == "Zhao Trading Co"
    assert created["rating"]["class"] == "B"  # a good dossier, no payment history yet

    # An update by POST changes what it sends and leaves the rest.
    updated = await api.ok("POST", "/credit/v1/customers", {
        "id": "D-7", "name": "Dealer Zhao", "terms": DEALER["terms"],
        "credit_limit": DEALER["credit_limit"], "region": "south"}, key=KEYS["credit_writer"])
    assert (updated["region"], updated["address"], updated["dossier_version"]) == (
        "south", DEALER["address"], 2)

    patched = await api.ok("PATCH", "/credit/v1/customers/D-7", {
        "legal_representative": "Zhao Min", "salesperson": None})
    assert (patched["legal_representative"], patched["salesperson"]) == ("Zhao Min", None)

    history = await api.ok("GET", "/credit/v1/customers/D-7/history")
    assert [(h["version"], h["field"]) for h in history if h["version"] > 1] == [
        (2, "region"), (3, "salesperson"), (3, "legal_representative")]
    region = next(h for h in history if h["field"] == "region" and h["version"] == 2)
    assert (region["before"], region["after"]) == ("east", "south")
    assert region["changed_by"] == actor(KEYS["credit_writer"])
    only = await api.ok("GET", "/credit/v1/customers/D-7/history?field=legal_representative")
    assert [h["after"] for h in only] == ["Zhao Wei", "Zhao Min"]

    # The new legal representative is a warning sign in itself, with its evidence.
    signals = await api.ok("GET", "/credit/v1/customers/D-7/signals")
    assert [(s["kind"], s["origin"]) for s in signals] == [("change_of_legal_representative", "detected")]
    assert signals[0]["evidence"] == ["legal representative changed from 'Zhao Wei' to 'Zhao Min'"]


async def test_a_dossier_change_refuses_bad_input_and_changes_nothing(api: Api) -> None:
    await register(api)
    for body, field in (({"credit_limit": {"amount": 5, "currency": "USD"}}, "credit_limit.currency"),
                        ({"name": None}, "name"),
                        ({"financial_status": {"grade": "excellent"}}, "financial_status.grade"),
                        ({"documents": {"passport": {"signed": True}}}, "documents.passport.[key]")):
        response = await api.request("PATCH", "/credit/v1/customers/D-7", json=body)
        assert response.status_code == 422, response.text
        assert field in [e["field"] for e in response.json()["errors"]], response.json()
    assert len(await api.ok("GET", "/credit/v1/customers/D-7/history")) == len(
        [k for k in DEALER if k != "id"])


async def test_ratings_are_kept_with_their_inputs(api: Api) -> None:
    await register(api)
    rating = await api.ok("POST", "/credit/v1/customers/D-7/ratings", {"as_of": "2026-03-01"})
    assert rating["trigger"] == "requested" and rating["as_of"] == "2026-03-01"
    assert {f["name"] for f in rating["factors"]} >= {
        "financial_status", "timeliness", "signals"}
    assert rating["inputs"]["sales_agreement"] == "sealed"
    assert rating["recommended_limit"] == {"amount": 1_000_000, "currency": "CNY"}  # starting limit

    await api.ok("POST", "/credit/v1/customers/D-7/signals", {
        "kind": "closure", "observed_on": "2026-03-02", "note": "shop shutters down"})
    history = await api.ok("GET", "/credit/v1/customers/D-7/ratings")
    assert [r["class"] for r in history] == ["B", "B", "E"]
    assert history[-1]["reasons"][0] == "class E: serious warning sign (closure)"
    assert history[-1]["trigger"] == "signal:closure"


async def test_a_serious_signal_stops_shipments_until_it_is_resolved(api: Api) -> None:
    await register(api)
    signal = await api.ok("POST", "/credit/v1/customers/D-7/signals",
                          {"kind": "bankruptcy", "observed_on": "2026-03-02"})
    assert signal["serious"] and signal["origin"] == "reported"
    blocked = await check(api, 1_000)
    assert blocked["decision"] == "block" and "bankruptcy" in blocked["reasons"][0]
    assert blocked["rating_class"] == "E"

    resolved = await api.ok("POST", f"/credit/v1/signals/{signal['id']}/resolve",
                            {"reason": "wrong customer: the bankrupt one is D-8"})
    assert resolved["resolved_by"] == ADMIN
    answer = await check(api, 1_000)
    assert answer["decision"] == "approve" and answer["rating_class"] == "B"


async def test_a_check_says_what_is_owed_in_other_currencies(api: Api) -> None:
    """A CNY limit and a USD invoice: the USD debt is not converted into the exposure, but
    the answer says it is there."""
    await register(api)

    async def ledger_knows() -> None:
        assert (await api.get("/ledger/v1/customers/D-7/account")).status_code == 200
    await eventually(ledger_knows)
    await api.ok("POST", "/ledger/v1/invoices", {
        "id": "INV-USD", "customer_id": "D-7", "amount": 50_000, "currency": "USD",
        "issue_date": "2026-01-10"})

    async def said() -> dict[str, Any]:
        answer = await check(api, 1_000)
        assert "also owes in 1 other currency, not counted against the limit in CNY" in \
            answer["reasons"], answer
        return answer
    answer = await eventually(said)
    assert answer["decision"] == "approve"
    assert answer["exposure"] == {"amount": 0, "currency": "CNY"}  # nothing converted


async def test_unknown_signal_kinds_are_refused(api: Api) -> None:
    await register(api)
    response = await api.post("/credit/v1/customers/D-7/signals",
                              {"kind": "bad_vibes", "observed_on": "2026-03-02"})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "kind"


async def test_reservations_spend_the_limit_until_shipped_invoiced_or_cancelled(api: Api) -> None:
    await register(api)
    first = await check(api, 700_000, order_id="SO-1")
    assert first["decision"] == "approve"
    assert first["reservation"]["status"] == "reserved" and first["reservation"]["amount"] == 700_000
    second = await check(api, 500_000, order_id="SO-2")
    assert (second["decision"], second["max_amount"]) == ("reduce", 300_000)
    assert second["exposure"] == {"amount": 700_000, "currency": "CNY"}
    assert second["reservation"]["amount"] == 300_000

    # Checking the same order again replaces its reservation instead of adding to it.
    again = await check(api, 200_000, order_id="SO-2")
    assert again["decision"] == "approve" and again["exposure"]["amount"] == 700_000

    shipped = await api.ok("POST", "/credit/v1/reservations/SO-1/shipment")
    assert shipped["status"] == "shipped"
    refused = await api.post("/credit/v1/checks", {"customer_id": "D-7", "amount": 1, "currency": "CNY",
                                                   "order_id": "SO-1"})
    assert refused.status_code == 409 and refused.json()["errors"][0]["field"] == "order_id"

    cancelled = await api.ok("POST", "/credit/v1/reservations/SO-2/cancel",
                             {"reason": "customer changed mind"})
    assert cancelled["status"] == "cancelled"
    customer = await api.ok("GET", "/credit/v1/customers/D-7")
    assert (customer["reserved"]["amount"], customer["available"]["amount"]) == (700_000, 300_000)
    listed = await api.ok("GET", "/credit/v1/customers/D-7/reservations?status=shipped")
    assert [r["order_id"] for r in listed] == ["SO-1"]
    trail = await api.ok("GET", "/credit/v1/customers/D-7/checks")
    assert [c["order_id"] for c in trail] == ["SO-2", "SO-2", "SO-1"]  # newest first; not the refusal
    assert trail[-1]["decision"] == "approve" and trail[-1]["checked_by"] == ADMIN


async def test_manual_holds_need_the_write_scope_and_a_reason(api: Api) -> None:
    await register(api)
    forbidden = await api.post("/credit/v1/customers/D-7/holds",
                               {"kind": "cash_only", "reason": "x"}, key=KEYS["ledger_reader"])
    assert forbidden.status_code == 403
    no_reason = await api.post("/credit/v1/customers/D-7/holds", {"kind": "cash_only"})
    assert no_reason.status_code == 422
    hold = await api.ok("POST", "/credit/v1/customers/D-7/holds", {
        "kind": "suspend_incentives", "reason": "rebate dispute", "incentives": ["year_end_rebates"]})
    assert (hold["automatic"], hold["placed_by"], hold["incentives"]) == (False, ADMIN, ["year_end_rebates"])
    answer = await check(api, 10_000, lines=[
        {"sku": "A", "amount": 9_000}, {"sku": "R", "amount": 1_000, "incentive": "year_end_rebates"}])
    assert (answer["decision"], answer["max_amount"]) == ("reduce", 9_000)
    assert answer["incentives_suspended"] == ["year_end_rebates"]
    assert answer["refused_lines"] == [{"line": 1, "sku": "R", "amount": 1_000,
                                        "reason": "incentive year end rebates suspended: rebate dispute"}]
    released = await api.ok("POST", f"/credit/v1/holds/{hold['id']}/release", {"reason": "settled"})
    assert released["override"] is False  # a manual hold: no cause to override
    everything = await api.ok("GET", "/credit/v1/customers/D-7/holds?include_released=true")
    assert [h["id"] for h in everything] == [hold["id"]]
    assert await api.ok("GET", "/credit/v1/customers/D-7/holds") == []


async def test_a_recheck_of_an_order_replaces_its_reservation_or_cancels_it(api: Api) -> None:
    await register(api)
    await check(api, 700_000, order_id="SO-1")
    again = await check(api, 200_000, order_id="SO-1")
    assert again["reservation"]["amount"] == 200_000
    assert (await api.ok("GET", "/credit/v1/reservations/SO-1"))["amount"] == 200_000
    await api.ok("POST", "/credit/v1/customers/D-7/holds", {"kind": "stop_shipments", "reason": "audit"})
    blocked = await check(api, 200_000, order_id="SO-1")
    assert blocked["decision"] == "block" and blocked["reservation"] is None
    cancelled = await api.ok("GET", "/credit/v1/reservations/SO-1")
    assert cancelled["status"] == "cancelled" and blocked["check_id"] in cancelled["cancel_reason"]
    assert (await api.ok("GET", "/credit/v1/customers/D-7"))["reserved"]["amount"] == 0


@pytest.fixture
async def api_with_key_products(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Api]:
    monkeypatch.setenv("RECOUP_CREDIT_KEY_PRODUCT_CLASSES", '["premium-beer"]')
    async with embedded_api(embedded_settings(tmp_path)) as (api, _):
        yield api


async def test_key_product_classes_come_from_the_settings(api_with_key_products: Api) -> None:
    api = api_with_key_products
    await register(api)
    await api.ok("POST", "/credit/v1/customers/D-7/holds",
                 {"kind": "withhold_key_products", "reason": "supply pressure"})
    answer = await check(api, 10_000, lines=[{"sku": "P1", "amount": 6_000, "product_class": "premium-beer"},
                                             {"sku": "W1", "amount": 4_000, "product_class": "water"}])
    assert (answer["decision"], answer["max_amount"]) == ("reduce", 4_000)
    assert answer["refused_lines"][0]["sku"] == "P1"


async def test_the_review_runs_once_per_period(api: Api) -> None:
    await register(api)

    async def ledger_knows() -> None:
        assert (await api.get("/ledger/v1/customers/D-7/account")).status_code == 200
    await eventually(ledger_knows)
    first = await api.ok("POST", "/credit/v1/reviews", {"as_of": "2026-04-01"})
    assert (first["customers"], first.get("quarterly_inspection")) == (1, 1)
    again = await api.ok("POST", "/credit/v1/reviews", {"as_of": "2026-04-20"})
    assert again.get("quarterly_inspection") is None
    ratings = await api.ok("GET", "/credit/v1/customers/D-7/ratings")
    assert [(r["trigger"], r["review_period"]) for r in ratings][-1] == ("quarterly_inspection", "2026-04")
    future = await api.post("/credit/v1/reviews", {"as_of": "2999-01-01"})
    assert future.status_code == 422 and future.json()["errors"][0]["field"] == "as_of"


async def test_signs_ratings_and_assessments_dated_in_the_future_are_refused(api: Api) -> None:
    from datetime import date, timedelta
    later = (date.today() + timedelta(days=10)).isoformat()
    await register(api)

    async def refused(path: str, body: dict[str, Any], field: str) -> None:
        response = await api.post(path, body)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["errors"][0]["field"] == field, response.json()

    await refused("/credit/v1/customers/D-7/signals", {"kind": "moving_premises", "observed_on": later},
                  "observed_on")
    await refused("/credit/v1/customers/D-7/ratings", {"as_of": later}, "as_of")
    await refused("/credit/v1/customers", {**DEALER, "financial_status": {
        "grade": "sound", "assessed_on": later}}, "financial_status.assessed_on")
    assert (await api.ok("GET", "/credit/v1/customers/D-7/signals")) == []
    assert len(await api.ok("GET", "/credit/v1/customers/D-7/ratings")) == 1


async def test_an_order_line_with_an_unknown_incentive_is_refused(api: Api) -> None:
    await register(api)
    response = await api.post("/credit/v1/checks", {
        "customer_id": "D-7", "amount": 100, "currency": "CNY",
        "lines": [{"amount": 60}, {"amount": 40, "incentive": "promotion"}]})
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "lines.1.incentive"
    assert "promotions" in response.json()["detail"]


async def test_terms_with_a_field_we_do_not_know_are_refused_naming_it(api: Api) -> None:
    for terms, field in (
            ({"mode": "net_days", "days": 30, "grace_days": 5}, "terms.grace_days"),
            ({"mode": "net_days", "days": 30, "early_payment_discount": {
                "percent": 2, "within_days": 10, "up_to": 5_000}}, "terms.early_payment_discount.up_to")):
        response = await api.request("POST", "/credit/v1/customers", json={**DEALER, "terms": terms})
        assert response.status_code == 422, response.text
        assert [e["field"] for e in response.json()["errors"]] == [field]
        assert field in response.json()["detail"]
    assert (await api.request("GET", "/credit/v1/customers/D-7")).status_code == 404

    # Every field CONTRACT.md documents is still taken, mode by mode.
    discount = {"percent": 2, "within_days": 10}
    await register(api, terms={"mode": "net_days", "days": 30, "early_payment_discount": discount})
    for terms in ({"mode": "monthly", "day_of_month": 25}, {"mode": "one_off", "due_date": "2026-03-31"},
                  {"mode": "deliver_two_settle_one", "days": 15}, {"mode": "cash"}):
        patched = await api.ok("PATCH", "/credit/v1/customers/D-7", {"terms": terms})
        assert patched["terms"] == terms
    refused = await api.request("PATCH", "/credit/v1/customers/D-7",
                                json={"terms": {"mode": "cash", "settle_in": "USD"}})
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "terms.settle_in"
    assert (await api.ok("GET", "/credit/v1/customers/D-7"))["terms"] == {"mode": "cash"}


async def test_financials_hold_figures_within_limits_real_statements_fit(api: Api) -> None:
    statements: dict[str, Any] = {f"balance_sheet_line_{n:03}": n * 1_000_000 for n in range(196)}
    statements |= {"revenue_2025": 52_000_000_00, "current_ratio": 1.4, "audited": True,
                   "auditor": "Li & Partners CPA"}
    created = await register(api, financials=statements)
    assert created["financials"] == statements
    history = len(await api.ok("GET", "/credit/v1/customers/D-7/history"))

    for financials, field in (
            ({**statements, "one_more": 1}, "financials"),  # 201 entries
            ({"x" * 65: 1}, f"financials.{'x' * 65}.[key]"),
            ({"revenue": {"2025": 1}}, "financials.revenue"),
            ({"revenue": [1, 2]}, "financials.revenue"),
            ({"memo": "x" * 501}, "financials.memo"),
            ({"revenue": 10**16}, "financials.revenue")):
        response = await api.request("PATCH", "/credit/v1/customers/D-7", json={"financials": financials})
        assert response.status_code == 422, response.text
        assert [e["field"] for e in response.json()["errors"]] == [field], response.json()
    for raw in (b'{"financials": {"revenue": 1e400}}', b'{"financials": {"revenue": 1%s}}' % (b"0" * 400)):
        response = await api.request("PATCH", "/credit/v1/customers/D-7", content=raw,
                                     headers={"Content-Type": "application/json"})
        assert response.status_code == 422, response.text
        assert [e["field"] for e in response.json()["errors"]] == ["financials.revenue"]
    dossier = await api.ok("GET", "/credit/v1/customers/D-7")
    assert dossier["financials"] == statements
    assert len(await api.ok("GET", "/credit/v1/customers/D-7/history")) == history
