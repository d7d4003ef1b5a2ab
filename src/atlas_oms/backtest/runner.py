"""The backtest runner: strategies of several accounts over data files, on one in-memory node.

:class:`Backtest` builds one :class:`~atlas_oms.runtime.node.Node` (journal in memory, or in a
file when ``journal`` is given so the run can be replayed and audited with ``atlas replay`` /
``atlas audit``) on a simulated clock (a :class:`ManualClock` set to each market event's time),
the instruments on a simulated venue (``simulation/venue.py::SimulatedVenue``, its fill models
from ``fills``), one account per strategy funded with its capital (given, or its share of a total
capital by ``allocation``: seed 002 phase 16), then merges the data files in time order (a heap
merge over symbols and files) and drives everything through the one
:class:`~atlas_oms.backtest.driver.MarketDriver`. It returns a :class:`BacktestResult`: per
account its fills, round trips and equity curve (:mod:`atlas_oms.backtest.recorder`), and the
correlation of the accounts' returns.
"""

from __future__ import annotations

import itertools
import math
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from atlas_oms.backtest.data import infer_symbol, load_bars, load_trades, merge, parse_interval
from atlas_oms.backtest.driver import MarketDriver, MarketVenue
from atlas_oms.backtest.recorder import Recorder
from atlas_oms.backtest.records import EquityPoint, FillRecord, TradeRecord
from atlas_oms.backtest.scenarios import Scenario, apply_events, apply_fills, apply_venue, parse_all
from atlas_oms.backtest.strategy import Strategy, load_strategy
from atlas_oms.model.enums import InstrumentKind
from atlas_oms.model.instrument import Instrument
from atlas_oms.runtime.clock import ManualClock
from atlas_oms.runtime.executor import ExecutionMode
from atlas_oms.runtime.node import Node
from atlas_oms.simulation.market import Bar, MarketEvent

__all__ = [
    "AccountResult",
    "AccountSpec",
    "Backtest",
    "BacktestConfigError",
    "BacktestResult",
    "DataSpec",
    "default_instrument",
    "load_events",
    "make_venue",
]

_QUOTES = ("USDT", "USDC", "BUSD", "FDUSD", "TUSD", "USD", "EUR", "BTC", "ETH", "BNB")


class BacktestConfigError(ValueError):
    """A backtest that cannot start: a missing or contradictory setting (a sentence)."""


@dataclass
class AccountSpec:
    """One account of the run: its strategy (an instance, or ``FILE.py:Class`` /
    ``module:Class``), its capital in the quote asset (None: from the allocation) and the
    strategy's constructor parameters."""

    name: str
    strategy: Strategy | str
    capital: Decimal | None = None
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class DataSpec:
    """One data file: ``kind`` is ``bars``, ``trades`` or ``auto`` (a header with ``price`` and
    ``amount``/``qty`` and no ``open`` means trades)."""

    path: str
    symbol: str | None = None
    kind: str = "auto"
    interval: str | None = None


@dataclass
class AccountResult:
    account_id: str
    strategy: str
    capital: Decimal
    fills: list[FillRecord]
    trades: list[TradeRecord]
    equity: list[EquityPoint]

    @property
    def final_equity(self) -> Decimal:
        return self.equity[-1].equity if self.equity else self.capital


@dataclass
class BacktestResult:
    """What a run produced. ``correlation[a][b]``: Pearson correlation of the per-step returns
    of accounts ``a`` and ``b`` (None when one of them never moved)."""

    accounts: dict[str, AccountResult]
    instruments: dict[str, Instrument]
    correlation: dict[str, dict[str, float | None]]
    events: int
    bars: int
    start_ns: int
    end_ns: int
    elapsed_s: float
    journal_events: int
    digest: str
    quote: str
    journal: str | None = None
    node: Node | None = None
    #: Per account, per mode (BACKTEST, PAPER): the order executor's statistics.
    executor: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    #: The stress scenarios applied (one line each).
    stress: list[str] = field(default_factory=list)
    #: The simulated venue's fill settings in force (FillConfig's fields; empty: unknown venue).
    fills: dict[str, Any] = field(default_factory=dict)
    #: The statistics (``backtest/output.py::run_summary``), computed once when first asked.
    statistics: Any = field(default=None, repr=False, compare=False)


def default_instrument(symbol: str, venue: str = "paper") -> Instrument:
    """A spot instrument for a ``BASEQUOTE`` symbol (``BTCUSDT``; ``BTC/USDT`` also works):
    tick 0.01, lot 0.00001, maker and taker fee 0.1% (Binance's base spot rate; the fill
    config's commission tiers, when given, replace them)."""
    if "/" in symbol:
        base, quote = symbol.split("/", 1)
    else:
        quote = next((q for q in _QUOTES if symbol.endswith(q) and len(symbol) > len(q)), "")
        if not quote:
            raise BacktestConfigError(
                f"cannot tell the quote asset of {symbol!r}: define the instrument in the config"
            )
        base = symbol[: -len(quote)]
    return Instrument(
        symbol=symbol,
        kind=InstrumentKind.SPOT,
        base=base,
        quote=quote,
        tick_size=Decimal("0.01"),
        lot_size=Decimal("0.00001"),
        venue=venue,
        maker_fee=Decimal("0.001"),
        taker_fee=Decimal("0.001"),
    )


def make_venue(
    instruments: Mapping[str, Instrument], name: str = "paper", fills: Any = None
) -> MarketVenue:
    """The simulated venue (helper "fills"'s ``SimulatedVenue``) with its fill configuration
    (a ``FillConfig``, a dict of its fields, or a YAML file's path)."""
    from atlas_oms.simulation.config import FillConfig
    from atlas_oms.simulation.venue import SimulatedVenue

    config: FillConfig | None
    if fills is None or isinstance(fills, FillConfig):
        config = fills
    elif isinstance(fills, str | Path):
        config = FillConfig.from_yaml(str(fills))
    elif isinstance(fills, Mapping):
        config = FillConfig.from_dict(fills)
    else:
        raise BacktestConfigError("fills: expected a FillConfig, a mapping or a YAML path")
    return SimulatedVenue(dict(instruments), name=name, config=config)


def load_events(data: Sequence[DataSpec], default_symbol: str | None = None) -> list[MarketEvent]:
    """Every event of the data files, merged in time order (ties: file order)."""
    streams: list[Sequence[MarketEvent]] = []
    for spec in data:
        symbol = spec.symbol or infer_symbol(spec.path) or default_symbol
        kind = spec.kind if spec.kind != "auto" else _sniff(spec.path)
        interval = parse_interval(spec.interval) if spec.interval else None
        if kind == "trades":
            streams.append(load_trades(spec.path, symbol))
        else:
            streams.append(load_bars(spec.path, symbol, interval_ns=interval))
    if len(streams) == 1:
        return list(streams[0])
    return list(merge(streams))


def _sniff(path: str) -> str:
    p = Path(path)
    if p.suffix.lower() in (".parquet", ".pq"):
        return "trades" if "trade" in p.name.lower() else "bars"
    try:
        with p.open() as fh:
            first = fh.readline().lower()
    except OSError:
        return "bars"
    cells = [x.strip() for x in first.split(",")]
    if "open" in cells:
        return "bars"
    if "price" in cells or len(cells) == 7:
        return "trades"
    return "bars"


class Backtest:
    """A run: accounts with their strategies, data, instruments, fill models, capital."""

    def __init__(
        self,
        accounts: Sequence[AccountSpec],
        *,
        data: Sequence[DataSpec] = (),
        events: Iterable[MarketEvent] | None = None,
        instruments: Sequence[Instrument] = (),
        symbol: str | None = None,
        total_capital: Decimal | None = None,
        allocation: Mapping[str, Decimal] | None = None,
        fills: Any = None,
        journal: str | None = None,
        venue_name: str = "paper",
        venue_factory: Callable[[Mapping[str, Instrument], str, Any], MarketVenue] | None = None,
        progress: bool | None = None,
        policy_overrides: Mapping[str, object] | None = None,
        stress: Sequence[Scenario | str | Mapping[str, Any]] = (),
        mode: ExecutionMode | str = ExecutionMode.BACKTEST,
    ) -> None:
        """``stress``: scenarios (``backtest/scenarios.py``: ``conservative``, ``gap:AT:PCT``,
        ``halt:FROM:TO`` or their mappings); ``mode``: the executors' mode (PAPER for a paper
        session)."""
        if not accounts:
            raise BacktestConfigError("a backtest needs at least one account with a strategy")
        names = [a.name for a in accounts]
        if len(set(names)) != len(names):
            raise BacktestConfigError(f"account names must be unique: {names}")
        if events is None and not data:
            raise BacktestConfigError("a backtest needs data: at least one data file")
        self.accounts = list(accounts)
        self.data = list(data)
        self._events = events
        self.instruments = list(instruments)
        self.symbol = symbol
        self.total_capital = total_capital
        self.allocation = dict(allocation or {})
        self.stress = parse_all(stress)
        self.fills = apply_fills(self.stress, fills)
        self.mode = ExecutionMode(mode)
        self.driver: MarketDriver | None = None
        self.journal = journal
        self.venue_name = venue_name
        self.venue_factory = venue_factory or make_venue
        self.progress = progress
        self.policy_overrides = dict(policy_overrides or {})

    # ----------------------------------------------------------------- set-up
    def capitals(self) -> dict[str, Decimal]:
        """Each account's starting capital: its own; else its allocation's share of the total
        capital; else (no allocation) an equal share of the total with the other accounts that
        have no capital of their own."""
        out: dict[str, Decimal] = {}
        alloc = self.allocation
        if alloc:
            unknown = set(alloc) - {a.name for a in self.accounts}
            if unknown:
                raise BacktestConfigError(f"allocation names unknown accounts: {sorted(unknown)}")
            if sum(alloc.values()) > 1:
                raise BacktestConfigError("the allocation's shares add up to more than 1")
            if self.total_capital is None:
                raise BacktestConfigError("an allocation needs a total capital")
        for a in self.accounts:
            if a.capital is not None:
                out[a.name] = a.capital
            elif a.name in alloc and self.total_capital is not None:
                out[a.name] = self.total_capital * alloc[a.name]
            elif self.total_capital is not None and not alloc:
                # no allocation: the accounts without a capital of their own share it equally
                out[a.name] = self.total_capital / sum(
                    1 for x in self.accounts if x.capital is None
                )
            else:
                raise BacktestConfigError(f"account {a.name}: no capital and no allocation")
        return out

    def build(
        self,
        events: Sequence[MarketEvent] = (),
        *,
        symbols: Sequence[str] = (),
        start_ns: int | None = None,
    ) -> tuple[Node, MarketVenue, MarketDriver, Recorder, dict[str, Decimal]]:
        """The node, venue, driver and recorder of the run, set up at ``start_ns`` (default: the
        first event's time), with an instrument for each symbol of ``events`` and ``symbols``."""
        symbols = sorted({e.symbol for e in events} | set(symbols)) or (
            [self.symbol] if self.symbol else []
        )
        instruments = {i.symbol: i for i in self.instruments}
        for s in symbols:
            if s not in instruments:
                instruments[s] = default_instrument(s, self.venue_name)
        instruments = {
            s: (i if i.venue == self.venue_name else _on_venue(i, self.venue_name))
            for s, i in instruments.items()
        }
        start = start_ns if start_ns is not None else (_start_of(events[0]) if events else 0)
        clock = ManualClock(start)
        venue = self.venue_factory(instruments, self.venue_name, self.fills)
        apply_venue(self.stress, venue)
        node = (
            Node(self.journal, clock=clock, venues=[venue])
            if self.journal
            else Node.in_memory(clock=clock, venues=[venue])
        )
        for inst in instruments.values():
            node.add_instrument(inst)
        if self.policy_overrides:
            node.set_policy_params(dict(self.policy_overrides), actor="backtest")
        capitals = self.capitals()
        quote = next(iter(instruments.values())).quote if instruments else "USDT"
        strategies: list[tuple[str, Strategy]] = []
        for a in self.accounts:
            node.open_account(a.name)
            node.deposit(a.name, quote, capitals[a.name], reason="backtest capital")
            strategy = (
                load_strategy(a.strategy, **a.params) if isinstance(a.strategy, str) else a.strategy
            )
            if not strategy.name:
                strategy.name = type(strategy).__name__
            strategies.append((a.name, strategy))
        driver = self.driver = MarketDriver(node, venue, strategies, mode=self.mode)
        recorder = Recorder(
            node, instruments, {a: s.name for a, s in strategies}, driver.last_price
        )
        return node, venue, driver, recorder, capitals

    # ----------------------------------------------------------------- the run
    def run(self) -> BacktestResult:
        events = (
            list(self._events) if self._events is not None else load_events(self.data, self.symbol)
        )
        if not events:
            raise BacktestConfigError("the data holds no market events")
        if any(s.kind != "conservative" for s in self.stress):
            events = apply_events(self.stress, events, self._tick_of, {e.symbol for e in events})
            if not events:
                raise BacktestConfigError("the stress scenarios left no market events")
        node, _venue, driver, recorder, capitals = self.build(events)
        t0 = time.perf_counter()
        show = self.progress if self.progress is not None else sys.stderr.isatty()
        n_bars = self.drive(driver, recorder, events, show)
        elapsed = time.perf_counter() - t0
        return self.result(
            node,
            recorder,
            capitals,
            events=len(events),
            bars=n_bars,
            start_ns=_start_of(events[0]),
            end_ns=events[-1].ts,
            elapsed_s=elapsed,
        )

    def result(
        self,
        node: Node,
        recorder: Recorder,
        capitals: Mapping[str, Decimal],
        *,
        events: int,
        bars: int,
        start_ns: int,
        end_ns: int,
        elapsed_s: float,
    ) -> BacktestResult:
        """The result of a run on ``node`` (a backtest's, or a paper session's)."""
        node.flush()
        accounts = {
            a.name: AccountResult(
                account_id=a.name,
                strategy=recorder.strategies[a.name],
                capital=capitals[a.name],
                fills=recorder.fills[a.name],
                trades=recorder.trades[a.name],
                equity=recorder.equity[a.name],
            )
            for a in self.accounts
        }
        instruments = {i.symbol: i for i in node.instruments()}
        return BacktestResult(
            accounts=accounts,
            instruments=instruments,
            correlation=correlation({k: v.equity for k, v in accounts.items()}),
            events=events,
            bars=bars,
            start_ns=start_ns,
            end_ns=end_ns,
            elapsed_s=elapsed_s,
            journal_events=node.seq,
            digest=node.digest(),
            quote=next(iter(instruments.values())).quote if instruments else "USDT",
            journal=self.journal,
            node=node,
            executor=self.driver.executor_statistics() if self.driver is not None else {},
            stress=[s.describe() for s in self.stress],
            fills=self._fill_settings(),
        )

    def _fill_settings(self) -> dict[str, Any]:
        import msgspec

        config = getattr(self.driver.venue, "config", None) if self.driver is not None else None
        if config is None or not hasattr(config, "__struct_fields__"):
            return {}
        out: dict[str, Any] = msgspec.to_builtins(config)
        return out

    def _tick_of(self, symbol: str) -> Decimal | None:
        for inst in self.instruments:
            if inst.symbol == symbol:
                return inst.tick_size
        try:
            return default_instrument(symbol).tick_size
        except BacktestConfigError:
            return None

    @staticmethod
    def drive(
        driver: MarketDriver, recorder: Recorder, events: Sequence[MarketEvent], show: bool
    ) -> int:
        apply = driver.apply
        sample = recorder.sample
        exposed_accounts = driver.exposed_accounts
        n_bars = 0
        driver.start()
        progress = None
        task = None
        if show and len(events) >= 10_000:
            from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

            progress = Progress(
                TextColumn("backtest"),
                BarColumn(),
                TextColumn("{task.completed:,}/{task.total:,} events"),
                TimeRemainingColumn(),
                transient=True,
            )
            progress.start()
            task = progress.add_task("run", total=len(events))
        try:
            for i, event in enumerate(events):
                apply(event)
                if event.__class__ is Bar:
                    n_bars += 1
                sample(event.ts, exposed_accounts())
                if progress is not None and task is not None and i % 5_000 == 0:
                    progress.update(task, completed=i)
        finally:
            if progress is not None:
                progress.stop()
        driver.stop()
        return n_bars


def _on_venue(inst: Instrument, venue: str) -> Instrument:
    import msgspec

    return msgspec.structs.replace(inst, venue=venue)


def _start_of(event: MarketEvent) -> int:
    return event.start_ns if isinstance(event, Bar) else event.ts


def correlation(curves: Mapping[str, Sequence[EquityPoint]]) -> dict[str, dict[str, float | None]]:
    """Pearson correlation of the per-step returns of every pair of equity curves (aligned by
    time: each curve has one point per event time). A statistic, so in floats (rounded to 6)."""
    returns: dict[str, list[float]] = {}
    for name, points in curves.items():
        r: list[float] = []
        for prev, cur in itertools.pairwise(points):
            r.append(float(cur.equity / prev.equity - 1) if prev.equity else 0.0)
        returns[name] = r
    out: dict[str, dict[str, float | None]] = {}
    for a, ra in returns.items():
        row: dict[str, float | None] = {}
        for b, rb in returns.items():
            row[b] = _pearson(ra, rb)
        out[a] = row
    return out


def _pearson(x: Sequence[float], y: Sequence[float]) -> float | None:
    n = min(len(x), len(y))
    if n < 2:
        return None
    x, y = x[:n], y[:n]
    mx, my = sum(x) / n, sum(y) / n
    sxx = sum((v - mx) ** 2 for v in x)
    syy = sum((v - my) ** 2 for v in y)
    if sxx == 0 or syy == 0:
        return None
    sxy = sum((a - mx) * (b - my) for a, b in zip(x, y, strict=True))
    return round(sxy / math.sqrt(sxx * syy), 6)
