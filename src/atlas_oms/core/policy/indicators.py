"""ATR, EMA(9) of closes and the last higher low / lower high, updated once per closed 1m bar
(seed 001 §10.2: ``trailCandidate`` uses the entry ATR, ``runnerTrailCandidate`` uses
``min(ema9_close, last_higher_low)``).

The seed names these inputs but not their definitions; Atlas decides (and the parameter catalog
may override the periods):

* **ATR**: Wilder's ATR, period 14 (Wilder's own default). True range of a bar
  ``TR = max(high - low, |high - prevClose|, |low - prevClose|)``; the first bar has no previous
  close, so ``TR = high - low``. The first ATR (after ``period`` bars) is the simple mean of the
  first ``period`` true ranges; after that Wilder's smoothing (RMA)
  ``ATR = (ATR_prev * (period - 1) + TR) / period``. ``None`` until warmed up.
* **EMA(9) of closes**: ``alpha = 2 / (n + 1)`` (0.2 for n = 9),
  ``EMA = EMA_prev + alpha * (close - EMA_prev)``, seeded with the simple mean of the first ``n``
  closes (the common TA-Lib practice). ``None`` until ``n`` closes.
* **Swing low / higher low**: a bar's low is a swing low when it is strictly below the lows of the
  ``k`` bars before and the ``k`` bars after it (Bill Williams' fractal; ``k = 2`` by default). It
  is known only when the ``k``-th bar after it closes, so nothing looks ahead. A swing low is a
  *higher low* when it is strictly above the swing low before it; ``last_higher_low`` is the most
  recent one and stays (literally "the last higher low") until a newer higher low replaces it — a
  lower low in between does not erase it; it only becomes the reference the next higher low must
  beat. Mirror for shorts: swing highs, ``last_lower_high``.

Arithmetic is exact ``Decimal`` in a fixed local context (precision 50, half-even), and every
smoothed value (ATR, EMA) is quantized to :data:`INDICATOR_QUANTUM` (1e-12, half-even) after each
update, so the numbers stay short and bit-identical however the process's decimal context is set.
Prices are quantized to the instrument's tick only where a price is produced (``stops.py``). Each
update is O(1) (the swing window holds ``2k + 1`` lows), and the state is a frozen value: restart
from a stored state and replay reproduces every value.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_EVEN, Context, Decimal, localcontext

from atlas_oms.core.decimals import ZERO
from atlas_oms.core.policy.bars import Bar

#: Smoothed values (ATR, EMA) are kept to this many places.
INDICATOR_QUANTUM = Decimal("1e-12")
DEFAULT_ATR_PERIOD = 14
DEFAULT_EMA_PERIOD = 9
#: Bars on each side of a swing point (Williams fractal).
DEFAULT_SWING_WINDOW = 2
_CONTEXT = Context(prec=50, rounding=ROUND_HALF_EVEN)


def _q(value: Decimal) -> Decimal:
    return value.quantize(INDICATOR_QUANTUM, rounding=ROUND_HALF_EVEN, context=_CONTEXT)


@dataclass(frozen=True, slots=True)
class IndicatorConfig:
    atr_period: int = DEFAULT_ATR_PERIOD
    ema_period: int = DEFAULT_EMA_PERIOD
    swing_window: int = DEFAULT_SWING_WINDOW

    def __post_init__(self) -> None:
        if self.atr_period < 1 or self.ema_period < 1 or self.swing_window < 1:
            raise ValueError("indicator periods and the swing window must be >= 1")


@dataclass(frozen=True, slots=True)
class IndicatorState:
    """Everything needed to continue: a replay from this value reproduces every later value."""

    bars: int = 0
    prev_close: Decimal | None = None
    #: Sums of true ranges and of closes during warm-up; zero once ATR resp. EMA exists.
    tr_sum: Decimal = ZERO
    atr: Decimal | None = None
    close_sum: Decimal = ZERO
    ema: Decimal | None = None
    #: The last ``2k + 1`` lows and highs, oldest first.
    lows: tuple[Decimal, ...] = ()
    highs: tuple[Decimal, ...] = ()
    last_swing_low: Decimal | None = None
    last_higher_low: Decimal | None = None
    last_swing_high: Decimal | None = None
    last_lower_high: Decimal | None = None


def true_range(bar: Bar, prev_close: Decimal | None) -> Decimal:
    if prev_close is None:
        return bar.high - bar.low
    return max(bar.high - bar.low, abs(bar.high - prev_close), abs(bar.low - prev_close))


def update(
    state: IndicatorState, bar: Bar, config: IndicatorConfig = IndicatorConfig()
) -> IndicatorState:
    """Fold one closed bar into the indicators (O(1))."""
    with localcontext(_CONTEXT):
        n = state.bars + 1
        tr = true_range(bar, state.prev_close)
        p = config.atr_period
        tr_sum, atr = state.tr_sum, state.atr
        if atr is None:
            tr_sum += tr
            if n == p:
                atr, tr_sum = _q(tr_sum / p), ZERO
        else:
            atr = _q((atr * (p - 1) + tr) / p)
        e = config.ema_period
        close_sum, ema = state.close_sum, state.ema
        if ema is None:
            close_sum += bar.close
            if n == e:
                ema, close_sum = _q(close_sum / e), ZERO
        else:
            ema = _q(ema + Decimal(2) / (e + 1) * (bar.close - ema))
        width = 2 * config.swing_window + 1
        lows = (*state.lows, bar.low)[-width:]
        highs = (*state.highs, bar.high)[-width:]
        new = replace(
            state,
            bars=n,
            prev_close=bar.close,
            tr_sum=tr_sum,
            atr=atr,
            close_sum=close_sum,
            ema=ema,
            lows=lows,
            highs=highs,
        )
        if len(lows) == width:
            new = _swings(new, config.swing_window)
        return new


def _swings(state: IndicatorState, k: int) -> IndicatorState:
    lows, highs = state.lows, state.highs
    mid_low, mid_high = lows[k], highs[k]
    if all(mid_low < low for i, low in enumerate(lows) if i != k):
        higher = state.last_higher_low
        if state.last_swing_low is not None and mid_low > state.last_swing_low:
            higher = mid_low
        state = replace(state, last_swing_low=mid_low, last_higher_low=higher)
    if all(mid_high > high for i, high in enumerate(highs) if i != k):
        lower = state.last_lower_high
        if state.last_swing_high is not None and mid_high < state.last_swing_high:
            lower = mid_high
        state = replace(state, last_swing_high=mid_high, last_lower_high=lower)
    return state


def run(
    bars: Iterable[Bar],
    config: IndicatorConfig = IndicatorConfig(),
    state: IndicatorState | None = None,
) -> IndicatorState:
    """Fold many bars (from ``state`` or from scratch)."""
    state = state if state is not None else IndicatorState()
    for bar in bars:
        state = update(state, bar, config)
    return state


# ----------------------------------------------------------------------------- batch forms
# Independent whole-series computations (textbook shape), for tests and audits: the incremental
# fold above must agree with them bar for bar.


def atr_series(bars: list[Bar], period: int = DEFAULT_ATR_PERIOD) -> list[Decimal | None]:
    with localcontext(_CONTEXT):
        trs = [true_range(bar, bars[i - 1].close if i else None) for i, bar in enumerate(bars)]
        out: list[Decimal | None] = [None] * min(period - 1, len(trs))
        if len(trs) < period:
            return out
        atr = _q(sum(trs[:period], ZERO) / period)
        out.append(atr)
        for tr in trs[period:]:
            atr = _q((atr * (period - 1) + tr) / period)
            out.append(atr)
        return out


def ema_series(closes: list[Decimal], period: int = DEFAULT_EMA_PERIOD) -> list[Decimal | None]:
    with localcontext(_CONTEXT):
        out: list[Decimal | None] = [None] * min(period - 1, len(closes))
        if len(closes) < period:
            return out
        alpha = Decimal(2) / (period + 1)
        ema = _q(sum(closes[:period], ZERO) / period)
        out.append(ema)
        for close in closes[period:]:
            ema = _q(ema + alpha * (close - ema))
            out.append(ema)
        return out


def higher_lows(lows: list[Decimal], k: int = DEFAULT_SWING_WINDOW) -> list[Decimal | None]:
    """``last_higher_low`` after each bar, computed from the whole series."""
    out: list[Decimal | None] = []
    swings: list[Decimal] = []
    last: Decimal | None = None
    for t in range(len(lows)):
        i = t - k
        if i >= k and all(lows[i] < lows[j] for j in range(i - k, i + k + 1) if j != i):
            if swings and lows[i] > swings[-1]:
                last = lows[i]
            swings.append(lows[i])
        out.append(last)
    return out
