"""A parent's child orders: ordinary Atlas orders through ``core/orders/submit.py::submit`` (every
pre-trade check applies to each), tagged ``algo:<algo_id>``, client order id
``<algo_id>-<n>`` (``n`` counts every child the parent asked for, placed or refused).

**Slice price** (TWAP, VWAP; decided here, see docs/notes/algo.md): a marketable limit IOC at the
best opposite price on the parent's venue (the built-in book: the best resting order of another
account; without one, the last price) moved ``slice_aggression_bps`` through it (up for a buy,
down for a sell, onto the tick grid away from the market), never beyond ``limit_price``; without
any price but with a cap, an IOC at the cap; without either, a market order (IOC).

**Parent check** (at acceptance): the whole quantity against the account's limits without placing
anything: kill switches, breakers and trading states; the fat-finger quantity and notional
limits; the position and firm exposure limits; the price band of the cap. The worst price is the
cap, else the reference price.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from atlas_oms.core.algos.state import AlgoState
from atlas_oms.core.context import Context
from atlas_oms.core.decimals import ZERO
from atlas_oms.core.orders.amend import cancel_for
from atlas_oms.core.orders.submit import submit
from atlas_oms.core.policy.trade_orders import best_price
from atlas_oms.core.refusals import Refusal
from atlas_oms.core.risk.gates import gates_refusal
from atlas_oms.core.risk.limits import limits_for
from atlas_oms.core.risk.pretrade import band_refusal, exposure_refusal, size_refusal
from atlas_oms.model import commands as cmd
from atlas_oms.model import events as ev
from atlas_oms.model import events_algos as ea
from atlas_oms.model.enums import OrderStatus, OrderType, PositionSide, Side, TimeInForce
from atlas_oms.model.instrument import Instrument
from atlas_oms.model.reasons import Reason
from atlas_oms.model.route_book import RouteBook

TEN_THOUSAND = Decimal(10_000)
TWO = Decimal(2)


def algo_tag(algo_id: str) -> str:
    return f"algo:{algo_id}"


class _DryContext(Context):
    """Checks run on it may not act (a breaker that would trip or reset itself)."""

    __slots__ = ()

    def emit(self, event: object) -> None:
        raise _WouldAct


class _WouldAct(Exception):
    pass


def parent_refusal(
    ctx: Context, c: cmd.SubmitOrder, inst: Instrument, worst: Decimal | None
) -> Refusal | None:
    """The parent check of the whole quantity (see the module docstring)."""
    state = ctx.state
    risk = state.risk
    if risk.gated:
        try:
            refusal = gates_refusal(_DryContext(state, ctx.config), c, inst)
        except _WouldAct:
            refusal = None  # a breaker's own move: the children meet it
        if refusal:
            return refusal
    lim = limits_for(ctx, c.account_id, c.symbol, c.tag)
    if lim is None:
        return None
    if lim.max_order_qty is not None or lim.max_order_notional is not None:
        refusal = size_refusal(c.qty, worst, inst, lim)
        if refusal:
            return refusal
    if c.price is not None and lim.price_band_pct is not None:
        refusal = band_refusal(state, inst, c.price, "limit price", lim)
        if refusal:
            return refusal
    if (
        lim.max_position_qty is not None
        or lim.max_position_notional is not None
        or lim.max_firm_net_qty is not None
        or lim.max_firm_gross_qty is not None
    ):
        return exposure_refusal(
            state, c.account_id, inst, c.side, PositionSide.BOTH, c.qty, worst, lim
        )
    return None


def quote(ctx: Context, a: AlgoState, symbol: str | None = None) -> Decimal | None:
    """The best opposite price for the parent on ``symbol`` (default: its own)."""
    want = Side.SELL if a.side is Side.BUY else Side.BUY
    return best_price(ctx.state, symbol or a.symbol, want, a.account_id)


def arrival_price(ctx: Context, account_id: str, symbol: str) -> Decimal | None:
    """The arrival (decision) price: the mid of the best bid and ask on the built-in book
    (another account's orders) when both sides show, else the last price."""
    bid = best_price(ctx.state, symbol, Side.BUY, account_id)
    ask = best_price(ctx.state, symbol, Side.SELL, account_id)
    last = ctx.state.last.get(symbol)
    if bid is not None and ask is not None and bid < ask:
        return (bid + ask) / TWO
    return last if last is not None else (bid if bid is not None else ask)


def book_quote(book: RouteBook, a: AlgoState) -> Decimal | None:
    """The best opposite price for the parent in its own instrument's book within ``book``
    (the venue's book the runtime sent; None: no such book, no level, or older than
    ``book.ts - book.stale_ns``, as the router reads staleness)."""
    buy = a.side is Side.BUY
    for vb in book.books:
        if vb.symbol != a.symbol:
            continue
        if book.stale_ns and vb.ts < book.ts - book.stale_ns:
            return None
        levels = vb.asks if buy else vb.bids
        return levels[0].price if levels else None
    return None


def slice_price(
    ctx: Context, a: AlgoState, inst: Instrument, seen: Decimal | None = None
) -> tuple[Decimal | None, Decimal | None]:
    """(child limit price or None for a market order, the quote seen); ``seen``: the best
    opposite price from the venue's book (default: the built-in book, else the last price)."""
    if seen is None:
        seen = quote(ctx, a)
    cap = a.limit_price
    if seen is None:
        return cap, None
    buy = a.side is Side.BUY
    bps = a.slice_aggression_bps / TEN_THOUSAND
    raw = seen * (1 + bps) if buy else seen * (1 - bps)
    steps = (raw / inst.tick_size).to_integral_value(rounding=ROUND_CEILING if buy else ROUND_FLOOR)
    px = steps * inst.tick_size
    if cap is not None:
        px = min(px, cap) if buy else max(px, cap)
    return px, seen


def place_child(
    ctx: Context,
    a: AlgoState,
    slice_no: int,
    qty: Decimal,
    price: Decimal | None,
    ts: int,
    *,
    symbol: str | None = None,
    account_id: str | None = None,
    tif: TimeInForce = TimeInForce.IOC,
    display: bool = False,
    display_qty: Decimal | None = None,
) -> int | None:
    """Submit one child; journal ``AlgoChildPlaced`` (or ``AlgoChildRefused`` with the
    pre-trade refusal). Its order id, or None when refused."""
    state = ctx.state
    symbol = symbol or a.symbol
    n = len(a.children) + len(a.refused)
    order_id = state.next_order_id
    out = ctx.out
    start = len(out)
    submit(
        ctx,
        cmd.SubmitOrder(
            ts=ts,
            account_id=account_id or a.account_id,
            symbol=symbol,
            side=a.side,
            order_type=OrderType.LIMIT if price is not None else OrderType.MARKET,
            qty=qty,
            price=price,
            tif=tif,
            display_qty=display_qty,
            client_order_id=f"{a.algo_id}-{n}",
            tag=algo_tag(a.algo_id),
        ),
    )
    order = state.orders.get(order_id)
    denied = None
    for e in out[start:]:
        if e.__class__ is ev.OrderDenied or e.__class__ is ev.CommandRejected:
            denied = e
            break
    if order is None or denied is not None:
        reason = str(denied.reason) if denied is not None else Reason.INVALID_FIELD.value
        message = denied.message if denied is not None else "the child was not placed"
        ctx.emit(
            ea.AlgoChildRefused(
                seq=state.seq + 1,
                ts_event=ts,
                algo_id=a.algo_id,
                slice_no=slice_no,
                order_id=order_id if order is not None else 0,
                symbol=symbol,
                qty=qty,
                reason=reason,
                message=message,
            )
        )
        return None
    ctx.emit(
        ea.AlgoChildPlaced(
            seq=state.seq + 1,
            ts_event=ts,
            algo_id=a.algo_id,
            slice_no=slice_no,
            order_id=order_id,
            symbol=symbol,
            qty=qty,
            price=price,
            display_qty=display_qty if display_qty is not None else (qty if display else None),
        )
    )
    return order_id


def cancel_children(ctx: Context, a: AlgoState, ts: int) -> None:
    """Cancel every live child of the parent (those not already being canceled)."""
    orders = ctx.state.orders
    for order_id, _ in list(a.children):
        o = orders.get(order_id)
        if o is not None and o.is_live and o.status is not OrderStatus.PENDING_CANCEL:
            cancel_for(ctx, o, ts, None)


def lot_down(qty: Decimal, lot: Decimal) -> Decimal:
    if qty <= ZERO:
        return ZERO
    return (qty / lot).to_integral_value(rounding=ROUND_FLOOR) * lot
