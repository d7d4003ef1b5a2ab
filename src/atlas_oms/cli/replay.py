"""``atlas replay PATH``: rebuild the state from a journal, as a restart would, and print its digest.

The journal is opened read-only and a node recovers from it as a restart does
(:mod:`atlas_oms.runtime.snapshots`): from the latest snapshot (unless ``--full``; an unreadable
one is skipped, and the report says why) and then every event after it. The digest equals the one
the node that wrote the journal had.

A damaged journal (events lost: a cut WAL, a flipped byte, a quarantined chunk) is replayed up to
the damage, reported with the lost seq range, count and reason, and the command exits with
``EXIT_JOURNAL_DAMAGED`` (65): it is never called clean.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from atlas_oms.cli.context import Context
from atlas_oms.cli.exit_codes import EXIT_JOURNAL_DAMAGED
from atlas_oms.cli.options import json_option
from atlas_oms.core.ports import Clock
from atlas_oms.runtime.node import Node
from atlas_oms.store.base import JournalError
from atlas_oms.store.opener import open_journal

__all__ = ["add_parser", "cmd_replay", "replay"]

NS_PER_S = 1_000_000_000


def replay(path: str, *, full: bool = False, stopwatch: Clock | None = None) -> dict[str, Any]:
    """Rebuild an engine from the journal at ``path`` (read-only); return what happened.

    ``stopwatch`` times the replay (default: a monotonic clock); ``full`` ignores snapshots.
    """
    timer = stopwatch if stopwatch is not None else Context().stopwatch()
    started = timer.now()
    journal = open_journal(path, readonly=True)
    try:
        node = Node(journal, use_snapshot=not full)  # recovers exactly as a restart does
        recovery = journal.recovery
        result = node.recovery
    finally:
        journal.close()
    elapsed = (timer.now() - started) / NS_PER_S
    return {
        "journal": path,
        "snapshot_seq": result.snapshot_seq,
        "snapshot_note": result.snapshot_note,
        "events_replayed": result.events_replayed,
        "last_seq": node.seq,
        "orders": node.next_order_id - 1,
        "recovery": {
            "clean": recovery.clean,
            "damaged": recovery.damaged,
            "lost_from_seq": recovery.lost_from_seq,
            "lost_to_seq": recovery.lost_to_seq,
            "lost_events": recovery.lost_events,
            "lost_chunks": recovery.lost_chunks,
            "highest_seq": recovery.highest_seq,
            "events_recovered": recovery.events_recovered,
            "last_seq": recovery.last_seq,
            "discarded_bytes": recovery.discarded_bytes,
            "discarded_records": recovery.discarded_records,
            "reason": recovery.reason,
            "detail": recovery.detail,
            "kept_at": recovery.kept_at,
        },
        "elapsed_s": round(elapsed, 6),
        "digest": node.digest(),
    }


def cmd_replay(args: argparse.Namespace, ctx: Context) -> int:
    """Replay the journal; print a report (or, ``--json``, one JSON object)."""
    if not Path(args.path).exists():
        print(f"atlas replay: no journal at {args.path}", file=sys.stderr)
        return 2
    try:
        result = replay(args.path, full=args.full, stopwatch=ctx.stopwatch())
    except JournalError as exc:
        print(f"atlas replay: {exc}", file=sys.stderr)
        return 1
    rec = result["recovery"]
    code = EXIT_JOURNAL_DAMAGED if rec["damaged"] else 0
    if args.json:
        print(json.dumps(result))
        return code
    print(f"journal:         {result['journal']}")
    if result["snapshot_seq"]:
        print(f"snapshot:        seq {result['snapshot_seq']}")
    elif result["snapshot_note"]:
        print(f"snapshot:        {result['snapshot_note']}")
    else:
        print("snapshot:        none used (replayed from seq 1)")
    print(f"events replayed: {result['events_replayed']}")
    print(f"last seq:        {result['last_seq']}")
    if rec["clean"]:
        print(f"recovery:        clean ({rec['events_recovered']} events intact)")
    elif rec["damaged"]:
        print(
            f"recovery:        DAMAGED: {rec['reason']}: seq {rec['lost_from_seq']}.."
            f"{rec['lost_to_seq']} lost ({rec['lost_events']} events, {rec['lost_chunks']} "
            f"chunks): {rec['detail']}" + (f"; kept at {rec['kept_at']}" if rec["kept_at"] else "")
        )
    else:
        print(
            f"recovery:        {rec['reason']}: {rec['detail']} "
            f"(discarded {rec['discarded_records']} records, {rec['discarded_bytes']} bytes"
            + (f"; kept at {rec['kept_at']})" if rec["kept_at"] else ")")
        )
    rate = result["events_replayed"] / result["elapsed_s"] if result["elapsed_s"] else 0
    print(f"elapsed:         {result['elapsed_s'] * 1000:.1f} ms ({rate:,.0f} events/s)")
    print(f"digest: {result['digest']}")
    if code:
        print(
            f"atlas replay: {args.path} is damaged: seq {rec['lost_from_seq']}..{rec['lost_to_seq']}"
            f" ({rec['lost_events']} events) lost, {rec['reason']}",
            file=sys.stderr,
        )
    return code


def add_parser(sub: Any) -> None:
    """``atlas replay``."""
    rep = sub.add_parser("replay", help="rebuild the state from a journal and print its digest")
    rep.add_argument("path", help="journal file (.db SQLite, .journal file journal)")
    rep.add_argument("--full", action="store_true", help="ignore snapshots: replay from seq 1")
    json_option(rep)
    rep.set_defaults(func=cmd_replay)
