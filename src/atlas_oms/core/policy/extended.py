"""Protection outside the regular session (seed 001 §5.2 with §13): a pre-market entry has no
stop at the venue, because pre- and post-market sessions take only limit orders flagged for
extended hours (``core/risk/gates.py``). Its position is then protected as §5.2 allows,
"interner Stop + sofortige Exit-Policy":

* **Internal stop.** While an open trade holds a position and no working stop, a last price (or
  a print) at or beyond its stop level starts an exit at once: a limit at the bid, repriced
  every ``execution.exit-repricing-interval-ms`` until sold (``scale_out.start_exit``, cause
  ``INTERNAL_STOP``; an extended-hours limit outside the regular session, never a market
  order: §3.2 allows none here).
* **At the open.** As soon as the instrument trades in its regular session, the venue stop is
  placed for the position (``TradeStopPlaced`` cause ``SESSION_OPEN``); a first price already
  beyond the stop is the gap opening of §4 (``fallback.py``), which closes at market.
"""

from __future__ import annotations

from atlas_oms.core.context import Context
from atlas_oms.core.policy.trade_state import CLOSED, TradeState
from atlas_oms.core.risk.gates import market_status
from atlas_oms.model import events as ev
from atlas_oms.model.enums import Side
from atlas_oms.model.risk import MarketStatus

_OPEN = MarketStatus.OPEN


def _unprotected(ctx: Context, t: TradeState) -> bool:
    """An open position with no working stop, no exit running and no forced close."""
    if t.phase == CLOSED or t.exit_reason is not None or t.fc_order_id is not None:
        return False
    if t.next_exit_ts is not None:
        return False  # an exit at the bid already runs (scale_out.py)
    state = ctx.state
    stop = state.orders.get(t.stop_order_id or 0)
    if stop is not None and stop.is_live:
        return False
    return t.entry_px is not None and t.position(state) > 0


def check(ctx: Context, t: TradeState, ts: int) -> None:
    """Protect ``t`` now if it needs it: the venue stop in the regular session, else the
    internal stop's exit when the price is at or beyond the stop level."""
    if not _unprotected(ctx, t):
        return
    state = ctx.state
    inst = state.instruments[t.symbol]
    if market_status(state, inst, ts) is _OPEN:
        from atlas_oms.core.policy.trade_exits import protect_again

        protect_again(ctx, t, ts, "SESSION_OPEN")
        return
    last = state.last.get(t.symbol)
    level = t.stop_trigger if t.stop_trigger is not None else t.stop0
    if last is None:
        return
    if last <= level if t.side is Side.BUY else last >= level:
        from atlas_oms.core.policy.scale_out import start_exit

        start_exit(ctx, t, ts, t.position(state), "INTERNAL_STOP", "stop level reached")


def on_event(ctx: Context, event: ev.EventBase) -> None:
    cls = event.__class__
    if cls is ev.PricesUpdated or cls is ev.OrderFilled or cls is ev.MarketStatusChanged:
        symbol = event.symbol  # type: ignore[attr-defined]
        for t in list(ctx.state.trades.values()):
            if t.symbol == symbol and t.is_open:
                check(ctx, t, event.ts_event)
    elif cls is ev.TradeBracketPlaced:
        t = ctx.state.trades[event.trade_id]  # type: ignore[attr-defined]
        check(ctx, t, event.ts_event)


def on_tick(ctx: Context, ts: int) -> None:
    """The schedule opening the session needs no event: every tick looks."""
    for t in list(ctx.state.trades.values()):
        if t.is_open and t.stop_order_id in (None, 0):
            check(ctx, t, ts)
