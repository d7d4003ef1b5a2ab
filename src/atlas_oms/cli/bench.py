"""``atlas bench``: run the benchmarks (:mod:`atlas_oms.benchmarks`) and print one JSON object."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from atlas_oms.cli.context import Context

__all__ = ["add_parser", "cmd_bench"]


def cmd_bench(args: argparse.Namespace, ctx: Context) -> int:
    """Run every benchmark, or ``--only`` some; ``--quick`` for tiny sizes."""
    from atlas_oms.benchmarks import run_all  # here: most commands never run a benchmark

    only = [k.strip() for k in args.only.split(",") if k.strip()] if args.only else None
    try:
        result = run_all(quick=args.quick, only=only)
    except KeyError as exc:
        print(f"atlas bench: {exc.args[0]}", file=sys.stderr)
        return 2
    print(json.dumps(result, indent=2))
    return 0


def add_parser(sub: Any) -> None:
    """``atlas bench``."""
    bench = sub.add_parser("bench", help="run the benchmarks; print one JSON object")
    bench.add_argument("--quick", action="store_true", help="tiny sizes (seconds, for tests)")
    bench.add_argument("--only", metavar="KEY,...", help="run only these benchmark keys")
    bench.set_defaults(func=cmd_bench)
