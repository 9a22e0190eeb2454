"""Accountability through the API: KPIs per salesperson and in total, promises kept, money
recovered, and the provision matrix."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from shared.events import contracts as ev
from tests.support.collections import collections_alone, feed, overdue, registered

D = date.fromisoformat


def paid(customer_id: str, payment_id: str, invoice_id: str, amount: int, on: str) -> ev.PaymentReceived:
    return ev.PaymentReceived(customer_id=customer_id, payment_id=payment_id, amount=amount,
                              currency="CNY", received_on=D(on), unapplied=0,
                              allocations=[ev.Allocation(invoice_id=invoice_id, amount=amount)])


async def test_kpis_per_salesperson_and_in_total(tmp_path: Path) -> None:
    async with collections_alone("sqlite", tmp_path) as (runtime, client):
        await feed(runtime, registered("C1", salesperson="li.na"),
                   registered("C2", salesperson="wang.wei"),
                   *overdue("C1", "I1", 100_000, due=D("2026-01-31"), as_of=D("2026-02-05")),
                   ev.InvoicePosted(customer_id="C2", invoice_id="I2", amount=200_000,
                                    currency="CNY", issue_date=D("2026-02-10"),
                                    due_date=D("2026-03-12")))
        (case,) = (await client.get("/v1/cases")).json()
        await client.post(f"/v1/cases/{case['id']}/promises", json={
            "amount": 100_000, "currency": "CNY", "promised_on": "2026-02-15", "as_of": "2026-02-05"})
        await feed(runtime, paid("C1", "P1", "I1", 100_000, "2026-02-15"))

        kpis = (await client.get("/v1/kpis?as_of=2026-03-31&months=3")).json()
        (total,) = kpis["total"]["currencies"]
        assert total["receivables"] == {"amount": 200_000, "currency": "CNY"}
        assert total["overdue"] == {"amount": 200_000, "currency": "CNY"}
        assert (total["dso"], total["best_possible_dso"], total["average_days_delinquent"]) == (
            59.0, 0.0, 59.0)
        assert (total["cei"], total["within_terms_percent"]) == (33.3, 0.0)
        assert total["recovered"] == {"amount": 100_000, "currency": "CNY"}
        assert kpis["total"]["promises"] == {"kept": 1, "broken": 0, "kept_percent": 100.0}
        people = {p["salesperson"]: p for p in kpis["by_salesperson"]}
        assert people["li.na"]["currencies"][0]["recovered"]["amount"] == 100_000
        assert people["li.na"]["currencies"][0]["receivables"]["amount"] == 0
        assert people["li.na"]["promises"]["kept"] == 1
        assert people["wang.wei"]["currencies"][0]["overdue"]["amount"] == 200_000

        one = (await client.get("/v1/kpis?as_of=2026-03-31&salesperson=wang.wei")).json()
        assert [p["salesperson"] for p in one["by_salesperson"]] == ["wang.wei"]
        assert one["total"]["currencies"][0]["receivables"]["amount"] == 200_000


async def test_the_provision_matrix_through_the_api(tmp_path: Path) -> None:
    async with collections_alone("sqlite", tmp_path) as (runtime, client):
        await feed(runtime,
                   ev.InvoicePosted(customer_id="C1", invoice_id="LOST", amount=100_000,
                                    currency="CNY", issue_date=D("2025-01-01"), due_date=D("2025-01-31")),
                   ev.InvoicePosted(customer_id="C1", invoice_id="PAID", amount=300_000,
                                    currency="CNY", issue_date=D("2025-01-01"), due_date=D("2025-01-31")),
                   paid("C1", "P1", "PAID", 300_000, "2025-05-01"),
                   ev.InvoiceWrittenOff(customer_id="C1", write_off_id="W1", invoice_id="LOST",
                                        amount=100_000, currency="CNY", written_off_on=D("2025-09-01"),
                                        reason="bankrupt"),
                   ev.InvoicePosted(customer_id="C2", invoice_id="NOW", amount=40_000,
                                    currency="CNY", issue_date=D("2025-12-01"), due_date=D("2026-01-20")))
        answer = (await client.get("/v1/provisions?as_of=2026-03-01&months=12&horizon_months=6")).json()
        (cny,) = answer["currencies"]
        rows = {b["bucket"]: b for b in cny["buckets"]}
        # At the end of March and April 2025 both were 31-90 days late; a quarter was lost.
        assert rows["31-60"]["loss_rate_bp"] == 2_500 and rows["61-90"]["loss_rate_bp"] == 2_500
        # NOW is 40 days late today: a quarter of it is the expected loss.
        assert rows["31-60"]["open_now"]["amount"] == 40_000
        assert cny["expected_loss"] == {"amount": 10_000, "currency": "CNY"}
        assert len(cny["observation_dates"]) == 12
