"""Strategies: small Python classes with callbacks, trading through the library's own API.

A strategy subclasses :class:`Strategy` and overrides the callbacks it needs; each gets a
:class:`StrategyContext` bound to the strategy's account, which offers what the library offers
(``buy``/``sell``/``submit``/``cancel`` orders, ``submit_intent`` managed trades, ``position``,
``balance``, ``orders``) plus the time (``now``) and timers (``set_timer``). The same strategy runs
unchanged in a backtest and in a paper session (:mod:`atlas_oms.backtest.paper`): both drive it
through :class:`~atlas_oms.backtest.driver.MarketDriver`.

Load one from ``path/to/file.py:ClassName`` or ``package.module:ClassName``
(:func:`load_strategy`).
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from atlas_oms.core.views import BalanceView, OrderView, PositionView
from atlas_oms.model import events as ev
from atlas_oms.model.enums import OrderStatus, OrderType, Side, TimeInForce
from atlas_oms.model.numbers import Number, to_decimal
from atlas_oms.runtime.executor import (
    ExecutionMode,
    ExecutionResult,
    ExecutionStatistics,
    OrderExecutor,
    OrderPort,
    OrderRequest,
)
from atlas_oms.simulation.market import Bar, BookSnapshot, TradePrint

if TYPE_CHECKING:
    from atlas_oms.backtest.driver import MarketDriver
    from atlas_oms.runtime.trade_view import TradeView

__all__ = ["OrderRefusal", "Strategy", "StrategyContext", "StrategyLoadError", "load_strategy"]

#: Node.submit keywords that are fields of the executor's OrderRequest.
_REQUEST_FIELDS = frozenset(
    {"trigger_price", "tif", "post_only", "reduce_only", "client_order_id", "tag"}
)


@dataclass(frozen=True, slots=True)
class OrderRefusal:
    """An order of the strategy that was refused, as ``Strategy.on_reject`` gets it.

    ``stage``: ``validation`` (the executor's checks before sending: the node's dry pre-trade
    check, the order size against the 24h volume; nothing was sent), ``command`` (the node
    refused the command), ``risk`` (the core's risk checks denied the order: it is in the journal,
    DENIED) or ``venue`` (the venue rejected it, e.g. ``INSTRUMENT_HALTED``: REJECTED).
    ``reason`` is the code, ``message`` the sentence; ``order_id`` is None when no order exists."""

    ts: int
    account_id: str
    symbol: str
    reason: str
    message: str
    stage: str
    order_id: int | None = None
    client_order_id: str | None = None


class Strategy:
    """Base class: every callback does nothing. ``name`` labels the strategy in the results."""

    name: str = ""

    def on_start(self, ctx: StrategyContext) -> None:
        """Before the first market event."""

    def on_bar(self, ctx: StrategyContext, bar: Bar) -> None:
        """After a bar's ticks went through the venue and the core."""

    def on_trade(self, ctx: StrategyContext, print_: TradePrint) -> None:
        """After a public trade went through the venue and the core."""

    def on_book(self, ctx: StrategyContext, book: BookSnapshot) -> None:
        """After an order-book snapshot went through the venue."""

    def on_fill(self, ctx: StrategyContext, fill: ev.OrderFilled) -> None:
        """One execution of one of this strategy's account's orders."""

    def on_timer(self, ctx: StrategyContext, ts: int) -> None:
        """A timer set with :meth:`StrategyContext.set_timer` is due (``ts``: when it was set for)."""

    def on_reject(self, ctx: StrategyContext, refusal: OrderRefusal) -> None:
        """One of this strategy's account's orders was refused (before sending, by the risk
        checks, or by the venue): ``refusal.reason`` and ``refusal.message`` say why."""

    def on_stop(self, ctx: StrategyContext) -> None:
        """After the last market event."""


class StrategyContext:
    """What a strategy can do and see: the library's API bound to its account."""

    def __init__(self, driver: MarketDriver, account_id: str, strategy: Strategy) -> None:
        self.driver = driver
        self.node = driver.node
        self.account_id = account_id
        self.strategy = strategy
        self._intents = 0
        self._executor: OrderExecutor | None = None
        self._ids = 0

    # ----------------------------------------------------------------- time and prices
    @property
    def now(self) -> int:
        """The node's time (ns): the current market event's ``ts``."""
        return self.node.clock.now()

    def price(self, symbol: str) -> Decimal | None:
        """The last market price the driver has seen for ``symbol`` (None: none yet)."""
        return self.driver.last_price(symbol)

    def set_timer(self, ts: int) -> None:
        """Call ``on_timer`` at the first market event at or after ``ts``."""
        self.driver.set_timer(ts, self)

    # ----------------------------------------------------------------- orders
    @property
    def executor(self) -> OrderExecutor:
        """Seed 003's executor every order of this context goes through (in the driver's mode:
        BACKTEST in a backtest, PAPER in a paper session); ``executor.statistics()``.

        Its latencies are measured on the node's clock in BACKTEST (a simulated clock: the run's
        files stay identical from run to run) and on the wall clock otherwise."""
        ex = self._executor
        if ex is None:
            mode = self.driver.mode
            ex = self._executor = OrderExecutor(
                cast(
                    OrderPort, self.node
                ),  # Node.submit: the port's signature, keywords spelled out
                mode,
                size_check=self.driver.size_check,
                max_slippage_pct=self.driver.max_slippage_pct or Decimal(0),
                sleep=_no_wait,
                timer=executor_timer(self.node, mode),
                id_factory=self._next_client_id,
            )
        return ex

    def _next_client_id(self) -> str:
        """Client order ids that depend only on the run (``st-1``, ``st-2``... per account), in
        every mode: a paper session and a backtest of the same data journal the same ids."""
        self._ids += 1
        return f"st-{self._ids}"

    def executor_statistics(self) -> dict[ExecutionMode, ExecutionStatistics]:
        """The executor's statistics per mode (empty: no order yet)."""
        return self._executor.statistics() if self._executor is not None else {}

    def set_mode(self, mode: ExecutionMode) -> None:
        """Execute in ``mode`` from now on (the driver's ``mode`` setter calls it)."""
        if self._executor is not None:
            self._executor.set_mode(mode, executor_timer(self.node, mode))

    def submit(
        self,
        symbol: str,
        side: Side | str,
        order_type: OrderType | str,
        qty: Number,
        price: Number | None = None,
        **kw: Any,
    ) -> OrderView | None:
        """Any order the library's ``Node.submit`` takes (market, limit, stop, stop-limit,
        trailing...), for this account, through :attr:`executor` (validated, then sent; every
        attempt recorded). The core's last price is brought up to date first. Returns the order's
        view (DENIED or REJECTED ones included), or None when nothing was created (refused
        before sending, or the command was refused); every refusal also goes to
        ``Strategy.on_reject``."""
        driver = self.driver
        driver.sync_price(symbol)
        fields = {k: kw.pop(k) for k in list(kw) if k in _REQUEST_FIELDS}
        if "tif" in fields:
            fields["tif"] = TimeInForce(fields["tif"])
        if fields.get("trigger_price") is not None:
            fields["trigger_price"] = to_decimal(fields["trigger_price"])
        request = OrderRequest(
            account_id=self.account_id,
            symbol=symbol,
            side=Side(side),
            order_type=OrderType(order_type),
            qty=to_decimal(qty),
            price=to_decimal(price),
            options=kw,
            **fields,
        )
        result = self.executor.execute(request, driver.market_data(symbol))
        return self._answer(result, symbol)

    def buy(
        self, symbol: str, qty: Number, price: Number | None = None, **kw: Any
    ) -> OrderView | None:
        """A limit buy when ``price`` is given, else a market buy."""
        kind = OrderType.LIMIT if price is not None else OrderType.MARKET
        return self.submit(symbol, Side.BUY, kind, qty, price, **kw)

    def sell(
        self, symbol: str, qty: Number, price: Number | None = None, **kw: Any
    ) -> OrderView | None:
        """A limit sell when ``price`` is given, else a market sell."""
        kind = OrderType.LIMIT if price is not None else OrderType.MARKET
        return self.submit(symbol, Side.SELL, kind, qty, price, **kw)

    def _answer(self, result: ExecutionResult, symbol: str) -> OrderView | None:
        view = result.order
        if view is not None and (result.success or view.status is OrderStatus.DENIED):
            # DENIED and venue REJECTED orders reach on_reject from the node's events (the
            # driver's listener), like a stop the core fires later and the venue rejects.
            return view
        last = result.attempts[-1] if result.attempts else None
        stage = "validation" if last is None or last.action == "validate" else "command"
        self.driver.refused(
            OrderRefusal(
                ts=self.now,
                account_id=self.account_id,
                symbol=symbol,
                reason=result.reason or "UNKNOWN",
                message=result.message or "",
                stage=stage,
                order_id=None,
                client_order_id=result.client_order_id,
            )
        )
        return view

    def cancel(
        self, order_id: int | None = None, *, client_order_id: str | None = None
    ) -> OrderView:
        return self.node.cancel(self.account_id, order_id, client_order_id=client_order_id)

    def submit_intent(
        self,
        symbol: str,
        side: Side | str,
        *,
        entry_ideal: Number,
        entry_max: Number,
        stop: Number,
        risk_amount: Number,
        intent_id: str | None = None,
        **kw: Any,
    ) -> TradeView | None:
        """A managed trade (``SubmitTradeIntent``, as ``atlas trades submit`` sends it): Atlas
        sizes, enters, protects and exits it. ``intent_id`` defaults to
        ``<account>-<n>`` (deterministic). Returns the trade's view (None: refused; the refusal
        is in the journal as ``TradeIntentRefused``)."""
        self._intents += 1
        trade_id = intent_id or f"{self.account_id}-{self._intents}"
        self.driver.before_intent(symbol)
        self.node.trade(
            trade_id,
            self.account_id,
            symbol,
            side,
            entry_ideal=entry_ideal,
            entry_max=entry_max,
            stop=stop,
            risk_amount=risk_amount,
            **kw,
        )
        return self.node.managed_trade(trade_id)

    # ----------------------------------------------------------------- reading
    def position(self, symbol: str) -> PositionView | None:
        return self.node.position(self.account_id, symbol)

    def position_qty(self, symbol: str) -> Decimal:
        """The signed position in ``symbol`` (0 when flat)."""
        view = self.node.position(self.account_id, symbol)
        return view.qty if view is not None else Decimal(0)

    def balance(self, asset: str) -> BalanceView:
        return self.node.balance(self.account_id, asset)

    def orders(self, open_only: bool = True) -> list[OrderView]:
        return self.node.orders(self.account_id, open_only=open_only)

    def trades(self, open_only: bool = True) -> list[TradeView]:
        """This account's managed trades (open ones: found from the driver's own index, cheap)."""
        if not open_only:
            return self.node.managed_trades(self.account_id)
        views = (self.node.managed_trade(t) for t in self.driver.open_trades(self.account_id))
        return [v for v in views if v is not None]


def _no_wait(_seconds: float) -> None:
    return None


def executor_timer(node: Any, mode: ExecutionMode) -> Callable[[], int]:
    """The executor's latency timer in ``mode``: the node's clock in BACKTEST, else the wall's."""
    if mode is ExecutionMode.BACKTEST:
        return cast(Callable[[], int], node.clock.now)
    return time.perf_counter_ns


class StrategyLoadError(ValueError):
    """A strategy spec that does not name a Strategy class."""


def load_strategy(spec: str, **params: Any) -> Strategy:
    """Instantiate ``path/to/file.py:ClassName`` or ``package.module:ClassName`` with ``params``."""
    target, sep, cls_name = spec.rpartition(":")
    if not sep or not target or not cls_name:
        raise StrategyLoadError(f"strategy {spec!r}: expected FILE.py:Class or module:Class")
    if target.endswith(".py") or "/" in target or "\\" in target:
        path = Path(target)
        if not path.exists():
            raise StrategyLoadError(f"strategy {spec!r}: no file {target}")
        mod_name = f"atlas_strategy_{path.stem}_{abs(hash(str(path.resolve())))}"
        module = sys.modules.get(mod_name)
        if module is None:
            loaded = importlib.util.spec_from_file_location(mod_name, path)
            if loaded is None or loaded.loader is None:
                raise StrategyLoadError(f"strategy {spec!r}: cannot load {target}")
            module = importlib.util.module_from_spec(loaded)
            sys.modules[mod_name] = module
            loaded.loader.exec_module(module)
    else:
        try:
            module = importlib.import_module(target)
        except ImportError as exc:
            raise StrategyLoadError(f"strategy {spec!r}: {exc}") from None
    cls = getattr(module, cls_name, None)
    if not isinstance(cls, type) or not issubclass(cls, Strategy):
        raise StrategyLoadError(f"strategy {spec!r}: {cls_name} is not a Strategy subclass")
    strategy = cls(**params)
    if not strategy.name:
        strategy.name = cls_name
    return strategy
