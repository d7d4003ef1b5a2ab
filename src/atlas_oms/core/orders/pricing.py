"""Prices an order is judged by: the market-order collar (the worst price a market order may
trade at), a trailing stop's trigger, and what one unit of an order locks (its reservation)."""

from __future__ import annotations

from decimal import Decimal

from atlas_oms.core.context import Context
from atlas_oms.core.decimals import HUNDRED, ONE, ZERO, round_money, round_to_tick
from atlas_oms.core.equities.buying_power import is_margin
from atlas_oms.model.enums import InstrumentKind, Side, TrailingOffsetType
from atlas_oms.model.instrument import Instrument

_EQUITY = InstrumentKind.EQUITY
_BUY = Side.BUY
_SELL = Side.SELL
_PERCENT = TrailingOffsetType.PERCENT


def protect(ctx: Context, side: Side, px: Decimal, tick: Decimal) -> Decimal:
    """The worst price a market order may trade at, ``px`` being its reference: the collar
    (``market_protection_pct``) beyond it, on the tick grid."""
    key = (side, px, tick)
    cache = ctx.protect_cache
    cached = cache.get(key)
    if cached is not None:
        return cached
    if side is _BUY:
        value = round_to_tick(px * ctx.collar_up, tick, up=False)
    else:
        value = max(round_to_tick(px * ctx.collar_down, tick, up=True), tick)
    if len(cache) >= 4096:
        cache.clear()
    cache[key] = value
    return value


def trail(
    side: Side, watermark: Decimal, offset: Decimal, kind: TrailingOffsetType, tick: Decimal
) -> Decimal:
    """A trailing stop's trigger: ``offset`` (a price distance or a percentage) behind the best
    price seen, on the tick grid (rounded away from the market)."""
    dist = watermark * offset / HUNDRED if kind is _PERCENT else offset
    if side is _SELL:
        return round_to_tick(watermark - dist, tick, up=False)
    return round_to_tick(watermark + dist, tick, up=True)


def reserve_unit(
    ctx: Context,
    account_id: str,
    inst: Instrument,
    side: Side,
    reduce_only: bool,
    px: Decimal | None,
) -> tuple[str | None, Decimal | None]:
    """What one unit of an order locks: (asset, amount per unit); amount None = unknown (no
    price to value it at). A spot or equity buy locks its quote with the highest fee, a sell its
    base; a derivative locks initial margin at the account's leverage plus the fee."""
    fee_mult = ctx.fee_mult.get(inst.symbol)
    if fee_mult is None:
        fee_mult = ctx.fee_mult[inst.symbol] = ONE + max(inst.maker_fee, inst.taker_fee, ZERO)
    if inst.kind is _EQUITY and is_margin(ctx.state, account_id):
        return None, ZERO  # Reg T: buying power counts open orders instead (core/equities)
    if inst.is_derivative:
        if reduce_only:
            return None, ZERO
        if px is None:
            return inst.settle_asset, None
        notional = px * inst.multiplier
        lev = ctx.state.leverage.get((account_id, inst.symbol), ONE)
        return inst.settle_asset, round_money(notional / lev + notional * (fee_mult - ONE))
    if side is _SELL:
        return inst.base, ONE
    if px is None:
        return inst.quote, None
    return (
        inst.quote,
        px * fee_mult if inst.multiplier == ONE else px * inst.multiplier * fee_mult,
    )
