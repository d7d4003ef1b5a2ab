"""How long the Binance dialect's market-data reads take on a node with many fills:
``python benchmarks/bench_binance_market.py [TRADES]`` (default 20000 trades in BTC/USDT and as
many in ETH/USDT). Prints ms per call of spot ticker/24hr, klines (last 500 1m bars), trades
(last 500), aggTrades, avgPrice and USDⓈ-M ticker/24hr. docs/notes/binance-spot.md keeps a
before/after of one sitting."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from types import SimpleNamespace
from typing import Any

from atlas_oms import Node
from atlas_oms.binance_api import futures_market, spot_market
from atlas_oms.binance_api.symbols import Symbols
from atlas_oms.binance_api.table import Call
from atlas_oms.runtime.clock import ManualClock
from atlas_oms.service.bootstrap import DESK, MAKER, default_instruments, first_start


def build(trades: int) -> Node:
    """``trades`` trades in each spot symbol, 3 s apart (20000 span ~17 h: 1000 1m bars)."""
    clock = ManualClock(1_800_000_000_000_000_000)
    node = Node.in_memory(clock=clock)
    first_start(node, default_instruments())
    for acct in (MAKER, DESK):
        node.deposit(acct, "USDT", "1000000000000")
        node.deposit(acct, "BTC", "1000000")
        node.deposit(acct, "ETH", "1000000")
    for i in range(trades):
        for symbol, qty in (("BTC/USDT", "0.001"), ("ETH/USDT", "0.01")):
            price = str(30000 + i % 50)
            node.submit(MAKER, symbol, "SELL", "LIMIT", qty, price)
            node.submit(DESK, symbol, "BUY", "LIMIT", qty, price)
        clock.advance(3_000_000_000)
        if i % 100 == 0:
            node.submit(MAKER, "BTC/USDT:USDT", "SELL", "LIMIT", "0.001", "60000")
            node.submit(DESK, "BTC/USDT:USDT", "BUY", "LIMIT", "0.001", "60000")
    return node


def timed(label: str, fn: Callable[[], Awaitable[Any] | Any], rounds: int = 20) -> None:
    async def run() -> float:
        out = fn()  # one call first: the dialect's trade tape loads on its first read
        if asyncio.iscoroutine(out):
            await out
        start = time.perf_counter()
        for _ in range(rounds):
            out = fn()
            if asyncio.iscoroutine(out):
                await out
        return (time.perf_counter() - start) / rounds * 1000

    print(f"{label:<36} {asyncio.run(run()):9.3f} ms")


def main() -> None:
    trades = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    t0 = time.perf_counter()
    node = build(trades)
    print(f"{trades} trades per spot symbol built in {time.perf_counter() - t0:.1f} s")
    dialect: Any = SimpleNamespace(
        node=node,
        service=SimpleNamespace(book=node.book),
        spot_symbols=Symbols(node),
        extras={},
    )
    btc = dialect.spot_symbols.instrument("BTCUSDT")

    def call(**params: str) -> Call:
        return Call(dialect, None, dict(params))  # type: ignore[arg-type]

    timed("spot ticker/24hr BTCUSDT", lambda: spot_market.ticker_24h(dialect, btc))
    timed(
        "spot klines 1m (last 500)",
        lambda: spot_market.klines(call(symbol="BTCUSDT", interval="1m")),
    )
    timed("spot trades (last 500)", lambda: spot_market.trades(call(symbol="BTCUSDT")))
    timed("spot aggTrades (last 500)", lambda: spot_market.agg_trades(call(symbol="BTCUSDT")))
    timed("spot avgPrice", lambda: spot_market.avg_price(call(symbol="BTCUSDT")))
    timed(
        "fapi ticker/24hr BTCUSDT",
        lambda: futures_market.ticker_24hr(call(symbol="BTCUSDT")),
    )
    timed(
        "fapi klines 1m (last 500)",
        lambda: futures_market.klines(call(symbol="BTCUSDT", interval="1m")),
    )


if __name__ == "__main__":
    main()
