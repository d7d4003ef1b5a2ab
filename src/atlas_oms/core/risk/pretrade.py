"""Pre-trade risk: every check a new order or a modify passes before anything is sent, cheapest
and most decisive first (cancels never pass through here). A refusal becomes ``OrderDenied`` or
``OrderModifyRejected`` with its reason code. Every check is a function of the state and the
message: the same journal gives the same decisions."""

from __future__ import annotations

from decimal import Decimal

from atlas_oms.core.context import Context
from atlas_oms.core.decimals import HUNDRED, ZERO, plain
from atlas_oms.core.equities.session_queue import queue_release
from atlas_oms.core.orders.order import Order
from atlas_oms.core.refusals import Refusal
from atlas_oms.core.risk.gates import (
    gates_refusal,
    market_status,
    modify_gates_refusal,
    session_refusal,
)
from atlas_oms.core.risk.limits import Limits, limits_for
from atlas_oms.core.state.state import State
from atlas_oms.model import commands as cmd
from atlas_oms.model.enums import MARKET_TYPES, InstrumentKind, PositionSide, Side
from atlas_oms.model.instrument import Instrument
from atlas_oms.model.reasons import Reason
from atlas_oms.model.risk import MarketOrderReason, MarketStatus

#: Strategy tag of a kill switch's flattening orders.
FLATTEN_TAG = "kill-switch"
_PER = {1: "second", 60: "minute", 3600: "hour"}
_BUY = Side.BUY
_BOTH = PositionSide.BOTH
_EQUITY = InstrumentKind.EQUITY


def risk_submit(
    ctx: Context, c: cmd.SubmitOrder, inst: Instrument, worst: Decimal | None
) -> Refusal | None:
    """Every pre-trade risk check of a new order.

    ``worst`` is the price the order may execute at in the worst case (its limit, or the
    protection bound of a market order), used for notional limits; None when unknown. A possible
    duplicate that is only warned about is left in ``ctx.dup_warning``.
    """
    state = ctx.state
    risk = state.risk
    if not risk.active and inst.session is None:
        return None
    if inst.session is not None or risk.market_status:
        status = market_status(state, inst, c.ts)
        if status is not MarketStatus.OPEN:
            release = queue_release(state, c, inst, status)
            if release is not None:  # accepted now, sent at the next session's open
                ctx.session_release = release
            else:
                refusal = session_refusal(c, inst, status)
                if refusal:
                    return refusal
    if c.market_reason is MarketOrderReason.KILL_SWITCH and c.reduce_only and c.tag == FLATTEN_TAG:
        # A kill switch's own flattening: it only reduces, and no limit may keep it from
        # closing the position (a fat-finger limit smaller than the position, an open breaker).
        return None
    if risk.gated:
        refusal = gates_refusal(ctx, c, inst)
        if refusal:
            return refusal
    lim = limits_for(ctx, c.account_id, c.symbol, c.tag)
    if lim is None:
        return None
    qty = c.qty
    if lim.market_order_policy and c.order_type in MARKET_TYPES and c.market_reason is None:
        return (
            Reason.MARKET_ORDER_NOT_ALLOWED,
            "the market-order policy allows a market order only with a reason: "
            + ", ".join(r.value for r in MarketOrderReason),
        )
    if lim.rates:
        refusal = rate_refusal(state, c.account_id, c.ts, lim)
        if refusal:
            return refusal
    if lim.max_order_qty is not None or lim.max_order_notional is not None:
        refusal = size_refusal(qty, worst, inst, lim)
        if refusal:
            return refusal
    if lim.price_band_pct is not None or (lim.luld and inst.kind is _EQUITY):
        for what, px in (("limit price", c.price), ("trigger price", c.trigger_price)):
            if px is not None:
                refusal = band_refusal(state, inst, px, what, lim)
                if refusal:
                    return refusal
    if (
        lim.max_open_orders is not None
        and state.open_orders.get(c.account_id, 0) >= lim.max_open_orders
    ):
        return (
            Reason.TOO_MANY_OPEN_ORDERS,
            f"account {c.account_id} already has {lim.max_open_orders} open orders (the limit)",
        )
    if (
        lim.max_position_qty is not None
        or lim.max_position_notional is not None
        or lim.max_firm_net_qty is not None
        or lim.max_firm_gross_qty is not None
    ):  # reduce-only too: two reducing orders can together flip a position
        refusal = exposure_refusal(
            state, c.account_id, inst, c.side, c.position_side or _BOTH, qty, worst, lim
        )
        if refusal:
            return refusal
    if lim.duplicate_window_ns:
        seen = risk.recent.get((c.account_id, c.symbol, c.side, qty, c.price))
        if seen is not None and c.ts - seen <= lim.duplicate_window_ns:
            text = (
                f"the same order ({c.side} {qty} {c.symbol} at {c.price}) was sent "
                f"{(c.ts - seen) // 1_000_000} ms ago"
            )
            if lim.duplicate_refuse:
                return Reason.DUPLICATE_ORDER, text
            ctx.dup_warning = f"possible duplicate: {text}"
    return None


def risk_modify(
    ctx: Context,
    order: Order,
    inst: Instrument,
    qty: Decimal,
    price: Decimal | None,
    trigger: Decimal | None,
    worst: Decimal | None,
    ts: int,
) -> Refusal | None:
    """A modify is a new promise: gates, rates, fat finger, band and the added exposure."""
    state = ctx.state
    added = qty - order.qty
    if state.risk.gated:
        refusal = modify_gates_refusal(ctx, order.account_id, order.tag, added, ts)
        if refusal:
            return refusal
    lim = limits_for(ctx, order.account_id, order.symbol, order.tag)
    if lim is None:
        return None
    if lim.rates:
        refusal = rate_refusal(state, order.account_id, ts, lim)
        if refusal:
            return refusal
    if lim.max_order_qty is not None or lim.max_order_notional is not None:
        refusal = size_refusal(qty, worst, inst, lim)
        if refusal:
            return refusal
    if lim.price_band_pct is not None or (lim.luld and inst.kind is _EQUITY):
        for what, px, old in (
            ("limit price", price, order.price),
            ("trigger price", trigger, order.trigger_price),
        ):
            if px is not None and px != old:
                refusal = band_refusal(state, inst, px, what, lim)
                if refusal:
                    return refusal
    if added > 0:
        return exposure_refusal(
            state, order.account_id, inst, order.side, order.position_side, added, worst, lim
        )
    return None


def size_refusal(
    qty: Decimal, worst: Decimal | None, inst: Instrument, lim: Limits
) -> Refusal | None:
    """Fat finger: the order's quantity, and its notional at its worst price."""
    if lim.max_order_qty is not None and qty > lim.max_order_qty:
        return (
            Reason.ORDER_QTY_TOO_LARGE,
            f"quantity {qty} is above the order limit {plain(lim.max_order_qty)}",
        )
    if lim.max_order_notional is not None and worst is not None:
        notional = qty * worst * inst.multiplier
        if notional > lim.max_order_notional:
            return (
                Reason.ORDER_NOTIONAL_TOO_LARGE,
                f"notional {plain(notional)} is above the order limit "
                f"{plain(lim.max_order_notional)}",
            )
    return None


def rate_refusal(state: State, account_id: str, ts: int, lim: Limits) -> Refusal | None:
    """Submits and modifies per second, minute and hour of the account."""
    window = state.risk.rates.get(account_id)
    if window is None:
        return None
    held = window.total - window.base  # everything the window still holds: an upper bound
    for seconds, limit in lim.rates:
        if held >= limit and window.since(ts, seconds) >= limit:
            return (
                Reason.RATE_LIMIT_EXCEEDED,
                f"account {account_id} may send {limit} orders and modifies per {_PER[seconds]}",
            )
    return None


def luld_band(ref: Decimal) -> Decimal:
    """Limit-up/limit-down price band half-width (Tier 1 percentages, outside the open and close):
    5% above $3.00, 20% from $0.75 to $3.00, below that the lesser of $0.15 and 75%."""
    if ref > 3:
        return ref * Decimal("0.05")
    if ref >= Decimal("0.75"):
        return ref * Decimal("0.20")
    return min(Decimal("0.15"), ref * Decimal("0.75"))


def band_refusal(
    state: State, inst: Instrument, px: Decimal, what: str, lim: Limits
) -> Refusal | None:
    """A limit or trigger price too far from the reference price (mark for derivatives)."""
    ref = state.reference_price(inst.symbol, prefer_mark=inst.is_derivative)
    if ref is None:
        return None  # nothing to measure against yet: the first price sets the reference
    if lim.price_band_pct is not None:
        band = ref * lim.price_band_pct / HUNDRED
        if abs(px - ref) > band:
            return (
                Reason.PRICE_OUTSIDE_BAND,
                f"{what} {px} is more than {plain(lim.price_band_pct)}% from the reference "
                f"{ref} (band {plain(ref - band)} to {plain(ref + band)})",
            )
    if lim.luld and inst.kind is _EQUITY:
        band = luld_band(ref)
        if abs(px - ref) > band:
            return (
                Reason.PRICE_OUTSIDE_BAND,
                f"{what} {px} is outside the limit-up/limit-down band "
                f"{plain(ref - band)} to {plain(ref + band)} around {ref}",
            )
    return None


def exposure_refusal(
    state: State,
    account_id: str,
    inst: Instrument,
    side: Side,
    pside: PositionSide,
    qty: Decimal,
    worst: Decimal | None,
    lim: Limits,
) -> Refusal | None:
    """Projected position = position + open orders on the same side + this order; and the
    firm's net and gross exposure over every account."""
    pos = state.positions.get((account_id, inst.symbol, pside))
    held = pos.qty if pos is not None else ZERO
    buy = side is _BUY
    if buy:
        projected = held + (pos.open_buy if pos is not None else ZERO) + qty
    else:
        projected = held - (pos.open_sell if pos is not None else ZERO) - qty
    grows = projected > 0 if buy else projected < 0
    if grows:
        size = abs(projected)
        if lim.max_position_qty is not None and size > lim.max_position_qty:
            return (
                Reason.POSITION_LIMIT,
                f"{inst.symbol} position would reach {plain(size)} with open orders "
                f"(limit {plain(lim.max_position_qty)})",
            )
        if lim.max_position_notional is not None:
            px = worst if worst is not None else state.reference_price(inst.symbol)
            if px is not None:
                notional = size * px * inst.multiplier
                if notional > lim.max_position_notional:
                    return (
                        Reason.POSITION_NOTIONAL_LIMIT,
                        f"{inst.symbol} position would be worth {plain(notional)} "
                        f"(limit {plain(lim.max_position_notional)})",
                    )
    if lim.max_firm_net_qty is not None or lim.max_firm_gross_qty is not None:
        firm = state.firm.get(inst.symbol)
        net, gross, open_buy, open_sell = (
            (firm.net, firm.gross, firm.open_buy, firm.open_sell) if firm else (ZERO,) * 4
        )
        if lim.max_firm_net_qty is not None:
            firm_net = net + open_buy + qty if buy else net - open_sell - qty
            if abs(firm_net) > lim.max_firm_net_qty and (firm_net > 0 if buy else firm_net < 0):
                return (
                    Reason.FIRM_NET_LIMIT,
                    f"all accounts' net {inst.symbol} position would reach {plain(firm_net)} "
                    f"with open orders (limit {plain(lim.max_firm_net_qty)})",
                )
        if lim.max_firm_gross_qty is not None:
            firm_gross = gross + open_buy + open_sell + qty
            if firm_gross > lim.max_firm_gross_qty:
                return (
                    Reason.FIRM_GROSS_LIMIT,
                    f"all accounts' gross {inst.symbol} exposure would reach "
                    f"{plain(firm_gross)} (limit {plain(lim.max_firm_gross_qty)})",
                )
    return None
