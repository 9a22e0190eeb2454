"""Cash matching at scale: bank credit lines matched against open invoices on a generated
data set with known answers (tests/support/bank_lines.py), printed as lines per second,
the automatic match rate and the wrong-match count (which must be zero), against a
baseline measured in the same run: the exact-reference dictionary lookup alone (the whole
remittance text reduced to letters and digits, looked up among the invoice numbers).

A second part imports a CSV bank file through the running service (embedded mode: HTTP,
SQLite, the ledger booking what was identified) to show what the service adds around the
matcher: parsing, storing each line, loading the book, the events.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time
import traceback
from collections import Counter

from bench.systems import Unavailable, embedded
from services.reconciliation.domain.matching import Book, Policy, match
from services.reconciliation.domain.references import ref_key
from tests.support.api import eventually
from tests.support.bank_files import Row, csv_file
from tests.support.bank_lines import Dataset, generate

DESCRIPTION = ("cash matching: bank lines per second against open invoices, automatic match rate "
               "and wrong matches on generated data with known answers, against the exact-reference "
               "dictionary lookup alone")
MUST_WAIT = ("stranger", "parent_pays", "typo_partial_stranger", "other_currency")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("cash matching (bench/reconciliation.py)")
    group.add_argument("--recon-lines", type=int, default=20_000,
                       help="reconciliation: bank lines to match (default 20,000; the issue's size "
                            "is 100,000)")
    group.add_argument("--recon-invoices", type=int, default=200_000,
                       help="reconciliation: open invoices (default 200,000; the issue's size is 1,000,000)")
    group.add_argument("--recon-customers", type=int, default=0,
                       help="reconciliation: customers (default invoices / 100)")
    group.add_argument("--recon-seed", type=int, default=7, help="reconciliation: the data set's seed")
    group.add_argument("--recon-service-lines", type=int, default=1_000,
                       help="reconciliation: lines imported through the service as CSV (default 1,000; "
                            "0 = skip)")
    group.add_argument("--recon-service-invoices", type=int, default=3_000,
                       help="reconciliation: open invoices booked in the service first (default 3,000)")
    group.add_argument("--recon-profile", action="store_true",
                       help="reconciliation: print where the matcher's time goes (cProfile)")


def check_arguments(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    if args.recon_lines < 1 or args.recon_invoices < 100:
        parser.error("--recon-lines must be at least 1 and --recon-invoices at least 100")
    if args.recon_service_lines and args.recon_service_invoices < args.recon_service_lines:
        parser.error("--recon-service-invoices must be at least --recon-service-lines")
    args.recon_customers = args.recon_customers or max(10, args.recon_invoices // 100)


def _baseline(data: Dataset) -> tuple[float, float, int, int]:
    """The exact-reference dictionary lookup alone: (index seconds, lookup seconds,
    matched, wrong)."""
    started = time.perf_counter()
    index = {item.key: item.customer_id for item in data.items}
    built = time.perf_counter()
    matched = wrong = 0
    for generated in data.lines:
        owner = index.get(ref_key(generated.line.reference or ""))
        if owner is not None:
            matched += 1
            wrong += owner != generated.truth
    return built - started, time.perf_counter() - built, matched, wrong


def _report_scenarios(data: Dataset, statuses: list[str], customers: list[str | None]) -> None:
    per: dict[str, Counter[str]] = {}
    for generated, status, customer in zip(data.lines, statuses, customers, strict=True):
        tally = per.setdefault(generated.scenario, Counter())
        tally["lines"] += 1
        tally[status] += 1
        tally["wrong"] += status == "matched" and customer != generated.truth
    print(f"    {'scenario':<24}{'lines':>8}{'matched':>9}{'rate':>7}{'wrong':>7}   expected")
    for scenario, tally in sorted(per.items()):
        rate = tally["matched"] / tally["lines"]
        expected = "unmatched (for a person)" if scenario in MUST_WAIT else "matched"
        print(f"    {scenario:<24}{tally['lines']:>8,}{tally['matched']:>9,}{rate:>7.0%}"
              f"{tally['wrong']:>7}   {expected}")


def matcher_part(args: argparse.Namespace) -> bool:
    print(f"\n-- matcher: {args.recon_lines:,} lines against {args.recon_invoices:,} open invoices of "
          f"{args.recon_customers:,} customers (seed {args.recon_seed})", flush=True)
    started = time.perf_counter()
    data = generate(customers=args.recon_customers, invoices=args.recon_invoices,
                    lines=args.recon_lines, seed=args.recon_seed)
    print(f"  data set generated in {time.perf_counter() - started:.1f} s", flush=True)

    base_build, base_seconds, base_matched, base_wrong = _baseline(data)
    lines = len(data.lines)
    base_rate = lines / base_seconds
    print(f"  BASELINE exact-reference dictionary lookup: index built in {base_build:.1f} s; "
          f"{base_rate:,.0f} lines/s, matched {base_matched / lines:.1%}, wrong {base_wrong:,}")

    started = time.perf_counter()
    book = Book(data.items, data.names)
    build = time.perf_counter() - started
    profile = cProfile.Profile() if args.recon_profile else None
    statuses: list[str] = []
    customers: list[str | None] = []
    policy = Policy()
    started = time.perf_counter()
    if profile:
        profile.enable()
    for generated in data.lines:
        result = match(generated.line, book, policy)
        statuses.append(result.status)
        customers.append(result.customer_id)
    if profile:
        profile.disable()
    seconds = time.perf_counter() - started
    matched = statuses.count("matched")
    wrong = sum(s == "matched" and c != g.truth
                for s, c, g in zip(statuses, customers, data.lines, strict=True))
    should = sum(g.scenario not in MUST_WAIT for g in data.lines)
    rate = lines / seconds
    print(f"  MATCHER: book of {len(data.items):,} invoices and {len(data.names):,} names built in "
          f"{build:.1f} s; {lines:,} lines in {seconds:.2f} s = {rate:,.0f} lines/s "
          f"({rate / base_rate:.3f}x the baseline's rate)")
    print(f"    automatic match rate {matched / lines:.1%} of all lines, {matched / should:.1%} of the "
          f"{should:,} lines a customer's evidence points at; wrong matches: {wrong}")
    _report_scenarios(data, statuses, customers)
    if profile:
        pstats.Stats(profile, stream=sys.stdout).sort_stats("tottime").print_stats(12)
    if wrong:
        print(f"  !! {wrong} lines matched to the wrong customer")
    return wrong > 0


async def service_part(args: argparse.Namespace) -> bool:
    lines, invoices = args.recon_service_lines, args.recon_service_invoices
    customers = max(10, invoices // 30)
    print(f"\n-- service: {lines:,} lines as a CSV file through POST /reconciliation/v1/bank-statements,"
          f" {invoices:,} open invoices of {customers:,} customers booked first", flush=True)
    data = generate(customers=customers, invoices=invoices, lines=lines, seed=args.recon_seed)
    async with embedded() as system:
        api = system.api
        started = time.perf_counter()
        for customer_id, name in data.customer_names.items():
            await api.ok("POST", "/credit/v1/customers", {
                "id": customer_id, "name": name, "terms": {"mode": "net_days", "days": 30},
                "credit_limit": {"amount": 10**12, "currency": "CNY"}})
        for n in range(0, len(data.items), 2_000):
            chunk = data.items[n:n + 2_000]
            body = "type,id,customer_id,amount,currency,issue_date,due_date\n" + "".join(
                f"invoice,{i.doc_id},{i.customer_id},{i.open_amount},CNY,2026-01-01,{i.due_date}\n"
                for i in chunk)

            async def batch(body: str = body) -> None:
                response = await api.post("/ledger/v1/batches", content=body.encode(),
                                          headers={"Content-Type": "text/csv"})
                assert response.status_code == 200, response.text[:300]
            await eventually(batch, timeout=120)

        async def seen() -> None:
            rows = await system.store.fetch(
                "reconciliation", "SELECT count(*) FROM account_item WHERE open_amount > 0")
            assert rows[0][0] == len(data.items), rows
        await eventually(seen, timeout=300, interval=0.5)
        print(f"  set up in {time.perf_counter() - started:.1f} s", flush=True)
        rows = [Row(g.line.booking_date, g.line.amount, g.line.payer_name, g.line.reference,
                    f"S{n}", currency=g.line.currency) for n, g in enumerate(data.lines)]
        content = csv_file(rows)
        started = time.perf_counter()
        response = await api.post("/reconciliation/v1/bank-statements", content=content,
                                  headers={"Content-Type": "text/csv"})
        seconds = time.perf_counter() - started
        assert response.status_code == 201, response.text[:500]
        answered = {line["bank_reference"]: line for line in response.json()["lines"]}
        statuses = [answered[f"S{n}"]["status"] for n in range(len(rows))]
        owners = [answered[f"S{n}"]["customer_id"] for n in range(len(rows))]
        wrong = sum(s == "matched" and c != g.truth
                    for s, c, g in zip(statuses, owners, data.lines, strict=True))
        matched = statuses.count("matched")
        print(f"  SERVICE: {len(rows):,} lines imported in {seconds:.2f} s = {len(rows) / seconds:,.0f} "
              f"lines/s (HTTP, parse, store, load the book, match, outbox); matched "
              f"{matched / len(rows):.1%}, wrong {wrong}")
        started = time.perf_counter()

        async def booked() -> None:
            count = await system.store.fetch(
                "reconciliation", "SELECT count(*) FROM bank_line WHERE status = 'matched' "
                "AND booked_on IS NOT NULL")
            assert count[0][0] == matched, count
        await eventually(booked, timeout=600, interval=0.5)
        print(f"  the ledger booked all {matched:,} identified payments "
              f"{time.perf_counter() - started:.1f} s after the import answered")
        return wrong > 0


async def run(args: argparse.Namespace) -> bool:
    print("cash-matching benchmark")
    failed = False
    try:
        failed |= matcher_part(args)
    except Exception:
        failed = True
        print("\n-- matcher: FAILED", file=sys.stderr, flush=True)
        traceback.print_exc()
    if args.recon_service_lines:
        try:
            failed |= await service_part(args)
        except Unavailable as exc:
            print(f"\n-- service: SKIPPED, {exc}")
        except Exception:
            failed = True
            print("\n-- service: FAILED", file=sys.stderr, flush=True)
            traceback.print_exc()
    return failed

