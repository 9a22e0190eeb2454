"""ERP backfill through POST /ledger/v1/batches: all or nothing, every row answered,
nothing booked twice."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from tests.e2e.test_ledger_documents import dealer
from tests.support.api import Api

NDJSON = {"Content-Type": "application/x-ndjson"}


def ndjson(*rows: dict) -> str:
    return "\n".join(json.dumps(r) for r in rows) + "\n"


def invoice_row(n: int, amount: int = 10_000) -> dict:
    return {"type": "invoice", "id": f"B-INV-{n}", "customer_id": "D-9", "amount": amount,
            "currency": "CNY", "issue_date": "2026-01-0" + str(n)}


async def test_a_batch_is_booked_once(api: Api) -> None:
    await dealer(api)
    body = ndjson(invoice_row(1), invoice_row(2), {
        "type": "payment", "id": "B-PAY-1", "customer_id": "D-9", "amount": 15_000,
        "currency": "CNY", "received_on": "2026-01-20",
        "allocations": [{"invoice_id": "B-INV-2", "amount": 10_000}]},
        {"type": "credit_note", "id": "B-CN-1", "customer_id": "D-9", "amount": 1_000,
         "currency": "CNY", "issue_date": "2026-01-21", "invoice_id": "B-INV-1"})
    first = await api.post("/ledger/v1/batches", content=body, headers=NDJSON)
    assert first.status_code == 200, first.text
    assert (first.json()["created"], first.json()["booked"]) == (4, True)
    again = await api.post("/ledger/v1/batches", content=body, headers=NDJSON)
    assert (again.json()["created"], again.json()["unchanged"]) == (0, 4)
    account = await api.ok("GET", "/ledger/v1/customers/D-9/account?as_of=2026-01-31")
    assert account["balance"] == [{"amount": 4_000, "currency": "CNY"}]


async def test_one_bad_row_books_nothing_and_every_row_is_answered(api: Api) -> None:
    await dealer(api)
    body = ndjson(invoice_row(1), invoice_row(2, amount=-5),
                  {"type": "cheque", "id": "X"},
                  {"type": "payment", "id": "B-PAY-1", "customer_id": "D-9", "amount": 500,
                   "currency": "CNY", "received_on": "2026-01-20",
                   "allocations": [{"invoice_id": "NOPE", "amount": 500}]},
                  invoice_row(3))
    answer = await api.post("/ledger/v1/batches", content=body, headers=NDJSON)
    assert answer.status_code == 422
    result = answer.json()
    assert (result["booked"], result["created"], result["errors"]) == (False, 0, 3)
    statuses = [(r["row"], r["status"], [e["field"] for e in r.get("errors", [])])
                for r in result["results"]]
    assert statuses == [(1, "valid", []), (2, "error", ["amount"]), (3, "error", ["type"]),
                        (4, "error", ["allocations.0.invoice_id"]), (5, "valid", [])]
    assert (await api.get("/ledger/v1/invoices/B-INV-1")).status_code == 404


async def test_csv_batches(api: Api) -> None:
    await dealer(api)
    csv = ("type,id,customer_id,amount,currency,issue_date,received_on,invoice_id\n"
           "invoice,C-INV-1,D-9,20000,CNY,2026-02-01,,\n"
           "payment,C-PAY-1,D-9,5000,CNY,,2026-02-10,C-INV-1\n")
    answer = await api.post("/ledger/v1/batches", content=csv, headers={"Content-Type": "text/csv"})
    assert answer.status_code == 200, answer.text
    assert (await api.ok("GET", "/ledger/v1/invoices/C-INV-1"))["open_amount"] == 15_000
    bad = await api.post("/ledger/v1/batches", content="type,id\ninvoice,X\n",
                         headers={"Content-Type": "text/plain"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "Content-Type"


async def test_a_batch_announces_each_customers_position_once(embedded: tuple) -> None:
    api, app = embedded
    await dealer(api)
    runtime = app.state.runtimes["ledger"]
    outbox = runtime.infra.outbox

    async def positions() -> int:
        async with runtime.read_sessions() as session:
            return (await session.execute(select(func.count()).select_from(outbox)
                    .where(outbox.c.type == "ledger.balance.changed"))).scalar_one()

    before = await positions()
    rows = [invoice_row(n % 9 + 1) | {"id": f"M-{n}"} for n in range(50)]
    answer = await api.post("/ledger/v1/batches", content=ndjson(*rows), headers=NDJSON)
    assert answer.json()["created"] == 50
    assert await positions() == before + 1
    account = await api.ok("GET", "/ledger/v1/customers/D-9/account?as_of=2026-12-31")
    assert account["balance"] == [{"amount": 500_000, "currency": "CNY"}]


async def test_orders_and_the_first_position_that_includes_each_invoice(embedded: tuple) -> None:
    """credit holds an order's reservation until its view of the balance has reached the
    version that includes the invoice billing that order: on both paths."""
    api, app = embedded
    await dealer(api)
    single = {k: v for k, v in invoice_row(1).items() if k != "type"} | {"order_id": "SO-1"}
    assert (await api.ok("POST", "/ledger/v1/invoices", single))["order_id"] == "SO-1"
    rows = [invoice_row(2) | {"order_id": "SO-2"}, invoice_row(3) | {"order_id": "SO-3"}]
    assert (await api.post("/ledger/v1/batches", content=ndjson(*rows), headers=NDJSON)
            ).json()["created"] == 2
    assert (await api.ok("GET", "/ledger/v1/invoices/B-INV-2"))["order_id"] == "SO-2"

    runtime = app.state.runtimes["ledger"]
    outbox = runtime.infra.outbox
    async with runtime.read_sessions() as session:
        events = [json.loads(e)["data"] | {"type": t} for t, e in (await session.execute(
            select(outbox.c.type, outbox.c.envelope).order_by(outbox.c.id))).all()]
    posted = {e["order_id"]: e["balance_version"] for e in events
              if e["type"] == "ledger.invoice.posted"}
    positions = {e["version"]: e["balances"][0]["balance"] for e in events
                 if e["type"] == "ledger.balance.changed"}
    assert posted["SO-2"] == posted["SO-3"] == posted["SO-1"] + 1  # one position per batch
    assert positions[posted["SO-1"]] == 10_000 and positions[posted["SO-2"]] == 30_000
