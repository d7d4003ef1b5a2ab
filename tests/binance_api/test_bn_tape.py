"""The trade tape (binance_api/market_common.py): market-data reads come from a per-symbol index
fed by the node's events, never from a new scan of the node's fills, and give the figures a
scan gives."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from tests.binance_api.kit import SPOT, world

from atlas_oms.binance_api import spot_market
from atlas_oms.binance_api.market_common import series_of, tape_of
from atlas_oms.binance_api.symbols import Symbols
from atlas_oms.binance_api.table import Call
from atlas_oms.model.enums import LiquiditySide
from atlas_oms.runtime.clock import ManualClock
from atlas_oms.runtime.node import Node

MIN_NS = 60_000_000_000


def trade(node: Node, price: str, qty: str, side: str = "BUY") -> None:
    other = "SELL" if side == "BUY" else "BUY"
    node.submit("maker", SPOT, other, "LIMIT", qty, price)
    node.submit("alice", SPOT, side, "LIMIT", qty, price)


@pytest.fixture
def setup() -> tuple[Node, ManualClock, Any]:
    clock = ManualClock(1_800_000_000_000_000_000)
    node = Node.in_memory(clock=clock)
    world(node)
    dialect = SimpleNamespace(
        node=node, service=SimpleNamespace(book=node.book), spot_symbols=Symbols(node), extras={}
    )
    return node, clock, dialect


def call(dialect: Any, **params: str) -> Call:
    return Call(dialect, None, dict(params))  # type: ignore[arg-type]


def test_reads_follow_new_trades_without_scanning_the_nodes_fills(
    setup: tuple[Node, ManualClock, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    node, clock, dialect = setup
    trade(node, "30000", "1")
    inst = dialect.spot_symbols.instrument("BTCUSDT")
    assert spot_market.ticker_24h(dialect, inst)["count"] == 1  # loads the tape once

    def no_scan(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("node.fills scanned")

    monkeypatch.setattr(node, "fills", no_scan)
    clock.advance(MIN_NS)
    trade(node, "30100", "0.5", side="SELL")
    clock.advance(MIN_NS)
    trade(node, "29900", "2")
    t = spot_market.ticker_24h(dialect, inst)
    assert (t["count"], t["highPrice"], t["lowPrice"], t["lastQty"]) == (3, "30100", "29900", "2")
    assert Decimal(t["volume"]) == Decimal("3.5")
    bars = asyncio.run(spot_market.klines(call(dialect, symbol="BTCUSDT", interval="1m")))
    assert [b[4] for b in bars] == ["30000", "30100", "29900"]
    assert bars[1][9] == "0"  # the taker sold: no taker-buy volume
    last_two = asyncio.run(
        spot_market.klines(call(dialect, symbol="BTCUSDT", interval="1m", limit="2"))
    )
    assert last_two == bars[-2:]
    trades = asyncio.run(spot_market.trades(call(dialect, symbol="BTCUSDT", limit="2")))
    assert [r["price"] for r in trades] == ["30100", "29900"]


def test_figures_match_a_scan_of_the_fills(setup: tuple[Node, ManualClock, Any]) -> None:
    node, clock, dialect = setup
    tape_of(dialect)
    prices = ["30000", "30050", "29950", "30010", "30020", "29990", "30030"]
    for i, price in enumerate(prices * 3):
        trade(node, price, "0.1", side="BUY" if i % 3 else "SELL")
        clock.advance(40_000_000_000)  # 40 s: several trades per minute bar, some alone
    now_ms = clock.now() // 1_000_000
    scan = [f for f in node.fills(symbol=SPOT) if f.liquidity_side is LiquiditySide.TAKER]
    series = series_of(dialect, SPOT)
    assert series.fills == scan
    cut = now_ms - 10 * 60_000
    window = [f for f in scan if f.ts_event // 1_000_000 > cut]
    got = series.suffix(series.after(cut))
    assert got.count == len(window) and got.first == window[0] and got.last == window[-1]
    assert got.high == max(f.last_px for f in window)
    assert got.low == min(f.last_px for f in window)
    assert got.volume == sum(f.last_qty for f in window)
    assert got.buy_volume == sum(f.last_qty for f in window if str(f.side) == "BUY")
    start = scan[4].ts_event // 1_000_000
    agg = asyncio.run(
        spot_market.agg_trades(call(dialect, symbol="BTCUSDT", startTime=str(start), limit="3"))
    )
    assert [a["a"] for a in agg] == [f.seq for f in scan[4:7]]
    agg = asyncio.run(
        spot_market.agg_trades(call(dialect, symbol="BTCUSDT", fromId=str(scan[-2].seq)))
    )
    assert [a["a"] for a in agg] == [f.seq for f in scan[-2:]]
