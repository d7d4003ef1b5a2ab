"""The bar book: per symbol, the 1-minute bar in progress and the indicators of the closed bars
(seed 001 §10.1 "auf jedem 1m-Bar-Close"; ``bars.py`` and ``indicators.py`` are the pure folds
used here). Part of the state (``state.bar_book``), in snapshots, and in the digest while trades
exist.

Only the fold changes it, from journaled events, so a replay rebuilds it bar for bar:

* **Prints** (``OrderFilled``): every execution Atlas sees is one print, counted once. On the
  built-in exchange a match produces two fills (maker and taker) with the same ``trade_id``; the
  second fill of a match (the same ``trade_id`` as the symbol's previous print) is not booked
  again. An external venue reports only Atlas's own side, each with its own ``trade_id``. A bust or
  a correction does not change a bar (closed bars never change, ``bars.py``).
* **Time** (``BarClosed``): the decision side (``trailing.close_due``) closes a bar whose minute
  is over as soon as any message arrives at or after its end, for the symbols that have trailing
  trades (the runtime's timer delivers that end as a deadline). A bar of any other symbol closes
  when its next print (or bar) arrives in a later minute, inside this fold, without an event: its
  indicators are then as current as any trade needs them when one opens.
* **Bars as market data** (``BarApplied``): an external venue's or a backtest's bar,
  authoritative for its minute (``bars.on_bar``).

Every closed bar is folded into the symbol's indicators (Wilder ATR, EMA of closes, Williams
swing points, periods from ``trailing.*``) and into the high-water marks (``trail_extreme``) of the
symbol's trailing trades whose extremes count from that bar's minute on.

A last-price tick (``UpdatePrices``) is not a print: it carries no quantity, repeats trades Atlas
may already have booked as fills (its own, on an external venue), and its rate depends on the
feed; its time still closes due bars (any message does).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import msgspec

from atlas_oms.core.decimals import ZERO
from atlas_oms.core.policy import bars, indicators
from atlas_oms.core.policy.bars import Bar, BarState
from atlas_oms.core.policy.indicators import IndicatorConfig, IndicatorState
from atlas_oms.core.policy.trade_state import CLOSED, TradeState
from atlas_oms.model import events as ev
from atlas_oms.model.enums import Side

if TYPE_CHECKING:
    from atlas_oms.core.state.state import State


@dataclass(slots=True)
class SymbolBars:
    """One symbol's bars: the builder's state, the indicators, and the trailing trades."""

    symbol: str
    bars: BarState = field(default_factory=BarState)
    ind: IndicatorState = field(default_factory=IndicatorState)
    #: The ``trade_id`` (match id) of the last print booked: the other side of a match is skipped.
    last_print: str = ""
    #: Ids of the trades trailing on this symbol, in the order they started (closed ones are
    #: dropped at the next bar close).
    trailing: list[str] = field(default_factory=list)
    #: Closed bars so far (audit; the count a bar close raises).
    closed: int = 0


@dataclass(slots=True)
class BarBook:
    """Every symbol's :class:`SymbolBars`, and the earliest end of a bar in progress of a symbol
    with trailing trades (``None``: nothing to close on time)."""

    symbols: dict[str, SymbolBars] = field(default_factory=dict)
    next_close: int | None = None

    def __bool__(self) -> bool:
        return bool(self.symbols)

    def of(self, symbol: str) -> SymbolBars:
        sb = self.symbols.get(symbol)
        if sb is None:
            sb = self.symbols[symbol] = SymbolBars(symbol)
        return sb

    def refresh(self) -> None:
        """Recompute :attr:`next_close` (after a bar opened or closed, or trailing changed)."""
        best: int | None = None
        for sb in self.symbols.values():
            current = sb.bars.current
            if current is None or not sb.trailing:
                continue
            end = current.end_ns
            if best is None or end < best:
                best = end
        self.next_close = best

    def canonical(self) -> list[Any]:
        return [
            msgspec.to_builtins(sb, builtin_types=(Decimal,))
            for _, sb in sorted(self.symbols.items())
        ]

    def export(self) -> list[SymbolBars] | None:
        return list(self.symbols.values()) or None

    def restore(self, symbols: list[SymbolBars] | None) -> None:
        self.symbols = {sb.symbol: sb for sb in symbols or ()}
        self.refresh()


def interval_ns(state: State) -> int:
    """The bar length in force (``trailing.bar-interval-ms``; seed 001 §10.1: one minute)."""
    return state.policy.trailing.bar_interval_ms * 1_000_000


def _bars_of(state: State, symbol: str) -> SymbolBars:
    """The symbol's bars; a changed bar length takes effect when no bar is in progress."""
    sb = state.bar_book.of(symbol)
    interval = interval_ns(state)
    if sb.bars.interval_ns != interval and sb.bars.current is None:
        sb.bars = replace(sb.bars, interval_ns=interval)
    return sb


def config(state: State) -> IndicatorConfig:
    p = state.policy.trailing
    return IndicatorConfig(atr_period=p.atr_period, ema_period=p.ema_period)


def _closed(state: State, sb: SymbolBars, bar: Bar) -> None:
    """Fold one closed bar into the indicators and the trailing trades' high-water marks."""
    sb.ind = indicators.update(sb.ind, bar, config(state))
    sb.closed += 1
    trades = state.trades
    keep: list[str] = []
    for trade_id in sb.trailing:
        t: TradeState = trades[trade_id]
        if t.phase == CLOSED:
            continue
        keep.append(trade_id)
        if bar.start_ns < t.trail_from_ns:
            continue
        x = t.trail_extreme
        if t.side is Side.BUY:
            if x is None or bar.high > x:
                t.trail_extreme = bar.high
        elif x is None or bar.low < x:
            t.trail_extreme = bar.low
    if len(keep) != len(sb.trailing):
        sb.trailing = keep


def _book(state: State, sb: SymbolBars, new: BarState, closed: tuple[Bar, ...]) -> None:
    before = sb.bars.current
    sb.bars = new
    for bar in closed:
        _closed(state, sb, bar)
    after = new.current
    if closed or (
        (before is None) is not (after is None)
        or (before is not None and after is not None and before.start_ns != after.start_ns)
    ):
        state.bar_book.refresh()


# ------------------------------------------------------------------------------- appliers
def apply_print(state: State, e: ev.OrderFilled) -> None:
    """An execution: one print of its symbol (the second fill of a match is skipped)."""
    sb = state.bar_book.of(e.symbol)
    trade_id = e.trade_id
    if trade_id and trade_id == sb.last_print:
        return
    sb.last_print = trade_id
    st = sb.bars
    bar = st.current
    px = e.last_px
    qty = e.last_qty
    # The common case, on every print: the minute in progress, in order. The same bar as
    # bars.on_trade builds, without its checks for closing, late and refused trades.
    if (
        bar is not None
        and bar.start_ns <= e.ts_event < bar.start_ns + bar.interval_ns
        and px > ZERO
        and qty > ZERO
    ):
        sb.bars = BarState(
            Bar(
                bar.start_ns,
                bar.open,
                px if px > bar.high else bar.high,
                px if px < bar.low else bar.low,
                px,
                bar.volume + qty,
                bar.trades + 1,
                bar.interval_ns,
            ),
            st.last_closed_start,
            st.late_trades,
            st.late_bars,
            st.interval_ns,
        )
        return
    sb = _bars_of(state, e.symbol)
    new, closed = bars.on_trade(sb.bars, px, qty, e.ts_event)
    _book(state, sb, new, closed)


def apply_bar_closed(state: State, e: ev.BarClosed) -> None:
    sb = state.bar_book.of(e.symbol)
    current = sb.bars.current
    if current is None or current.start_ns != e.start_ns:
        return  # nothing in progress for that minute (the decision side never emits this)
    new, closed = bars.on_time(sb.bars, current.end_ns)
    _book(state, sb, new, closed)


def apply_bar_applied(state: State, e: ev.BarApplied) -> None:
    sb = _bars_of(state, e.symbol)
    bar = Bar(e.start_ns, e.open, e.high, e.low, e.close, e.volume, 0, sb.bars.interval_ns)
    new, closed = bars.on_bar(sb.bars, bar)
    _book(state, sb, new, closed)


def apply_trailing_started(state: State, e: ev.TradeTrailingStarted) -> None:
    t: TradeState = state.trades[e.trade_id]
    t.trailing = True
    t.entry_atr = e.entry_atr
    t.trail_from_ns = e.extremes_from_ns
    sb = state.bar_book.of(t.symbol)
    if e.trade_id not in sb.trailing:
        sb.trailing.append(e.trade_id)
    state.bar_book.refresh()


def apply_entry_atr_set(state: State, e: ev.TradeEntryAtrSet) -> None:
    state.trades[e.trade_id].entry_atr = e.entry_atr


def apply_target_policy_set(state: State, e: ev.TradeTargetPolicySet) -> None:
    state.trades[e.trade_id].target_policy = e.target_policy


#: Merged into the fold's table (``core/state/fold.py``).
TRAILING_APPLIERS: dict[type, Any] = {
    ev.BarClosed: apply_bar_closed,
    ev.BarApplied: apply_bar_applied,
    ev.TradeTrailingStarted: apply_trailing_started,
    ev.TradeEntryAtrSet: apply_entry_atr_set,
    ev.TradeTargetPolicySet: apply_target_policy_set,
}
