"""Before a fill: the position an order would make and its liquidation price by the convention of
the venue it goes to (issue 15 §2; docs/MARGIN.md "Each venue's convention"). A pure reading of
the state, shown with the order's pre-trade checks; it refuses nothing (the margin port's
``INSUFFICIENT_MARGIN`` and ``LEVERAGE_TOO_HIGH`` remain the decisions)."""

from __future__ import annotations

from decimal import Decimal

import msgspec

from atlas_oms.core.config import EngineConfig
from atlas_oms.core.decimals import ONE, ZERO
from atlas_oms.core.derivatives import formulas as m
from atlas_oms.core.derivatives.conventions import estimate_liquidation_price, venue_family
from atlas_oms.core.derivatives.figures import (
    cross_positions,
    cross_wallet,
    liquidates_here,
    tiers_of,
    valuation,
)
from atlas_oms.core.state.state import State
from atlas_oms.model import commands as cmd
from atlas_oms.model.enums import PositionSide, Side
from atlas_oms.model.instrument import Instrument
from atlas_oms.model.margin import MarginMode


class OrderMarginEstimate(msgspec.Struct, frozen=True, kw_only=True):
    """What an order would do to its position if it filled in full at ``price``.

    ``convention``: whose formula the liquidation price follows (``binance`` for Binance and
    Atlas's own venues, ``bybit``, ``okx``). ``margin``: the margin the position would hold
    (isolated: its margin plus the order's; cross: the account's cross balance the symbol can
    lose, wallet less the other positions' maintenance plus their P&L). ``order_margin``: the
    order's initial margin (notional / leverage; 0 when it only reduces)."""

    symbol: str
    venue: str
    convention: str
    margin_mode: MarginMode
    leverage: Decimal
    price: Decimal
    qty_before: Decimal
    qty_after: Decimal
    entry_after: Decimal | None
    order_margin: Decimal
    margin: Decimal
    liquidation_price: Decimal | None


def order_margin_estimate(
    state: State, config: EngineConfig, c: cmd.SubmitOrder, inst: Instrument, price: Decimal
) -> OrderMarginEstimate | None:
    """The estimate for a derivative order at ``price`` (None for spot and equities)."""
    if not inst.is_derivative:
        return None
    account_id = c.account_id
    side = c.position_side or PositionSide.BOTH
    pos = state.positions.get((account_id, inst.symbol, side))
    held = pos.qty if pos is not None else ZERO
    entry = pos.cost / abs(held) if pos is not None and held else None
    signed = c.qty if c.side is Side.BUY else -c.qty
    if side is PositionSide.SHORT:
        held = -abs(held)
    if c.reduce_only:  # never adds, never flips: at most closes
        if not held or (held > 0) == (signed > 0):
            signed = ZERO
        elif abs(signed) > abs(held):
            signed = -held
    after = held + signed
    lev = state.leverage.get((account_id, inst.symbol), ONE)
    mult = inst.multiplier
    adds = bool(signed) and (not held or (held > 0) == (signed > 0))
    if not after:
        new_entry = None
    elif adds and entry is not None:
        new_entry = (abs(held) * entry + abs(signed) * price) / abs(after)
    elif adds or (held > 0) != (after > 0):  # opening, or flipping through zero
        new_entry = price
    else:  # reducing: the entry stays
        new_entry = entry
    opened = abs(after) - abs(held) if adds else (abs(after) if (held > 0) != (after > 0) else ZERO)
    order_margin = max(opened, ZERO) * price * mult / lev
    mode = state.liq.mode(account_id, inst.symbol)
    if mode is MarginMode.ISOLATED:
        kept = pos.margin if pos is not None and held else ZERO
        if not adds and held:
            kept = (
                kept * min(abs(after), abs(held)) / abs(held) if (held > 0) == (after > 0) else ZERO
            )
        margin = kept + order_margin
    else:
        margin = cross_wallet(state, account_id, inst.settle_asset)
        for other, p in cross_positions(state, account_id, inst.settle_asset):
            if other.symbol == inst.symbol:
                continue
            px = valuation(state, p)
            margin += p.unrealized_pnl(px)
            margin -= m.maintenance_margin(tiers_of(config, other), p.qty * px * other.multiplier)
    lp = None
    if after and new_entry is not None:
        venue = "sim" if liquidates_here(config, inst) else inst.venue
        lp = estimate_liquidation_price(
            venue,
            after,
            new_entry,
            margin,
            tiers_of(config, inst),
            taker_fee_rate=inst.taker_fee,
            multiplier=mult,
        )
    family = venue_family(inst.venue)
    return OrderMarginEstimate(
        symbol=inst.symbol,
        venue=inst.venue,
        convention=family
        if family in ("bybit", "okx") and not liquidates_here(config, inst)
        else "binance",
        margin_mode=mode,
        leverage=lev,
        price=price,
        qty_before=held,
        qty_after=after,
        entry_after=new_entry,
        order_margin=order_margin,
        margin=margin,
        liquidation_price=lp,
    )
