"""A native iceberg through the library on the built-in exchange: the book (and market data)
shows only its display quantity, a taker sweeping the level fills the visible part, then the
order behind it, then the refill at the back; the iceberg's fills add up over every refill (each
fill its own exec id); and a node reopened on its journal rests it again as an iceberg."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from atlas_oms import Instrument, ManualClock, Node, OrderStatus, OrderType
from atlas_oms.model import events as ev
from atlas_oms.model.enums import LiquiditySide

D = Decimal
BTC = "BTC/USDT"


def setup(node: Node) -> None:
    node.add_instrument(Instrument.spot(BTC, tick_size="0.5", lot_size="0.01"))
    for account in ("ice", "plain", "taker"):
        node.open_account(account)
        node.deposit(account, "USDT", 1_000_000)
        node.deposit(account, "BTC", 100)
    node.update_prices(BTC, last="30000", mark="30000")


@pytest.fixture
def node() -> Node:
    n = Node.in_memory(clock=ManualClock(1))
    setup(n)
    return n


def test_the_book_shows_only_the_display_qty(node: Node) -> None:
    o = node.submit("ice", BTC, "SELL", OrderType.LIMIT, "1", "30000", display_qty="0.2")
    assert o.status is OrderStatus.ACCEPTED and o.display_qty == D("0.2")
    assert node.book(BTC)["asks"] == [(D(30000), D("0.2"))]
    assert node.order(o.order_id).leaves_qty == D(1)


def test_a_sweep_fills_the_visible_part_then_the_order_behind_then_the_refill(
    node: Node,
) -> None:
    ice = node.submit("ice", BTC, "SELL", "LIMIT", "1", "30000", display_qty="0.2")
    plain = node.submit("plain", BTC, "SELL", "LIMIT", "0.1", "30000")
    start = node.engine.seq
    taker = node.submit("taker", BTC, "BUY", "LIMIT", "0.5", "30000", tif="IOC")
    assert taker.status is OrderStatus.FILLED
    makers = [
        (e.order_id, e.last_qty)
        for e in node.events(start + 1)
        if isinstance(e, ev.OrderFilled) and e.liquidity_side is LiquiditySide.MAKER
    ]
    assert makers == [
        (ice.order_id, D("0.2")),
        (plain.order_id, D("0.1")),
        (ice.order_id, D("0.2")),
    ]
    fills = [e for e in node.events(start + 1) if isinstance(e, ev.OrderFilled)]
    assert len({(e.order_id, e.exec_id) for e in fills}) == len(fills) == 6
    after = node.order(ice.order_id)
    assert after.status is OrderStatus.PARTIALLY_FILLED
    assert (after.cum_qty, after.leaves_qty) == (D("0.4"), D("0.6"))
    assert node.book(BTC)["asks"] == [(D(30000), D("0.2"))]
    # The rest of it, refill by refill, to the end: the fills add up to the order.
    node.submit("taker", BTC, "BUY", "LIMIT", "0.6", "30000", tif="IOC")
    done = node.order(ice.order_id)
    assert done.status is OrderStatus.FILLED and done.cum_qty == D(1)
    assert node.book(BTC)["asks"] == []


def test_a_reopened_node_rests_the_iceberg_again(tmp_path: Path) -> None:
    path = str(tmp_path / "j.db")
    node = Node.open(path, clock=ManualClock(1))
    setup(node)
    ice = node.submit("ice", BTC, "SELL", "LIMIT", "1", "30000", display_qty="0.3")
    node.submit("taker", BTC, "BUY", "LIMIT", "0.4", "30000", tif="IOC")
    digest = node.digest()
    node.close()
    again = Node.open(path, clock=ManualClock(2))
    try:
        assert again.digest() == digest
        assert again.order(ice.order_id).display_qty == D("0.3")
        assert again.order(ice.order_id).leaves_qty == D("0.6")
        # Rebuilt showing a full visible part, the rest hidden.
        assert again.book(BTC)["asks"] == [(D(30000), D("0.3"))]
        again.submit("taker", BTC, "BUY", "LIMIT", "0.6", "30000", tif="IOC")
        assert again.order(ice.order_id).status is OrderStatus.FILLED
    finally:
        again.close()
