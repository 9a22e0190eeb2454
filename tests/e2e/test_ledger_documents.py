"""The ledger's documents through HTTP: idempotent by id, allocations, credit notes,
and the books as they stood on an earlier date."""

from __future__ import annotations

from tests.support.api import Api, eventually


async def dealer(api: Api, terms: dict | None = None) -> None:
    await api.ok("POST", "/credit/v1/customers", {
        "id": "D-9", "name": "Dealer", "salesperson": "li.na",
        "terms": terms or {"mode": "net_days", "days": 30},
        "credit_limit": {"amount": 10_000_000, "currency": "CNY"}})

    async def known() -> None:
        account = await api.get("/ledger/v1/customers/D-9/account?as_of=2026-01-01")
        assert account.status_code == 200
    await eventually(known)


def invoice(n: int, amount: int, issued: str, **extra: object) -> dict:
    return {"id": f"INV-{n}", "customer_id": "D-9", "amount": amount, "currency": "CNY",
            "issue_date": issued, **extra}


async def test_reposting_a_document_is_a_no_op_and_a_different_one_a_conflict(api: Api) -> None:
    await dealer(api)
    first = await api.post("/ledger/v1/invoices", invoice(1, 1000, "2026-01-01"))
    again = await api.post("/ledger/v1/invoices", invoice(1, 1000, "2026-01-01"))
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    other = await api.post("/ledger/v1/invoices", invoice(1, 2000, "2026-01-01"))
    assert other.status_code == 409 and other.json()["errors"][0]["field"] == "id"

    # The terms change; a retry of the old invoice without a due date is still the same one.
    await dealer(api, {"mode": "net_days", "days": 60})

    attempts = iter(range(2, 10_000))  # a new invoice each time: a re-post would be the same one

    async def terms_replicated() -> None:
        fresh = await api.ok("POST", "/ledger/v1/invoices", invoice(next(attempts), 10, "2026-01-01"))
        assert fresh["due_date"] == "2026-03-02"
    await eventually(terms_replicated)
    assert (await api.post("/ledger/v1/invoices", invoice(1, 1000, "2026-01-01"))).status_code == 200


async def test_allocations_overpayment_and_credit_notes(api: Api) -> None:
    await dealer(api)
    for n, issued in ((1, "2026-01-01"), (2, "2026-01-10"), (3, "2026-01-20")):
        await api.ok("POST", "/ledger/v1/invoices", invoice(n, 100_000, issued))

    named = await api.ok("POST", "/ledger/v1/payments", {
        "id": "P-1", "customer_id": "D-9", "amount": 40_000, "currency": "CNY",
        "received_on": "2026-02-01", "allocations": [{"invoice_id": "INV-3", "amount": 40_000}]})
    assert named["allocations"] == [{"invoice_id": "INV-3", "amount": 40_000}]

    oldest_first = await api.ok("POST", "/ledger/v1/payments", {
        "id": "P-2", "customer_id": "D-9", "amount": 250_000, "currency": "CNY",
        "received_on": "2026-02-15"})
    assert oldest_first["allocations"] == [
        {"invoice_id": "INV-1", "amount": 100_000}, {"invoice_id": "INV-2", "amount": 100_000},
        {"invoice_id": "INV-3", "amount": 50_000}]
    assert oldest_first["unapplied"] == 0

    credit_note = await api.ok("POST", "/ledger/v1/credit-notes", {
        "id": "CN-1", "customer_id": "D-9", "amount": 30_000, "currency": "CNY",
        "issue_date": "2026-02-20", "invoice_id": "INV-3"})
    assert credit_note["allocations"] == [{"invoice_id": "INV-3", "amount": 10_000}]
    assert credit_note["unapplied"] == 20_000

    today = await api.ok("GET", "/ledger/v1/customers/D-9/account?as_of=2026-02-20")
    assert today["balance"] == [{"amount": -20_000, "currency": "CNY"}]  # in the customer's favour
    assert today["unapplied"] == [{"amount": 20_000, "currency": "CNY"}]
    assert today["open_invoices"] == []

    # The books as they stood on 2026-02-10: only P-1 had arrived.
    then = await api.ok("GET", "/ledger/v1/customers/D-9/account?as_of=2026-02-10")
    assert then["balance"] == [{"amount": 260_000, "currency": "CNY"}]
    assert then["overdue"] == [{"amount": 200_000, "currency": "CNY"}]  # due 01-31 and 02-09
    assert [(i["invoice_id"], i["open_amount"], i["days_past_due"]) for i in then["open_invoices"]] == [
        ("INV-1", 100_000, 10), ("INV-2", 100_000, 1), ("INV-3", 60_000, 0)]

    aging = await api.ok("GET", "/ledger/v1/aging?as_of=2026-02-10")
    (row,) = aging["customers"]
    assert row["buckets"]["1-30"] == 200_000 and row["buckets"]["current"] == 60_000
    assert aging["totals"] == [{"currency": "CNY", "buckets": row["buckets"], "total": 260_000,
                                "unapplied": 0, "balance": 260_000}]


async def test_an_empty_allocation_list_leaves_the_money_unapplied(api: Api) -> None:
    await dealer(api)
    await api.ok("POST", "/ledger/v1/invoices", invoice(1, 1000, "2026-01-01"))
    payment = await api.ok("POST", "/ledger/v1/payments", {
        "id": "P-1", "customer_id": "D-9", "amount": 400, "currency": "CNY",
        "received_on": "2026-01-05", "allocations": []})
    assert (payment["allocations"], payment["unapplied"]) == ([], 400)


async def test_a_payment_naming_invoices_pays_only_those_and_keeps_the_rest(api: Api) -> None:
    """A remittance that names invoices but not amounts: those, oldest due first; the rest
    on account (not the customer's older invoices)."""
    await dealer(api)
    for n, issued in ((1, "2026-01-01"), (2, "2026-01-10"), (3, "2026-01-20")):
        await api.ok("POST", "/ledger/v1/invoices", invoice(n, 100_000, issued))
    payment = {"id": "P-1", "customer_id": "D-9", "amount": 250_000, "currency": "CNY",
               "received_on": "2026-02-01", "invoice_ids": ["INV-3", "INV-2"]}
    paid = await api.ok("POST", "/ledger/v1/payments", payment)
    assert paid["allocations"] == [{"invoice_id": "INV-2", "amount": 100_000},
                                   {"invoice_id": "INV-3", "amount": 100_000}]
    assert paid["unapplied"] == 50_000
    assert (await api.post("/ledger/v1/payments", payment)).status_code == 200  # a retry

    both = await api.post("/ledger/v1/payments", {**payment, "id": "P-2", "allocations": [
        {"invoice_id": "INV-1", "amount": 10}]})
    assert both.status_code == 422 and both.json()["errors"][0]["field"] == "invoice_ids"
    stranger = await api.post("/ledger/v1/payments", {**payment, "id": "P-3",
                                                       "invoice_ids": ["INV-1", "INV-404"]})
    assert stranger.status_code == 422
    assert stranger.json()["errors"][0]["field"] == "invoice_ids.1"


async def test_payment_refusals(api: Api) -> None:
    await dealer(api)
    await api.ok("POST", "/ledger/v1/invoices", invoice(1, 1000, "2026-01-01"))
    too_much = await api.post("/ledger/v1/payments", {
        "id": "P-1", "customer_id": "D-9", "amount": 5000, "currency": "CNY",
        "received_on": "2026-01-05", "allocations": [{"invoice_id": "INV-1", "amount": 1001}]})
    assert too_much.status_code == 422
    assert too_much.json()["errors"][0]["field"] == "allocations.0.amount"
    wrong_currency = await api.post("/ledger/v1/payments", {
        "id": "P-2", "customer_id": "D-9", "amount": 500, "currency": "USD",
        "received_on": "2026-01-05", "allocations": [{"invoice_id": "INV-1", "amount": 500}]})
    assert wrong_currency.status_code == 422
    assert wrong_currency.json()["errors"][0]["field"] == "allocations.0.invoice_id"
    account = await api.ok("GET", "/ledger/v1/customers/D-9/account?as_of=2026-01-05")
    assert account["balance"] == [{"amount": 1000, "currency": "CNY"}]  # nothing half-booked


async def test_early_payment_discount_is_booked_and_shows_on_the_statement(api: Api) -> None:
    await dealer(api, {"mode": "net_days", "days": 30,
                       "early_payment_discount": {"percent": 2, "within_days": 10}})

    async def discount_terms_known() -> None:
        probe = await api.ok("POST", "/ledger/v1/invoices", invoice(99, 1, "2025-12-01"))
        assert probe["due_date"] == "2025-12-31"
    await eventually(discount_terms_known)
    await api.ok("POST", "/ledger/v1/payments", {
        "id": "P-0", "customer_id": "D-9", "amount": 1, "currency": "CNY", "received_on": "2025-12-01"})

    await api.ok("POST", "/ledger/v1/invoices", invoice(1, 100_000, "2026-01-01"))
    paid = await api.ok("POST", "/ledger/v1/payments", {
        "id": "P-1", "customer_id": "D-9", "amount": 98_000, "currency": "CNY",
        "received_on": "2026-01-08"})
    assert paid["allocations"] == [{"invoice_id": "INV-1", "amount": 98_000}]
    assert (await api.ok("GET", "/ledger/v1/invoices/INV-1"))["settled_on"] == "2026-01-08"
    account = await api.ok("GET", "/ledger/v1/customers/D-9/account?as_of=2026-01-08")
    assert account["balance"] == [{"amount": 0, "currency": "CNY"}]

    async def statement_shows_discount() -> None:
        statement = await api.ok("POST", "/reconciliation/v1/statements",
                                 {"customer_id": "D-9", "period": "2026-01"})
        lines = [(line["kind"], line["credit"]) for line in statement["lines"]]
        assert lines == [("invoice", 0), ("payment", 98_000), ("discount", 2_000)], lines
        assert statement["closing_balance"] == 0
    await eventually(statement_shows_discount)


async def test_unapplied_credit_pays_the_next_invoice(api: Api) -> None:
    await dealer(api)
    advance = await api.ok("POST", "/ledger/v1/payments", {
        "id": "P-1", "customer_id": "D-9", "amount": 50_000, "currency": "CNY",
        "received_on": "2026-01-02"})
    assert advance["unapplied"] == 50_000
    billed = await api.ok("POST", "/ledger/v1/invoices", invoice(1, 30_000, "2026-01-05"))
    assert (billed["open_amount"], billed["settled_on"]) == (0, "2026-01-05")
    account = await api.ok("GET", "/ledger/v1/customers/D-9/account?as_of=2026-01-05")
    assert account["balance"] == [{"amount": -20_000, "currency": "CNY"}]
    assert account["unapplied"] == [{"amount": 20_000, "currency": "CNY"}]
    # The books of 2026-01-03, before the invoice: all 50,000 unapplied.
    before = await api.ok("GET", "/ledger/v1/customers/D-9/account?as_of=2026-01-03")
    assert before["unapplied"] == [{"amount": 50_000, "currency": "CNY"}]

    async def statement_ages_nothing() -> None:
        statement = await api.ok("POST", "/reconciliation/v1/statements",
                                 {"customer_id": "D-9", "period": "2026-01"})
        assert statement["closing_balance"] == -20_000
        assert sum(statement["aging"].values()) == 0
    await eventually(statement_ages_nothing)


async def test_reports_history_aging_by_salesperson_and_metrics(api: Api) -> None:
    await dealer(api)  # salesperson li.na, from the dossier, when an invoice names none
    await api.ok("POST", "/ledger/v1/invoices", invoice(1, 90_000, "2026-01-10"))
    await api.ok("POST", "/ledger/v1/invoices", invoice(2, 60_000, "2026-02-10", salesperson="wang"))
    await api.ok("POST", "/ledger/v1/payments", {
        "id": "P-1", "customer_id": "D-9", "amount": 30_000, "currency": "CNY",
        "received_on": "2026-02-20"})

    history = await api.ok("GET", "/ledger/v1/customers/D-9/history?from=2026-02-01&to=2026-02-28")
    (cny,) = history["currencies"]
    assert cny["opening_balance"] == 90_000
    assert [(e["document_id"], e["debit"], e["credit"], e["balance"]) for e in cny["entries"]] == [
        ("INV-2", 60_000, 0, 150_000), ("P-1", 0, 30_000, 120_000)]
    assert cny["closing_balance"] == 120_000

    async def owners_known() -> None:
        aging = await api.ok("GET", "/ledger/v1/aging?as_of=2026-03-15&group_by=salesperson"
                                    "&buckets=15,45")
        assert aging["buckets"] == ["current", "1-15", "16-45", "45+"]
        assert {(r["salesperson"], r["total"]) for r in aging["salespeople"]} == {
            ("li.na", 60_000), ("wang", 60_000)}
        li_na = next(r for r in aging["salespeople"] if r["salesperson"] == "li.na")
        assert li_na["buckets"]["16-45"] == 60_000  # INV-1 due 02-09: 34 days past due
    await eventually(owners_known)
    bad = await api.get("/ledger/v1/aging?buckets=60,30")
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "query.buckets"

    figures = await api.ok("GET", "/ledger/v1/metrics?as_of=2026-02-28&months=2&customer_id=D-9")
    (m,) = figures["currencies"]
    # Receivables 120,000: February's sales (60,000 over 28 days), then 60,000 of January's
    # 90,000 (31 days): 28 + 31 x 2/3 = 48.7 days. Not yet due: INV-2's 60,000 -> 28 days.
    assert (m["receivables"], m["current"], m["dso_days"], m["best_possible_dso_days"]) == (
        120_000, 60_000, 48.7, 28.0)
    assert m["average_days_delinquent"] == 20.7
    assert m["within_terms_percent"] == 50.0
    # CEI: opening 0 + sales 150,000; collected 30,000 of the 90,000 collectible -> 33.3 %.
    assert m["cei_percent"] == 33.3


async def test_charges_refunds_and_write_offs(api: Api) -> None:
    await dealer(api)
    await api.ok("POST", "/ledger/v1/invoices", invoice(1, 100_000, "2026-01-01"))
    interest = await api.ok("POST", "/ledger/v1/charges", {
        "id": "INT-1", "customer_id": "D-9", "kind": "interest", "amount": 1_500,
        "currency": "CNY", "issue_date": "2026-03-01", "invoice_id": "INV-1",
        "reason": "late interest after the written notice of 2026-02-15"})
    assert (interest["kind"], interest["due_date"], interest["reference_id"]) == (
        "interest", "2026-03-01", "INV-1")

    # The invoice goes bad in part; who and why are kept.
    write_off = await api.ok("POST", "/ledger/v1/write-offs", {
        "id": "WO-1", "invoice_id": "INV-1", "amount": 40_000, "written_off_on": "2026-09-30",
        "reason": "court ruling: 60 % recoverable"})
    assert write_off["allocations"] == [{"invoice_id": "INV-1", "amount": 40_000}]
    assert write_off["memo"] == "court ruling: 60 % recoverable"
    too_much = await api.post("/ledger/v1/write-offs", {
        "id": "WO-2", "invoice_id": "INV-1", "amount": 60_001, "written_off_on": "2026-09-30",
        "reason": "x"})
    assert too_much.status_code == 422

    # The customer overpays; the rest is refunded, and no more than that.
    await api.ok("POST", "/ledger/v1/payments", {
        "id": "P-1", "customer_id": "D-9", "amount": 70_000, "currency": "CNY",
        "received_on": "2026-10-01"})
    greedy = await api.post("/ledger/v1/refunds", {
        "id": "R-1", "customer_id": "D-9", "amount": 8_501, "currency": "CNY",
        "refunded_on": "2026-10-05", "reason": "overpaid"})
    assert greedy.status_code == 422 and greedy.json()["errors"][0]["field"] == "amount"
    refund = await api.ok("POST", "/ledger/v1/refunds", {
        "id": "R-1", "customer_id": "D-9", "amount": 8_500, "currency": "CNY",
        "refunded_on": "2026-10-05", "reason": "overpaid"})
    assert (refund["kind"], refund["open_amount"]) == ("refund", 0)

    account = await api.ok("GET", "/ledger/v1/customers/D-9/account?as_of=2026-10-05")
    assert account["balance"] == [{"amount": 0, "currency": "CNY"}]

    async def statement_lines() -> None:
        statement = await api.ok("POST", "/reconciliation/v1/statements",
                                 {"customer_id": "D-9", "period": "2026-10"})
        assert statement["opening_balance"] == 61_500
        assert [(line["kind"], line["debit"], line["credit"]) for line in statement["lines"]] == [
            ("payment", 0, 70_000), ("refund", 8_500, 0)]
        assert statement["closing_balance"] == 0
    await eventually(statement_lines)


async def test_unapplied_credit_applied_as_told(api: Api) -> None:
    await dealer(api)
    await api.ok("POST", "/ledger/v1/invoices", invoice(1, 10_000, "2026-01-01"))
    await api.ok("POST", "/ledger/v1/payments", {
        "id": "P-1", "customer_id": "D-9", "amount": 30_000, "currency": "CNY",
        "received_on": "2026-01-05", "allocations": []})
    await api.ok("POST", "/ledger/v1/invoices", invoice(2, 15_000, "2026-01-02"))
    # The new invoice took what it could of the unapplied credit by itself...
    assert (await api.ok("GET", "/ledger/v1/invoices/INV-2"))["open_amount"] == 0
    # ...and the customer says the rest (15,000) pays INV-1.
    applied = await api.ok("POST", "/ledger/v1/applications", {
        "document_kind": "payment", "document_id": "P-1", "applied_on": "2026-01-06",
        "allocations": [{"invoice_id": "INV-1", "amount": 10_000}]})
    assert applied["unapplied"] == 5_000
    assert (await api.ok("GET", "/ledger/v1/invoices/INV-1"))["settled_on"] == "2026-01-06"
    too_much = await api.post("/ledger/v1/applications", {
        "document_kind": "payment", "document_id": "P-1", "applied_on": "2026-01-06",
        "allocations": [{"invoice_id": "INV-2", "amount": 1}]})
    assert too_much.status_code == 422  # INV-2 is settled: not an open invoice


async def test_a_bounced_payment_brings_the_debt_back_with_its_age(api: Api) -> None:
    await dealer(api)
    await api.ok("POST", "/ledger/v1/invoices", invoice(1, 100_000, "2026-01-01"))  # due 01-31
    await api.ok("POST", "/ledger/v1/payments", {
        "id": "P-1", "customer_id": "D-9", "amount": 100_000, "currency": "CNY",
        "received_on": "2026-02-10", "method": "cheque"})
    reversal = await api.ok("POST", "/ledger/v1/payments/P-1/reversal", {
        "reversed_on": "2026-02-20", "reason": "cheque returned unpaid"})
    assert (reversal["id"], reversal["kind"], reversal["due_date"], reversal["open_amount"]) == (
        "REV-P-1", "reversal", "2026-01-31", 100_000)
    assert (await api.post("/ledger/v1/payments/P-1/reversal", {
        "reversed_on": "2026-02-20", "reason": "cheque returned unpaid"})).status_code == 200
    assert (await api.post("/ledger/v1/payments/NOPE/reversal", {
        "reversed_on": "2026-02-20", "reason": "x"})).status_code == 404

    aging = await api.ok("GET", "/ledger/v1/aging?as_of=2026-02-20")
    assert aging["customers"][0]["buckets"]["1-30"] == 100_000  # 20 days late, not "current"
    # Past due when it bounced: the reversal announced the missed payment, not the sweep.
    sweep = await api.ok("POST", "/ledger/v1/sweeps", {"as_of": "2026-02-21"})
    assert sweep["payment_missed"] == 0
    # The payment and what it settled stay on the books, as history.
    assert (await api.ok("GET", "/ledger/v1/invoices/INV-1"))["settled_on"] == "2026-02-10"


async def test_invoices_listed_page_by_page_and_documents_read_back(api: Api) -> None:
    await dealer(api)
    for n in range(5):
        await api.ok("POST", "/ledger/v1/invoices", invoice(n, 1_000, f"2026-01-0{n + 1}",
                                                            order_id=f"SO-{n % 2}"))
    await api.ok("POST", "/ledger/v1/payments", {
        "id": "P-1", "customer_id": "D-9", "amount": 1_500, "currency": "CNY",
        "received_on": "2026-02-01"})
    seen, url = [], "/ledger/v1/invoices?customer_id=D-9&limit=2"
    while url:
        page = await api.get(url)
        assert page.status_code == 200 and len(page.json()) <= 2
        seen += [i["id"] for i in page.json()]
        url = page.links.get("next", {}).get("url")
    assert seen == [f"INV-{n}" for n in range(5)]  # oldest due first, each once
    open_ones = await api.ok("GET", "/ledger/v1/invoices?customer_id=D-9&status=open")
    assert [i["id"] for i in open_ones] == ["INV-1", "INV-2", "INV-3", "INV-4"]
    assert [i["id"] for i in await api.ok("GET", "/ledger/v1/invoices?order_id=SO-1")] == [
        "INV-1", "INV-3"]
    assert (await api.get("/ledger/v1/invoices?cursor=nonsense")).json()["errors"][0][
        "field"] == "query.cursor"

    payment = await api.ok("GET", "/ledger/v1/payments/P-1")
    assert payment["allocations"] == [{"invoice_id": "INV-0", "amount": 1_000},
                                      {"invoice_id": "INV-1", "amount": 500}]
    assert (await api.get("/ledger/v1/credit-notes/P-1")).status_code == 404
