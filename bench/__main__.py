"""`python -m bench`: the benchmarks, each with ratios to a baseline measured in the same run.

    python -m bench [--bench NAME ...]      (default: all of them, in the order below)
    python -m bench --help                  (every benchmark's options)

Each benchmark is a module with `DESCRIPTION`, `add_arguments(parser)`,
`check_arguments(args, parser)` and `async run(args) -> failed`; register it below.
See bench/README.md for what is measured and how to read the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from types import ModuleType

from bench import collections, credit_check, hold, ledger, reconciliation

BENCHMARKS: dict[str, ModuleType] = {
    "hold": hold,
    "ledger": ledger,
    "reconciliation": reconciliation,
    "collections": collections,
    "check": credit_check,
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="; ".join(f"{name}: {module.DESCRIPTION}" for name, module in BENCHMARKS.items()))
    parser.add_argument("--bench", nargs="+", choices=[*BENCHMARKS, "all"], default=["all"],
                        help="which benchmark(s) to run (default all, in this order: "
                             f"{', '.join(BENCHMARKS)})")
    for module in BENCHMARKS.values():
        module.add_arguments(parser)
    args = parser.parse_args(argv)
    for module in BENCHMARKS.values():
        module.check_arguments(args, parser)
    if "all" in args.bench:
        args.bench = list(BENCHMARKS)
    return args


async def main(args: argparse.Namespace) -> int:
    # Ctrl-C cancels this task (asyncio.run); make SIGTERM do the same, so that the servers,
    # databases and queues started so far are cleaned up on the way out either way.
    task = asyncio.current_task()
    if task is not None:
        with contextlib.suppress(NotImplementedError):
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    failed = False
    for name in BENCHMARKS:
        if name in args.bench:
            failed |= await BENCHMARKS[name].run(args)
    return 1 if failed else 0


if __name__ == "__main__":
    arguments = parse_args()
    try:
        sys.exit(asyncio.run(main(arguments)))
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("\ninterrupted; everything started was stopped and removed", file=sys.stderr)
        sys.exit(130)
