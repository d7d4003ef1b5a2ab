"""An account's position statistics (POS-6): open positions, round trips, win rate, P&L."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from atlas_oms import CommandRefused, Instrument, ManualClock, Node
from atlas_oms.runtime.position_stats import position_stats


def traded_node() -> Node:
    """Account "a": ETH round trip +10 (fees 0), ETH round trip -5, BTC open long 1 @ 200
    marked at 210 (the last trade)."""
    node = Node.in_memory(clock=ManualClock(1))
    node.add_instrument(Instrument.spot("ETH/USD", tick_size="0.01", lot_size="0.01"))
    node.add_instrument(Instrument.spot("BTC/USD", tick_size="0.01", lot_size="0.01"))
    for acct in ("a", "mm", "c"):
        node.open_account(acct)
        node.deposit(acct, "USD", 100_000)
        node.deposit(acct, "ETH", 100)
        node.deposit(acct, "BTC", 100)

    def trade(buyer: str, seller: str, symbol: str, qty: str, price: str) -> None:
        node.sell(seller, symbol, qty, price)
        node.buy(buyer, symbol, qty, price)

    trade("a", "mm", "ETH/USD", "1", "100")
    trade("mm", "a", "ETH/USD", "1", "110")  # +10
    trade("a", "mm", "ETH/USD", "1", "100")
    trade("mm", "a", "ETH/USD", "1", "95")  # -5
    trade("a", "mm", "BTC/USD", "1", "200")  # open
    trade("c", "mm", "BTC/USD", "1", "210")  # another account's trade marks BTC at 210
    return node


def test_open_positions_round_trips_win_rate_and_pnl() -> None:
    node = traded_node()
    stats = position_stats(node, "a")
    eth = {s.symbol: s for s in stats.symbols}["ETH/USD"]
    btc = {s.symbol: s for s in stats.symbols}["BTC/USD"]
    assert stats.open_positions == 1
    assert (stats.closed_trades, stats.wins, stats.losses) == (2, 1, 1)
    assert stats.win_rate == "50.00"
    assert eth.qty == 0 and eth.closed_trades == 2
    assert eth.realized_pnl == D(5)  # +10 - 5, before fees
    assert btc.qty == 1 and btc.closed_trades == 0
    assert node.last_price("BTC/USD") == D(210)
    assert btc.unrealized_pnl == D(10)
    expected = eth.realized_pnl - eth.fees + btc.unrealized_pnl - btc.fees
    assert stats.total_pnl == expected
    assert stats.by_asset["USD"].total_pnl == expected == D(15)


def test_statistics_of_one_symbol() -> None:
    stats = position_stats(traded_node(), "a", symbol="ETH/USD")
    assert stats.open_positions == 0 and stats.closed_trades == 2
    assert [s.symbol for s in stats.symbols] == ["ETH/USD"]


def test_an_account_without_trades_has_no_win_rate() -> None:
    node = Node.in_memory()
    node.open_account("idle")
    stats = position_stats(node, "idle")
    assert (stats.open_positions, stats.closed_trades, stats.win_rate) == (0, 0, None)
    assert stats.total_pnl == 0 and stats.symbols == []


def test_an_unknown_account_is_refused() -> None:
    with pytest.raises(CommandRefused) as refused:
        position_stats(Node.in_memory(), "ghost")
    assert refused.value.reason == "UNKNOWN_ACCOUNT"
