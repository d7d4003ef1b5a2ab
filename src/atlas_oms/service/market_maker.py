"""A market that moves: the built-in market maker of ``atlas serve`` follows a price path.

The path (one per instrument of the built-in exchange) is either

- a **seeded random walk** (:class:`RandomWalk`): geometric Brownian motion without drift,
  ``p[n+1] = p[n] * exp(sigma * sqrt(dt) * z - sigma**2 * dt / 2)`` with ``sigma`` the annualised
  volatility (``ATLAS_MARKET_VOLATILITY``, 0.8 = 80 % a year, like an option's implied
  volatility), ``dt`` the step (``ATLAS_MARKET_EVERY_S``) in years and ``z`` a standard normal draw
  of ``random.Random(f"{seed}:{symbol}")``: the same seed and the same start price give the same
  path, price for price. Prices are at the instrument's tick (plain notation, never ``1E+4``) and
  kept between a quarter and four times the start price (the walk reflects at those bounds), so a
  demo server left running for weeks still quotes sensible numbers; or
- a **recorded file** (:class:`FileReplay`, ``ATLAS_MARKET_FILE``): a CSV of prices, or of bars as
  ccxt exports them (``timestamp, open, high, low, close, volume``; a header row is optional),
  replayed in a loop. A bar is walked as four prices: open, the nearer extreme, the other
  extreme, close. The file is one market: every instrument follows its *returns* from the
  instrument's own start price (``price = start * file[i] / file[0]``).

Each step (:meth:`MarketMaker.step`) the maker

1. moves the path one step;
2. re-centres the account ``maker``'s ladder on the path price ``p``: ``depth`` post-only limit
   orders a side (``ATLAS_MARKET_DEPTH``, 10) on a grid of ``g = p0 * spread / 2``
   (``ATLAS_MARKET_SPREAD`` is the best bid-to-best ask spread as a fraction, 0.0005 = 5 bp):
   bids at ``c - g*i``, asks at ``c + g*i`` (``i = 1..depth``, ``c`` = ``p`` on the grid), each of
   ``ATLAS_MARKET_LEVEL_NOTIONAL`` (50,000 in the quote currency: 0.83 BTC at 60,000). An order
   already at a target price stays (same id, its place in the queue kept); an order that fell off
   the ladder is *modified* to a missing price (ids stay stable: one modify a side per grid step
   the path moved); a level a client took entirely is placed again;
3. prints a trade when the path has moved at least two grid steps from the last trade price: the
   account ``noise`` sends a small market order (about 200 in the quote currency) in the
   direction of the move, which trades against the ladder. The core's last price comes from
   fills only (as on a real venue), so stops fire, trailing stops trail, the blotter's tape and
   P&L move because something really traded at that price -- never because a number was
   written over the last price. (Two accounts: a maker's order never trades against its own.)
4. sends the path price as the **mark** of a derivative (``UpdatePrices(mark=p)``) when it moved
   a grid step from the mark the core has: the mark is the venue's index, not a trade.

A real venue's instruments are never quoted. Turned off (``ATLAS_MARKET=off`` or
``--no-market-maker``): no maker, no noise trader, no messages at all.
"""

from __future__ import annotations

import asyncio
import csv
import logging
import math
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from pathlib import Path
from typing import Literal, Protocol

from atlas_oms.model.enums import OrderStatus, OrderType, Side
from atlas_oms.model.instrument import Instrument
from atlas_oms.runtime.node import CommandRefused, Node
from atlas_oms.service.bootstrap import MAKER

log = logging.getLogger("atlas.market")

#: The noise trader's account (the market maker's is ``bootstrap.MAKER``).
NOISE = "noise"
#: Seconds in a year (365 days): the unit of the annualised volatility.
YEAR_S = 365 * 24 * 3600
#: The walk stays within [start / BOUND, start * BOUND].
BOUND = Decimal(4)

MarketMode = Literal["walk", "file", "off"]


@dataclass(frozen=True)
class MarketConfig:
    """How the market moves (the service's ``ATLAS_MARKET_*`` settings)."""

    mode: MarketMode = "walk"
    seed: int = 0
    #: Annualised volatility of the walk (0.8 = 80 % a year).
    volatility: float = 0.8
    #: Best bid to best ask, as a fraction of the price.
    spread: Decimal = Decimal("0.0005")
    file: Path | None = None
    every_s: float = 1.0
    #: Levels a side.
    depth: int = 10
    #: Size of each level, in the quote currency.
    level_notional: Decimal = Decimal(50_000)
    #: Size of a noise trade, in the quote currency.
    noise_notional: Decimal = Decimal(200)


def to_tick(price: Decimal, tick: Decimal) -> Decimal:
    """``price`` on the tick grid (half-even), with the tick's decimal places, written plainly
    (never in exponent notation: ``60000.00`` at a tick of 0.01, ``123460`` at a tick of 10)."""
    n = (price / tick).to_integral_value(rounding=ROUND_HALF_EVEN)
    exponent = tick.as_tuple().exponent
    places = min(exponent, 0) if isinstance(exponent, int) else 0
    return (n * tick).quantize(Decimal(1).scaleb(places))


class PricePath(Protocol):
    def next(self) -> Decimal: ...


class RandomWalk:
    """A geometric random walk at ``tick``, reproducible from ``seed`` (see the module)."""

    def __init__(
        self,
        start: Decimal,
        tick: Decimal,
        *,
        seed: int | str,
        volatility: float,
        every_s: float,
        bound: Decimal = BOUND,
    ) -> None:
        if start <= 0 or tick <= 0:
            raise ValueError("a walk needs a positive start price and tick")
        self.tick = tick
        self._rng = random.Random(str(seed))
        self._sigma = volatility * math.sqrt(every_s / YEAR_S)
        self._x = math.log(start)
        self._lo = math.log(max(start / bound, tick))
        self._hi = math.log(start * bound)
        self.price = to_tick(start, tick)

    def next(self) -> Decimal:
        s = self._sigma
        x = self._x + s * self._rng.gauss(0.0, 1.0) - s * s / 2
        if x > self._hi:  # reflect at the bounds
            x = 2 * self._hi - x
        if x < self._lo:
            x = 2 * self._lo - x
        self._x = min(max(x, self._lo), self._hi)
        self.price = max(to_tick(Decimal(repr(math.exp(self._x))), self.tick), self.tick)
        return self.price


class FileReplay:
    """The returns of a recorded series from ``start``, at ``tick``, in a loop."""

    def __init__(self, series: Sequence[Decimal], start: Decimal, tick: Decimal) -> None:
        if not series or series[0] <= 0:
            raise ValueError("a recorded path needs at least one positive price")
        self._series = series
        self._scale = start / series[0]
        self.tick = tick
        self._i = 0
        self.price = to_tick(start, tick)

    def next(self) -> Decimal:
        self._i = (self._i + 1) % len(self._series)
        self.price = max(to_tick(self._series[self._i] * self._scale, self.tick), self.tick)
        return self.price


class MarketFileError(ValueError):
    """``ATLAS_MARKET_FILE`` cannot be replayed (``atlas serve`` exits 78 with the sentence)."""

    reason = "MARKET_FILE_INVALID"


def _number(text: str) -> Decimal | None:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def bar_path(o: Decimal, h: Decimal, low: Decimal, c: Decimal) -> tuple[Decimal, ...]:
    """A bar walked as four prices: open, the extreme nearer the open, the other one, close."""
    return (o, h, low, c) if h - o <= o - low else (o, low, h, c)


def load_path_file(path: Path) -> list[Decimal]:
    """The prices of a CSV: one price a row (``price`` or ``timestamp, price``), or OHLCV bars
    (``timestamp, open, high, low, close[, volume]``, as ccxt's ``fetch_ohlcv`` gives them), each
    walked by :func:`bar_path`. A first row that is not numbers is a header; with a header,
    columns named ``open``/``high``/``low``/``close`` or ``price``/``close`` are used by name."""
    prices: list[Decimal] = []
    names: list[str] | None = None
    try:
        fh = path.open(newline="", encoding="utf-8")
    except OSError as exc:
        raise MarketFileError(f"{path}: {exc.strerror or exc}") from None
    with fh:
        for n, row in enumerate(csv.reader(fh)):
            cells = [x.strip() for x in row if x.strip()]
            if not cells:
                continue
            values = [_number(x) for x in cells]
            if n == 0 and any(v is None for v in values):
                names = [x.lower() for x in cells]
                continue
            if any(v is None for v in values):
                raise MarketFileError(f"{path}:{n + 1}: not a number in {row!r}")
            nums = [v for v in values if v is not None]
            if names is not None and all(k in names for k in ("open", "high", "low", "close")):
                o, h, lo, c = (nums[names.index(k)] for k in ("open", "high", "low", "close"))
                prices.extend(bar_path(o, h, lo, c))
            elif names is not None and ("price" in names or "close" in names):
                prices.append(nums[names.index("price" if "price" in names else "close")])
            elif len(nums) >= 5:
                prices.extend(bar_path(nums[1], nums[2], nums[3], nums[4]))
            else:
                prices.append(nums[-1])
    if not prices:
        raise MarketFileError(f"{path}: no prices")
    if any(p <= 0 for p in prices):
        raise MarketFileError(f"{path}: prices must be positive")
    return prices


@dataclass
class _Quoted:
    """The maker's state for one instrument."""

    inst: Instrument
    path: PricePath
    grid: Decimal
    price: Decimal


@dataclass
class StepReport:
    """What one step did (for tests and the debug log)."""

    prices: dict[str, Decimal] = field(default_factory=dict)
    placed: int = 0
    modified: int = 0
    cancelled: int = 0
    trades: int = 0
    marks: int = 0
    refused: int = 0


class MarketMaker:
    """The moving market of the built-in exchange (see the module)."""

    def __init__(self, node: Node, config: MarketConfig) -> None:
        self.node = node
        self.config = config
        self._series = (
            load_path_file(config.file) if config.mode == "file" and config.file else None
        )
        if config.mode == "file" and self._series is None:
            raise MarketFileError("ATLAS_MARKET=file needs ATLAS_MARKET_FILE")
        self._quoted: dict[str, _Quoted] = {}
        self._said: set[str] = set()

    # ------------------------------------------------------------------ set-up
    def ensure_accounts(self) -> None:
        """Open the noise trader (with money to trade) when the demo's maker exists without it
        (a journal made before the market moved)."""
        node = self.node
        if node.account(MAKER) is None or node.account(NOISE) is not None:
            return
        node.open_account(NOISE, name="built-in noise trader (moves the last price)")
        assets = {i.quote for i in node.instruments()} | {i.base for i in node.instruments()}
        for asset in sorted(assets):
            node.deposit(NOISE, asset, 1_000_000 if asset in ("USDT", "USD", "USDC") else 1_000)
        for inst in node.instruments():
            if inst.is_derivative and inst.venue == node.sim.name:
                node.set_leverage(NOISE, inst.symbol, 5)

    def _path(self, inst: Instrument, start: Decimal) -> PricePath:
        cfg = self.config
        if self._series is not None:
            return FileReplay(self._series, start, inst.tick_size)
        return RandomWalk(
            start,
            inst.tick_size,
            seed=f"{cfg.seed}:{inst.symbol}",
            volatility=cfg.volatility,
            every_s=cfg.every_s,
        )

    def _grid(self, inst: Instrument, price: Decimal) -> Decimal:
        half = to_tick(price * self.config.spread / 2, inst.tick_size)
        return max(half, inst.tick_size)

    def _instruments(self) -> Iterator[_Quoted]:
        node = self.node
        for inst in node.instruments():
            if inst.venue != node.sim.name or not inst.tradable:
                continue  # the built-in exchange's instruments only: never a real venue's
            q = self._quoted.get(inst.symbol)
            if q is None:
                start = node.reference_price(inst.symbol)
                if start is None or start <= 0:
                    continue
                q = self._quoted[inst.symbol] = _Quoted(
                    inst,
                    self._path(inst, start),
                    self._grid(inst, start),
                    to_tick(start, inst.tick_size),
                )
            yield q

    # ------------------------------------------------------------------ one step
    def step(self, *, move: bool = True) -> StepReport:
        """Move every path one step (``move``), re-centre the ladders, print trades, send marks."""
        if not self._quoted:
            self.ensure_accounts()
        report = StepReport()
        live = self._live_orders()
        for q in list(self._instruments()):
            if move:
                q.price = q.path.next()
            # the grid follows the price when it has drifted far (a factor of two)
            ideal = self._grid(q.inst, q.price)
            if q.grid > 2 * ideal or 2 * q.grid < ideal:
                q.grid = ideal
            report.prices[q.inst.symbol] = q.price
            self._requote(q, live.get(q.inst.symbol, []), report)
            self._noise(q, report)
            self._mark(q, report)
        return report

    def _live_orders(self) -> dict[str, list[tuple[int, Side, Decimal, Decimal, Decimal]]]:
        """The maker's live limit orders by symbol: (id, side, price, leaves, cum)."""
        out: dict[str, list[tuple[int, Side, Decimal, Decimal, Decimal]]] = {}
        for o in self.node.orders(MAKER, open_only=True):
            if o.price is not None:
                out.setdefault(o.symbol, []).append(
                    (o.order_id, o.side, o.price, o.leaves_qty, o.cum_qty)
                )
        return out

    def ladder(self, q: _Quoted) -> dict[Side, list[Decimal]]:
        """The target prices of each side, nearest first."""
        g = q.grid
        c = (q.price / g).to_integral_value(rounding=ROUND_HALF_EVEN) * g
        depth = range(1, self.config.depth + 1)
        bids = [to_tick(c - g * i, q.inst.tick_size) for i in depth]
        asks = [to_tick(c + g * i, q.inst.tick_size) for i in depth]
        return {Side.BUY: [p for p in bids if p > 0], Side.SELL: asks}

    def level_size(self, q: _Quoted) -> Decimal:
        inst = q.inst
        raw = self.config.level_notional / (q.price * inst.multiplier)
        size = (raw / inst.lot_size).to_integral_value() * inst.lot_size
        return max(size, inst.lot_size, inst.min_qty)

    def _requote(
        self,
        q: _Quoted,
        orders: list[tuple[int, Side, Decimal, Decimal, Decimal]],
        report: StepReport,
    ) -> None:
        node, symbol = self.node, q.inst.symbol
        size = self.level_size(q)
        ladder = self.ladder(q)
        # The side the price moves towards first: its orders get out of the way, so that the
        # other side's post-only orders never meet them on their way up (or down).
        best_ask = min((o[2] for o in orders if o[1] is Side.SELL), default=None)
        up = best_ask is not None and best_ask <= ladder[Side.BUY][0]
        for side in (Side.SELL, Side.BUY) if up else (Side.BUY, Side.SELL):
            targets = ladder[side]
            mine = [o for o in orders if o[1] is side]
            wanted = set(targets)
            keep: dict[Decimal, int] = {}  # one order a level: the oldest at that price
            for o in sorted(mine):
                if o[2] in wanted:
                    keep.setdefault(o[2], o[0])
            kept = set(keep)
            spare = sorted(
                (o for o in mine if keep.get(o[2]) != o[0]),
                key=lambda o: abs(o[2] - q.price),
                reverse=True,
            )
            for price in targets:  # nearest first: the top of the book is filled first
                if price in kept:
                    continue
                if spare:
                    order_id, _, _, leaves, cum = spare.pop(0)
                    qty = cum + size if leaves != size else None
                    if self._do(node.modify, MAKER, order_id, price=price, qty=qty):
                        report.modified += 1
                    else:
                        report.refused += 1
                elif self._do(
                    node.submit, MAKER, symbol, side, OrderType.LIMIT, size, price, post_only=True
                ):
                    report.placed += 1
                else:
                    report.refused += 1
            for order_id, *_ in spare:  # more orders than levels (depth was lowered)
                if self._do(node.cancel, MAKER, order_id):
                    report.cancelled += 1

    def _noise(self, q: _Quoted, report: StepReport) -> None:
        node, inst = self.node, q.inst
        last = node.last_price(inst.symbol)
        if last is not None and abs(q.price - last) < 2 * q.grid:
            return
        side = Side.BUY if last is None or q.price > last else Side.SELL
        raw = max(self.config.noise_notional, inst.min_notional) / (q.price * inst.multiplier)
        qty = max((raw / inst.lot_size).to_integral_value() * inst.lot_size, inst.lot_size)
        qty = max(qty, inst.min_qty)
        if self._do(node.submit, NOISE, inst.symbol, side, OrderType.MARKET, qty):
            report.trades += 1
        else:
            report.refused += 1

    def _mark(self, q: _Quoted, report: StepReport) -> None:
        if not q.inst.is_derivative:
            return
        mark = self.node.mark_price(q.inst.symbol)
        if mark is None or abs(mark - q.price) >= q.grid:
            if self._do(self.node.update_prices, q.inst.symbol, mark=q.price):
                report.marks += 1
            else:
                report.refused += 1

    def _do(self, fn: Callable[..., object], *args: object, **kw: object) -> bool:
        try:
            result = fn(*args, **kw)
        except CommandRefused as exc:  # said once per reason, never swallowed silently
            if exc.reason not in self._said:
                self._said.add(exc.reason)
                log.warning("market maker: %s refused: %s", getattr(fn, "__name__", fn), exc)
            return False
        status = getattr(result, "status", None)
        if status in (OrderStatus.DENIED, OrderStatus.REJECTED):
            reason = str(getattr(result, "reason", "DENIED"))
            if reason not in self._said:
                self._said.add(reason)
                log.warning("market maker: %s denied: %s", getattr(fn, "__name__", fn), reason)
            return False
        return True


async def run_market(
    node: Node, config: MarketConfig, paused: Callable[[], bool] = lambda: False
) -> None:
    """Step the market every ``config.every_s`` on the service's loop (one message at a time
    like any client); nothing while ``paused()`` (the node refuses writes)."""
    if config.mode == "off":
        return
    maker = MarketMaker(node, config)
    log.info(
        "market: %s (seed %s, volatility %s, spread %s, every %s s, depth %s)",
        config.mode if config.mode == "walk" else f"file {config.file}",
        config.seed,
        config.volatility,
        config.spread,
        config.every_s,
        config.depth,
    )
    first = True
    while True:
        if not paused():
            maker.step(move=not first)  # the first step quotes around where the market is
            first = False
        await asyncio.sleep(config.every_s)
