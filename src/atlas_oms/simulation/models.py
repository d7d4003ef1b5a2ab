"""The fill models as pure functions: what a market order of ``qty`` pays against a reference
price, given the volume it competes with. Decimal only, deterministic; prices are rounded to the
instrument's tick in the direction that is worse for the order (a buy up, a sell down).

Every slippage term is in percent of the reference price (see ``docs/SIMULATION.md``):

- fixed:       ``fixed_slippage_pct``
- volume:      ``volume_slippage_factor * participation_pct``
- sqrt_impact: ``market_impact_factor * sqrt(participation_pct)`` -- the square-root law
  ``I = Y * sigma * sqrt(Q / V)`` (Almgren et al. 2005; Toth et al. 2011) with ``Y * sigma``
  folded into the factor: ``factor = Y * sigma_pct / 10`` turns one into the other.
- spread:      ``spread_pct / 2`` (crossing half the spread from the mid)
- realistic:   the sum of the four.

``participation_pct = 100 * qty / volume`` (the order's share of the volume it meets; 0 when the
volume is unknown or zero, so the volume terms vanish then).
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import NamedTuple

from atlas_oms.model.enums import Side
from atlas_oms.simulation.config import FillConfig

ZERO = Decimal(0)
HUNDRED = Decimal(100)


class ModelFill(NamedTuple):
    """A model's answer: the fill ``price`` and the ``qty`` that may fill now."""

    price: Decimal
    qty: Decimal


def participation_pct(qty: Decimal, volume: Decimal | None) -> Decimal:
    """The order's share of ``volume`` in percent (0 when the volume is unknown or zero)."""
    if volume is None or volume <= 0:
        return ZERO
    return HUNDRED * qty / volume


def fixed_pct(config: FillConfig) -> Decimal:
    return config.fixed_slippage_pct


def volume_pct(config: FillConfig, participation: Decimal) -> Decimal:
    return config.volume_slippage_factor * participation


def sqrt_impact_pct(config: FillConfig, participation: Decimal) -> Decimal:
    if participation <= 0:
        return ZERO
    return config.market_impact_factor * participation.sqrt()


def spread_cost_pct(config: FillConfig) -> Decimal:
    return config.spread_pct / 2


def realistic_pct(config: FillConfig, participation: Decimal, spread: bool = True) -> Decimal:
    return (
        (spread_cost_pct(config) if spread else ZERO)
        + fixed_pct(config)
        + volume_pct(config, participation)
        + sqrt_impact_pct(config, participation)
    )


def slippage_pct(
    config: FillConfig, participation: Decimal, model: str | None = None, spread: bool = True
) -> Decimal:
    """The slippage (percent of the reference) of ``model`` (default: the config's). ``book``
    without a book falls back to ``realistic``. ``spread=False`` leaves the spread term out (the
    reference is already the touch of a book: the spread is paid)."""
    model = model or config.model
    if model == "fixed":
        return fixed_pct(config)
    if model == "volume":
        return volume_pct(config, participation)
    if model == "sqrt_impact":
        return sqrt_impact_pct(config, participation)
    if model == "spread":
        return spread_cost_pct(config) if spread else ZERO
    return realistic_pct(config, participation, spread)


def round_adverse(price: Decimal, tick: Decimal, side: Side) -> Decimal:
    """``price`` on the tick grid, rounded against the order: a buy up, a sell down (never
    below one tick)."""
    steps = (price / tick).to_integral_value(ROUND_CEILING if side is Side.BUY else ROUND_FLOOR)
    if steps < 1:
        steps = Decimal(1)
    return steps * tick


def slipped_price(reference: Decimal, pct: Decimal, side: Side, tick: Decimal) -> Decimal:
    """``reference`` moved ``pct`` percent against the order, on the tick grid."""
    factor = pct / HUNDRED
    raw = reference * (1 + factor) if side is Side.BUY else reference * (1 - factor)
    return round_adverse(raw, tick, side)


def capped_qty(
    qty: Decimal, volume: Decimal | None, max_volume_pct: Decimal | None, lot: Decimal
) -> Decimal:
    """How much of ``qty`` may fill against ``volume`` under ``max_volume_pct`` (floored to the
    lot); all of it when there is no cap or no known volume."""
    if max_volume_pct is None or volume is None or volume <= 0:
        return qty
    cap = volume * max_volume_pct / HUNDRED
    if qty <= cap:
        return qty
    return (cap / lot).to_integral_value(ROUND_FLOOR) * lot


def market_fill(
    config: FillConfig,
    side: Side,
    qty: Decimal,
    reference: Decimal,
    tick: Decimal,
    lot: Decimal,
    volume: Decimal | None = None,
    model: str | None = None,
    spread: bool = True,
) -> ModelFill:
    """The price and fillable quantity of a market order of ``qty`` at ``reference`` under
    ``model`` (default: the config's), ``volume`` being what the order competes with (the last
    bar's volume in base units). The slippage is computed on the quantity that fills now.
    ``spread=False``: the reference is a book's touch, the spread term is left out."""
    fillable = capped_qty(qty, volume, config.max_volume_pct, lot)
    pct = slippage_pct(config, participation_pct(fillable, volume), model, spread)
    return ModelFill(slipped_price(reference, pct, side, tick), fillable)
