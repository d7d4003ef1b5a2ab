"""One-minute OHLCV bars built from trades, or taken whole as market data (seed 001 §10.1).

Seed 001 §10.1 maintains trailing stops "auf jedem 1m-Bar-Close"; §1 steers orders on a 1m/3m
cadence and demands that the same input gives the same output. So the builder is a pure fold:
``(state, input) -> (state, closed bars)``, time enters only as the ``ts`` (nanoseconds since the
epoch) of a trade, a timer tick or a bar, and the state is a small frozen value a replay
reproduces.

Rules (decided here where the seed is silent):

* A bar covers ``[start, start + 60 s)``; ``start`` is ``ts`` floored to the minute (UTC epoch
  minutes, so venue time zones never matter).
* A bar closes when a trade or a timer tick reaches the next minute boundary (``ts >= end``): a
  timer tick exactly at ``end`` closes it, so a quiet market still closes its bar on time.
* **Empty minutes make no bar.** A flat zero-volume bar at the last close would have a true range
  of 0 and would pull Wilder's ATR down and the EMA toward a price nobody traded, tightening the
  trail during a halt (seed 001 §4 LULD) or a lull; §15 wants everything derived from real OHLCV.
  A gap is still counted: the next real bar's true range includes ``|high/low - previous close|``.
* A trade for a minute that has already closed (out of order) is not booked in any bar: it is
  counted in ``late_trades`` and dropped, so closed bars never change after they were emitted.
* A complete bar given as market data (``on_bar``) is authoritative for its minute: it closes an
  in-progress bar of an earlier minute first, replaces an in-progress bar of the same minute
  (the venue saw every trade; we may have missed some), and is dropped as late (counted in
  ``late_bars``) if its minute is not after the last closed bar.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from atlas_oms.core.decimals import ZERO

#: One minute in nanoseconds.
MINUTE_NS = 60_000_000_000


class BarRefused(ValueError):
    """Market data that cannot be a bar or a trade: a reason code and a sentence."""

    def __init__(self, reason: str, sentence: str) -> None:
        super().__init__(sentence)
        self.reason = reason
        self.sentence = sentence


@dataclass(frozen=True, slots=True)
class Bar:
    """One minute of trading: ``[start_ns, start_ns + 60 s)``."""

    start_ns: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    trades: int = 0
    #: The bar's length (``trailing.bar-interval-ms``; seed 001 §10.1: one minute).
    interval_ns: int = MINUTE_NS

    @property
    def end_ns(self) -> int:
        return self.start_ns + self.interval_ns


@dataclass(frozen=True, slots=True)
class BarState:
    """Everything the builder remembers: the bar in progress and the last closed minute."""

    current: Bar | None = None
    #: Start of the last bar that closed (emitted); ``None`` before the first.
    last_closed_start: int | None = None
    late_trades: int = 0
    late_bars: int = 0
    #: The length of the bars this builder makes (``trailing.bar-interval-ms``).
    interval_ns: int = MINUTE_NS


def minute_start(ts: int, interval_ns: int = MINUTE_NS) -> int:
    """The start of the minute (or bar interval) holding ``ts`` (nanoseconds)."""
    return ts - ts % interval_ns


def check_bar(bar: Bar) -> None:
    """Refuse a bar whose numbers contradict each other (raises :class:`BarRefused`)."""
    if bar.start_ns % bar.interval_ns:
        raise BarRefused(
            "BAR_NOT_ON_MINUTE", f"A bar must start on a minute, not at {bar.start_ns} ns."
        )
    if not (bar.low <= min(bar.open, bar.close) and max(bar.open, bar.close) <= bar.high):
        raise BarRefused("BAR_INCONSISTENT", "A bar's low must be <= open, close <= its high.")
    if bar.low <= ZERO or bar.volume < ZERO:
        raise BarRefused(
            "BAR_NOT_POSITIVE", "A bar's prices must be positive and its volume not negative."
        )


def _close_due(state: BarState, ts: int) -> tuple[BarState, tuple[Bar, ...]]:
    """Close the bar in progress if ``ts`` reached its end."""
    bar = state.current
    if bar is None or ts < bar.end_ns:
        return state, ()
    return replace(state, current=None, last_closed_start=bar.start_ns), (bar,)


def on_time(state: BarState, ts: int) -> tuple[BarState, tuple[Bar, ...]]:
    """A timer tick at ``ts``: closes the bar in progress if its minute is over."""
    return _close_due(state, ts)


def on_trade(
    state: BarState, price: Decimal, qty: Decimal, ts: int
) -> tuple[BarState, tuple[Bar, ...]]:
    """Book one trade; returns the new state and the bars it closed (zero or one)."""
    if not (price > ZERO and qty > ZERO):
        raise BarRefused("TRADE_NOT_POSITIVE", "A trade needs a positive price and quantity.")
    state, closed = _close_due(state, ts)
    start = minute_start(ts, state.interval_ns)
    bar = state.current
    if (bar is not None and start < bar.start_ns) or (
        state.last_closed_start is not None and start <= state.last_closed_start
    ):
        return replace(state, late_trades=state.late_trades + 1), closed
    if bar is None:
        bar = Bar(start, price, price, price, price, qty, 1, state.interval_ns)
    else:  # built directly (not ``replace``): this runs for every print Atlas sees
        bar = Bar(
            bar.start_ns,
            bar.open,
            price if price > bar.high else bar.high,
            price if price < bar.low else bar.low,
            price,
            bar.volume + qty,
            bar.trades + 1,
            bar.interval_ns,
        )
    return BarState(
        bar, state.last_closed_start, state.late_trades, state.late_bars, state.interval_ns
    ), closed


def on_bar(state: BarState, bar: Bar) -> tuple[BarState, tuple[Bar, ...]]:
    """Take a complete bar as market data; returns the new state and the bars now closed."""
    check_bar(bar)
    if state.last_closed_start is not None and bar.start_ns <= state.last_closed_start:
        return replace(state, late_bars=state.late_bars + 1), ()
    closed: tuple[Bar, ...] = ()
    current = state.current
    if current is not None and current.start_ns > bar.start_ns:
        return replace(state, late_bars=state.late_bars + 1), ()
    if current is not None and current.start_ns < bar.start_ns:
        closed = (current,)
    return replace(state, current=None, last_closed_start=bar.start_ns), (*closed, bar)


def bars_from_trades(
    trades: list[tuple[Decimal, Decimal, int]], until: int | None = None
) -> list[Bar]:
    """Batch form (for tests and replays): the bars of time-ordered ``(price, qty, ts)`` trades,
    closed up to ``until`` (a final timer tick) if given."""
    groups: dict[int, list[tuple[Decimal, Decimal]]] = {}
    for price, qty, ts in trades:
        groups.setdefault(minute_start(ts), []).append((price, qty))
    bars = []
    for start in sorted(groups):
        if until is not None and start + MINUTE_NS > until:
            continue
        if until is None and start == max(groups):
            continue
        rows = groups[start]
        prices = [p for p, _ in rows]
        bars.append(
            Bar(
                start,
                prices[0],
                max(prices),
                min(prices),
                prices[-1],
                sum((q for _, q in rows), ZERO),
                len(rows),
            )
        )
    return bars
