"""The ``atlas`` command: ``demo``, ``replay``, ``audit``, ``risk``, ``futures``, ``transfer``,
``kill``, ``bench``, ``backtest``, ``paper``, ``serve``, ``venues``, ``policy`` and ``version``; and, as a client of a running server, ``order``,
``positions``, ``balances``, ``trades``, ``algo``, ``rebalance`` and ``kill --url``.

One module per command group; :mod:`~atlas_oms.cli.options` holds the options they share,
:mod:`~atlas_oms.cli.tables` the table and number formatting, :mod:`~atlas_oms.cli.on_journal`
and :mod:`~atlas_oms.cli.on_server` how a command runs on a journal or against a server. Commands
on a journal go through the library API (:class:`~atlas_oms.runtime.node.Node` and its typed
queries) and print what they did; a refusal is printed as ``refused: REASON: sentence`` with exit
code 2; a journal in use by another writer or damaged is refused with its own exit code
(:mod:`~atlas_oms.cli.exit_codes`). ``replay`` folds the journal into a fresh engine, exactly as a restart would; ``audit``
reads the journal read-only.

:func:`main` takes an optional clock (anything with ``now() -> int`` nanoseconds): operator
actions are stamped, reports dated and ``replay`` timed by it (the demo keeps its own manual
clock, so its story never changes), and a test that injects a ``ManualClock`` gets exact times.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import TYPE_CHECKING

from atlas_oms.cli import (
    algos,
    audit,
    backtest,
    bench,
    binance,
    corporate,
    demo,
    futures,
    history,
    kill,
    orders,
    paper,
    policy,
    rebalance,
    replay,
    risk,
    serve,
    trades,
    transfer,
    venues,
    version,
)
from atlas_oms.cli.context import Context
from atlas_oms.cli.exit_codes import guarded
from atlas_oms.core.ports import Clock

if TYPE_CHECKING:
    import httpx

__all__ = ["Context", "build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """The ``atlas`` parser: every command group, in the order ``atlas --help`` lists them."""
    parser = argparse.ArgumentParser(
        prog="atlas", description="Atlas OMS: an event-sourced order management system."
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo.add_parser(sub)
    replay.add_parser(sub)
    audit.add_parser(sub)
    risk.add_parser(sub)
    futures.add_parser(sub)
    transfer.add_parser(sub)
    rebalance.add_parser(sub)
    corporate.add_parser(sub)
    kill.add_kill_parser(sub, "kill", "fire a kill switch: block new orders, cancel open ones")
    orders.add_parser(sub)
    orders.add_holdings_parsers(sub)
    algos.add_parser(sub)
    history.add_parser(sub)
    bench.add_parser(sub)
    backtest.add_parser(sub)
    paper.add_parser(sub)
    serve.add_parser(sub)
    venues.add_parser(sub)
    policy.add_parser(sub)
    trades.add_parser(sub)
    version.add_parser(sub)
    binance.add_parser(sub)
    return parser


def main(
    argv: Sequence[str] | None = None,
    *,
    clock: Clock | None = None,
    transport: httpx.BaseTransport | None = None,
) -> int:
    """Run ``atlas ARGV``; return its exit code.

    ``clock`` stamps operator actions and dates reports (default: the wall clock); ``transport``
    carries the server commands' requests (default: the network; tests pass a fake).
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    context = Context(clock=clock, transport=transport)
    return guarded(f"atlas {args.command}", lambda: int(args.func(args, context)))
