"""Funding of perpetuals: at each boundary of its interval, every open position pays or receives
``qty × multiplier × mark × rate`` (longs pay shorts when the rate is positive)."""

from __future__ import annotations

from atlas_oms.core.context import Context
from atlas_oms.core.derivatives.figures import liquidates_here
from atlas_oms.core.derivatives.liquidation import check_liquidations
from atlas_oms.model import events as ev

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
