"""Trailing-stop maintenance: the formulas of seed 001 §10.2 as pure functions.

For a long position::

    trailCandidate       = currentHigh - (trail_atr_factor x entryAtr)
    mfeLockStop          = entry + (mfe_lock_pct x MFE)
    runnerTrailCandidate = min(ema9_close, last_higher_low) - buffer
    effectiveStop        = max(prevStop, stop0, trailCandidate, mfeLockStop, runnerTrailCandidate)

A short mirrors every line (``currentLow + ...``, ``entry - ...``, ``max(ema9, last_lower_high)
+ buffer``, and ``min`` of the stops). §10.2's high-water-mark invariant: the effective stop never
loosens (a long's never falls, a short's never rises), since ``prevStop`` is one of its terms.

The seed gives no defaults for the three factors; their values are parameters
(``trailing.trail-atr-factor``, ``trailing.mfe-lock-pct``, ``trailing.runner-buffer-pct`` in
``params.py``, the single source of their defaults), passed in by the caller or read from a
:class:`~atlas_oms.core.policy.params.TrailingParams` by :func:`candidates`. Decisions where the
seed is silent:

* The runner ``buffer`` is ``runner-buffer-pct`` of the runner's reference price
  ``min(ema9_close, last_higher_low)`` (short: ``max``), e.g. 0.001 x 101.90 = 0.1019. A fraction
  of the price (rather than of the entry ATR) exists from the first bar, also for a trade
  bracketed before the ATR warmed up, and scales with the instrument's price.
* ``currentHigh`` is the highest high since entry (a chandelier trail); because ``prevStop`` is in
  the max, passing the just-closed bar's high instead gives the same stop when maintained on
  every bar close.
* MFE is the maximum favourable excursion in price units (``highest high - entry`` for a long,
  never negative). With MFE = 0 the formula would put the stop at the entry price the moment a
  trade opens, so the MFE lock only applies once ``MFE >= mfe_lock_activation`` (Atlas default:
  1R, the initial risk ``|entry - stop0|``); below it ``mfe_lock_stop`` is ``None``.
* A term that does not exist yet (ATR or EMA not warmed up, no higher low, MFE lock inactive) is
  ``None`` and simply left out of the max.
* Rounding: each candidate is computed exactly and then quantized onto the instrument's tick
  *away from the market* (a long's down, a short's up), so a stop is never tighter than its
  formula says; a candidate that is not a positive price is left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from atlas_oms.core.decimals import ZERO, round_to_tick
from atlas_oms.core.policy.params import TrailingParams

Side = Literal["long", "short"]
StopSource = Literal["prev", "stop0", "trail", "mfe_lock", "runner", "tighten"]


def _tick(price: Decimal, tick: Decimal, side: Side) -> Decimal | None:
    """Onto the tick, away from the market; ``None`` if not a positive price."""
    rounded = round_to_tick(price, tick, up=side == "short")
    return rounded if rounded > ZERO else None


def trail_candidate(
    side: Side,
    current_extreme: Decimal,
    entry_atr: Decimal | None,
    trail_atr_factor: Decimal,
    tick: Decimal,
) -> Decimal | None:
    """``currentHigh - trail_atr_factor x entryAtr`` (short: ``currentLow + ...``).

    ``current_extreme``: the highest high (short: lowest low) since entry. ``entry_atr``: the ATR
    when the position (or, §12.1, this scale-up lot) was entered. ``trail_atr_factor``: the
    parameter ``trailing.trail-atr-factor``.
    """
    if entry_atr is None:
        return None
    offset = trail_atr_factor * entry_atr
    return _tick(
        current_extreme - offset if side == "long" else current_extreme + offset, tick, side
    )


def mfe(side: Side, entry: Decimal, current_extreme: Decimal) -> Decimal:
    """Maximum favourable excursion in price units (never negative)."""
    return max(ZERO, current_extreme - entry if side == "long" else entry - current_extreme)


def mfe_lock_stop(
    side: Side,
    entry: Decimal,
    mfe_value: Decimal,
    mfe_lock_pct: Decimal,
    tick: Decimal,
    mfe_lock_activation: Decimal,
) -> Decimal | None:
    """``entry + mfe_lock_pct x MFE`` (short: ``entry - ...``) once ``MFE >= mfe_lock_activation``.

    ``mfe_lock_pct``: the parameter ``trailing.mfe-lock-pct``. Atlas's activation: 1R
    (``|entry - stop0|``), passed by the caller.
    """
    if mfe_value <= ZERO or mfe_value < mfe_lock_activation:
        return None
    locked = mfe_lock_pct * mfe_value
    return _tick(entry + locked if side == "long" else entry - locked, tick, side)


def runner_trail_candidate(
    side: Side,
    ema9_close: Decimal | None,
    swing: Decimal | None,
    buffer_pct: Decimal,
    tick: Decimal,
) -> Decimal | None:
    """``min(ema9_close, last_higher_low) - buffer`` (short: ``max(ema9, last_lower_high) + buffer``)
    with ``buffer = buffer_pct x`` that reference price.

    ``swing``: the last higher low (short: last lower high), see ``indicators.py``. With only one
    of the two known, Atlas leaves the runner term out (the formula needs both). ``buffer_pct``:
    the parameter ``trailing.runner-buffer-pct``.
    """
    if ema9_close is None or swing is None:
        return None
    if side == "long":
        ref = min(ema9_close, swing)
        return _tick(ref - ref * buffer_pct, tick, side)
    ref = max(ema9_close, swing)
    return _tick(ref + ref * buffer_pct, tick, side)


@dataclass(frozen=True, slots=True)
class StopMove:
    """The effective stop and the term that set it (ties go to the earlier term, so an unchanged
    stop reads ``prev``); ``moved`` says whether it differs from ``prevStop`` (a first stop, with
    no ``prevStop``, counts as moved: it must be sent)."""

    stop: Decimal
    source: StopSource
    moved: bool


def effective_stop(
    side: Side,
    prev_stop: Decimal | None,
    stop0: Decimal,
    trail: Decimal | None = None,
    mfe_lock: Decimal | None = None,
    runner: Decimal | None = None,
    tighten: Decimal | None = None,
) -> StopMove:
    """``max(prevStop, stop0, trailCandidate, mfeLockStop, runnerTrailCandidate)`` for a long,
    ``min`` for a short: never looser than ``prev_stop`` nor ``stop0``. ``tighten``: one more
    candidate (a CRITICAL monitor event's level, §10.1), taken only if it is the tightest."""
    terms: list[tuple[StopSource, Decimal | None]] = [
        ("prev", prev_stop),
        ("stop0", stop0),
        ("trail", trail),
        ("mfe_lock", mfe_lock),
        ("runner", runner),
        ("tighten", tighten),
    ]
    best_source: StopSource = "stop0"
    best = stop0
    for source, value in terms:
        if value is None:
            continue
        if source == "prev" or (value > best if side == "long" else value < best):
            best_source, best = source, value
    return StopMove(best, best_source, prev_stop is None or best != prev_stop)


def candidates(
    side: Side,
    p: TrailingParams,
    *,
    entry: Decimal,
    stop0: Decimal,
    extreme: Decimal | None,
    entry_atr: Decimal | None,
    ema9_close: Decimal | None,
    swing: Decimal | None,
    tick: Decimal,
) -> tuple[Decimal | None, Decimal | None, Decimal | None]:
    """The three §10.2 candidates ``(trail, mfe_lock, runner)`` with the factors of ``p``
    (``extreme``: the highest high, short: lowest low, since entry; None before the first bar).
    The MFE lock activates at 1R = ``|entry - stop0|``."""
    trail = lock = None
    if extreme is not None:
        trail = trail_candidate(side, extreme, entry_atr, p.trail_atr_factor, tick)
        lock = mfe_lock_stop(
            side, entry, mfe(side, entry, extreme), p.mfe_lock_pct, tick, abs(entry - stop0)
        )
    runner = runner_trail_candidate(side, ema9_close, swing, p.runner_buffer_pct, tick)
    return trail, lock, runner
