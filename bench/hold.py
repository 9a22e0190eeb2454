"""The hold-latency benchmark's command line and report (the measuring is in
bench/hold_latency.py)."""

from __future__ import annotations

import argparse
import math
import sys
import time
import traceback
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

from bench import hold_latency
from bench.hold_latency import Result, Round
from bench.stats import ms, percentile, ratio, summary
from bench.systems import System, Unavailable, distributed, embedded

MODES: dict[str, Callable[[], AbstractAsyncContextManager[System]]] = {
    "embedded": embedded, "distributed": distributed,
}
DESCRIPTION = ("time from the sweep's ledger.payment.missed to the hold being visible in the "
               "credit check, with a credit-check round trip as the baseline")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("hold latency (bench/hold_latency.py)")
    group.add_argument("--mode", choices=["embedded", "distributed", "both"], default="both",
                        help="hold: the mode(s) (default both)")
    group.add_argument("--customers", type=int, default=300,
                        help="hold: customers per round (default 300)")
    group.add_argument("--probes", type=int, default=20,
                        help="customers polled with credit checks, spread over the sweep's order; "
                             "0 = all (default 20; every customer is timed on the server clock)")
    group.add_argument("--pollers", type=int, default=2,
                        help="concurrent credit checks while waiting for the holds (default 2)")
    group.add_argument("--poll-interval", type=float, default=0.1,
                        help="least seconds between two checks of one customer (default 0.1)")
    group.add_argument("--baseline-checks", type=int, default=300,
                        help="sequential credit checks for the baseline (default 300)")
    group.add_argument("--no-control", dest="control", action="store_false",
                        help="skip the unobserved round (no polling) that runs first")
    group.add_argument("--timeout", type=float, default=120,
                        help="seconds to wait for all holds after the sweep (default 120)")


def check_arguments(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    if args.customers < 1 or args.pollers < 1 or args.baseline_checks < 1 or args.probes < 0:
        parser.error("--customers, --pollers and --baseline-checks must be at least 1")
    if args.probes == 0 or args.probes > args.customers:
        args.probes = args.customers


def row(label: str, values: list[float], base: dict[str, float] | None) -> str:
    """p50, p99, max and (unless `base` is None) their ratios to the baseline's."""
    s = summary(values)
    ratios = (f"{ratio(s['p50'], base['p50']):>9}{ratio(s['p99'], base['p99']):>9}"
              if base else "")
    return f"    {label:<64}{ms(s['p50']):>8}{ms(s['p99']):>8}{ms(s['max']):>8}{ratios}"


def report_round(r: Round, base: dict[str, float]) -> None:
    sweep = r.sweep
    during = (f"{r.pollers} pollers run credit checks on {r.probes} of them" if r.probes
              else "nothing else runs")
    print(f"  {r.customers} customers (set up in {r.setup_seconds:.1f} s); during the sweep "
          f"{during}")
    print(f"    sweep as of {sweep.get('as_of')}: {sweep.get('events')} events reported "
          f"({sweep.get('payment_missed')} payment.missed, "
          f"{sweep.get('invoice_aged')} invoice.aged, "
          f"{sweep.get('balance_changed')} balance.changed);")
    print(f"    missed payments written {ms(r.event_written_after_sent * 1000)} ms and HTTP answer "
          f"{ms(r.sweep_seconds * 1000)} ms after sending it")
    print(f"    {'(milliseconds)':<64}{'p50':>8}{'p99':>8}{'max':>8}{'p50/base':>9}{'p99/base':>9}")
    print(row(f"hold placed (server clock), from missed payment written, n={r.holds_placed}",
              r.placed_after_event, base))
    print(row("hold placed (server clock), from sending the sweep", r.placed_after_sent, base))
    first = min(r.placed_after_event, default=math.nan)
    if r.probes:
        n = len(r.visible_after_returned)
        print(row(f"hold visible in the check (client), from sweep's answer, n={n}",
                  r.visible_after_returned, base))
        print(row("hold visible in the check (client), from sending the sweep",
                  r.visible_after_sent, base))
        print(row("  lower bound: last approve sent, from sending the sweep",
                  r.lower_bound_after_sent, base))
        print(row("  visible (client) minus placed (server), same customers",
                  r.visible_minus_placed, None))
        print(row(f"credit check round trip while polling (x{r.poll_checks})",
                  r.poll_latency, base))
    print(f"    the first hold was placed {ms(first * 1000)} ms after the missed payments were "
          "written (the path with the least queued ahead of it)")
    print(f"    events/s: {r.path_events} events ({sweep.get('events')} from the sweep + "
          f"{r.holds_placed} holds) until the last hold, {r.last_hold_after_sent:.2f} s after "
          f"sending the sweep = {r.path_events_per_second:,.0f} events/s")
    emitted = sum(r.events_emitted.values())
    kinds = ", ".join(f"{t.split('.', 1)[1]} {c}" for t, c in sorted(r.events_emitted.items()))
    print(f"    everything the sweep caused: {emitted} events ({kinds});")
    print(f"      {r.deliveries} deliveries handled, the last {r.last_delivery_after_sent:.2f} s "
          f"after sending the sweep = {r.deliveries_per_second:,.0f} deliveries/s")
    if r.probes:
        gaps = r.poll_gaps
        mean_gap = sum(gaps) / len(gaps) * 1000 if gaps else math.nan
        print(f"    polling: {r.pollers} concurrent checks over {r.probes} customers spread over "
              f"the sweep's order, >= {r.poll_interval * 1000:.0f} ms apart per customer;")
        print(f"      actual gap mean {ms(mean_gap)} ms, p99 {ms(percentile(gaps, 99) * 1000)} ms; "
              f"{r.checks_per_second:,.0f} checks/s, {r.poll_errors} errors; answers {r.decisions}")
    if r.not_held:
        print(f"    !! {r.not_held} customers without a cash_only hold at the end")
    if r.not_seen:
        print(f"    !! {r.not_seen} probed customers never answered other than approve")
    for note in r.notes:
        print(f"    !! {note}")


def report(mode: str, description: str, number: int, r: Round) -> None:
    base = summary(r.baseline)
    print(f"\n== {mode}, round {number} ({r.name}): {description}")
    print(f"  BASELINE: credit check round trip on the quiet system just before the sweep, one at "
          f"a time (x{len(r.baseline)}): p50 {ms(base['p50'])} ms, p99 {ms(base['p99'])} ms, "
          f"max {ms(base['max'])} ms")
    report_round(r, base)


def comparison(results: list[Result]) -> None:
    print("\n== summary (ms; x = ratio to a credit-check round trip measured in the same run and "
          "mode)")
    print(f"  {'':<24}{'':>5}{'':>7}{'':>6}{'hold placed: server, all':^34}"
          f"{'hold visible: probes':^26}{'check':^14}")
    print(f"  {'mode':<12}{'round':<12}{'cust':>5}{'events':>7}{'ev/s':>6}"
          f"{'p50':>8}{'x':>7}{'p99':>9}{'x':>7}{'p50':>9}{'x':>7}{'max':>9}{'p50':>7}{'p99':>7}")
    for result in results:
        for r in result.rounds:
            base = summary(r.baseline)
            placed = summary(r.placed_after_event)
            visible = summary(r.visible_after_returned)
            print(f"  {result.mode:<12}{r.name:<12}{r.customers:>5}{r.path_events:>7}"
                  f"{r.path_events_per_second:>6,.0f}"
                  f"{ms(placed['p50']):>8}{ratio(placed['p50'], base['p50']):>7}"
                  f"{ms(placed['p99']):>9}{ratio(placed['p99'], base['p99']):>7}"
                  f"{ms(visible['p50']):>9}{ratio(visible['p50'], base['p50']):>7}"
                  f"{ms(visible['max']):>9}{ms(base['p50']):>7}{ms(base['p99']):>7}")
    print("  placed: from the missed payments written by the sweep to each hold placed "
          "(every customer);")
    print("  visible: from the sweep's HTTP answer to the first cash_only answer "
          "(probed customers);")
    print("  events: the sweep's + one per hold; ev/s: per second until the last hold;")
    print("  check: the baseline, a credit check round trip on the quiet system (each round starts")
    print("  its own system and measures its own baseline before the sweep).")


async def run_mode(result: Result, args: argparse.Namespace) -> None:
    mode = result.mode
    rounds = [("unobserved", 0), ("observed", args.probes)] if args.control else [
        ("observed", args.probes)]
    for number, (name, probes) in enumerate(rounds, 1):
        started = time.perf_counter()
        print(f"\n-- {mode}, round {number} ({name}): starting a fresh system", flush=True)
        async with MODES[mode]() as system:
            r = await hold_latency.run_round(
                system, name, customers=args.customers, probes=probes, pollers=args.pollers,
                poll_interval=args.poll_interval, baseline_checks=args.baseline_checks,
                give_up=args.timeout)
        result.description = system.description
        result.rounds.append(r)
        report(mode, system.description, number, r)
        print(f"-- {mode}, round {number}: {time.perf_counter() - started:.1f} s from start to "
              "clean-up", flush=True)


async def run(args: argparse.Namespace) -> bool:
    """The hold-latency benchmark in the chosen modes; answers whether a mode failed."""
    modes = ["embedded", "distributed"] if args.mode == "both" else [args.mode]
    results: list[Result] = []
    failed = False
    print(f"hold-latency benchmark: {args.customers} customers, mode(s) {', '.join(modes)}")
    for mode in modes:
        results.append(Result(mode=mode))
        try:
            await run_mode(results[-1], args)
        except Unavailable as exc:
            print(f"\n-- {mode}: SKIPPED, {exc}")
        except Exception:
            failed = True
            print(f"\n-- {mode}: FAILED", file=sys.stderr, flush=True)
            traceback.print_exc()
    if any(r.rounds for r in results):
        comparison(results)
    return failed


