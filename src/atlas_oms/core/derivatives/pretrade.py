"""The derivatives' pre-trade checks: the position an order can make, and the leverage an
account asks for, must fit the tier table."""

from __future__ import annotations

from decimal import Decimal

from atlas_oms.core.config import EngineConfig
from atlas_oms.core.decimals import ONE, ZERO, plain
from atlas_oms.core.derivatives import formulas as m
from atlas_oms.core.derivatives.figures import price_of, tiers_of
from atlas_oms.core.refusals import Refusal
from atlas_oms.core.state.state import State
from atlas_oms.model import commands as cmd
from atlas_oms.model.enums import PositionSide, Side
from atlas_oms.model.instrument import Instrument
from atlas_oms.model.reasons import Reason


def margin_refusal(
    state: State, config: EngineConfig, c: cmd.SubmitOrder, inst: Instrument, px: Decimal | None
) -> Refusal | None:
    """LEVERAGE_TOO_HIGH: the position this order can make (with the open orders on its side) is
    larger than the tier table allows at the account's leverage."""
    if c.reduce_only or px is None:
        return None
    account_id = c.account_id
    lev = state.leverage.get((account_id, inst.symbol), ONE)
    pos = state.positions.get((account_id, inst.symbol, c.position_side or PositionSide.BOTH))
    held = pos.qty if pos is not None else ZERO
    if c.side is Side.BUY:
        projected = held + (pos.open_buy if pos is not None else ZERO) + c.qty
        if projected <= 0:
            return None
    else:
        projected = held - (pos.open_sell if pos is not None else ZERO) - c.qty
        if projected >= 0:
            return None
    notional = abs(projected) * px * inst.multiplier
    tiers = tiers_of(config, inst)
    cap = m.max_notional(tiers, lev)
    if cap is not None and notional > cap:
        if not cap:
            return (
                Reason.LEVERAGE_TOO_HIGH,
                f"leverage {plain(lev)}x is above {inst.symbol}'s maximum "
                f"{plain(tiers[0].max_leverage)}x",
            )
        return (
            Reason.LEVERAGE_TOO_HIGH,
            f"at {plain(lev)}x a {inst.symbol} position may reach {plain(cap)} "
            f"{inst.settle_asset} of notional; with this order and the open ones it would be "
            f"{plain(notional)}: lower the leverage or the size",
        )
    return None


def leverage_refusal(
    state: State, config: EngineConfig, account_id: str, inst: Instrument, lev: Decimal
) -> Refusal | None:
    """A leverage above the first tier's maximum, or one whose cap the account's positions and
    open orders already exceed."""
    tiers = tiers_of(config, inst)
    if lev > tiers[0].max_leverage:
        return (
            Reason.LEVERAGE_TOO_HIGH,
            f"leverage {plain(lev)}x is above {inst.symbol}'s maximum "
            f"{plain(tiers[0].max_leverage)}x",
        )
    px = price_of(state, inst.symbol)
    cap = m.max_notional(tiers, lev)
    if cap is None:
        return None
    for pos in state.account_positions.get(account_id, ()):
        if pos.symbol != inst.symbol:
            continue
        ref = px if px is not None else (pos.cost / abs(pos.qty) if pos.qty else None)
        if ref is None:
            continue
        size = max(abs(pos.qty + pos.open_buy), abs(pos.qty - pos.open_sell))
        notional = size * ref * inst.multiplier
        if notional > cap:
            return (
                Reason.LEVERAGE_TOO_HIGH,
                f"at {plain(lev)}x a {inst.symbol} position may reach {plain(cap)} "
                f"{inst.settle_asset}; the position and open orders come to "
                f"{plain(notional)}",
            )
    return None
