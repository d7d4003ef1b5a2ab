"""``atlas demo``: a scripted trading session on the built-in exchange, journaled to SQLite.

A market maker rests a ladder, traders send every kind of order, bad orders are refused with a
reason code, the blotter is printed; then the risk controls act on bob, and a perpetual with
Binance-style tiers sees a liquidation through the book, the insurance fund and ADL. The session
runs on its own manual clock, so its journal and the digest it prints are the same every run;
``atlas replay`` of the journal prints that digest again.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from atlas_oms.cli.context import Context
from atlas_oms.cli.demo.blotter import blotter
from atlas_oms.cli.demo.derivatives import derivatives_chapter
from atlas_oms.cli.demo.risk import risk_chapter
from atlas_oms.cli.demo.spot import spot_chapters
from atlas_oms.cli.demo.story import Story
from atlas_oms.cli.options import DEFAULT_JOURNAL

__all__ = ["add_parser", "cmd_demo", "run_demo"]


def _fresh(path: Path) -> None:
    """Make way for a new journal at ``path`` (and its SQLite side files)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm", "-journal"):
        candidate = Path(f"{path}{suffix}")
        if candidate.exists():
            candidate.unlink()


def run_demo(path: Path) -> str:
    """Play the whole story on a new journal at ``path``; return the final state digest."""
    story = Story(path)
    n = story.node
    spot_chapters(story)
    blotter(story)
    risk_chapter(story)
    derivatives_chapter(story)
    n.flush()
    digest = n.digest()
    count = n.seq
    n.close()
    print(f"events: {count}   digest: {digest}")
    print(f"replay it: atlas replay {path}")
    return digest


def cmd_demo(args: argparse.Namespace, ctx: Context) -> int:
    """Replace the journal and play the story on it (on the demo's own clock); ``atlas demo
    trades`` plays a managed trade's day instead (cli/demo/trades.py)."""
    path = Path(args.journal)
    _fresh(path)
    if args.scenario == "trades":
        from atlas_oms.cli.demo.trades import run_trades_demo

        run_trades_demo(path).node.close()
        print(f"replay it: atlas replay {path}")
        return 0
    run_demo(path)
    return 0


def add_parser(sub: Any) -> None:
    """``atlas demo``."""
    demo = sub.add_parser("demo", help="run a scripted trading session on the built-in exchange")
    demo.add_argument(
        "scenario",
        nargs="?",
        default="story",
        choices=("story", "trades"),
        help="story: the whole session (default); trades: a managed trade's day (seed 001)",
    )
    demo.add_argument(
        "--journal",
        default=DEFAULT_JOURNAL,
        metavar="PATH",
        help=f"SQLite journal to write, replaced if it exists (default {DEFAULT_JOURNAL})",
    )
    demo.set_defaults(func=cmd_demo)
