"""Seed 003's order executor: validate, send once, retry safely, record every attempt.

:class:`OrderExecutor` sits in front of anything that places orders like the node does (a
:class:`~atlas_oms.runtime.node.Node`, or a client of a running server with the same two
methods: :class:`OrderPort`). For each request it

1. **validates before sending**: the node's own pre-trade checks, dry (``pre_trade_check``:
   nothing journaled) when the port offers them, and seed 003's
   ``validate_order_size(order_value, volume_24h, max_slippage_pct)``
   (``simulation/sizing.py``) when ``market_data`` carries ``volume_24h``;
2. **sets the client order id once** (the request's own, or a new one) and sends;
3. **retries transient failures safely**: an exception from the port (a timeout, a dropped
   connection: :data:`TRANSIENT`) is an *unknown* outcome, never a failure — the order may exist.
   The retry first asks the port for the order by its client order id; only when it is not there
   is the request sent again, with the *same* client order id (a node answers a reused id with the
   existing order, marked ``duplicate``, so a second order can never be created);
4. **records every attempt** (:class:`Attempt`: ts, number, outcome, reason code, latency) and
   keeps :meth:`OrderExecutor.statistics` per mode (executions, successes, success rate, retries,
   rejections, average and max latency).

A denial by the risk checks or a refused command is an answer, not a transient failure: it is
never retried.
"""

from __future__ import annotations

import importlib
import time
import uuid
from collections.abc import Callable, Mapping
from decimal import Decimal
from enum import StrEnum
from typing import Any, Protocol, cast

import msgspec

from atlas_oms.core.engine import DryRunWouldAct
from atlas_oms.core.orders.order import OrderView
from atlas_oms.model.commands import SubmitOrder
from atlas_oms.model.enums import OrderStatus, OrderType, Side, TimeInForce
from atlas_oms.runtime.errors import CommandRefused

#: Exceptions of a port that leave the outcome unknown (the request may have been applied).
TRANSIENT: tuple[type[BaseException], ...] = (TimeoutError, ConnectionError)

SizeCheck = Callable[[Decimal, Decimal, Decimal], tuple[bool, str | None]]


class TransientError(ConnectionError):
    """A port's ambiguous failure (no answer): the order may or may not exist."""


class ExecutionMode(StrEnum):
    LIVE = "LIVE"
    PAPER = "PAPER"
    BACKTEST = "BACKTEST"


class Outcome(StrEnum):
    ACCEPTED = "ACCEPTED"  # the order exists (new, or found / answered as a duplicate)
    DENIED = "DENIED"  # the risk checks denied it (the order exists, DENIED)
    REFUSED = "REFUSED"  # the command was refused (CommandRefused)
    INVALID = "INVALID"  # refused before sending (validation); nothing was sent
    UNKNOWN = "UNKNOWN"  # no answer: retried by the same client order id


class OrderPort(Protocol):
    """What the executor needs of a node or a client."""

    def submit(
        self,
        account_id: str,
        symbol: str,
        side: Side | str,
        order_type: OrderType | str,
        qty: Any,
        price: Any = None,
        **kw: Any,
    ) -> OrderView: ...

    def find_order(
        self, account_id: str, order_id: int | None = None, client_order_id: str | None = None
    ) -> OrderView | None: ...


class OrderRequest(msgspec.Struct, frozen=True, kw_only=True):
    """An order to execute (the arguments of ``Node.submit``)."""

    account_id: str
    symbol: str
    side: Side
    order_type: OrderType = OrderType.MARKET
    qty: Decimal
    price: Decimal | None = None
    trigger_price: Decimal | None = None
    tif: TimeInForce = TimeInForce.GTC
    post_only: bool = False
    reduce_only: bool = False
    client_order_id: str | None = None
    tag: str | None = None
    #: Any other ``Node.submit`` keyword (``trigger_type``, ``trailing_offset``, ``expire_ts``,
    #: ``position_side``...), passed through as given.
    options: dict[str, Any] = {}


class RetryPolicy(msgspec.Struct, frozen=True, kw_only=True):
    """Up to ``max_attempts`` sends/queries; waits ``backoff_s × multiplier^(n-1)`` (capped at
    ``max_backoff_s``) before attempt n+1. Backtests never wait (see ``OrderExecutor``)."""

    max_attempts: int = 3
    backoff_s: float = 0.2
    multiplier: float = 2.0
    max_backoff_s: float = 5.0

    def delay(self, attempt: int) -> float:
        return float(min(self.max_backoff_s, self.backoff_s * self.multiplier ** (attempt - 1)))


class Attempt(msgspec.Struct, frozen=True, kw_only=True):
    """One try of an execution: a send, or a query for an order whose send had no answer."""

    ts: int  # the port's clock (a node's; a backtest's is simulated), else the wall clock, ns
    attempt: int  # 1-based; 0 for the validation refusal (nothing sent)
    action: str  # "validate" | "send" | "query"
    outcome: Outcome
    reason: str | None
    latency_ns: int


class ExecutionResult(msgspec.Struct, frozen=True, kw_only=True):
    """The end of one execution: ``success`` when the order exists and was not denied."""

    success: bool
    mode: ExecutionMode
    client_order_id: str | None
    order: OrderView | None
    reason: str | None
    message: str | None
    attempts: tuple[Attempt, ...]

    @property
    def order_id(self) -> int | None:
        return self.order.order_id if self.order is not None else None

    @property
    def execution_price(self) -> Decimal | None:
        return self.order.avg_px if self.order is not None else None

    @property
    def filled_quantity(self) -> Decimal:
        return self.order.cum_qty if self.order is not None else Decimal(0)

    @property
    def commission(self) -> Decimal:
        return self.order.fees if self.order is not None else Decimal(0)

    @property
    def retries(self) -> int:
        return max(0, sum(1 for a in self.attempts if a.action != "validate") - 1)


class ExecutionStatistics(msgspec.Struct, frozen=True, kw_only=True):
    """Per mode: ``success_rate`` in % with 2 decimals; latencies in ms with 3 (strings, never
    exponent notation); None when there is nothing to measure."""

    mode: ExecutionMode
    executions: int
    successes: int
    success_rate: str | None
    retries: int
    rejections: int  # denied, refused or invalid
    unknown: int  # gave up with the outcome still unknown
    attempts: int
    average_latency_ms: str | None
    max_latency_ms: str | None


class _Tally:
    def __init__(self) -> None:
        self.executions = 0
        self.successes = 0
        self.retries = 0
        self.rejections = 0
        self.unknown = 0
        self.latencies: list[int] = []


class OrderExecutor:
    """Executes :class:`OrderRequest` s through ``port`` in ``mode`` (see the module's docstring).

    ``size_check`` defaults to ``simulation.sizing.validate_order_size``; ``sleep`` defaults to
    ``time.sleep`` in LIVE and PAPER and to no wait in BACKTEST (a backtest runs on a simulated
    clock); ``timer`` measures latencies (``time.perf_counter_ns``); ``id_factory`` makes client
    order ids (``ex-<uuid>`` in LIVE/PAPER, ``bt-<n>`` in BACKTEST so runs repeat).
    """

    def __init__(
        self,
        port: OrderPort,
        mode: ExecutionMode | str = ExecutionMode.LIVE,
        retry: RetryPolicy | None = None,
        *,
        max_slippage_pct: Decimal | str = Decimal("0.5"),
        size_check: SizeCheck | None = None,
        sleep: Callable[[float], None] | None = None,
        timer: Callable[[], int] = time.perf_counter_ns,
        id_factory: Callable[[], str] | None = None,
    ) -> None:
        self.port = port
        self.mode = ExecutionMode(mode)
        self.retry = retry or RetryPolicy()
        self.max_slippage_pct = Decimal(max_slippage_pct)
        self._size_check = size_check
        if sleep is None:
            sleep = _no_wait if self.mode is ExecutionMode.BACKTEST else time.sleep
        self._sleep = sleep
        self._timer = timer
        self._counter = 0
        self._id_factory = id_factory or self._default_id
        self._tallies: dict[ExecutionMode, _Tally] = {}
        self.history: list[ExecutionResult] = []

    def set_mode(self, mode: ExecutionMode | str, timer: Callable[[], int] | None = None) -> None:
        """Execute in ``mode`` from now on (statistics stay per mode), timing with ``timer``."""
        self.mode = ExecutionMode(mode)
        if timer is not None:
            self._timer = timer

    # ------------------------------------------------------------------ executing
    def execute(
        self, request: OrderRequest, market_data: Mapping[str, Any] | None = None
    ) -> ExecutionResult:
        """Validate, send (retrying unknown outcomes by the same client order id), record."""
        attempts: list[Attempt] = []
        invalid = self._validate(request, market_data)
        if invalid is not None:
            attempts.append(self._attempt(0, "validate", Outcome.INVALID, invalid[0], 0))
            return self._finish(
                request.client_order_id, None, False, invalid[0], invalid[1], attempts
            )
        coid = request.client_order_id or self._id_factory()  # set once, reused by every retry
        sent_unknown = False
        reason: str | None = None
        message: str | None = None
        for number in range(1, self.retry.max_attempts + 1):
            if number > 1:
                self._sleep(self.retry.delay(number - 1))
            if sent_unknown:
                # The previous send had no answer: look for the order before sending again.
                started = self._timer()
                try:
                    found = self.port.find_order(request.account_id, client_order_id=coid)
                except TRANSIENT as exc:
                    reason, message = "UNKNOWN", f"query failed: {exc}"
                    attempts.append(
                        self._attempt(number, "query", Outcome.UNKNOWN, reason, started)
                    )
                    continue
                if found is not None:
                    outcome = (
                        Outcome.DENIED if found.status is OrderStatus.DENIED else Outcome.ACCEPTED
                    )
                    attempts.append(self._attempt(number, "query", outcome, found.reason, started))
                    return self._finish(
                        coid, found, outcome is Outcome.ACCEPTED, found.reason, None, attempts
                    )
            started = self._timer()
            try:
                view = self._send(request, coid)
            except CommandRefused as exc:
                attempts.append(self._attempt(number, "send", Outcome.REFUSED, exc.reason, started))
                return self._finish(coid, None, False, exc.reason, exc.message, attempts)
            except TRANSIENT as exc:
                sent_unknown = True
                reason, message = "UNKNOWN", f"no answer: {exc}"
                attempts.append(self._attempt(number, "send", Outcome.UNKNOWN, reason, started))
                continue
            if view.status is OrderStatus.DENIED:
                attempts.append(self._attempt(number, "send", Outcome.DENIED, view.reason, started))
                return self._finish(coid, view, False, view.reason, None, attempts)
            attempts.append(self._attempt(number, "send", Outcome.ACCEPTED, None, started))
            return self._finish(coid, view, True, None, None, attempts)
        return self._finish(coid, None, False, reason, message, attempts)

    def _send(self, r: OrderRequest, coid: str) -> OrderView:
        return self.port.submit(
            r.account_id,
            r.symbol,
            r.side,
            r.order_type,
            r.qty,
            r.price,
            trigger_price=r.trigger_price,
            tif=r.tif,
            post_only=r.post_only,
            reduce_only=r.reduce_only,
            client_order_id=coid,
            tag=r.tag,
            **r.options,
        )

    def _validate(
        self, r: OrderRequest, market_data: Mapping[str, Any] | None
    ) -> tuple[str, str] | None:
        if r.qty <= 0:
            return "INVALID_QTY", f"quantity must be positive, got {r.qty}"
        check = getattr(self.port, "pre_trade_check", None)
        if check is not None:
            clock = getattr(self.port, "clock", None)
            cmd = _command(r, clock.now() if clock is not None else 0)
            try:
                refusal = check(cmd)
            except CommandRefused as exc:
                return exc.reason, exc.message
            except DryRunWouldAct:
                refusal = None  # a check that would act (a breaker tripping): the send decides
            if refusal is not None:
                return str(refusal[0]), refusal[1]
        if market_data and market_data.get("volume_24h") is not None:
            price = r.price if r.price is not None else market_data.get("price")
            if price is not None:
                ok, warning = self._sizer()(
                    r.qty * Decimal(str(price)),
                    Decimal(str(market_data["volume_24h"])),
                    self.max_slippage_pct,
                )
                if not ok:
                    return "ORDER_TOO_LARGE", warning or "the order is too large for the volume"
        return None

    def _sizer(self) -> SizeCheck:
        if self._size_check is None:
            # simulation/sizing.py (seed 003's pre-trade check, helper "fills"), imported when
            # first needed: an executor without volume data never needs it.
            sizing = importlib.import_module("atlas_oms.simulation.sizing")
            self._size_check = cast(SizeCheck, sizing.validate_order_size)
        return self._size_check

    # ------------------------------------------------------------------ records
    def _attempt(
        self, number: int, action: str, outcome: Outcome, reason: str | None, started: int
    ) -> Attempt:
        latency = self._timer() - started if started else 0
        clock = getattr(self.port, "clock", None)  # a node's clock (simulated in a backtest)
        return Attempt(
            ts=clock.now() if clock is not None else time.time_ns(),
            attempt=number,
            action=action,
            outcome=outcome,
            reason=reason,
            latency_ns=max(0, latency),
        )

    def _finish(
        self,
        coid: str | None,
        view: OrderView | None,
        success: bool,
        reason: str | None,
        message: str | None,
        attempts: list[Attempt],
    ) -> ExecutionResult:
        result = ExecutionResult(
            success=success,
            mode=self.mode,
            client_order_id=coid,
            order=view,
            reason=reason,
            message=message,
            attempts=tuple(attempts),
        )
        tally = self._tallies.setdefault(self.mode, _Tally())
        tally.executions += 1
        tally.successes += success
        tally.retries += result.retries
        last = attempts[-1].outcome if attempts else None
        if last in (Outcome.DENIED, Outcome.REFUSED, Outcome.INVALID):
            tally.rejections += 1
        if last is Outcome.UNKNOWN:
            tally.unknown += 1
        tally.latencies.extend(a.latency_ns for a in attempts if a.action != "validate")
        self.history.append(result)
        return result

    def statistics(self) -> dict[ExecutionMode, ExecutionStatistics]:
        """Per mode this executor ran in."""
        out: dict[ExecutionMode, ExecutionStatistics] = {}
        for mode, t in self._tallies.items():
            lat = t.latencies
            out[mode] = ExecutionStatistics(
                mode=mode,
                executions=t.executions,
                successes=t.successes,
                success_rate=_fixed(Decimal(t.successes) / t.executions * 100, 2)
                if t.executions
                else None,
                retries=t.retries,
                rejections=t.rejections,
                unknown=t.unknown,
                attempts=len(lat),
                average_latency_ms=_fixed(Decimal(sum(lat)) / len(lat) / 1_000_000, 3)
                if lat
                else None,
                max_latency_ms=_fixed(Decimal(max(lat)) / 1_000_000, 3) if lat else None,
            )
        return out

    def get_statistics(self) -> dict[str, Any]:
        """Seed 003's shape: ``total_executions``, ``success_rate`` (float %), ... of this
        executor's mode, plus ``by_mode``."""
        stats = self.statistics()
        own = stats.get(self.mode)
        return {
            "mode": self.mode.value,
            "total_executions": own.executions if own else 0,
            "successful_executions": own.successes if own else 0,
            "success_rate": float(own.success_rate) if own and own.success_rate else 0.0,
            "retries": own.retries if own else 0,
            "rejections": own.rejections if own else 0,
            "average_latency_ms": float(own.average_latency_ms)
            if own and own.average_latency_ms
            else 0.0,
            "by_mode": {m.value: msgspec.to_builtins(s) for m, s in stats.items()},
        }

    def _default_id(self) -> str:
        self._counter += 1
        if self.mode is ExecutionMode.BACKTEST:
            return f"bt-{self._counter}"
        return f"ex-{uuid.uuid4().hex[:24]}"


def _command(r: OrderRequest, ts: int) -> SubmitOrder:
    """The ``SubmitOrder`` the port would build for ``r`` (for the dry pre-trade check)."""
    if not r.options:
        return SubmitOrder(
            ts=ts,
            account_id=r.account_id,
            symbol=r.symbol,
            side=r.side,
            order_type=r.order_type,
            qty=r.qty,
            price=r.price,
            trigger_price=r.trigger_price,
            tif=r.tif,
            post_only=r.post_only,
            reduce_only=r.reduce_only,
            client_order_id=r.client_order_id,
            tag=r.tag,
        )
    fields = {k: getattr(r, k) for k in r.__struct_fields__ if k != "options"}
    fields.update(r.options)
    fields["ts"] = ts
    return msgspec.convert(
        {k: str(v) if isinstance(v, Decimal) else v for k, v in fields.items() if v is not None},
        SubmitOrder,
        strict=False,
    )


def _no_wait(_seconds: float) -> None:
    return None


def _fixed(value: Decimal, decimals: int) -> str:
    return format(value.quantize(Decimal(1).scaleb(-decimals)), "f")
