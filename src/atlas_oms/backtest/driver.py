"""The market driver: THE one function a backtest and a paper session call per market event.

:meth:`MarketDriver.apply` takes one :data:`~atlas_oms.simulation.market.MarketEvent` and, in this
order:

1. sets the node's clock to the event's ``ts`` (a :class:`ManualClock`: a backtest's simulated
   clock, and a paper session's clock that follows its feed);
2. gives the market to the simulated venue: a trade print or a book snapshot as it is; a **bar as
   an intra-bar path of ticks**: open → the extreme nearer the open → the other extreme → close
   (a tie goes to the low first: adverse for the commoner long positions). The ticks are
   trade prints at ``start_ns``, ``+1/3`` and ``+2/3`` of the bar (an extreme equal to the tick
   before it is skipped) carrying no volume; the close is the bar itself at its close time ``ts``
   (so the venue learns the bar's volume once, which its queue rules, volume-based models and
   volume cap use, and works the market orders its cap held back). So a stop and a limit inside
   one bar fire in a defined, conservative order: a resting limit the path trades through fills
   at that tick; one the path only touches waits for the bar's volume at the close. Each tick's
   reports go to ``node.feed``. While nothing is live on the symbol (so no order rests at the
   venue either), the path is skipped: the venue gets the bar alone;
3. sends the core ``UpdatePrices(last=tick)`` for each tick, **only while the core needs prices
   for that symbol**: a live order (held stops and triggers included), an open managed trade or a
   derivative position there (margin and liquidations); while it holds only spot positions
   there, the bar's close alone (their mark: nothing in the core acts on a spot position's
   intra-bar prices). The driver knows it without asking the node per event: it listens to the
   node's events (``node.subscribe``) and keeps, per symbol, the sets of live order ids, open
   positions and open managed trades. A strategy that submits an order first brings the core's
   last price up to date (:meth:`sync_price`), so the core's risk checks see the market;
4. sends ``ApplyBar`` for each complete 1-minute bar of a symbol while a managed trade is open on
   it; the first intent on a symbol is preceded by the last ``K`` bars buffered (``K`` = the
   policy's ATR period + a margin) so the stop maintenance has its ATR history;
5. sends ``AdvanceTime`` when the core's next deadline (order expiry, bar close of trailing
   trades, funding, breaker reset...; ``node.next_deadline``, asked again only after the node
   produced events) is due;
6. calls the strategies' callbacks (``on_bar``/``on_trade``/``on_book``), then delivers their
   accounts' fills (``on_fill``) and due timers (``on_timer``).

Nothing goes through ``node.process`` for an event while nothing is live on its symbol.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from atlas_oms.backtest.strategy import OrderRefusal, Strategy, StrategyContext
from atlas_oms.model import commands as c
from atlas_oms.model import events as ev
from atlas_oms.runtime.executor import ExecutionMode, SizeCheck
from atlas_oms.runtime.market_driver import MarketCore, MarketVenue
from atlas_oms.runtime.node import Node
from atlas_oms.simulation.market import Bar, BookSnapshot, MarketEvent, TradePrint

__all__ = ["MarketDriver", "MarketVenue", "bar_path"]

_ONE_MINUTE_NS = 60_000_000_000
_ZERO = Decimal(0)
#: Bars buffered beyond the ATR period for the first intent's history.
ATR_MARGIN = 5


def bar_path(bar: Bar) -> list[tuple[int, Decimal]]:
    """The intra-bar ticks ``(ts, price)`` of a bar: open, nearer extreme, other extreme (a tie:
    the low first), at the start, one third and two thirds of the bar, an extreme equal to the
    tick before it dropped; then always the close at the close time."""
    o, h, lo, cl = bar.open, bar.high, bar.low, bar.close
    first, second = (h, lo) if h - o < o - lo else (lo, h)
    start = bar.start_ns
    span = bar.ts - start
    out = [(start, o)]
    if first != o:
        out.append((start + span // 3, first))
    if second != first:
        out.append((start + 2 * span // 3, second))
    out.append((bar.ts, cl))
    return out


#: The sentence of a market order (a fired stop) whose rest the venue canceled.
_NO_LIQUIDITY = (
    "the venue canceled what was left of the market order: nothing to trade within its price "
    "protection (a gap beyond the market collar)"
)


class MarketDriver(MarketCore):
    """Drives one node and its simulated venue with market events (the venue-and-core half is
    :class:`~atlas_oms.runtime.market_driver.MarketCore`, shared with ``atlas serve``'s paper
    accounts), and the strategies with them.

    ``strategies``: ``{account_id: strategy}`` (or pairs): each strategy trades its account."""

    def __init__(
        self,
        node: Node,
        venue: MarketVenue,
        strategies: Mapping[str, Strategy] | Iterable[tuple[str, Strategy]] = (),
        *,
        atr_margin: int = ATR_MARGIN,
        mode: ExecutionMode | str = ExecutionMode.BACKTEST,
    ) -> None:
        super().__init__(node, venue)
        self._mode = ExecutionMode(mode)
        # The pre-trade size check (seed 003's validate_order_size) when the venue's fill
        # settings set max_slippage_pct: against the 24h volume the venue has seen.
        config = getattr(venue, "config", None)
        self.max_slippage_pct: Decimal | None = getattr(config, "max_slippage_pct", None)
        self.size_check: SizeCheck | None = None
        if self.max_slippage_pct is not None and config is not None:
            from functools import partial

            from atlas_oms.simulation.sizing import validate_order_size

            self.size_check = partial(validate_order_size, config=config)
        self._refusals: deque[tuple[StrategyContext, OrderRefusal]] = deque()
        pairs = strategies.items() if isinstance(strategies, Mapping) else strategies
        self.contexts: list[StrategyContext] = [StrategyContext(self, a, s) for a, s in pairs]
        self._by_account: dict[str, StrategyContext] = {x.account_id: x for x in self.contexts}
        self._fills: deque[ev.OrderFilled] = deque()
        self._timers: list[tuple[int, int, StrategyContext]] = []
        self._timer_seq = 0
        k = node.policy_params().trailing.atr_period + atr_margin
        self._history_len = k
        self._bars: dict[str, deque[Bar]] = {}
        self._bars_fed: dict[str, int] = {}  # symbol -> start_ns of the last ApplyBar sent
        self._bar_symbols: set[str] = set()  # symbols getting ApplyBar (an intent was sent)
        self.events_applied = 0
        self.started = False
        self.stopped = False

    # ----------------------------------------------------------------- mode and executors
    @property
    def mode(self) -> ExecutionMode:
        """The executors' mode: BACKTEST (a backtest's runner), PAPER (a paper session sets it)."""
        return self._mode

    @mode.setter
    def mode(self, mode: ExecutionMode | str) -> None:
        self._mode = ExecutionMode(mode)
        for ctx in self.contexts:
            ctx.set_mode(self._mode)

    def market_data(self, symbol: str) -> dict[str, Any] | None:
        """What the executor's size check needs (None when no check is configured)."""
        if self.max_slippage_pct is None:
            return None
        markets = getattr(self.venue, "markets", None)
        m = markets.get(symbol) if markets is not None else None
        return {
            "price": self._prices.get(symbol),
            "volume_24h": m.volume_24h if m is not None else _ZERO,
        }

    def executor_statistics(self) -> dict[str, dict[str, dict[str, Any]]]:
        """Per account, per mode: the executor's statistics (plain data)."""
        import msgspec

        out: dict[str, dict[str, dict[str, Any]]] = {}
        for ctx in self.contexts:
            stats = ctx.executor_statistics()
            out[ctx.account_id] = {m.value: msgspec.to_builtins(s) for m, s in stats.items()}
        return out

    def refused(self, refusal: OrderRefusal) -> None:
        """Queue ``refusal`` for its account's strategy (``on_reject``, after the callback)."""
        ctx = self._by_account.get(refusal.account_id)
        if ctx is not None:
            self._refusals.append((ctx, refusal))

    # ----------------------------------------------------------------- lifecycle
    def start(self) -> None:
        """``on_start`` of every strategy (once)."""
        if self.started:
            return
        self.started = True
        for ctx in self.contexts:
            ctx.strategy.on_start(ctx)
        self._deliver()

    def stop(self) -> None:
        """``on_stop`` of every strategy (once)."""
        if self.stopped:
            return
        self.stopped = True
        for ctx in self.contexts:
            ctx.strategy.on_stop(ctx)
        self._deliver()

    def run(self, events: Iterable[MarketEvent]) -> int:
        """Start, apply every event, stop; return how many were applied."""
        self.start()
        n = 0
        for event in events:
            self.apply(event)
            n += 1
        self.stop()
        return n

    # ----------------------------------------------------------------- the one function
    def apply(self, event: MarketEvent) -> None:
        """One market event through venue, core and strategies (see the module's docstring)."""
        if not self.started:
            self.start()
        self.events_applied += 1
        cls = event.__class__
        clock = self._clock
        if cls is Bar:
            bar: Bar = event  # type: ignore[assignment]
            symbol = bar.symbol
            buf = self._bars.get(symbol)
            if buf is None:
                buf = self._bars[symbol] = deque(maxlen=self._history_len)
            buf.append(bar)
            if symbol in self.need_prices:
                path = bar_path(bar)
                last = len(path) - 1
                previous: Decimal | None = None
                for i, (ts, price) in enumerate(path):
                    if clock is not None:
                        # Several symbols' bars closing together: a later bar's ticks never go back.
                        now = clock.now()
                        if ts < now:
                            ts = now
                        clock.set(ts)
                    if i < last:
                        self._tick(TradePrint(symbol=symbol, ts=ts, price=price, qty=_ZERO))
                    else:  # the close: the bar itself to the venue
                        self._tick(bar, price if price != previous else None)
                    previous = price
            else:  # nothing live: the venue (no orders there either) needs only the bar
                if clock is not None:
                    clock.set(bar.ts)
                self._tick(bar, bar.close)
            if symbol in self._bar_symbols:
                self._apply_bars(symbol)
            self._core_time(bar.ts)
            for ctx in self.contexts:
                ctx.strategy.on_bar(ctx, bar)
        elif cls is TradePrint:
            if clock is not None:
                clock.set(event.ts)
            self._tick(event)  # type: ignore[arg-type]
            self._core_time(event.ts)
            for ctx in self.contexts:
                ctx.strategy.on_trade(ctx, event)  # type: ignore[arg-type]
        elif cls is BookSnapshot:
            book: BookSnapshot = event  # type: ignore[assignment]
            if clock is not None:
                clock.set(book.ts)
            self._book(book)
            self._core_time(book.ts)
            for ctx in self.contexts:
                ctx.strategy.on_book(ctx, book)
        else:
            raise TypeError(f"not a market event: {cls.__name__}")
        if self._fills or self._refusals:
            self._deliver()
        if self._timers and self._timers[0][0] <= event.ts:
            self._fire_timers(event.ts)

    def _apply_bars(self, symbol: str) -> None:
        """Send the buffered complete 1-minute bars of ``symbol`` not sent yet (ApplyBar)."""
        last = self._bars_fed.get(symbol, -1)
        now = self.node.clock.now()
        for bar in self._bars.get(symbol, ()):
            if bar.start_ns <= last or bar.ts - bar.start_ns != _ONE_MINUTE_NS:
                continue
            self.node.process(
                c.ApplyBar(
                    ts=max(now, bar.ts),
                    symbol=symbol,
                    start_ns=bar.start_ns,
                    open=bar.open,
                    high=bar.high,
                    low=bar.low,
                    close=bar.close,
                    volume=bar.volume,
                )
            )
            last = bar.start_ns
        self._bars_fed[symbol] = last

    # ----------------------------------------------------------------- for the strategies
    def before_intent(self, symbol: str) -> None:
        """Before a trade intent: the core's last price, and the bar history (ApplyBar)."""
        self.sync_price(symbol)
        self._bar_symbols.add(symbol)
        self._apply_bars(symbol)

    def set_timer(self, ts: int, ctx: StrategyContext) -> None:
        self._timer_seq += 1
        heapq.heappush(self._timers, (ts, self._timer_seq, ctx))

    def _fire_timers(self, now: int) -> None:
        timers = self._timers
        while timers and timers[0][0] <= now:
            ts, _seq, ctx = heapq.heappop(timers)
            ctx.strategy.on_timer(ctx, ts)
            self._deliver()

    def _deliver(self) -> None:
        fills = self._fills
        refusals = self._refusals
        by_account = self._by_account
        while fills or refusals:
            while fills:
                fill = fills.popleft()
                ctx = by_account.get(fill.account_id)
                if ctx is not None:
                    ctx.strategy.on_fill(ctx, fill)
            while refusals:
                ctx, refusal = refusals.popleft()
                ctx.strategy.on_reject(ctx, refusal)

    # ----------------------------------------------------------------- what the core holds
    def _on_fill(self, fill: ev.OrderFilled) -> None:
        if fill.account_id in self._by_account:
            self._fills.append(fill)

    def _trades_closed(self, symbol: str) -> None:
        self._bar_symbols.discard(symbol)

    def _on_refusal(self, e: ev.OrderDenied | ev.OrderRejected | ev.OrderCanceled) -> None:
        o = self.node.get_order(e.order_id)
        if o is None or o.account_id not in self._by_account:
            return
        self.refused(
            OrderRefusal(
                ts=e.ts_event,
                account_id=o.account_id,
                symbol=o.symbol,
                reason=str(e.reason),
                message=getattr(e, "message", None) or _NO_LIQUIDITY,
                stage="risk" if e.__class__ is ev.OrderDenied else "venue",
                order_id=o.order_id,
                client_order_id=o.client_order_id,
            )
        )
