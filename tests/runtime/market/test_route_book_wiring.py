"""What the consolidated book adds to the router's snapshot for real venues (issue 16 §4 glue):
the accounts' fee tiers (``accounts.yaml`` ``fees:``), the order's own account after the
strategy's; and the hub checks a group after a built-in exchange change even when a view read in
between already refreshed the book."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

from tests.runtime.market.test_consolidated import feed, make

from atlas_oms import Instrument, ManualClock, Node
from atlas_oms.model.route_book import AccountFee, BookLevel, VenueBook
from atlas_oms.runtime.market.arbitrage import ArbitrageConfig
from atlas_oms.runtime.market.config import FeeTier, MarketDataConfig
from atlas_oms.runtime.market.hub import MarketData

S = 1_000_000_000


def test_the_route_book_carries_the_accounts_fee_tiers_and_the_orders_own_account() -> None:
    book = make(
        fees={
            "binance_spot_a": {"binance": FeeTier(D("0.0001"), D("0.0003"))},
            "bybit_spot_a": {"bybit": FeeTier(D("0"), D("0.0002")), "okx": FeeTier(D("0"), D("0"))},
            "desk": {"binance": FeeTier(D("0"), D("0.0009"))},
        }
    )
    feed(book)
    book.strategy_accounts = lambda strategy, venues: [
        ("binance", "binance_spot_a"),
        ("bybit", "bybit_spot_a"),
    ]
    rb = book.route_book("BTC/USDT", "desk", "sor")
    assert rb.accounts == ("binance_spot_a", "bybit_spot_a", "desk")
    assert rb.fees == (
        AccountFee("binance", "binance_spot_a", D("0.0001"), D("0.0003")),
        AccountFee("bybit", "bybit_spot_a", D("0"), D("0.0002")),  # okx: not in the group
        AccountFee("binance", "desk", D("0"), D("0.0009")),
    )
    # Without a strategy: the order's own account only (empty accounts), its tiers.
    plain = book.route_book("BTC/USDT", "desk")
    assert plain.accounts == () and plain.fees == (
        AccountFee("binance", "desk", D("0"), D("0.0009")),
    )


def test_a_sim_change_refreshed_by_a_view_is_still_checked_by_the_next_flush() -> None:
    node = Node.in_memory(clock=ManualClock(10 * S))
    node.add_instrument(
        Instrument.spot("BTC/USDT", tick_size="0.01", lot_size="0.001", taker_fee="0.001")
    )
    node.add_instrument(
        Instrument(
            symbol="BTC/USDT@x",
            kind="SPOT",
            base="BTC",
            quote="USDT",
            tick_size=D("0.01"),
            lot_size=D("0.001"),
            venue="x",
            taker_fee=D("0.001"),
        )
    )
    node.open_account("mm")
    node.deposit("mm", "BTC", 10)
    md = MarketData(node, MarketDataConfig(), arbitrage=ArbitrageConfig())
    md.apply(VenueBook(venue="x", symbol="BTC/USDT@x", bids=(BookLevel(D("102"), D("1")),)))
    checked: list[Any] = []
    real = md.arbitrage.check  # type: ignore[union-attr]
    md.arbitrage.check = lambda u: checked.append(u) or real(u)  # type: ignore[union-attr,method-assign]
    node.submit("mm", "BTC/USDT", "SELL", "LIMIT", "0.5", "101")
    md.book.levels("BTC/USDT", "ask")  # a view refreshes the sim's book first
    md.flush_sim()
    assert checked == ["BTC/USDT"]
    (found,) = [e for e in node.journal.read() if type(e).__name__ == "ArbitrageDetected"]
    assert found.opportunity.qty == D("0.5")
