"""The arbitrage watcher on real venues (issue 16 §2): the Binance and Bybit spot fakes cross
(Binance's ask below Bybit's bid by more than both taker fees and the threshold). The consolidated
book, fed by the adapters' book streams, finds it: one ``ArbitrageDetected`` with the size both
books show. Auto-execution is off by default (no orders); on, both legs go out as a paired order,
and when the second leg fails the first is unwound."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

from tests.runtime.test_sor_venues import BINANCE, BN_SYM, BY_SYM, BYBIT, D, desk, fee_yaml, until

from atlas_oms.model import events as ev
from atlas_oms.model.events_sor import ArbitrageDetected, ArbitragePairDone, ArbitragePairPlaced
from atlas_oms.runtime.market.arbitrage import ArbitrageConfig, ArbitrageWatcher

CROSSED = {
    "binance_asks": [("60000.00", "0.1")],
    "bybit_bids": [("60200.00", "0.05")],
    "bybit_asks": [("60400.00", "0.1")],
    "sim_asks": [("60500.00", "0.1")],
    "binance_bids": [("59900.00", "1")],
    "fees": fee_yaml("0.001", "0.001"),
}


def desk_orders(d: object) -> list[ev.OrderSubmitted]:
    return [
        e
        for e in d.events(ev.OrderSubmitted)  # type: ignore[attr-defined]
        if e.intent.account_id in (BINANCE, BYBIT)
    ]


def test_a_crossed_market_between_two_venues_is_detected_once_with_its_size_and_no_order(
    tmp_path: Path,
) -> None:
    async def main() -> None:
        async with desk(
            tmp_path, arbitrage=ArbitrageConfig(threshold_bps=D("5"), strategy="sor"), **CROSSED
        ) as d:
            found = await until(lambda: d.events(ArbitrageDetected), what="ArbitrageDetected")
            await asyncio.sleep(0.3)  # more book updates: nothing new to say
            (detected,) = d.events(ArbitrageDetected)
            assert detected.status == "NEW" and found == [detected]
            o = detected.opportunity
            assert (o.symbol, o.buy_venue, o.buy_symbol, o.sell_venue, o.sell_symbol) == (
                "BTC/USDT",
                "binance",
                BN_SYM,
                "bybit",
                BY_SYM,
            )
            assert (o.buy_px, o.sell_px, o.qty) == (D("60000.00"), D("60200.00"), D("0.05"))
            edge = D("60200") * D("0.999") - D("60000") * D("1.001")
            assert o.expected_profit == edge * D("0.05")
            assert (o.buy_fee, o.sell_fee) == (D("0.001"), D("0.001"))
            assert desk_orders(d) == []  # auto-execution is off by default
            assert d.events(ArbitragePairPlaced) == []

    asyncio.run(main())


def test_auto_execution_sends_both_legs_as_a_paired_order(tmp_path: Path) -> None:
    async def main() -> None:
        config = ArbitrageConfig(strategy="sor", auto=True, max_qty={"*": Decimal("0.03")})
        async with desk(tmp_path, **CROSSED) as d:
            # The watcher starts once the desk is up (the books as set up), as it would in
            # `atlas serve` with ATLAS_MD_ARBITRAGE_AUTO=true.
            d.md.arbitrage = ArbitrageWatcher(d.node, d.md.book, config)
            d.md.arbitrage.check("BTC/USDT")
            done = await until(lambda: d.events(ArbitragePairDone), what="the pair done")
            (placed,) = d.events(ArbitragePairPlaced)
            assert (placed.buy_account_id, placed.buy_symbol, placed.buy_qty) == (
                BINANCE,
                BN_SYM,
                D("0.03"),
            )
            assert (placed.sell_account_id, placed.sell_symbol, placed.sell_qty) == (
                BYBIT,
                BY_SYM,
                D("0.03"),
            )
            assert (placed.buy_limit, placed.sell_limit) == (D("60000.00"), D("60200.00"))
            (pair,) = done
            assert (pair.buy_filled, pair.sell_filled, pair.unwound, pair.open_qty) == (
                D("0.03"),
                D("0.03"),
                0,
                0,
            )
            await asyncio.sleep(0.3)  # the opportunity shrank (CHANGED): no second pair
            assert len(d.events(ArbitragePairPlaced)) == 1

    asyncio.run(main())


def test_auto_execution_unwinds_the_first_leg_when_the_second_fails(tmp_path: Path) -> None:
    async def main() -> None:
        config = ArbitrageConfig(strategy="sor", auto=True, max_qty={"*": Decimal("0.03")})
        async with desk(tmp_path, **CROSSED) as d:
            # Bybit refuses the sell leg (the BTC is gone at the venue; Atlas saw it there).
            d.bybit.venue.accounts["desk"].wallet["BTC"] = D("0")
            d.md.arbitrage = ArbitrageWatcher(d.node, d.md.book, config)
            d.md.arbitrage.check("BTC/USDT")
            (pair,) = await until(lambda: d.events(ArbitragePairDone), what="the pair done")
            (unwound,) = d.events(ev.ArbitragePairUnwound)
            assert (unwound.account_id, unwound.symbol, unwound.side, unwound.qty) == (
                BINANCE,
                BN_SYM,
                "SELL",
                D("0.03"),
            )
            assert (pair.buy_filled, pair.sell_filled) == (D("0.03"), 0)
            assert (pair.unwound, pair.open_qty) == (D("0.03"), 0)
            sell_leg = d.node.order(d.events(ArbitragePairPlaced)[0].sell_order_id)
            assert sell_leg.status.value == "REJECTED"
            # Binance: bought 0.03, sold 0.03 back at its bid.
            mine = [o for o in d.binance.venue.orders.values() if o.account == "desk"]
            assert sorted((o.side, o.executed) for o in mine) == [
                ("BUY", D("0.03")),
                ("SELL", D("0.03")),
            ]

    asyncio.run(main())
