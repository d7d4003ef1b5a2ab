"""Where the policy modules plug into the managed trade's hooks (``trade.TICK_HOOKS``,
``trade.EVENT_HOOKS``, ``trade.DEADLINE_HOOKS``). The engine imports this module once; the order
of the lines is the order in which the hooks run. An event hook names the event classes it reacts
to (``trade.on_events``), so an event no hook wants costs nothing."""

from __future__ import annotations

from atlas_oms.core.policy import (
    cover,
    extended,
    fallback,
    forced_close,
    guards,
    scale_out,
    trade,
    trailing,
)
from atlas_oms.model import events as ev

trade.TICK_HOOKS.append(guards.on_tick)  # §8.2 degradation recovers on the timer
# §14 slippage, §8.2 degradation
trade.on_events(
    ev.TradeEntryPlaced, ev.TradeEntryRepriced, ev.TradeBracketPlaced, ev.TradeEntryAbandoned
)(guards.on_event)

trade.on_events(
    ev.PricesUpdated,
    ev.OrderFilled,
    ev.OrderCanceled,
    ev.OrderExpired,
    ev.OrderCancelRejected,
    ev.OrderRejected,
)(cover.on_event)
trade.TICK_HOOKS.append(scale_out.on_tick)
trade.on_events(ev.OrderCanceled)(scale_out.on_event)
trade.DEADLINE_HOOKS.append(scale_out.next_deadline)
# Stop maintenance (§10) and TRAIL_ONLY (§7).
trade.on_events(ev.BarClosed, ev.BarApplied, ev.TradeBracketPlaced, ev.TradeStopResized)(
    trailing.on_event
)
trade.DEADLINE_HOOKS.append(trailing.next_bar_close)

# Emergency exits at market (seed 001 §2, §4, §9.1, §9.3): fallback.py
trade.TICK_HOOKS.append(fallback.on_tick)
trade.on_events(
    ev.PricesUpdated,
    ev.MarketStatusChanged,
    ev.TradeBracketPlaced,
    ev.OrderAccepted,
    ev.OrderTriggered,
    ev.OrderFilled,
    ev.OrderCanceled,
    ev.OrderRejected,
    ev.OrderExpired,
    ev.OrderDenied,
)(fallback.on_event)
trade.DEADLINE_HOOKS.append(fallback.next_deadline)

# Forced close before the session ends (seed 001 §11): forced_close.py
trade.TICK_HOOKS.append(forced_close.on_tick)
trade.on_events(ev.PricesUpdated, ev.OrderFilled, ev.OrderTriggered)(forced_close.on_event)
trade.DEADLINE_HOOKS.append(forced_close.next_deadline)

# Protection outside the regular session (§5.2 with §13): extended.py
trade.on_events(ev.PricesUpdated, ev.OrderFilled, ev.MarketStatusChanged, ev.TradeBracketPlaced)(
    extended.on_event
)
trade.TICK_HOOKS.append(extended.on_tick)
