"""``atlas replay PATH``: rebuild the state from a journal, as a restart would, and print its digest.

The journal is opened read-only and folded into a fresh :class:`~atlas_oms.core.engine.Engine`,
from the latest snapshot (unless ``--full``) and then every event after it; the digest equals the
one the node that wrote the journal had.
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
from pathlib import Path
from typing import Any

from atlas_oms.cli.context import Context
from atlas_oms.cli.options import json_option
from atlas_oms.core.engine import Engine
from atlas_oms.core.ports import Clock
from atlas_oms.core.state import import_state
from atlas_oms.runtime.node import SNAPSHOT_VERSION
from atlas_oms.store.base import Journal, JournalError
from atlas_oms.store.opener import open_journal

__all__ = ["add_parser", "cmd_replay", "replay"]

NS_PER_S = 1_000_000_000


# replaced by runtime snapshots: this mirrors Node's own snapshot loading until that module lands.
def load_snapshot(journal: Journal, engine: Engine) -> int:
    """Load the journal's latest snapshot into ``engine``; return its seq (0: none usable).

    An unreadable snapshot, or one of another layout version, is skipped: it costs replay time,
    not correctness.
    """
    snap = journal.latest_snapshot()
    if snap is None:
        return 0
    seq, blob = snap
    try:
        version, data = pickle.loads(blob)
    except Exception:  # an unreadable snapshot costs time, not correctness
        return 0
    if version != SNAPSHOT_VERSION:
        return 0
    import_state(engine, data)
    return seq


def replay(path: str, *, full: bool = False, stopwatch: Clock | None = None) -> dict[str, Any]:
    """Rebuild an engine from the journal at ``path`` (read-only); return what happened.

    ``stopwatch`` times the replay (default: a monotonic clock); ``full`` ignores snapshots.
    """
    timer = stopwatch if stopwatch is not None else Context().stopwatch()
    started = timer.now()
    journal = open_journal(path, readonly=True)
    try:
        engine = Engine()
        snapshot_seq = 0 if full else load_snapshot(journal, engine)
        count = 0
        apply = engine.apply
        for batch in journal.read_batches(snapshot_seq + 1):
            for event in batch:
                apply(event)
            count += len(batch)
        recovery = journal.recovery
    finally:
        journal.close()
    elapsed = (timer.now() - started) / NS_PER_S
    return {
        "journal": path,
        "snapshot_seq": snapshot_seq,
        "events_replayed": count,
        "last_seq": engine.seq,
        "orders": len(engine.orders),
        "recovery": {
            "clean": recovery.clean,
            "events_recovered": recovery.events_recovered,
            "last_seq": recovery.last_seq,
            "discarded_bytes": recovery.discarded_bytes,
            "discarded_records": recovery.discarded_records,
            "reason": recovery.reason,
            "detail": recovery.detail,
            "kept_at": recovery.kept_at,
        },
        "elapsed_s": round(elapsed, 6),
        "digest": engine.digest(),
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
    if args.json:
        print(json.dumps(result))
        return 0
    rec = result["recovery"]
    print(f"journal:         {result['journal']}")
    if result["snapshot_seq"]:
        print(f"snapshot:        seq {result['snapshot_seq']}")
    else:
        print("snapshot:        none used (replayed from seq 1)")
    print(f"events replayed: {result['events_replayed']}")
    print(f"last seq:        {result['last_seq']}")
    if rec["clean"]:
        print(f"recovery:        clean ({rec['events_recovered']} events intact)")
    else:
        print(
            f"recovery:        {rec['reason']}: {rec['detail']} "
            f"(discarded {rec['discarded_records']} records, {rec['discarded_bytes']} bytes"
            + (f"; kept at {rec['kept_at']})" if rec["kept_at"] else ")")
        )
    rate = result["events_replayed"] / result["elapsed_s"] if result["elapsed_s"] else 0
    print(f"elapsed:         {result['elapsed_s'] * 1000:.1f} ms ({rate:,.0f} events/s)")
    print(f"digest: {result['digest']}")
    return 0


def add_parser(sub: Any) -> None:
    """``atlas replay``."""
    rep = sub.add_parser("replay", help="rebuild the state from a journal and print its digest")
    rep.add_argument("path", help="journal file (.db SQLite, .journal file journal)")
    rep.add_argument("--full", action="store_true", help="ignore snapshots: replay from seq 1")
    json_option(rep)
    rep.set_defaults(func=cmd_replay)
