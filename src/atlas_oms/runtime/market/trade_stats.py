"""Rolling VWAP and TWAP of each venue's trades (issue 16, MD-1), exact in Decimal.

Trades come from the venues' public trade ticks (``PriceTick`` with ``last`` and ``last_qty``,
``runtime/gateway/marketdata.py``) and from the built-in exchange's fills (one per trade: the
maker's side). Each Atlas symbol keeps its trades for the longest window; the views are computed
when read:

- **VWAP** over a window = sum(price x qty) / sum(qty) of the trades in ``(now - window, now]``;
- **TWAP** over a window = the time-weighted average of the last trade price: each trade's price
  holds from its time until the next trade (or ``now``); the price in force when the window
  opened (the last trade before it) counts from the window's start. A tick with a price and no
  quantity (a venue that sends its last price only) counts for the TWAP, not the VWAP.

Per venue = per Atlas instrument; *consolidated* = every instrument of the unified symbol in the
same quote currency (a VWAP across quote currencies would mix units: left out; the stats keep
their venue's quote).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from atlas_oms.model.route_book import unified_symbol

__all__ = ["Trade", "TradeStats", "WindowStats"]

ZERO = Decimal(0)
NS = 1_000_000_000


@dataclass(frozen=True, slots=True)
class Trade:
    ts: int
    price: Decimal
    qty: Decimal | None


@dataclass(frozen=True, slots=True)
class WindowStats:
    """One window's figures (None: no trade to compute from)."""

    window_s: int
    vwap: Decimal | None
    twap: Decimal | None
    volume: Decimal
    trades: int


class TradeStats:
    """See the module doc. ``windows_s``: the windows reported (the longest bounds memory)."""

    def __init__(self, windows_s: Sequence[int] = (60, 300)) -> None:
        if not windows_s or min(windows_s) <= 0:
            raise ValueError("windows_s must be positive seconds")
        self.windows_s = tuple(windows_s)
        self.keep_ns = max(windows_s) * NS
        self._trades: dict[str, deque[Trade]] = {}
        #: The last trade that fell out of the longest window (the TWAP's opening price).
        self._before: dict[str, Trade] = {}
        self._venue: dict[str, str] = {}

    # ------------------------------------------------------------------ feeding
    def add(
        self, symbol: str, ts: int, price: Decimal, qty: Decimal | None, venue: str = ""
    ) -> None:
        """One trade of ``symbol`` (an Atlas symbol) at ``ts`` (ns). Out-of-order trades are
        kept in time order."""
        trades = self._trades.get(symbol)
        if trades is None:
            trades = self._trades[symbol] = deque()
            self._venue[symbol] = venue or symbol.partition("@")[2] or "sim"
        trade = Trade(ts, price, qty)
        if trades and trades[-1].ts > ts:
            items = list(trades)
            i = len(items)
            while i and items[i - 1].ts > ts:
                i -= 1
            items.insert(i, trade)
            trades.clear()
            trades.extend(items)
        else:
            trades.append(trade)
        self._trim(symbol, ts)

    def _trim(self, symbol: str, now: int) -> None:
        trades = self._trades[symbol]
        cutoff = now - self.keep_ns
        while trades and trades[0].ts <= cutoff:
            self._before[symbol] = trades.popleft()

    # ------------------------------------------------------------------ views
    def symbols(self) -> list[str]:
        return sorted(self._trades)

    def venue_of(self, symbol: str) -> str:
        return self._venue.get(symbol, "")

    def window(self, symbols: str | Iterable[str], window_s: int, now: int) -> WindowStats:
        """VWAP/TWAP of ``symbols`` (one, or several merged: consolidated) over ``window_s``."""
        names = [symbols] if isinstance(symbols, str) else list(symbols)
        start = now - window_s * NS
        notional = ZERO
        volume = ZERO
        count = 0
        merged: list[Trade] = []
        opening: Trade | None = None
        for name in names:
            trades = self._trades.get(name, ())
            before = self._before.get(name)
            for t in trades:
                if t.ts > now:
                    break
                if t.ts <= start:
                    before = t
                    continue
                merged.append(t)
                count += 1
                if t.qty is not None:
                    notional += t.price * t.qty
                    volume += t.qty
            if before is not None and (opening is None or before.ts > opening.ts):
                opening = before
        merged.sort(key=lambda t: t.ts)
        vwap = notional / volume if volume else None
        return WindowStats(window_s, vwap, _twap(opening, merged, start, now), volume, count)

    def stats(self, symbol: str, now: int) -> list[WindowStats]:
        return [self.window(symbol, w, now) for w in self.windows_s]

    def volume(
        self, symbols: str | Iterable[str], since_ts: int, now: int | None = None
    ) -> Decimal:
        """The traded quantity of ``symbols`` since ``since_ts`` (exclusive) up to ``now``."""
        names = [symbols] if isinstance(symbols, str) else list(symbols)
        total = ZERO
        for name in names:
            for t in self._trades.get(name, ()):
                if t.ts > since_ts and (now is None or t.ts <= now) and t.qty is not None:
                    total += t.qty
        return total

    def volume_profile(
        self, symbols: str | Iterable[str], buckets: int, now: int, window_s: int | None = None
    ) -> list[Decimal]:
        """The traded quantity of ``symbols`` over the last ``window_s`` (default: the longest
        window) in ``buckets`` equal slices, oldest first (a VWAP algorithm's profile)."""
        if buckets <= 0:
            raise ValueError("buckets must be positive")
        span = (window_s * NS) if window_s is not None else self.keep_ns
        start = now - span
        out = [ZERO] * buckets
        names = [symbols] if isinstance(symbols, str) else list(symbols)
        for name in names:
            for t in self._trades.get(name, ()):
                if start < t.ts <= now and t.qty is not None:
                    i = min(buckets - 1, (t.ts - start - 1) * buckets // span)
                    out[i] += t.qty
        return out


def _twap(opening: Trade | None, trades: list[Trade], start: int, now: int) -> Decimal | None:
    weighted = ZERO
    held = 0
    price = opening.price if opening is not None else None
    at = start
    for t in trades:
        if price is not None:
            weighted += price * (t.ts - at)
            held += t.ts - at
        price, at = t.price, t.ts
    if price is not None:
        weighted += price * (now - at)
        held += now - at
    if held == 0:
        return price  # one trade at ``now`` exactly: its price
    return weighted / held


def consolidated_symbols(symbols: Iterable[str], symbol: str) -> list[str]:
    """The Atlas symbols among ``symbols`` with ``symbol``'s unified symbol."""
    unified = unified_symbol(symbol)
    return [s for s in symbols if unified_symbol(s) == unified]
