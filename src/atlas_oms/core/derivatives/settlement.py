"""The derivatives venue's settlements: the funding of perpetuals at each boundary of their
interval (every open position pays or receives ``qty × multiplier × mark × rate``; longs pay shorts
when the rate is positive), and the cash settlement of a dated future at its expiry (open orders
canceled, every position closed at the settlement price, the instrument trades no more)."""

from __future__ import annotations

from atlas_oms.core.context import Context
from atlas_oms.core.decimals import is_amount
from atlas_oms.core.derivatives.figures import liquidates_here
from atlas_oms.core.derivatives.liquidation import check_liquidations
from atlas_oms.core.orders.amend import cancel_for
from atlas_oms.core.refusals import operator_reject
from atlas_oms.model import commands as cmd
from atlas_oms.model import events as ev
from atlas_oms.model.enums import InstrumentKind, OrderStatus
from atlas_oms.model.reasons import Reason


def settle_future(ctx: Context, c: cmd.SettleFuture) -> None:
    state = ctx.state
    inst = state.instruments.get(c.symbol)
    if inst is None or inst.kind is not InstrumentKind.FUTURE:
        operator_reject(ctx, c, (Reason.NOT_A_DATED_FUTURE, f"{c.symbol} is not a dated future"))
        return
    if not inst.tradable:
        operator_reject(ctx, c, (Reason.FUTURE_SETTLED, f"{c.symbol} is already settled"))
        return
    if inst.expiry_ts is not None and c.ts < inst.expiry_ts:
        operator_reject(
            ctx, c, (Reason.NOT_EXPIRED, f"{c.symbol} expires at {inst.expiry_ts} (ns), not yet")
        )
        return
    price = c.price
    if not is_amount(price) or price <= 0:
        operator_reject(ctx, c, (Reason.INVALID_PRICE, f"settlement price {price} is not valid"))
        return
    if any(case.current and case.current[0] == c.symbol for case in state.liq.cases.values()):
        operator_reject(
            ctx, c, (Reason.LIQUIDATION_IN_PROGRESS, f"a liquidation on {c.symbol} is in progress")
        )
        return
    for live in state.deriv_live.values():
        for order_id in sorted(live):
            order = state.orders[order_id]
            if order.symbol == c.symbol and order.status is not OrderStatus.PENDING_CANCEL:
                cancel_for(ctx, order, c.ts, Reason.FUTURE_SETTLED)
    ctx.emit(
        ev.FutureSettled(
            seq=state.seq + 1,
            ts_event=c.ts,
            symbol=c.symbol,
            price=price,
            actor=c.actor,
            reason=c.reason,
        )
    )


MINUTE_NS = 60_000_000_000


def settle_funding_due(ctx: Context, ts: int) -> None:
    """Settle funding for every perpetual whose funding time has come (once per boundary)."""
    state = ctx.state
    liq = state.liq
    for symbol in sorted(liq.funding_rate):
        inst = state.instruments[symbol]
        interval = inst.funding_interval_min * MINUTE_NS
        last = liq.last_funding.get(symbol, 0)
        boundary = ts - ts % interval
        if boundary <= last:
            continue
        mark = state.mark.get(symbol)
        if mark is None:
            continue  # no mark price yet: settled at the next boundary that has one
        rate = liq.funding_rate[symbol]
        for pos in sorted(
            state.symbol_positions.get(symbol, ()), key=lambda p: (p.account_id, p.position_side)
        ):
            if pos.qty:
                ctx.emit(
                    ev.FundingSettled(
                        seq=state.seq + 1,
                        ts_event=ts,
                        symbol=symbol,
                        asset=inst.settle_asset,
                        rate=rate,
                        mark=mark,
                        funding_ts=boundary,
                        account_id=pos.account_id,
                        position_side=pos.position_side,
                        qty=pos.qty,
                        # Longs pay shorts when the rate is positive.
                        amount=-pos.qty * inst.multiplier * mark * rate,
                    )
                )
        if liquidates_here(ctx.config, inst):
            check_liquidations(ctx, symbol, ts)
