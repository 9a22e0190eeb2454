"""ERP hooks by webhook: every event a subscription wants reaches the endpoint signed the
Standard Webhooks way, failures are retried with back-off, the last failure leaves a dead
delivery a person can send again, and private addresses are refused unless allowed."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from standardwebhooks.webhooks import Webhook

from tests.support.api import Api, eventually
from tests.support.embedded import embedded_api, embedded_settings
from tests.support.webhook_receiver import Receiver, webhook_receiver

DEALER = {"id": "D-1", "name": "Dealer Wang", "terms": {"mode": "net_days", "days": 30},
          "credit_limit": {"amount": 1_000_000, "currency": "CNY"}}


@pytest.fixture
def webhook_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """A receiver on loopback over plain HTTP, and quick retries."""
    for name, value in {"ALLOW_HTTP": "true", "ALLOW_PRIVATE_ADDRESSES": "true",
                        "RETRY_BASE_SECONDS": "0.2", "MAX_ATTEMPTS": "3",
                        "POLL_SECONDS": "0.05"}.items():
        monkeypatch.setenv(f"RECOUP_WEBHOOKS_{name}", value)
    return monkeypatch


@pytest.fixture
async def system(webhook_env: pytest.MonkeyPatch, tmp_path: Path
                 ) -> AsyncIterator[tuple[Api, Receiver]]:
    async with webhook_receiver() as receiver, embedded_api(embedded_settings(tmp_path)) as (api, _):
        yield api, receiver


async def subscribe(api: Api, url: str, *patterns: str) -> dict[str, Any]:
    return await api.ok("POST", "/webhooks/v1/subscriptions",
                        {"url": url, "event_types": list(patterns) or ["#"]})


async def test_events_arrive_signed_and_only_those_wanted(system: tuple[Api, Receiver]) -> None:
    api, receiver = system
    subscription = await subscribe(api, receiver.url, "credit.customer.*")
    assert subscription["secret"].startswith("whsec_")
    await api.ok("POST", "/credit/v1/customers", DEALER)

    async def delivered() -> None:
        assert len(receiver.received) == 1
    await eventually(delivered)
    hook = receiver.received[0]
    event = Webhook(subscription["secret"]).verify(hook.body, hook.headers)
    assert event["type"] == "credit.customer.registered" and event["subject"] == "D-1"
    assert hook.headers["webhook-id"] == event["id"]  # receivers drop repeats by it
    assert hook.headers["content-type"] == "application/cloudevents+json"
    # credit.rating.changed came too, but this subscription did not ask for it.
    async def recorded() -> None:  # the answer reached the endpoint before the row says so
        deliveries = await api.ok(
            "GET", f"/webhooks/v1/subscriptions/{subscription['id']}/deliveries")
        assert [(d["event_type"], d["status"]) for d in deliveries] == [
            ("credit.customer.registered", "delivered")]
    await eventually(recorded)
    with pytest.raises(Exception, match="No matching signature"):
        Webhook("whsec_" + "A" * 32).verify(hook.body, hook.headers)


async def test_failures_are_retried_then_dead_then_sent_again(system: tuple[Api, Receiver]) -> None:
    api, receiver = system
    receiver.statuses = [500, 503, 500]  # MAX_ATTEMPTS is 3: all fail
    subscription = await subscribe(api, receiver.url, "credit.customer.registered")
    await api.ok("POST", "/credit/v1/customers", DEALER)
    path = f"/webhooks/v1/subscriptions/{subscription['id']}/deliveries"

    async def dead() -> dict[str, Any]:
        deliveries = await api.ok("GET", path)
        assert len(deliveries) == 1 and deliveries[0]["status"] == "dead", deliveries
        return deliveries[0]
    delivery = await eventually(dead)
    assert delivery["attempts"] == 3 and delivery["last_status_code"] == 500
    assert len(receiver.received) == 3
    assert len({r.headers["webhook-id"] for r in receiver.received}) == 1  # the same message

    retried = await api.ok("POST", f"/webhooks/v1/deliveries/{delivery['id']}/retry")
    assert retried["status"] == "pending"

    async def delivered() -> None:
        deliveries = await api.ok("GET", path)
        assert [(d["status"], d["attempts"]) for d in deliveries] == [("delivered", 1)], deliveries
    await eventually(delivered)
    refused = await api.post(f"/webhooks/v1/deliveries/{delivery['id']}/retry")
    assert refused.status_code == 409


async def test_private_addresses_are_refused_unless_allowed(
        webhook_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    webhook_env.setenv("RECOUP_WEBHOOKS_ALLOW_PRIVATE_ADDRESSES", "false")
    webhook_env.setenv("RECOUP_WEBHOOKS_MAX_ATTEMPTS", "1")
    async with webhook_receiver() as receiver, embedded_api(embedded_settings(tmp_path)) as (api, _):
        subscription = await subscribe(api, receiver.url, "credit.#")
        await api.ok("POST", "/credit/v1/customers", DEALER)

        async def refused() -> None:
            deliveries = await api.ok(
                "GET", f"/webhooks/v1/subscriptions/{subscription['id']}/deliveries")
            assert deliveries and all(d["status"] == "dead" for d in deliveries), deliveries
            assert "private addresses" in deliveries[0]["last_error"]
        await eventually(refused)
        assert receiver.received == []


async def test_subscriptions_refuse_bad_input_and_can_be_removed(system: tuple[Api, Receiver]) -> None:
    api, receiver = system
    bad = await api.post("/webhooks/v1/subscriptions", json={"url": receiver.url,
                                                             "event_types": ["ledger..x"]})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "event_types.0"
    scheme = await api.post("/webhooks/v1/subscriptions", json={"url": "ftp://erp/"})
    assert scheme.status_code == 422 and scheme.json()["errors"][0]["field"] == "url"
    reader = await api.post("/webhooks/v1/subscriptions", json={"url": receiver.url},
                            key="test-ledger-reader")
    assert reader.status_code == 403

    subscription = await subscribe(api, receiver.url)
    listed = await api.ok("GET", "/webhooks/v1/subscriptions")
    assert [s["id"] for s in listed] == [subscription["id"]] and "secret" not in listed[0]
    rotated = await api.ok("POST", f"/webhooks/v1/subscriptions/{subscription['id']}/secret")
    assert rotated["secret"] != subscription["secret"]
    removed = await api.request("DELETE", f"/webhooks/v1/subscriptions/{subscription['id']}")
    assert removed.status_code == 204
    await api.ok("POST", "/credit/v1/customers", DEALER)
    deliveries = await api.ok("GET", f"/webhooks/v1/subscriptions/{subscription['id']}/deliveries")
    assert deliveries == []  # nothing queued for an inactive subscription
    gone = await api.ok("GET", f"/webhooks/v1/subscriptions/{subscription['id']}")
    assert gone["active"] is False
    assert json.loads(json.dumps(gone))["url"] == receiver.url


async def test_events_no_subscription_wants_cost_the_webhook_service_nothing(
        webhook_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """It hears every event; those that concern no subscription open no transaction."""
    async with embedded_api(embedded_settings(tmp_path)) as (api, app):
        await api.ok("POST", "/credit/v1/customers", DEALER)  # emits what nobody wants
        runtime = app.state.runtimes["webhooks"]
        credit = app.state.runtimes["credit"]

        async def delivered_everywhere() -> None:
            async with credit.read_sessions() as session:
                waiting = (await session.execute(select(credit.infra.outbox.c.id).where(
                    credit.infra.outbox.c.published_at.is_(None)))).first()
            assert waiting is None
        await eventually(delivered_everywhere)
        async with runtime.read_sessions() as session:
            recorded = (await session.execute(select(func.count()).select_from(
                runtime.infra.inbox))).scalar_one()
        assert recorded == 0
