"""A handler that raises half-way must not split the journal from the state: what it folded is
journaled, the error still reaches the caller, and the node keeps working (no sequence gap)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from atlas_oms import Instrument, Node
from atlas_oms.model import commands as c
from atlas_oms.runtime.clock import ManualClock
from atlas_oms.store.memory import MemoryJournal


def test_events_folded_before_a_handler_raised_are_journaled_and_the_node_goes_on() -> None:
    node = Node(MemoryJournal(), clock=ManualClock(1_000))
    node.add_instrument(Instrument.spot("BTC/USDT", tick_size="0.01", lot_size="0.0001"))
    engine = node.engine
    deposit = engine._handlers[c.AdjustBalance]

    def deposit_then_fail(ctx: Any, message: c.AdjustBalance) -> None:
        deposit(ctx, message)  # emits and folds the deposit ...
        raise RuntimeError("boom")  # ... then fails, as a bug half-way through a handler would

    node.open_account("a")
    engine._handlers[c.AdjustBalance] = deposit_then_fail  # the engines' shared table: restored
    try:
        with pytest.raises(RuntimeError, match="boom"):
            node.deposit("a", "USDT", 100)
    finally:
        engine._handlers[c.AdjustBalance] = deposit
    assert node.balance("a", "USDT").total == Decimal(100)  # the state holds the deposit
    assert node.journal.last_seq == engine.seq  # ... and so does the journal
    node.deposit("a", "USDT", 5)  # the next message appends without a gap
    replayed = Node(node.journal, clock=ManualClock(2_000))
    assert replayed.digest() == node.digest()
    assert replayed.balance("a", "USDT").total == Decimal(105)
