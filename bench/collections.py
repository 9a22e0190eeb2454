"""The collection-plan benchmark's command line and report (the measuring is in
bench/collections_night.py)."""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

from bench.collections_night import Night, run_night
from bench.stats import ms, ratio, summary
from bench.systems import System, Unavailable, distributed, embedded

MODES: dict[str, Callable[..., AbstractAsyncContextManager[System]]] = {
    "embedded": embedded, "distributed": distributed,
}
# The night charges February's late interest: a rate must be set (none is charged unset).
SETTINGS = {"RECOUP_COLLECTIONS_INTEREST_RATE_BASIS_POINTS": "1200"}
DESCRIPTION = ("collection-plan's night (after the ledger's sweep: escalations, interest, "
               "reminders) and day (worklists, KPIs, provisions) on a book of N customers, "
               "against the ledger's sweep and a plain list page")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("collections (bench/collections_night.py)")
    group.add_argument("--collections-mode", choices=["embedded", "distributed", "both"],
                       default="embedded", help="collections: the mode(s) (default embedded)")
    group.add_argument("--collections-customers", type=int, default=1_000,
                       help="collections: customers in the book, two invoices each (default 1000)")
    group.add_argument("--collections-repeat", type=int, default=50,
                       help="collections: timed worklist and list requests (default 50; KPIs and "
                            "provisions a tenth of that)")


def check_arguments(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    if args.collections_customers < 10 or args.collections_repeat < 1:
        parser.error("--collections-customers is at least 10, --collections-repeat at least 1")


def _row(label: str, values: list[float], base: dict[str, float]) -> str:
    s = summary(values)
    return (f"    {label:<58}{ms(s['p50']):>9}{ms(s['p99']):>9}{ms(s['max']):>9}"
            f"{ratio(s['p50'], base['p50']):>10}")


def report(mode: str, description: str, n: Night) -> None:
    base = summary(n.cases_page)
    per = n.customers
    print(f"\n== {mode}: {description}; {per:,} customers, {2 * per:,} invoices "
          f"(set up in {n.setup_seconds:.0f} s)")
    print(f"  BASELINE 1: the ledger's overdue sweep of the night: {n.ledger_sweep_seconds:.2f} s "
          f"({n.ledger_sweep.get('events')} events)")
    print(f"    its {per:,} escalations to supply pressure done by collection-plan "
          f"{n.escalations_seconds:.2f} s after its answer")
    print(f"  collection-plan's sweep: {n.sweep_seconds:.2f} s = {n.sweep_seconds / per * 1000:.2f} ms "
          f"per customer, {ratio(n.sweep_seconds, n.ledger_sweep_seconds)} the ledger's sweep")
    print(f"    did {n.sweep.get('interest_charged')} interest charges, {n.sweep.get('reminders')} "
          f"reminders, {n.sweep.get('escalated')} escalations over {n.sweep.get('customers')} customers")
    print(f"  the same date again (nothing new): {n.rerun_seconds:.2f} s = "
          f"{n.rerun_seconds / per * 1000:.2f} ms per customer, "
          f"{ratio(n.rerun_seconds, n.sweep_seconds)} the first run")
    print(f"  BASELINE 2: GET /collections/v1/cases?limit=100 (x{len(n.cases_page)}): "
          f"p50 {ms(base['p50'])} ms, p99 {ms(base['p99'])} ms")
    print(f"    {'(milliseconds)':<58}{'p50':>9}{'p99':>9}{'max':>9}{'p50/base':>10}")
    print(_row(f"worklist of one collector, first 100 of its {per // 10:,} customers' tasks "
               f"(x{len(n.worklist)})", n.worklist, base))
    print(_row(f"KPIs, every salesperson and the total (x{len(n.kpis)})", n.kpis, base))
    print(_row(f"provision matrix, 12 month-ends (x{len(n.provisions)})", n.provisions, base))
    for note in n.notes:
        print(f"    !! {note}")


async def run(args: argparse.Namespace) -> bool:
    """The collection-plan benchmark; answers whether it failed (SKIPPED is no failure)."""
    modes = ["embedded", "distributed"] if args.collections_mode == "both" else [args.collections_mode]
    failed = False
    print(f"\ncollections benchmark: {args.collections_customers:,} customers, "
          f"mode(s) {', '.join(modes)}", flush=True)
    for mode in modes:
        started = time.perf_counter()
        try:
            async with MODES[mode](settings=SETTINGS) as system:
                night = await run_night(system, args.collections_customers, args.collections_repeat)
            report(mode, system.description, night)
            failed |= bool(night.notes)
        except Unavailable as exc:
            print(f"\n-- {mode}: SKIPPED, {exc}")
        except Exception:
            failed = True
            print(f"\n-- collections {mode}: FAILED", file=sys.stderr, flush=True)
            traceback.print_exc()
        print(f"-- collections {mode}: {time.perf_counter() - started:.0f} s from start to clean-up",
              flush=True)
    return failed
