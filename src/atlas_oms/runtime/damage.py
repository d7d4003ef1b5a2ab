"""What a node does with the damage its journal found on open: say it loudly, then refuse it or,
when the operator chose to, record the loss and carry on above it.

Every damaged or discarded tail is logged on ``atlas.journal`` (ERROR for lost events, WARNING for
a torn tail that was never acknowledged). ``on_damage`` decides the rest:

- ``"refuse"`` (the default for a writable journal): :class:`JournalDamagedError`, nothing written;
- ``"repair"``: the node recovers what is intact, then journals ``JournalRepaired`` (seq just
  above the highest ever written, ids jump above the lost range) as its first event, flushed;
- ``"open"`` (the default for a read-only journal: audits, ``atlas replay``): the intact prefix
  is loaded and nothing is written.
"""

from __future__ import annotations

import logging
from typing import Literal

from atlas_oms.model import commands as c
from atlas_oms.store.base import Journal, JournalDamagedError, RecoveryReport

__all__ = ["OnDamage", "damage_policy", "repair_command"]

log = logging.getLogger("atlas.journal")

#: What a node does with a damaged journal.
OnDamage = Literal["refuse", "repair", "open"]


def _where(journal: Journal) -> str:
    return str(getattr(journal, "path", "") or type(journal).__name__)


def damage_policy(journal: Journal, on_damage: OnDamage | None) -> OnDamage:
    """Log what the journal found on open; raise if it is damaged and ``on_damage`` refuses it;
    return the policy that applies (``None``: refuse a writable journal, open a read-only one)."""
    readonly = bool(getattr(journal, "readonly", False))
    policy: OnDamage = on_damage or ("open" if readonly else "refuse")
    if policy not in ("refuse", "repair", "open"):
        raise ValueError(f"on_damage must be 'refuse', 'repair' or 'open', not {on_damage!r}")
    report = journal.recovery
    if report.clean:
        return policy
    fields = {
        "journal": _where(journal),
        "reason": report.reason,
        "lost_from_seq": report.lost_from_seq,
        "lost_to_seq": report.lost_to_seq,
        "lost_events": report.lost_events,
        "lost_chunks": report.lost_chunks,
        "kept_at": report.kept_at,
    }
    sentence = report.sentence(_where(journal))
    if not report.damaged:
        log.warning("%s", sentence, extra={"journal_recovery": fields})
        return policy
    log.error("%s", sentence, extra={"journal_recovery": fields})
    if policy == "refuse":
        raise JournalDamagedError(sentence, report)
    if policy == "repair" and readonly:
        raise JournalDamagedError(f"{sentence} (a read-only journal cannot be repaired)", report)
    return policy


def repair_command(report: RecoveryReport, ts: int, actor: str) -> c.RepairJournal:
    """The command that records ``report``'s loss (the engine numbers and decides the rest)."""
    return c.RepairJournal(
        ts=ts,
        actor=actor,
        reason=report.reason,
        detail=report.detail,
        lost_from_seq=report.lost_from_seq,
        lost_to_seq=report.lost_to_seq,
        lost_events=report.lost_events,
        lost_chunks=report.lost_chunks,
        kept_at=report.kept_at,
    )
