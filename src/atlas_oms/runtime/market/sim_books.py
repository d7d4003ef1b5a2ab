"""The built-in exchange's books as :class:`VenueBook` s (venue ``sim``), so the consolidated book
always includes it (issue 16, MD-1).

Cheap on the hot path: a node listener only marks the symbols whose sim orders an event touched
(one dict lookup per event); :meth:`SimBooks.flush` reads the dirty books' top ``depth`` levels
(``matching/book.py::OrderBook.depth``) and stores them in the consolidated book. The
consolidated book calls it before every view (a refresher), and the market-data hub every
``sim_every_ms`` (for the spread monitor).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from atlas_oms.model import events as ev
from atlas_oms.model.enums import LiquiditySide, Side
from atlas_oms.model.route_book import BookLevel, VenueBook
from atlas_oms.runtime.market.consolidated import ConsolidatedBook

__all__ = ["SimBooks"]


class SimBooks:
    """The node's built-in exchange feeding ``book`` (see the module doc). ``on_trade`` gets
    each trade made there (symbol, ts, price, qty): the maker's fill, one per trade."""

    def __init__(
        self,
        node: Any,
        book: ConsolidatedBook,
        depth: int = 10,
        on_trade: Callable[[str, int, Any, Any], None] | None = None,
    ) -> None:
        self.node = node
        self.book = book
        self.depth = depth
        self.on_trade = on_trade
        self.venue: str = node.sim.name
        self.dirty: set[str] = set(node.sim.books)
        self._update_id = 0
        node.subscribe(self.on_events)
        book.refreshers.append(self.flush)
        book.live_venues.add(self.venue)

    def on_events(self, events: list[ev.EventBase]) -> None:
        orders = self.node.engine.state.orders
        venue = self.venue
        dirty = self.dirty
        for event in events:
            order_id = getattr(event, "order_id", None)
            if order_id is None:
                continue
            order = orders.get(order_id)
            if order is None or order.venue != venue:
                continue
            dirty.add(order.symbol)
            if (
                self.on_trade is not None
                and event.__class__ is ev.OrderFilled
                and event.liquidity_side is LiquiditySide.MAKER
            ):
                self.on_trade(order.symbol, event.ts_event, event.last_px, event.last_qty)

    def flush(self) -> list[str]:
        """Store the dirty symbols' books in the consolidated book; return those symbols."""
        if not self.dirty:
            return []
        books = self.node.sim.books
        symbols = sorted(self.dirty)
        self.dirty.clear()
        ts = self.node.clock.now()
        for symbol in symbols:
            ob = books.get(symbol)
            if ob is None:
                continue
            self._update_id += 1
            self.book.apply(
                VenueBook(
                    venue=self.venue,
                    symbol=symbol,
                    bids=tuple(BookLevel(p, q) for p, q in ob.depth(Side.BUY, self.depth)),
                    asks=tuple(BookLevel(p, q) for p, q in ob.depth(Side.SELL, self.depth)),
                    ts=ts,
                    update_id=self._update_id,
                )
            )
        return symbols
