"""Running a command on a journal: open a node on it, do one thing, close.

A refusal is printed as ``refused: REASON: sentence`` with exit code 2, a usage problem as
``atlas COMMAND: sentence`` (exit code 2), a journal that cannot be read as one sentence (exit code
1); a journal in use by another writer (a live server) or damaged, with its own exit code
(:mod:`~atlas_oms.cli.exit_codes`), having written nothing. The node's clock is the context's (the wall clock unless a test injects one), never before the
journal's last event. Also here: the look-ups several commands share.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from atlas_oms.cli.context import Context, OperatorClock
from atlas_oms.cli.options import UsageError, who
from atlas_oms.model.instrument import Instrument
from atlas_oms.runtime.node import CommandRefused, Node
from atlas_oms.store.base import Journal, JournalDamagedError, JournalError, JournalLockedError
from atlas_oms.store.opener import open_journal

__all__ = ["derivative", "known_account", "open_node", "run_on_journal", "ticks"]


def _last_event_ts(journal: Journal) -> int:
    """When the journal's last event happened (0 for an empty journal)."""
    if not journal.last_seq:
        return 0
    last = next(iter(journal.read(journal.last_seq)), None)
    return last.ts_event if last is not None else 0


def open_node(path: str, ctx: Context, *, readonly: bool = False) -> Node:
    """A node on the journal at ``path``, on an operator clock over the context's clock."""
    journal = open_journal(path, readonly=readonly)
    try:
        clock = OperatorClock(ctx.wall_clock(), _last_event_ts(journal))
        return Node(journal, clock=clock)
    except BaseException:
        journal.close()  # a refused journal is released as it was found
        raise


def run_on_journal(
    args: argparse.Namespace,
    ctx: Context,
    action: Callable[[Node], int],
    *,
    readonly: bool = False,
) -> int:
    """Open the node on ``args.journal``, do ``action``, close; refusals and errors as sentences."""
    name = who(args)
    path = args.journal
    if not Path(path).exists():
        print(f"{name}: no journal at {path}", file=sys.stderr)
        return 2
    try:
        node = open_node(path, ctx, readonly=readonly)
    except (JournalLockedError, JournalDamagedError):
        raise  # their sentence and exit code: atlas_oms.cli.exit_codes
    except (JournalError, sqlite3.Error, OSError) as exc:
        print(f"{name}: cannot open the journal {path}: {exc}", file=sys.stderr)
        return 1
    try:
        return action(node)
    except CommandRefused as exc:
        print(f"refused: {exc.reason}: {exc.message}", file=sys.stderr)
        return 2
    except UsageError as exc:
        print(f"{name}: {exc}", file=sys.stderr)
        return 2
    except (JournalLockedError, JournalDamagedError):
        raise
    except BrokenPipeError:  # the reader went away (``| head``): stop quietly, as Unix tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except (JournalError, sqlite3.Error, OSError) as exc:
        print(f"{name}: journal {path}: {exc}", file=sys.stderr)
        return 1
    finally:
        node.close()


def known_account(node: Node, account_id: str | None, journal: str) -> None:
    """Nothing, or a UsageError if ``account_id`` (when given) is not in the journal."""
    if account_id is not None and node.account(account_id) is None:
        raise UsageError(f"unknown account {account_id!r} in {journal}")


def derivative(node: Node, symbol: str) -> Instrument:
    """The derivative ``symbol``, or a UsageError naming the ones the journal has."""
    inst = node.instrument(symbol)
    if inst is None or not inst.is_derivative:
        known = [i.symbol for i in node.instruments() if i.is_derivative]
        raise UsageError(
            f"{symbol!r} is not a derivative in this journal"
            + (f"; it has {', '.join(known)}" if known else "")
        )
    return inst


def ticks(node: Node) -> dict[str, Decimal]:
    """Every instrument's tick size, by symbol (tables round prices to it)."""
    return {inst.symbol: inst.tick_size for inst in node.instruments()}
