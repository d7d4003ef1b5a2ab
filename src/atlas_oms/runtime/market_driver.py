"""The venue-and-core half of the market driver: what every paper flavour does per market event.

One :class:`MarketCore` drives one node and one simulated venue
(:class:`~atlas_oms.simulation.venue.SimulatedVenue`) with market events; three callers share it:
the backtest's :class:`~atlas_oms.backtest.driver.MarketDriver` (which adds the strategies and
walks a bar as an intra-bar path of ticks on top of it), a paper session (the same driver on a
live loop: ``backtest/paper.py``), and ``atlas serve``'s paper accounts
(:class:`~atlas_oms.runtime.paper.PaperFeed`). Per event (:meth:`on_market`):

1. the node's clock follows the event's ``ts`` when ``follow_clock`` (a backtest's and a paper
   session's :class:`ManualClock`; ``atlas serve`` keeps the wall clock);
2. the event goes to ``venue.on_market`` and every report it returns to ``node.feed``;
3. the core gets ``UpdatePrices`` for the symbol (a trade's price; a book's mid) **only while it
   needs prices there**: a live order (held stops and triggers included), an open managed trade
   or a derivative position (:attr:`need_prices`); while it holds only spot positions, a bar's
   close (:attr:`need_close`). The core knows it without asking the node per event: it listens
   to the node's events (``node.subscribe``) and keeps, per symbol, the live order ids, the open
   positions and the open managed trades;
4. ``AdvanceTime`` when the core's next deadline is due (``node.next_deadline``, asked again only
   after the node produced events), when ``advance_time`` (``atlas serve``'s live runtime has
   its own timer).

Nothing goes through ``node.process`` for an event while nothing is live on its symbol: the
backtest's speed (``backtest_bars_per_s``) rests on it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any, Protocol

from atlas_oms.model import commands as c
from atlas_oms.model import events as ev
from atlas_oms.model.enums import DERIVATIVE_KINDS, PositionSide
from atlas_oms.model.reasons import Reason
from atlas_oms.model.reports import Report
from atlas_oms.model.requests import VenueRequest
from atlas_oms.runtime.clock import ManualClock
from atlas_oms.runtime.node import Node
from atlas_oms.simulation.market import Bar, BookSnapshot, MarketEvent, TradePrint

__all__ = ["MarketCore", "MarketVenue"]

_NO_LIQUIDITY = Reason.MARKET_NO_LIQUIDITY.value
_SIDES = (PositionSide.BOTH, PositionSide.LONG, PositionSide.SHORT)
_TWO = Decimal(2)


class MarketVenue(Protocol):
    """What the driver needs from the simulated venue (a node's venue that takes market data)."""

    name: str
    synchronous: bool

    def handle(self, request: VenueRequest) -> list[Report]: ...

    def on_market(self, event: MarketEvent) -> list[Report]: ...


class MarketCore:
    """Feeds one node and its simulated venue with market events (see the module)."""

    def __init__(
        self,
        node: Node,
        venue: MarketVenue,
        *,
        follow_clock: bool = True,
        advance_time: bool = True,
    ) -> None:
        self.node = node
        self.venue = venue
        clock = node.clock
        self._clock: ManualClock | None = (
            clock if follow_clock and isinstance(clock, ManualClock) else None
        )
        self._advance = advance_time
        self._prices: dict[str, Decimal] = {}
        # What the core holds, per symbol (kept from the node's events).
        self._live_orders: dict[str, set[int]] = {}
        self._positions: dict[str, set[tuple[str, PositionSide]]] = {}
        self._trades: dict[str, set[str]] = {}
        self._trade_accounts: dict[str, str] = {}
        #: Symbols whose core needs every tick (UpdatePrices): live orders (held triggers
        #: included), open managed trades, derivative positions (margin, liquidation).
        self.need_prices: set[str] = set()
        #: Symbols where the core holds only spot positions: it gets each bar's close (their
        #: marks), not the intra-bar ticks nothing in the core would act on.
        self.need_close: set[str] = set()
        self._dirty = True
        self._deadline: int | None = None
        node.subscribe(self._on_events)

    # ----------------------------------------------------------------- the one function
    def on_market(self, event: TradePrint | BookSnapshot | Bar) -> None:
        """One market event through venue and core (a bar as one tick: its close; the backtest's
        driver walks a bar's path itself)."""
        if self._clock is not None:
            self._clock.set(event.ts)
        if isinstance(event, BookSnapshot):
            self._book(event)
        elif isinstance(event, Bar):
            self._tick(event, event.close)
        else:
            self._tick(event)
        self._core_time(event.ts)

    def _tick(self, tick: TradePrint | Bar, close: Decimal | None = None) -> None:
        """One tick to the venue, then (when the core needs it) its price to the core. A bar is
        its close tick (``close``: the price, None when the tick before had it already)."""
        reports = self.venue.on_market(tick)
        if reports:
            self._reports(reports)
        symbol = tick.symbol
        price = tick.price if isinstance(tick, TradePrint) else close
        if price is None:
            return
        self._prices[symbol] = price
        if symbol in self.need_prices or (tick.__class__ is Bar and symbol in self.need_close):
            self.node.process(c.UpdatePrices(ts=self._stamp(tick.ts), symbol=symbol, last=price))

    def _book(self, book: BookSnapshot) -> None:
        """A book snapshot to the venue; its mid to the core when it needs prices."""
        self._reports(self.venue.on_market(book))
        if book.bids and book.asks:
            mid = (book.bids[0][0] + book.asks[0][0]) / _TWO
            self._prices[book.symbol] = mid
            if book.symbol in self.need_prices:
                self.node.process(
                    c.UpdatePrices(ts=self._stamp(book.ts), symbol=book.symbol, last=mid)
                )

    def _stamp(self, ts: int) -> int:
        """A message's time: the event's while the clock follows the events, else the node's."""
        return ts if self._clock is not None else self.node.clock.now()

    def _reports(self, reports: Sequence[Report]) -> None:
        feed = self.node.feed
        for report in reports:
            feed(report)

    def _core_time(self, ts: int) -> None:
        if not self._advance:
            return
        if self._dirty:
            self._dirty = False
            self._deadline = self.node.next_deadline(ts - 1)
        due = self._deadline
        if due is not None and ts >= due:
            self.node.process(c.AdvanceTime(ts=ts))
            self._dirty = True

    # ----------------------------------------------------------------- prices
    def last_price(self, symbol: str) -> Decimal | None:
        """The market's last price of ``symbol`` (a trade's, a book's mid, a bar path's tick)."""
        return self._prices.get(symbol)

    def sync_price(self, symbol: str) -> None:
        """Bring the core's last price of ``symbol`` to the market's before an order."""
        price = self._prices.get(symbol)
        if price is not None and self.node.last_price(symbol) != price:
            self.node.process(c.UpdatePrices(ts=self.node.clock.now(), symbol=symbol, last=price))

    # ----------------------------------------------------------------- what the core holds
    def prime(self, symbols: Iterable[str]) -> None:
        """Learn what the node already holds on ``symbols`` (a node opened on a journal: live
        orders, open managed trades, positions), as its events would have told."""
        node = self.node
        for symbol in symbols:
            live = self._live_orders.setdefault(symbol, set())
            live.update(o.order_id for o in node.orders(open_only=True, symbol=symbol))
            for t in node.managed_trades(symbol=symbol, open_only=True):
                self._trade_accounts[t.trade_id] = t.account_id
                self._trades.setdefault(symbol, set()).add(t.trade_id)
            for account_id in {p.account_id for p in node.positions() if p.symbol == symbol}:
                self._position_changed(account_id, symbol)
            self._update_need(symbol)

    def _on_events(self, events: list[Any]) -> None:
        """After each processed message: which orders, positions and trades are live now (read
        through the node's queries, once per order, position or trade the message touched)."""
        self._dirty = True
        node = self.node
        order_ids: set[int] = set()
        trade_ids: set[str] = set()
        fills: set[tuple[str, str]] = set()
        for e in events:
            if e.__class__ is ev.OrderFilled:
                self._on_fill(e)
                fills.add((e.account_id, e.symbol))
                order_ids.add(e.order_id)
                continue
            order_id = getattr(e, "order_id", None)
            if order_id is not None:
                order_ids.add(order_id)
                cls = e.__class__
                if (
                    cls is ev.OrderDenied
                    or cls is ev.OrderRejected
                    or (cls is ev.OrderCanceled and e.reason == _NO_LIQUIDITY)
                ):
                    self._on_refusal(e)
            trade_id = getattr(e, "trade_id", None)
            if trade_id is not None:
                trade_ids.add(trade_id)
        for order_id in order_ids:
            o = node.get_order(order_id)
            if o is not None:
                live = self._live_orders.setdefault(o.symbol, set())
                if o.is_live:
                    live.add(order_id)
                else:
                    live.discard(order_id)
                self._update_need(o.symbol)
        for account_id, symbol in fills:
            self._position_changed(account_id, symbol)
        for trade_id in trade_ids:
            t = node.managed_trade(trade_id)
            if t is None:
                continue
            self._trade_accounts[trade_id] = t.account_id
            open_trades = self._trades.setdefault(t.symbol, set())
            if t.is_open:
                open_trades.add(trade_id)
            else:
                open_trades.discard(trade_id)
                if not open_trades:
                    self._trades_closed(t.symbol)
            self._update_need(t.symbol)

    def _on_fill(self, fill: ev.OrderFilled) -> None:
        """A fill the node booked (the backtest's driver hands its accounts' to the strategies)."""

    def _on_refusal(self, event: ev.OrderDenied | ev.OrderRejected | ev.OrderCanceled) -> None:
        """An order denied by risk, rejected by its venue, or a market order (a fired stop)
        whose rest the venue canceled for want of liquidity within its price protection: a
        driver with strategies tells them (``on_reject``)."""

    def _trades_closed(self, symbol: str) -> None:
        """The last open managed trade on ``symbol`` closed."""

    def _position_changed(self, account_id: str, symbol: str) -> None:
        held = self._positions.setdefault(symbol, set())
        for side in _SIDES:
            p = self.node.position(account_id, symbol, side)
            if p is not None and p.qty:
                held.add((account_id, side))
            else:
                held.discard((account_id, side))
        self._update_need(symbol)

    def exposed_accounts(self) -> set[str]:
        """The accounts holding a position (in any symbol)."""
        positions = self._positions
        if not positions:
            return set()
        return {a for held in positions.values() for a, _side in held}

    def _update_need(self, symbol: str) -> None:
        positions = self._positions.get(symbol)
        if (
            self._live_orders.get(symbol)
            or self._trades.get(symbol)
            or (positions and self._derivative(symbol))
        ):
            self.need_prices.add(symbol)
            self.need_close.discard(symbol)
        elif positions:
            self.need_prices.discard(symbol)
            self.need_close.add(symbol)
        else:
            self.need_prices.discard(symbol)
            self.need_close.discard(symbol)

    def _derivative(self, symbol: str) -> bool:
        inst = self.node.instrument(symbol)
        return inst is not None and inst.kind in DERIVATIVE_KINDS

    def open_trades(self, account_id: str) -> list[str]:
        """The ids of ``account_id``'s open managed trades (from the driver's index)."""
        owner = self._trade_accounts
        return sorted(t for ids in self._trades.values() for t in ids if owner[t] == account_id)

    def live_on(self, symbol: str) -> bool:
        """Whether the core holds anything that needs ``symbol``'s prices."""
        return symbol in self.need_prices
