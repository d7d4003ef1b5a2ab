"""Rolling VWAP/TWAP of each venue's trades, exact in Decimal; volume and volume profile."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from atlas_oms.runtime.market.trade_stats import TradeStats

S = 1_000_000_000


def test_vwap_is_exact_over_each_window() -> None:
    t = TradeStats((60, 300))
    t.add("BTC/USDT", 10 * S, D("100"), D("1"))
    t.add("BTC/USDT", 250 * S, D("101"), D("2"))
    t.add("BTC/USDT", 290 * S, D("103"), D("2"))
    one, five = t.stats("BTC/USDT", now=300 * S)
    assert (one.window_s, one.vwap, one.volume, one.trades) == (60, D("102"), D("4"), 2)
    assert five.vwap == D("101.6")
    assert five.trades == 3


def test_twap_weights_each_price_by_how_long_it_held() -> None:
    t = TradeStats((60,))
    t.add("X", 0, D("100"), D("1"))  # before the window: the opening price
    t.add("X", 100 * S, D("110"), D("5"))
    t.add("X", 130 * S, D("120"), None)  # a last price without a quantity: TWAP only
    w = t.window("X", 60, now=160 * S)  # window (100 s, 160 s]: 110 for 30 s, 120 for 30 s
    assert w.twap == D("115")
    assert w.vwap is None and w.trades == 1  # the 110 trade opened the window: not in it
    w2 = t.window("X", 60, now=110 * S)  # 50..110: 100 for 50 s, 110 for 10 s
    assert w2.twap == (D("100") * 50 + D("110") * 10) / 60


def test_consolidated_stats_merge_venues() -> None:
    t = TradeStats((60,))
    t.add("BTC/USDT", 10 * S, D("100"), D("1"), "binance")
    t.add("BTC/USDT@bybit", 20 * S, D("102"), D("1"), "bybit")
    w = t.window(["BTC/USDT", "BTC/USDT@bybit"], 60, now=30 * S)
    assert w.vwap == D("101") and w.trades == 2
    assert t.venue_of("BTC/USDT@bybit") == "bybit"


def test_old_trades_fall_out_and_the_last_one_opens_the_twap() -> None:
    t = TradeStats((60,))
    t.add("X", 0, D("100"), D("1"))
    t.add("X", 100 * S, D("200"), D("1"))  # the first trade is now older than 60 s
    w = t.window("X", 60, now=100 * S)
    assert w.trades == 1 and w.vwap == D("200")
    assert w.twap == D("100")  # 100 held from the window's start up to now-ish


def test_volume_and_volume_profile() -> None:
    t = TradeStats((60,))
    for i, q in enumerate(["1", "2", "3", "4", "5", "6"]):
        t.add("X", (i + 1) * 10 * S, D("100"), D(q))
    assert t.volume("X", since_ts=30 * S, now=60 * S) == D("15")
    assert t.volume_profile("X", buckets=3, now=60 * S) == [D("3"), D("7"), D("11")]
    with pytest.raises(ValueError):
        t.volume_profile("X", buckets=0, now=60 * S)


def test_out_of_order_trades_are_kept_in_time_order() -> None:
    t = TradeStats((60,))
    t.add("X", 20 * S, D("120"), D("1"))
    t.add("X", 10 * S, D("110"), D("1"))
    assert t.window("X", 60, now=30 * S).twap == (D("110") * 10 + D("120") * 10) / 20
