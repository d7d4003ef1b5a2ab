"""Seed 001 section 8.2: repricing degradation as a pure, incremental state machine.

The managed trade reports what it does and what happens (:class:`Activity`) with the time of
the message that caused it; :func:`step` returns the next :class:`RepricingState` and the
decisions taken, each entering or leaving one degraded mode (an audit event for the caller to
journal). Time enters only as ``ts`` (nanoseconds); a :attr:`Activity.TICK` lets old activity
leave the windows without new activity, so a mode can recover while nothing happens.

The table (defaults; every number a :class:`RepricingConfig` field):

=============================================  ==========================================  ========================
Condition                                      Reaction                                    Until
=============================================  ==========================================  ========================
cancel/replace : trades > 5 over 30 min        repricing interval 5 s -> 10 s              ratio < 3
orders : trades > 10 over 60 min               1 repricing cycle (not 3), no abandon retry ratio < 6
fill rate < 30% over the last 5 attempts       halve the size, or OBSERVING (a parameter)  next strategy cycle
=============================================  ==========================================  ========================

Decisions where the seed is silent:

* A ratio is ``count / max(trades, 1)`` over the window ``(ts - window, ts]``, as the risk
  monitors compute theirs (``core/risk/after.py``); enter is strictly above the warn level,
  leave strictly below the clear level (hysteresis: between them the mode holds).
* The caller reports ORDER for every order it sends (a replacing order included),
  CANCEL_REPLACE for every cancel or replace, TRADE for every execution, ATTEMPT_FILLED /
  ATTEMPT_UNFILLED when an entry attempt ends, NEW_CYCLE for the strategy's next cycle.
* The fill rate is judged only over a full window of 5 attempts; NEW_CYCLE leaves the
  low-fill-rate mode and forgets the attempts (otherwise the next attempt would re-enter it).
* The low-fill-rate reaction defaults to halving the size (``low_fill_action``).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from atlas_oms.core.decimals import ZERO

MINUTE_NS = 60_000_000_000


class Activity(StrEnum):
    """What the managed trade reports to the degradation machine."""

    ORDER = "ORDER"
    CANCEL_REPLACE = "CANCEL_REPLACE"
    TRADE = "TRADE"
    ATTEMPT_FILLED = "ATTEMPT_FILLED"
    ATTEMPT_UNFILLED = "ATTEMPT_UNFILLED"
    NEW_CYCLE = "NEW_CYCLE"
    TICK = "TICK"


class Mode(StrEnum):
    """The three degraded modes of section 8.2."""

    SLOW_REPRICING = "SLOW_REPRICING"
    SINGLE_CYCLE = "SINGLE_CYCLE"
    LOW_FILL_RATE = "LOW_FILL_RATE"


class LowFillAction(StrEnum):
    """The third row's reaction (the seed allows either)."""

    HALVE_SIZE = "HALVE_SIZE"
    OBSERVING = "OBSERVING"


class DegradationReason(StrEnum):
    """Reason codes of the decisions (one per mode and direction)."""

    CANCEL_REPLACE_RATE_HIGH = "REPRICING_CANCEL_REPLACE_RATE_HIGH"
    CANCEL_REPLACE_RATE_RECOVERED = "REPRICING_CANCEL_REPLACE_RATE_RECOVERED"
    ORDER_TRADE_RATIO_HIGH = "REPRICING_ORDER_TRADE_RATIO_HIGH"
    ORDER_TRADE_RATIO_RECOVERED = "REPRICING_ORDER_TRADE_RATIO_RECOVERED"
    FILL_RATE_LOW = "REPRICING_FILL_RATE_LOW"
    FILL_RATE_RESET_BY_NEW_CYCLE = "REPRICING_FILL_RATE_RESET_BY_NEW_CYCLE"


@dataclass(frozen=True, slots=True)
class RepricingConfig:
    """Sections 8.1, 8.2 and 16's numbers."""

    interval_ms: int = 5000
    degraded_interval_ms: int = 10000
    max_cycles: int = 3
    degraded_max_cycles: int = 1
    cancel_replace_warn: Decimal = Decimal(5)
    cancel_replace_clear: Decimal = Decimal(3)
    cancel_replace_window_min: int = 30
    order_trade_warn: Decimal = Decimal(10)
    order_trade_clear: Decimal = Decimal(6)
    order_trade_window_min: int = 60
    fill_rate_min: Decimal = Decimal("0.30")
    fill_rate_attempts: int = 5
    low_fill_action: LowFillAction = LowFillAction.HALVE_SIZE
    low_fill_size_factor: Decimal = Decimal("0.5")


@dataclass(frozen=True, slots=True)
class Decision:
    """A degraded mode entered (``entered``) or left, why, and the measure that decided it."""

    ts: int
    mode: Mode
    entered: bool
    reason: DegradationReason
    value: Decimal
    text: str


@dataclass(frozen=True, slots=True)
class RepricingParams:
    """What repricing does now: the managed trade reads these instead of the defaults."""

    interval_ms: int
    max_cycles: int
    abandon_retry: bool
    size_factor: Decimal
    observing: bool


@dataclass(frozen=True, slots=True)
class RepricingState:
    """The windows and the modes; start from ``RepricingState()``."""

    config: RepricingConfig = RepricingConfig()
    ts: int = 0
    orders: tuple[int, ...] = ()
    cancel_replaces: tuple[int, ...] = ()
    trades: tuple[int, ...] = ()
    attempts: tuple[bool, ...] = ()
    modes: frozenset[Mode] = frozenset()

    def params(self) -> RepricingParams:
        cfg, modes = self.config, self.modes
        low = Mode.LOW_FILL_RATE in modes
        return RepricingParams(
            interval_ms=(
                cfg.degraded_interval_ms if Mode.SLOW_REPRICING in modes else cfg.interval_ms
            ),
            max_cycles=cfg.degraded_max_cycles if Mode.SINGLE_CYCLE in modes else cfg.max_cycles,
            abandon_retry=Mode.SINGLE_CYCLE not in modes,
            size_factor=(
                cfg.low_fill_size_factor
                if low and cfg.low_fill_action is LowFillAction.HALVE_SIZE
                else Decimal(1)
            ),
            observing=low and cfg.low_fill_action is LowFillAction.OBSERVING,
        )

    def cancel_replace_ratio(self) -> Decimal:
        window = self.config.cancel_replace_window_min * MINUTE_NS
        return _ratio(self.cancel_replaces, self.trades, self.ts, window)

    def order_trade_ratio(self) -> Decimal:
        window = self.config.order_trade_window_min * MINUTE_NS
        return _ratio(self.orders, self.trades, self.ts, window)

    def fill_rate(self) -> Decimal | None:
        """The share of the last attempts that filled; None until the window is full."""
        n = self.config.fill_rate_attempts
        if len(self.attempts) < n:
            return None
        return Decimal(sum(self.attempts[-n:])) / n


def _count(stamps: tuple[int, ...], ts: int, window: int) -> int:
    return sum(1 for t in stamps if t > ts - window)


def _ratio(num: tuple[int, ...], trades: tuple[int, ...], ts: int, window: int) -> Decimal:
    n = _count(num, ts, window)
    return Decimal(n) / max(_count(trades, ts, window), 1) if n else ZERO


def step(
    state: RepricingState, ts: int, activity: Activity
) -> tuple[RepricingState, tuple[Decision, ...]]:
    """Book one activity at ``ts`` (never earlier than the last) and judge every window."""
    if ts < state.ts:
        raise ValueError(f"time went back: {ts} < {state.ts}")
    cfg = state.config
    keep = max(cfg.cancel_replace_window_min, cfg.order_trade_window_min) * MINUTE_NS

    def add(stamps: tuple[int, ...], kind: Activity) -> tuple[int, ...]:
        kept = tuple(t for t in stamps if t > ts - keep)
        return (*kept, ts) if activity is kind else kept

    attempts = state.attempts
    if activity in (Activity.ATTEMPT_FILLED, Activity.ATTEMPT_UNFILLED):
        attempts = (*attempts, activity is Activity.ATTEMPT_FILLED)[-cfg.fill_rate_attempts :]
    nxt = RepricingState(
        cfg,
        ts,
        add(state.orders, Activity.ORDER),
        add(state.cancel_replaces, Activity.CANCEL_REPLACE),
        add(state.trades, Activity.TRADE),
        () if activity is Activity.NEW_CYCLE else attempts,
        state.modes,
    )
    out: list[Decision] = []
    modes = set(state.modes)

    def judge(
        mode: Mode,
        value: Decimal,
        enter: bool,
        leave: bool,
        reasons: tuple[DegradationReason, DegradationReason],
        text: str,
    ) -> None:
        if mode not in modes and enter:
            modes.add(mode)
            out.append(Decision(ts, mode, True, reasons[0], value, text))
        elif mode in modes and leave:
            modes.discard(mode)
            out.append(Decision(ts, mode, False, reasons[1], value, text))

    cr = nxt.cancel_replace_ratio()
    judge(
        Mode.SLOW_REPRICING, cr, cr > cfg.cancel_replace_warn, cr < cfg.cancel_replace_clear,
        (DegradationReason.CANCEL_REPLACE_RATE_HIGH,
         DegradationReason.CANCEL_REPLACE_RATE_RECOVERED),
        f"cancel/replace rate {cr:.2f}:1 over {cfg.cancel_replace_window_min} min",
    )  # fmt: skip
    ot = nxt.order_trade_ratio()
    judge(
        Mode.SINGLE_CYCLE, ot, ot > cfg.order_trade_warn, ot < cfg.order_trade_clear,
        (DegradationReason.ORDER_TRADE_RATIO_HIGH, DegradationReason.ORDER_TRADE_RATIO_RECOVERED),
        f"order/trade ratio {ot:.2f}:1 over {cfg.order_trade_window_min} min",
    )  # fmt: skip
    rate = nxt.fill_rate()
    judge(
        Mode.LOW_FILL_RATE, rate if rate is not None else ZERO,
        rate is not None and rate < cfg.fill_rate_min, activity is Activity.NEW_CYCLE,
        (DegradationReason.FILL_RATE_LOW, DegradationReason.FILL_RATE_RESET_BY_NEW_CYCLE),
        f"fill rate {rate if rate is not None else '-'} over the last "
        f"{cfg.fill_rate_attempts} attempts; {cfg.low_fill_action}",
    )  # fmt: skip
    if frozenset(modes) != nxt.modes:
        nxt = RepricingState(
            cfg, ts, nxt.orders, nxt.cancel_replaces, nxt.trades, nxt.attempts, frozenset(modes)
        )
    return nxt, tuple(out)
