"""Retention: terminal orders leave memory after the window, deterministically and replayably;
client order ids are idempotency keys for their window; exec-id dedupe is held per order."""

from __future__ import annotations

from decimal import Decimal

from atlas_oms import Instrument, ManualClock, Node, OrderStatus
from atlas_oms.core.config import EngineConfig
from atlas_oms.core.engine import Engine
from atlas_oms.core.retention import archive_due_ts
from atlas_oms.model import events as ev
from atlas_oms.model.enums import LiquiditySide
from atlas_oms.model.reasons import Reason
from atlas_oms.model.reports import VenueFilled
from atlas_oms.runtime.snapshots import decode_into, encode, recover

S = 1_000_000_000
H = 3600 * S


def make(config: EngineConfig | None = None) -> Node:
    node = Node.in_memory(clock=ManualClock(1), config=config)
    node.add_instrument(Instrument.spot("ETH/USD", tick_size="0.01", lot_size="0.01"))
    node.open_account("a")
    node.open_account("mm")
    node.deposit("a", "USD", 1_000_000)
    node.deposit("mm", "ETH", 1_000)
    node.update_prices("ETH/USD", last=100)
    return node


def test_terminal_orders_are_archived_after_the_window_and_not_before() -> None:
    node = make()
    node.sell("mm", "ETH/USD", "5", "100")
    filled = node.buy("a", "ETH/USD", "1")
    canceled = node.buy("a", "ETH/USD", "1", "90")
    node.cancel("a", canceled.order_id)
    assert filled.status is OrderStatus.FILLED
    state = node.engine.state
    assert archive_due_ts(state, node.engine.config) == 1 + H
    node.advance_time(H - 1)
    assert filled.order_id in state.orders and canceled.order_id in state.orders
    events = node.advance_time(1)
    archived = [e for e in events if isinstance(e, ev.OrdersArchived)]
    assert [r.order_id for e in archived for r in e.orders] == [filled.order_id, canceled.order_id]
    assert filled.order_id not in state.orders and canceled.order_id not in state.orders
    assert not [f for f in state.fills.values() if f.order_id == filled.order_id]


def test_live_orders_are_never_archived() -> None:
    node = make()
    resting = node.sell("mm", "ETH/USD", "5", "100")
    node.advance_time(30 * 24 * H)
    assert resting.order_id in node.engine.state.orders
    assert node.order(resting.order_id).status is OrderStatus.ACCEPTED


def test_replay_and_snapshot_give_the_live_digest() -> None:
    node = make()
    node.sell("mm", "ETH/USD", "5", "100")
    for i in range(5):
        node.buy("a", "ETH/USD", "1", client_order_id=f"c{i}")
        node.advance_time(H // 2)
    node.advance_time(25 * H)
    node.buy("a", "ETH/USD", "1", "90", client_order_id="c0")
    assert node.engine.state.archived
    replayed = Engine()
    recover(replayed, node.journal)
    assert replayed.digest() == node.digest()
    restored = Engine()
    decode_into(restored, encode(node.engine))
    assert restored.digest() == node.digest()
    assert list(restored.state.client_id_queue) == list(node.engine.state.client_id_queue)
    assert restored.state.terminal == node.engine.state.terminal


def test_a_client_order_id_is_a_duplicate_within_the_window_and_new_after_it() -> None:
    node = make()
    first = node.buy("a", "ETH/USD", "1", "90", client_order_id="x")
    node.cancel("a", first.order_id)
    node.advance_time(2 * H)  # the order left memory, its key did not
    assert first.order_id not in node.engine.state.orders
    again = node.buy("a", "ETH/USD", "1", "90", client_order_id="x")
    assert again.duplicate and again.order_id == first.order_id
    node.advance_time(23 * H)
    fresh = node.buy("a", "ETH/USD", "1", "90", client_order_id="x")
    assert not fresh.duplicate and fresh.order_id > first.order_id


def test_a_short_client_id_window_is_configurable() -> None:
    node = make(EngineConfig(order_retention_ns=S, client_id_retention_ns=10 * S))
    first = node.buy("a", "ETH/USD", "1", "90", client_order_id="x")
    node.cancel("a", first.order_id)
    node.advance_time(5 * S)
    assert node.buy("a", "ETH/USD", "1", "90", client_order_id="x").duplicate
    node.advance_time(6 * S)
    assert not node.buy("a", "ETH/USD", "1", "90", client_order_id="x").duplicate


def test_exec_id_dedupe_is_bounded_and_still_refuses_a_duplicate_on_a_live_order() -> None:
    node = make()
    order = node.buy("a", "ETH/USD", "2", "90")
    report = VenueFilled(
        order_id=order.order_id,
        ts=node.clock.now(),
        exec_id="X1",
        trade_id="T1",
        last_qty=Decimal("1"),
        last_px=Decimal("90"),
        liquidity_side=LiquiditySide.MAKER,
        fee=Decimal(0),
        fee_asset="USD",
    )
    node.feed(report)
    again = node.feed(report)
    assert isinstance(again[-1], ev.VenueReportIgnored)
    assert again[-1].reason == Reason.DUPLICATE_EXECUTION
    node.cancel("a", order.order_id)
    node.advance_time(2 * H)
    assert "X1" not in node.engine.state.fills  # it left memory with its order


def test_a_bogus_restore_changes_nothing() -> None:
    node = make()
    seq = node.seq
    node.advance_time(2 * H)
    assert node.seq == seq  # nothing to archive: a tick emits nothing
