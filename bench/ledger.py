"""The ledger benchmark's command line (the measuring is in bench/ledger_scale.py)."""

from __future__ import annotations

import argparse
import sys
import time
import traceback

from bench import ledger_scale

DESCRIPTION = ("posting throughput against raw inserts, and the aging report and overdue sweep "
               "over a large book against hand-written SQL (PostgreSQL)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    ledger = parser.add_argument_group("ledger benchmark (bench/ledger_scale.py)")
    ledger.add_argument("--bulk-rows", type=int, default=4_000,
                        help="invoices, then as many payments, through POST /ledger/v1/batches "
                             "(default 4000; 0 = skip); the raw-insert baseline inserts as many, "
                             "at least 20000")
    ledger.add_argument("--single-rows", type=int, default=1_000,
                        help="invoices, then as many payments, through single POSTs "
                             "(default 1000; 0 = skip)")
    ledger.add_argument("--batch-size", type=int, default=2_000,
                        help="rows per batch (default 2000; the endpoint allows 10000)")
    ledger.add_argument("--post-customers", type=int, default=100,
                        help="customers the posted rows are spread over (default 100)")
    ledger.add_argument("--concurrency", type=int, default=4,
                        help="concurrent clients for the single POSTs (default 4)")
    ledger.add_argument("--invoices", type=int, default=100_000,
                        help="open invoices in the book for aging and sweep (default 100000; "
                             "the issue's size is 1000000; 0 = skip)")
    ledger.add_argument("--invoice-customers", type=int, default=None,
                        help="customers in that book (default invoices / 100)")
    ledger.add_argument("--repeat", type=int, default=3,
                        help="runs of the aging report and of its SQL, and of the raw insert; "
                             "the median counts (default 3)")
    ledger.add_argument("--no-sweep", dest="sweep", action="store_false",
                        help="skip the overdue sweep (the slow part at scale)")
    ledger.add_argument("--profile", action="store_true",
                        help="print cProfile tables for the first bulk batch, the aging report "
                             "and the sweep")


def check_arguments(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    if args.invoice_customers is None:
        args.invoice_customers = max(1, args.invoices // 100)
    if min(args.bulk_rows, args.single_rows, args.invoices) < 0 or min(
            args.batch_size, args.post_customers, args.concurrency, args.invoice_customers,
            args.repeat) < 1:
        parser.error("ledger sizes must not be negative; batch size, customers, concurrency and "
                     "repeat at least 1")


async def run(args: argparse.Namespace) -> bool:
    """The ledger benchmark; answers whether it failed (SKIPPED is no failure)."""
    options = ledger_scale.Options(
        bulk_rows=args.bulk_rows, single_rows=args.single_rows, batch_size=args.batch_size,
        post_customers=args.post_customers, concurrency=args.concurrency,
        invoices=args.invoices, invoice_customers=args.invoice_customers, repeat=args.repeat,
        sweep=args.sweep, profile=args.profile)
    started = time.perf_counter()
    print(f"\nledger benchmark: bulk {options.bulk_rows:,} + single {options.single_rows:,} rows "
          f"of each kind, {options.post_customers} customers; book of {options.invoices:,} "
          f"invoices for {options.invoice_customers:,} customers", flush=True)
    try:
        result = await ledger_scale.run(options)
    except ledger_scale.Unavailable as exc:
        print(f"\n-- ledger: SKIPPED, {exc}")
        return False
    except Exception as exc:
        print("\n-- ledger: FAILED", file=sys.stderr, flush=True)
        # SQLAlchemy's messages carry whole statements: 10,000 rows of VALUES are no help.
        print("".join(traceback.format_exception(exc))[-4000:], file=sys.stderr, flush=True)
        return True
    print(f"-- ledger: {time.perf_counter() - started:.0f} s from start to clean-up", flush=True)
    failed = any(rate.error for rate in result.posting) or bool(result.problems)
    if failed:
        print("-- ledger: finished with failures (see !! and FAILED above)", flush=True)
    return failed


