"""Strategies are data: listed, created, replaced and retired through the API, validated,
and followed by the cases of their segment."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from services.collection_plan.domain.strategy import DEFAULT_STRATEGY, to_data
from shared.events import contracts as ev
from tests.support.collections import collections_alone, feed, overdue, registered

D = date.fromisoformat


def rating(customer_id: str, klass: str) -> ev.RatingChanged:
    return ev.RatingChanged(customer_id=customer_id, rating_class=klass, score=1, reasons=[],
                            as_of=D("2026-01-01"))


def quick_ladder(rank: int = 10, **segment: Any) -> dict[str, Any]:
    """For poorly rated customers: visit at 5 days, stop shipments at 20."""
    return {
        "id": "risky", "name": "Risky customers", "rank": rank,
        "segment": segment or {"rating_classes": ["D", "E"]},
        "steps": [
            {"name": "visit", "trigger": {"days_past_due": 5, "events": ["promise_broken"]},
             "receivable_class": "dunning",
             "tasks": [{"action": "visit", "text": "visit at once"},
                       {"action": "written_notice", "text": "hand over the notice"}],
             "holds": [{"kind": "cash_only"}]},
            {"name": "stop", "trigger": {"days_past_due": 20}, "receivable_class": "doubtful",
             "tasks": [{"action": "final_demand", "text": "final demand"}],
             "holds": [{"kind": "stop_shipments"}]},
        ],
    }


async def test_the_seeded_default_is_listed_and_serves_everyone(tmp_path: Path) -> None:
    async with collections_alone("sqlite", tmp_path) as (_, client):
        (default,) = (await client.get("/v1/strategies")).json()
        assert (default["id"], default["rank"], default["version"], default["active"]) == (
            "default", 1000, 1, True)
        assert default["segment"] == {"rating_classes": [], "min_overdue": []}
        assert [s["trigger"]["days_past_due"] for s in default["steps"]] == [
            1, 15, 30, 60, None, 90, 180, 365]
        # The migration seeds its own copy: it is the ladder the unit tests check.
        seeded = {k: v for k, v in default.items()
                  if k not in ("active", "version", "updated_by", "updated_at")}
        assert seeded == to_data(DEFAULT_STRATEGY)
        # It cannot be narrowed or retired while nothing else serves everyone.
        response = await client.delete("/v1/strategies/default")
        assert response.status_code == 422 and response.json()["errors"][0]["field"] == "segment"


async def test_a_segment_gets_its_own_ladder(tmp_path: Path) -> None:
    async with collections_alone("sqlite", tmp_path) as (runtime, client):
        created = await client.post("/v1/strategies", json=quick_ladder())
        assert created.status_code == 201, created.text
        await feed(runtime, registered("E1"), registered("A1"),
                   rating("E1", "E"), rating("A1", "A"),
                   *overdue("E1", "E1-1", 10_000, due=D("2026-01-31"), as_of=D("2026-02-06")),
                   *overdue("A1", "A1-1", 10_000, due=D("2026-01-31"), as_of=D("2026-02-06")))
        cases = {c["customer_id"]: c for c in (await client.get("/v1/cases")).json()}
        assert (cases["E1"]["strategy_id"], cases["E1"]["level"]) == ("risky", 1)
        assert [t["kind"] for t in cases["E1"]["open_tasks"]] == ["visit", "written_notice"]
        assert (cases["A1"]["strategy_id"], cases["A1"]["level"]) == ("default", 1)

        await client.post("/v1/sweeps", json={"as_of": "2026-02-20"})
        cases = {c["customer_id"]: c for c in (await client.get("/v1/cases")).json()}
        assert (cases["E1"]["level"], cases["E1"]["class"]) == (2, "doubtful")
        assert cases["A1"]["level"] == 2  # the default's visit at 15 days


async def test_a_ladder_that_cannot_work_is_refused_and_changes_nothing(tmp_path: Path) -> None:
    async with collections_alone("sqlite", tmp_path) as (_, client):
        bad = quick_ladder()
        bad["steps"][1]["trigger"]["days_past_due"] = 5
        response = await client.post("/v1/strategies", json=bad)
        assert response.status_code == 422
        assert response.json()["errors"] == [{"field": "steps[1].trigger.days_past_due",
                                              "message": "triggers must increase along the ladder: "
                                                         "5 days after 5"}]
        bad = quick_ladder()
        bad["steps"][0]["holds"] = [{"kind": "jail"}]
        assert (await client.post("/v1/strategies", json=bad)).status_code == 422
        taken = quick_ladder(rank=1000)
        response = await client.post("/v1/strategies", json=taken)
        assert response.status_code == 422 and response.json()["errors"][0]["field"] == "rank"
        assert [s["id"] for s in (await client.get("/v1/strategies")).json()] == ["default"]


async def test_replacing_a_strategy_checks_the_version_read(tmp_path: Path) -> None:
    async with collections_alone("sqlite", tmp_path) as (_, client):
        await client.post("/v1/strategies", json=quick_ladder())
        body = {k: v for k, v in quick_ladder().items() if k != "id"}
        body["steps"][0]["trigger"]["days_past_due"] = 3
        first = await client.put("/v1/strategies/risky", json={**body, "version": 1})
        assert first.status_code == 200 and first.json()["version"] == 2
        stale = await client.put("/v1/strategies/risky", json={**body, "version": 1})
        assert stale.status_code == 409 and stale.json()["errors"][0]["field"] == "version"
        assert (await client.get("/v1/strategies/risky")).json()["steps"][0]["trigger"][
            "days_past_due"] == 3
        retired = (await client.delete("/v1/strategies/risky")).json()
        assert retired["active"] is False
        assert [s["id"] for s in (await client.get("/v1/strategies?active=true")).json()] == ["default"]
        assert (await client.get("/v1/strategies/nope")).status_code == 404
