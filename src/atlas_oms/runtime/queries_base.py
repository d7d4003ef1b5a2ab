"""The base of the node's read side (:class:`~atlas_oms.runtime.queries.Queries`): what every
topic's queries read from (engine, journal, history, built-in exchange, clock) and the reads of
the journal and the engine as a whole (sequence, events, audit trail, digest, next deadline)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from atlas_oms.core.engine import Engine
from atlas_oms.core.ports import Clock
from atlas_oms.model import events as ev
from atlas_oms.runtime.history import History
from atlas_oms.store.audit import AuditRecord, audit_trail
from atlas_oms.store.base import Journal
from atlas_oms.venues.sim import SimVenue

ZERO = Decimal(0)


class QueriesBase:
    """Typed reads of one node's state, journal and built-in exchange: what they read from."""

    engine: Engine
    journal: Journal
    #: Archived orders (runtime/history.py): reads fall back to it for orders not in memory.
    history: History
    sim: SimVenue
    clock: Clock

    def _now(self) -> int:
        return self.clock.now()

    @property
    def seq(self) -> int:
        """The sequence number of the last event the engine applied (0: nothing yet)."""
        return self.engine.seq

    @property
    def next_order_id(self) -> int:
        """The id the next order will get."""
        return self.engine.state.next_order_id

    def order_ids(self) -> range:
        """Every order id given so far (1 to ``next_order_id - 1``)."""
        return range(1, self.engine.state.next_order_id)

    def events(self, from_seq: int = 1) -> Iterator[ev.EventBase]:
        """The journal's events from ``from_seq`` on (flushes first)."""
        self.journal.flush()
        return self.journal.read(from_seq)

    def audit(self, account_id: str, *, include_subaccounts: bool = False) -> list[AuditRecord]:
        """The account's audit trail, read from the journal."""
        self.journal.flush()
        return audit_trail(self.journal.read(), account_id, include_subaccounts=include_subaccounts)

    def digest(self) -> str:
        """SHA-256 of the whole engine state; a replay of the journal gives the same value."""
        return self.engine.digest()

    def next_deadline(self, after: int) -> int | None:
        """When a timer tick next has something to do, later than ``after`` (ns; None: nothing
        scheduled): the earliest order expiry, funding boundary or breaker auto-reset."""
        return self.engine.next_deadline(after)
