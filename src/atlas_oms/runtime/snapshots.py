"""Snapshots and recovery: the one module that writes a snapshot into a journal and rebuilds an
engine from a journal (latest usable snapshot, then the events after it). The node and
``atlas replay`` both recover through :func:`recover`.

A snapshot is ``MAGIC`` followed by the msgpack of a
:class:`~atlas_oms.core.state.snapshot.StateSnapshot` whose ``schema`` names its layout. One that
cannot be read (another layout, an older Atlas's pickle, damage) costs time, never correctness:
the journal is replayed from the start and :class:`Recovery` says why.
"""

from __future__ import annotations

import logging

import msgspec

from atlas_oms.core.engine import Engine
from atlas_oms.core.state.snapshot import (
    SCHEMA,
    decode_snapshot,
    encode_snapshot,
    export_state,
    restore_state,
)
from atlas_oms.store.base import Journal

log = logging.getLogger("atlas.recovery")

#: The first bytes of every snapshot Atlas writes (an older Atlas wrote pickles).
MAGIC = b"ATLAS-SNAPSHOT\x00"


class Recovery(msgspec.Struct, frozen=True, kw_only=True):
    """How an engine was rebuilt: from the snapshot at ``snapshot_seq`` (0: none) and
    ``events_replayed`` journal events. ``snapshot_note`` says why a snapshot in the journal was
    not used ("" when one was used, or there was none)."""

    snapshot_seq: int = 0
    events_replayed: int = 0
    snapshot_note: str = ""


class UnreadableSnapshot(Exception):
    """A snapshot that this Atlas cannot load (the message says why)."""


def encode(engine: Engine) -> bytes:
    """The engine's state as snapshot bytes."""
    return MAGIC + encode_snapshot(export_state(engine.state))


def decode_into(engine: Engine, blob: bytes) -> None:
    """Load snapshot bytes into a fresh engine, or raise :class:`UnreadableSnapshot`."""
    if not blob.startswith(MAGIC):
        kind = "a pickle written by an older Atlas" if blob[:1] == b"\x80" else "not a snapshot"
        raise UnreadableSnapshot(f"its format is {kind}")
    try:
        snap = decode_snapshot(blob[len(MAGIC) :])
    except msgspec.DecodeError as exc:  # ValidationError included: another layout, or damage
        raise UnreadableSnapshot(f"it does not decode as schema {SCHEMA}: {exc}") from None
    if snap.schema != SCHEMA:
        raise UnreadableSnapshot(f"its schema is {snap.schema}, this Atlas reads {SCHEMA}")
    restore_state(engine.state, snap)


def save(journal: Journal, engine: Engine) -> int:
    """Write a snapshot of the engine's state into the journal; return its sequence number."""
    journal.flush()
    seq = engine.seq
    journal.save_snapshot(seq, encode(engine))
    return seq


def recover(engine: Engine, journal: Journal, *, use_snapshot: bool = True) -> Recovery:
    """Rebuild a fresh ``engine`` from ``journal``: its latest snapshot (unless
    ``use_snapshot`` is False or it is unreadable), then every event after it."""
    start = 1
    snapshot_seq = 0
    note = ""
    if use_snapshot:
        snap = journal.latest_snapshot()
        if snap is not None:
            seq, blob = snap
            try:
                decode_into(engine, blob)
            except UnreadableSnapshot as exc:
                note = f"the snapshot at seq {seq} was not used ({exc}): replayed from seq 1"
                log.warning("snapshot unreadable: %s", note)
            else:
                start = snapshot_seq = seq
                start += 1
    count = 0
    apply_all = engine.apply_all
    for batch in journal.read_batches(start):
        apply_all(batch)
        count += len(batch)
    return Recovery(snapshot_seq=snapshot_seq, events_replayed=count, snapshot_note=note)
