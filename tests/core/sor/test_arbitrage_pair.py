"""Paired arbitrage orders on the built-in exchange (VEN-5, off by default): both legs as IOC
limit orders; a leg that filled more than the other is unwound; replay and snapshots agree."""

from __future__ import annotations

from decimal import Decimal

import msgspec

from atlas_oms.core.engine import Engine
from atlas_oms.core.state.digest import canonical_parts, digest
from atlas_oms.core.state.snapshot import (
    decode_snapshot,
    encode_snapshot,
    export_state,
    restore_state,
)
from atlas_oms.model import commands as c
from atlas_oms.model import events as ev
from atlas_oms.model.commands_sor import SubmitArbitragePair
from atlas_oms.model.events_sor import ArbitragePairDone, ArbitragePairPlaced, ArbitragePairUnwound
from atlas_oms.model.instrument import Instrument
from atlas_oms.runtime.clock import ManualClock
from atlas_oms.runtime.node import Node

D = Decimal
SPOT = Instrument.spot("BTC/USDT", tick_size="0.01", lot_size="0.001", taker_fee="0.001")
OTHER = msgspec.structs.replace(SPOT, symbol="BTC/USDT@x")


def market(bids_x: bool, bid: bool = True) -> Node:
    node = Node(clock=ManualClock(1_000_000_000))
    node.add_instrument(SPOT)
    node.add_instrument(OTHER)
    for acc in ("mm", "arb"):
        node.open_account(acc)
        node.deposit(acc, "USDT", 1_000_000)
        node.deposit(acc, "BTC", 10)
    node.submit("mm", "BTC/USDT", "SELL", "LIMIT", "1", "100")
    if bid:
        node.submit("mm", "BTC/USDT", "BUY", "LIMIT", "5", "99")
    if bids_x:
        node.submit("mm", "BTC/USDT@x", "BUY", "LIMIT", "1", "101")
    return node


def pair(ts: int = 2_000_000_000, pair_id: str = "p1") -> SubmitArbitragePair:
    return SubmitArbitragePair(
        ts=ts,
        pair_id=pair_id,
        buy_account_id="arb",
        buy_symbol="BTC/USDT",
        buy_qty=D("1"),
        buy_limit=D("100"),
        sell_account_id="arb",
        sell_symbol="BTC/USDT@x",
        sell_qty=D("1"),
        sell_limit=D("101"),
    )


def replayed(node: Node) -> Engine:
    e = Engine()
    e.apply_all(node.events())
    return e


def test_both_legs_fill_and_the_pair_is_done_without_unwinding() -> None:
    node = market(bids_x=True)
    events = node.process(pair())
    placed = [e for e in events if isinstance(e, ArbitragePairPlaced)]
    done = [e for e in events if isinstance(e, ArbitragePairDone)]
    assert len(placed) == 1 and len(done) == 1
    assert not any(isinstance(e, ArbitragePairUnwound) for e in events)
    assert (done[0].buy_filled, done[0].sell_filled, done[0].open_qty) == (1, 1, 0)
    state = node.engine.state
    assert state.pairs == {} and state.pair_orders == {}
    legs = [state.orders[placed[0].buy_order_id], state.orders[placed[0].sell_order_id]]  # type: ignore[index]
    assert [o.tif.value for o in legs] == ["IOC", "IOC"]
    assert [o.tag for o in legs] == ["arb:p1", "arb:p1"]
    assert digest(replayed(node).state) == digest(state)


def test_a_second_leg_without_liquidity_unwinds_the_first() -> None:
    node = market(bids_x=False)
    events = node.process(pair())
    [unwound] = [e for e in events if isinstance(e, ArbitragePairUnwound)]
    [done] = [e for e in events if isinstance(e, ArbitragePairDone)]
    assert (unwound.buy_filled, unwound.sell_filled) == (1, 0)
    assert (unwound.symbol, unwound.side, unwound.qty, unwound.account_id) == (
        "BTC/USDT",
        "SELL",
        1,
        "arb",
    )
    assert (done.unwound, done.open_qty) == (1, 0)
    state = node.engine.state
    unwind = state.orders[unwound.order_id]  # type: ignore[index]
    assert unwind.client_order_id == "p1:U" and unwind.cum_qty == 1 and unwind.price is None
    # Flat again: bought 1 at 100, sold it back at 99.
    assert state.free("arb", "BTC") == 10
    # Event order: placed, (the legs' fills and cancel), unwound, done.
    kinds = [type(e).__name__ for e in events if type(e).__name__.startswith("Arbitrage")]
    assert kinds == ["ArbitragePairPlaced", "ArbitragePairUnwound", "ArbitragePairDone"]
    assert digest(replayed(node).state) == digest(state)


def test_an_unwind_that_cannot_fill_leaves_the_open_quantity_on_record() -> None:
    node = market(bids_x=False, bid=False)  # nobody bids for the unwind
    events = node.process(pair())
    [done] = [e for e in events if isinstance(e, ArbitragePairDone)]
    assert done.buy_filled == 1 and done.sell_filled == 0
    assert done.unwound == 0 and done.open_qty == 1
    assert node.engine.state.pairs == {}
    assert digest(replayed(node).state) == digest(node.engine.state)


def test_a_pair_in_flight_is_in_the_digest_and_survives_a_snapshot() -> None:
    e = Engine()  # no venue answers: the legs stay pending
    for inst in (SPOT, OTHER):
        e.handle(c.AddInstrument(ts=1, instrument=inst))
    e.handle(c.OpenAccount(ts=1, account_id="arb"))
    e.handle(c.AdjustBalance(ts=1, account_id="arb", asset="USDT", amount=D(1000)))
    e.handle(c.AdjustBalance(ts=1, account_id="arb", asset="BTC", amount=D(1)))
    out = e.handle(pair())
    assert any(isinstance(x, ArbitragePairPlaced) for x in out)
    assert "p1" in e.state.pairs
    assert "arbitrage_pairs" in canonical_parts(e.state)
    restored = Engine()
    restore_state(restored.state, decode_snapshot(encode_snapshot(export_state(e.state))))
    assert digest(restored.state) == digest(e.state)
    assert restored.state.pair_orders == e.state.pair_orders


def test_a_duplicate_pair_or_an_unknown_leg_is_refused() -> None:
    node = market(bids_x=True)
    node.process(pair())
    again = node.process(pair(ts=3_000_000_000))
    assert [type(x) for x in again] == [ev.CommandRejected]
    bad = msgspec.structs.replace(pair(pair_id="p2"), sell_symbol="ETH/USDT")
    [rejected] = node.process(bad)
    assert isinstance(rejected, ev.CommandRejected) and rejected.reason == "UNKNOWN_INSTRUMENT"
