"""The node's consolidated market data (issue 16, MD-1): one :class:`MarketData` per node ties the
consolidated book, the built-in exchange's books, the spread monitor and the trade statistics to
the node and (when there is one) the gateway.

Wiring (``service/app.py`` does this; a library user the same)::

    md = MarketData(node, config, accounts=accounts_config)
    md.attach_gateway(gateway)          # venue books and trade ticks in, rate budgets out
    runtime.add("market-data", md.run)  # the built-in exchange's book every sim_every_ms
    node.route_books = md.route_book    # the router's snapshots (h16-algo's attribute)
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from decimal import Decimal
from typing import Any

from atlas_oms.model.route_book import RouteBook, VenueBook, unified_symbol
from atlas_oms.model.venue import PriceTick
from atlas_oms.runtime.market.accounts import gateway_throttled, strategy_accounts_of
from atlas_oms.runtime.market.config import FeeTier, MarketDataConfig
from atlas_oms.runtime.market.consolidated import ConsolidatedBook
from atlas_oms.runtime.market.sim_books import SimBooks
from atlas_oms.runtime.market.spread import SpreadMonitor
from atlas_oms.runtime.market.trade_stats import TradeStats, consolidated_symbols
from atlas_oms.venues.accounts import AccountsConfig

__all__ = ["MarketData"]


class MarketData:
    """See the module doc."""

    def __init__(
        self,
        node: Any,
        config: MarketDataConfig | None = None,
        *,
        accounts: AccountsConfig | None = None,
        hysteresis_bps: Decimal = Decimal(1),
    ) -> None:
        self.node = node
        config = config or MarketDataConfig()
        if accounts is not None and accounts.fees:
            fees = {
                account: {venue: FeeTier(e.maker, e.taker) for venue, e in tiers.items()}
                for account, tiers in accounts.fees.items()
            }
            config = replace(config, fees={**fees, **config.fees})
        self.config = config
        self.book = ConsolidatedBook(
            config,
            instruments=node.instrument,
            now=node.clock.now,
            strategy_accounts=strategy_accounts_of(accounts) if accounts is not None else None,
        )
        self.stats = TradeStats(config.windows_s)
        self.sim = SimBooks(node, self.book, config.depth, on_trade=self._sim_trade)
        self.spread = SpreadMonitor(self.book, node.process, node.clock.now, hysteresis_bps)

    # ------------------------------------------------------------------ feeding
    def apply(self, book: VenueBook) -> None:
        """A venue book from a feed: kept, then the spread monitor checks its group."""
        if self.book.apply(book):
            unified = unified_symbol(book.symbol)
            if self.config.levels_for(unified):
                self.spread.check(book.symbol, unified)

    def on_tick(self, venue: str, tick: PriceTick) -> None:
        """A public tick: a trade (``last`` with ``last_qty``; ``last`` alone counts for the
        TWAP only) goes to the trade statistics."""
        if tick.last is not None:
            self.stats.add(tick.symbol, tick.ts, tick.last, tick.last_qty, venue)

    def _sim_trade(self, symbol: str, ts: int, price: Any, qty: Any) -> None:
        self.stats.add(symbol, ts, price, qty, self.sim.venue)

    def attach_gateway(self, gateway: Any) -> None:
        """Take the gateway's venue books and trade ticks; read its rate budgets."""
        gateway.book_sinks.append(self.apply)
        gateway.tick_sinks.append(self.on_tick)
        gateway.book_depth = self.config.depth
        self.book.throttled = gateway_throttled(gateway)

    def flush_sim(self) -> None:
        """Push the built-in exchange's changed books; check their groups' spreads."""
        for symbol in self.sim.flush():
            unified = unified_symbol(symbol)
            if self.config.levels_for(unified):
                self.spread.check(symbol, unified)

    async def run(self) -> None:
        """Flush the built-in exchange's books every ``sim_every_ms`` until cancelled."""
        every = max(self.config.sim_every_ms, 1) / 1000
        while True:
            await asyncio.sleep(every)
            self.flush_sim()

    # ------------------------------------------------------------------ reading
    def route_book(
        self, symbol: str, account_id: str | None = None, strategy: str | None = None
    ) -> RouteBook:
        """The router's snapshot (``ConsolidatedBook.route_book``): ``node.route_books``."""
        return self.book.route_book(symbol, account_id, strategy)

    def trade_symbols(self, symbol: str) -> list[str]:
        """The Atlas symbols with trades of ``symbol``'s unified symbol."""
        return consolidated_symbols(self.stats.symbols(), symbol)
