"""Market data shared by the spot and USDⓈ-M dialects: kline intervals, and the trade tape
(each symbol's trades indexed incrementally from the node's events, so tickers, klines and
trade lists cost O(answer), not a scan of the node's fills)."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from atlas_oms.model import events as ev
from atlas_oms.model.enums import LiquiditySide

if TYPE_CHECKING:
    from atlas_oms.runtime.queries import Queries

ZERO = Decimal(0)

#: Kline intervals (ms) both dialects serve; a month (``1M``) is refused (-1120).
INTERVALS = {
    "1m": 60_000,
    "3m": 180_000,
    "5m": 300_000,
    "15m": 900_000,
    "30m": 1_800_000,
    "1h": 3_600_000,
    "2h": 7_200_000,
    "4h": 14_400_000,
    "6h": 21_600_000,
    "8h": 28_800_000,
    "12h": 43_200_000,
    "1d": 86_400_000,
    "3d": 259_200_000,
    "1w": 604_800_000,
}
#: Spot has one-second klines too.
SPOT_INTERVALS = {"1s": 1_000, **INTERVALS}


# ---------------------------------------------------------------------- the trade tape

DAY_MS = 86_400_000


@dataclass(frozen=True, slots=True)
class Window:
    """The figures of a run of trades (``first``/``last`` None: no trade in it)."""

    count: int
    volume: Decimal
    quote: Decimal
    buy_volume: Decimal
    buy_quote: Decimal
    high: Decimal | None
    low: Decimal | None
    first: ev.OrderFilled | None
    last: ev.OrderFilled | None


class Series:
    """One symbol's trades (its taker executions, in booking order) with what makes a read cost
    O(answer): times and seqs to bisect, running sums (volume, quote volume, taker-buy volume)
    for any suffix in O(1), and suffix-maximum / -minimum stacks for the high and low of any
    suffix (a rolling 24 h window is a suffix) in O(log n). Times are kept non-decreasing (a
    trade stamped before the previous one counts at the previous one's time)."""

    __slots__ = ("_buy_qty", "_buy_quote", "_hi", "_lo", "_qty", "_quote", "fills", "seqs", "times")

    def __init__(self) -> None:
        self.fills: list[ev.OrderFilled] = []
        self.times: list[int] = []
        self.seqs: list[int] = []
        self._qty: list[Decimal] = [ZERO]
        self._quote: list[Decimal] = [ZERO]
        self._buy_qty: list[Decimal] = [ZERO]
        self._buy_quote: list[Decimal] = [ZERO]
        self._hi: list[int] = []
        self._lo: list[int] = []

    def __len__(self) -> int:
        return len(self.fills)

    @property
    def last_seq(self) -> int:
        return self.seqs[-1] if self.seqs else -1

    def add(self, f: ev.OrderFilled) -> None:
        if f.seq <= self.last_seq:
            return  # already in (loaded from the node after this batch was booked)
        i = len(self.fills)
        t = f.ts_event // 1_000_000
        self.fills.append(f)
        self.times.append(max(t, self.times[-1]) if self.times else t)
        self.seqs.append(f.seq)
        px, qty = f.last_px, f.last_qty
        self._qty.append(self._qty[-1] + qty)
        self._quote.append(self._quote[-1] + qty * px)
        buy = qty if str(f.side) == "BUY" else ZERO
        self._buy_qty.append(self._buy_qty[-1] + buy)
        self._buy_quote.append(self._buy_quote[-1] + buy * px)
        fills, hi, lo = self.fills, self._hi, self._lo
        while hi and fills[hi[-1]].last_px <= px:
            hi.pop()
        hi.append(i)
        while lo and fills[lo[-1]].last_px >= px:
            lo.pop()
        lo.append(i)

    # ------------------------------------------------------------------ positions
    def at_or_after(self, t_ms: int) -> int:
        """Index of the first trade at ``t_ms`` or later."""
        return bisect_left(self.times, t_ms)

    def after(self, t_ms: int) -> int:
        """Index of the first trade after ``t_ms``."""
        return bisect_right(self.times, t_ms)

    def from_seq(self, seq: int) -> int:
        """Index of the first trade whose id (seq) is ``seq`` or more."""
        return bisect_left(self.seqs, seq)

    # ------------------------------------------------------------------ figures
    def suffix(self, i: int) -> Window:
        """The figures of the trades from index ``i`` to the last: O(log n)."""
        n = len(self.fills)
        i = max(0, min(i, n))
        if i >= n:
            return Window(0, ZERO, ZERO, ZERO, ZERO, None, None, None, None)
        hi = self._hi[bisect_left(self._hi, i)]
        lo = self._lo[bisect_left(self._lo, i)]
        return Window(
            count=n - i,
            volume=self._qty[n] - self._qty[i],
            quote=self._quote[n] - self._quote[i],
            buy_volume=self._buy_qty[n] - self._buy_qty[i],
            buy_quote=self._buy_quote[n] - self._buy_quote[i],
            high=self.fills[hi].last_px,
            low=self.fills[lo].last_px,
            first=self.fills[i],
            last=self.fills[-1],
        )

    def pick(self, lo: int, hi: int, limit: int, oldest: bool) -> list[ev.OrderFilled]:
        """Up to ``limit`` trades of ``[lo, hi)``: the oldest ones or the newest ones."""
        lo, hi = max(lo, 0), min(hi, len(self.fills))
        if oldest:
            return self.fills[lo : min(hi, lo + limit)]
        return self.fills[max(lo, hi - limit) : hi]

    def bars(self, lo: int, hi: int, every: int, limit: int, oldest: bool) -> list[ev.OrderFilled]:
        """The trades of ``[lo, hi)`` in its first (``oldest``) or last ``limit`` bars of
        ``every`` ms that have trades: O(trades in those bars)."""
        lo, hi = max(lo, 0), min(hi, len(self.fills))
        if lo >= hi:
            return []
        times, seen = self.times, 0
        if oldest:
            j, bar = lo, None
            while j < hi:
                b = times[j] - times[j] % every
                if b != bar:
                    seen, bar = seen + 1, b
                    if seen > limit:
                        break
                j += 1
            return self.fills[lo:j]
        j, bar = hi - 1, None
        while j >= lo:
            b = times[j] - times[j] % every
            if b != bar:
                seen, bar = seen + 1, b
                if seen > limit:
                    break
            j -= 1
        return self.fills[j + 1 : hi]


class Tape:
    """Every symbol's trade series, loaded from the node on first read and then fed by the
    node's processed events (``node.subscribe``): a market-data read never scans the node's
    fills again. One per dialect (``tape_of``)."""

    def __init__(self, node: Queries) -> None:
        self.node = node
        self._series: dict[str, Series] = {}

    def on_processed(self, events: list[ev.EventBase]) -> None:
        series = self._series
        for e in events:
            if isinstance(e, ev.OrderFilled) and e.liquidity_side is LiquiditySide.TAKER:
                s = series.get(e.symbol)
                if s is not None:
                    s.add(e)

    def series(self, symbol: str) -> Series:
        s = self._series.get(symbol)
        if s is None:
            s = Series()
            for f in self.node.fills(symbol=symbol):
                if f.liquidity_side is LiquiditySide.TAKER:
                    s.add(f)
            self._series[symbol] = s
        return s


def tape_of(dialect: Any) -> Tape:
    """The dialect's tape (made, and subscribed to the node, on first use)."""
    tape: Tape | None = dialect.extras.get("tape")
    if tape is None:
        tape = dialect.extras["tape"] = Tape(dialect.node)
        dialect.node.subscribe(tape.on_processed)
    return tape


def series_of(dialect: Any, symbol: str) -> Series:
    return tape_of(dialect).series(symbol)


# ---------------------------------------------------------------------- diff depth

Book = dict[str, list[tuple[Decimal, Decimal]]]
Fmt = Callable[[Decimal], str]


def book_changes(old: Book, new: Book, price: Fmt, qty: Fmt) -> dict[str, list[list[str]]] | None:
    """The levels of ``new`` that differ from ``old`` (a removed level with quantity 0), per
    side, formatted; None when nothing changed (a diff depth event's ``b``/``a``)."""
    sides: dict[str, list[list[str]]] = {}
    for side in ("bids", "asks"):
        before = dict(old[side])
        after = dict(new[side])
        changes = [[price(p), qty(q)] for p, q in after.items() if before.get(p) != q]
        changes += [[price(p), qty(ZERO)] for p in before if p not in after]
        sides[side] = changes
    if not sides["bids"] and not sides["asks"]:
        return None
    return sides


class DiffBooks:
    """Diff depth state: per symbol id, the last book sent and its update id (the node's seq,
    ``GET depth``'s ``lastUpdateId``)."""

    def __init__(self) -> None:
        self._last: dict[str, tuple[Book, int]] = {}

    def __contains__(self, symbol_id: str) -> bool:
        return symbol_id in self._last

    def start(self, symbol_id: str, book: Book, seq: int) -> None:
        self._last.setdefault(symbol_id, (book, seq))

    def step(
        self, symbol_id: str, book: Book, seq: int, price: Fmt, qty: Fmt
    ) -> tuple[int, dict[str, list[list[str]]]] | None:
        """(the previous update id, the changes) from the last book sent to ``book`` at
        ``seq``, which becomes the last; None when there is nothing to send."""
        last = self._last.get(symbol_id)
        if last is None:
            self._last[symbol_id] = (book, seq)
            return None
        old, last_id = last
        if seq <= last_id:
            return None
        sides = book_changes(old, book, price, qty)
        if sides is None:
            return None
        self._last[symbol_id] = (book, seq)
        return last_id, sides


__all__ = [
    "DAY_MS",
    "INTERVALS",
    "SPOT_INTERVALS",
    "Series",
    "Tape",
    "Window",
    "series_of",
    "tape_of",
]
