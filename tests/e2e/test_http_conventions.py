"""What every HTTP caller can rely on: problem+json naming the field, scoped keys,
Idempotency-Key replay, health and readiness, an OpenAPI document per service."""

from __future__ import annotations

import pytest

from tests.support.api import KEYS, Api, eventually

CUSTOMER = {
    "id": "D-1", "name": "Dealer", "terms": {"mode": "net_days", "days": 30},
    "credit_limit": {"amount": 500_000, "currency": "CNY"},
}


async def registered(api: Api) -> None:
    await api.ok("POST", "/credit/v1/customers", CUSTOMER)


@pytest.mark.parametrize(("path", "body", "field"), [
    ("/ledger/v1/invoices", {"id": "I", "customer_id": "D-1", "amount": 10.5, "currency": "CNY",
                             "issue_date": "2026-01-01"}, "amount"),
    ("/ledger/v1/invoices", {"id": "I", "customer_id": "D-1", "amount": -5, "currency": "CNY",
                             "issue_date": "2026-01-01"}, "amount"),
    ("/ledger/v1/invoices", {"id": "I", "customer_id": "D-1", "amount": 5, "currency": "yuan",
                             "issue_date": "2026-01-01"}, "currency"),
    ("/ledger/v1/payments", {"id": "P", "customer_id": "D-1", "amount": 5, "currency": "CNY"},
     "received_on"),
    ("/credit/v1/customers", {**CUSTOMER, "terms": {"mode": "net_days", "days": -3}}, "terms.days"),
    ("/credit/v1/customers", {**CUSTOMER, "terms": {"mode": "whenever"}}, "terms.mode"),
    ("/credit/v1/customers", {**CUSTOMER, "terms": {"mode": "one_off"}}, "terms.due_date"),
    ("/credit/v1/checks", {"customer_id": "D-1", "amount": "100", "currency": "CNY"}, "amount"),
    # Out of range: refused up front rather than overflowing in date arithmetic later.
    ("/credit/v1/customers", {**CUSTOMER, "terms": {"mode": "net_days", "days": 10**12}}, "terms.days"),
    ("/credit/v1/customers", {**CUSTOMER, "distance_km": 10**30}, "distance_km"),
    ("/ledger/v1/invoices", {"id": "I", "customer_id": "D-1", "amount": 5, "currency": "CNY",
                             "issue_date": "9999-12-31"}, "issue_date"),
    ("/ledger/v1/sweeps", {"as_of": "2999-01-01"}, "as_of"),
])
async def test_bad_body_is_a_422_problem_naming_the_field(
    api: Api, path: str, body: dict, field: str
) -> None:
    response = await api.post(path, body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 422
    assert field in [e["field"] for e in problem["errors"]]
    assert field in problem["detail"]


async def test_business_rule_refusals_name_the_field_and_change_nothing(api: Api) -> None:
    await registered(api)
    response = await api.post("/ledger/v1/invoices", {
        "id": "I-1", "customer_id": "D-1", "amount": 100, "currency": "CNY",
        "issue_date": "2026-02-01", "due_date": "2026-01-01"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "due_date"
    assert (await api.get("/ledger/v1/invoices/I-1")).status_code == 404

    unknown = await api.post("/ledger/v1/invoices", {
        "id": "I-2", "customer_id": "NOBODY", "amount": 100, "currency": "CNY",
        "issue_date": "2026-02-01"})
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "customer_id"

    mismatch = await api.post("/credit/v1/checks", {"customer_id": "D-1", "amount": 1, "currency": "USD"})
    assert mismatch.status_code == 422 and mismatch.json()["errors"][0]["field"] == "currency"


async def test_out_of_range_query_dates_are_refused(api: Api) -> None:
    response = await api.get("/ledger/v1/aging?as_of=0001-01-01")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "query.as_of"


async def test_unknown_resource_is_a_404_problem(api: Api) -> None:
    response = await api.get("/credit/v1/customers/NOBODY")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


async def test_missing_unknown_and_underscoped_keys(api: Api) -> None:
    missing = await api._client("/credit").get("/credit/v1/customers/D-1")
    assert missing.status_code == 401
    assert missing.headers["content-type"] == "application/problem+json"
    assert (await api.get("/credit/v1/customers/D-1", key="wrong")).status_code == 401
    # A ledger reader may read the ledger but not write it, nor touch credit.
    reader = KEYS["ledger_reader"]
    assert (await api.get("/ledger/v1/aging", key=reader)).status_code == 200
    forbidden = await api.post("/ledger/v1/sweeps", {"as_of": "2026-01-01"}, key=reader)
    assert forbidden.status_code == 403 and "ledger:write" in forbidden.json()["detail"]
    assert (await api.get("/credit/v1/customers/D-1", key=reader)).status_code == 403


async def test_idempotent_post_replays_the_first_answer(api: Api) -> None:
    headers = {"Idempotency-Key": "register-D-1"}
    first = await api.post("/credit/v1/customers", CUSTOMER, headers=headers)
    assert first.status_code == 201
    replay = await api.post("/credit/v1/customers", CUSTOMER, headers=headers)
    assert replay.status_code == 201
    assert replay.json() == first.json()
    assert replay.headers["idempotent-replayed"] == "true"

    other = await api.post("/credit/v1/customers", {**CUSTOMER, "name": "Else"}, headers=headers)
    assert other.status_code == 422
    assert other.json()["errors"][0]["field"] == "Idempotency-Key"

    # Without the key, the same POST is an update (200), not a replay.
    update = await api.post("/credit/v1/customers", CUSTOMER)
    assert update.status_code == 200 and "idempotent-replayed" not in update.headers


async def test_a_refusal_is_not_replayed(api: Api) -> None:
    headers = {"Idempotency-Key": "sweep-1"}
    refused = await api.post("/ledger/v1/sweeps", {"as_of": "2026-01-01"}, headers=headers,
                             key=KEYS["ledger_reader"])
    assert refused.status_code == 403
    again = await api.post("/ledger/v1/sweeps", {"as_of": "2026-01-01"}, headers=headers,
                           key=KEYS["ledger_reader"])
    assert again.status_code == 403 and "idempotent-replayed" not in again.headers
    unknown = await api.post("/credit/v1/customers", CUSTOMER, headers=headers, key="nobody")
    assert unknown.status_code == 401


async def test_idempotency_keys_are_per_caller(api: Api) -> None:
    headers = {"Idempotency-Key": "same-key"}
    as_admin = await api.post("/credit/v1/customers", CUSTOMER, headers=headers)
    as_writer = await api.post("/credit/v1/customers", CUSTOMER, headers=headers,
                               key=KEYS["credit_writer"])
    assert as_admin.status_code == 201
    assert as_writer.status_code == 200 and "idempotent-replayed" not in as_writer.headers


async def test_health_readiness_and_openapi(api: Api) -> None:
    client = api._client("/")
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["ready"] is True
    for prefix in ("/credit", "/ledger", "/reconciliation", "/collections"):
        spec = (await client.get(f"{prefix}/openapi.json")).json()
        assert any(path.startswith("/v1/") for path in spec["paths"]), prefix


async def test_metrics_count_events_published_and_handled(api: Api) -> None:
    await registered(api)
    client = api._client("/")

    async def counted() -> None:
        text = (await client.get("/metrics")).text
        assert 'recoup_events_published_total{service="credit",type="credit.customer.registered"}' in text
        assert ('recoup_events_handled_total{consumer="ledger",outcome="applied",'
                'type="credit.customer.registered"}') in text
    await eventually(counted)
