"""The managed trade (issue 13; seed 001 sections 1, 3.1, 8.1): the intent, the entry, and the
hooks through which the engine drives every policy module.

A trade intent (:class:`~atlas_oms.model.commands.SubmitTradeIntent`) never carries order details;
the policy derives every order, as ordinary Atlas orders tagged ``trade:<id>`` (risk checks
apply), and records each decision as a ``Trade*`` event (folded in ``trade_state.py``).

* **Entry (3.1, 8.1)**: a limit at the ideal price. Every ``repricing-interval-ms`` (a deadline
  in :func:`next_trade_deadline`, delivered by ``AdvanceTime``) an unfilled entry is canceled and
  replaced one step toward the best opposite quote: step ``n`` of ``max-repricing-cycles`` is
  ``ideal + n * (max - ideal) / cycles`` on the tick grid, never beyond the best quote nor the
  zone's max. The deadline after the last cycle abandons the entry (``TradeEntryAbandoned``,
  phase SEEKING: no order works and the trade waits; the strategy's next intent starts the next
  attempt). A partial entry fill cancels the rest ``entry-partial-cancel-ms`` later.
* Exits (bracket, fills) are in ``trade_exits.py``; the order helpers in ``trade_orders.py``.

**Hooks.** Other policy modules plug in here without this module knowing them:
:data:`TICK_HOOKS` run on every ``AdvanceTime`` (after the entry timers), :data:`EVENT_HOOKS` see
every event the engine produced for a message while trades exist (after the fill reactions of
``trade_exits``), and :data:`DEADLINE_HOOKS` name their next deadline (the runtime's timer
delivers it). Each is a plain function of the context; order in the lists is order of running.

The best quote is read from the orders resting on the trade's venue (the built-in exchange's
book is made of Atlas orders); without any, the last price.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from atlas_oms.core.context import Context
from atlas_oms.core.decimals import is_amount, round_to_tick
from atlas_oms.core.orders.amend import cancel_for
from atlas_oms.core.policy import cycles, forced_close, guards, trade_exits
from atlas_oms.core.policy.trade_orders import (
    MS,
    abandon_entry,
    best_price,
    cancel_if_working,
    params,
    place,
)
from atlas_oms.core.policy.trade_state import ENTERING, TradeState
from atlas_oms.core.policy.tranches import ScaleOutProfile
from atlas_oms.model import commands as cmd
from atlas_oms.model import events as ev
from atlas_oms.model.enums import OrderType, Side

#: ``hook(ctx, ts)`` on every ``AdvanceTime``.
TICK_HOOKS: list[Callable[[Context, int], None]] = []
#: ``hook(ctx, event)`` for every event of a message (and those the hooks cause), in order.
EVENT_HOOKS: list[Callable[[Context, ev.EventBase], None]] = []
#: Event class -> the hooks that want it (:func:`on_events`), in registration order.
HOOKS_BY_CLASS: dict[type, list[Callable[[Context, ev.EventBase], None]]] = {}


def on_events(
    *classes: type,
) -> Callable[[Callable[[Context, ev.EventBase], None]], None]:
    """Register an event hook for ``classes`` only (the hot path skips the others)."""

    def register(hook: Callable[[Context, ev.EventBase], None]) -> None:
        for cls in classes:
            HOOKS_BY_CLASS.setdefault(cls, []).append(hook)

    return register


#: ``hook(state, after) -> ts | None``: a module's earliest deadline later than ``after``.
DEADLINE_HOOKS: list[Callable[[Any, int], int | None]] = []


def _refuse(ctx: Context, c: cmd.SubmitTradeIntent, reason: str, message: str) -> None:
    ctx.emit(
        ev.TradeIntentRefused(
            seq=ctx.state.seq + 1,
            ts_event=c.ts,
            trade_id=c.intent_id,
            account_id=c.account_id,
            reason=reason,
            message=message,
        )
    )


def submit_intent(ctx: Context, c: cmd.SubmitTradeIntent) -> None:
    """Handle ``SubmitTradeIntent``: accept it (size from R) and place the entry, or refuse it.
    A repeated intent id is idempotent: nothing happens."""
    state = ctx.state
    if c.intent_id in state.trades:
        return
    inst = state.instruments.get(c.symbol)
    if inst is None:
        _refuse(ctx, c, "UNKNOWN_INSTRUMENT", f"{c.symbol} is not a known instrument")
        return
    if c.account_id not in state.accounts:
        _refuse(ctx, c, "UNKNOWN_ACCOUNT", f"account {c.account_id} does not exist")
        return
    late = forced_close.refusal(state, inst, c.ts)  # seed 001 §11: no new entries
    if late is not None:
        _refuse(ctx, c, "FORCED_CLOSE_WINDOW", late)
        return
    numbers = (c.entry_ideal, c.entry_max, c.stop, c.risk_amount)
    if not all(is_amount(v) and v > 0 for v in numbers) or (
        c.key_level is not None and not (is_amount(c.key_level) and c.key_level > 0)
    ):
        _refuse(
            ctx, c, "INVALID_FIELD", "prices and R must be positive numbers of a sane magnitude"
        )
        return
    if abs(c.entry_ideal - c.stop) < inst.tick_size:
        _refuse(ctx, c, "INVALID_ZONE", "the stop must be at least one tick from the ideal entry")
        return
    long = c.side is Side.BUY
    if (long and not c.stop < c.entry_ideal <= c.entry_max) or (
        not long and not c.stop > c.entry_ideal >= c.entry_max
    ):
        _refuse(
            ctx, c, "INVALID_ZONE", "the stop must lie beyond the ideal entry, the max behind it"
        )
        return
    quote = best_price(state, c.symbol, Side.SELL if long else Side.BUY, c.account_id)
    if quote is not None and (quote <= c.stop if long else quote >= c.stop):
        _refuse(
            ctx,
            c,
            "STOP_THROUGH_MARKET",
            f"the market ({quote}) is already at or beyond the stop {c.stop}: the entry would "
            "fill where the trade is already stopped out",
        )
        return
    try:
        ScaleOutProfile(c.scale_out)
    except ValueError:
        _refuse(ctx, c, "INVALID_FIELD", f"unknown scale-out profile {c.scale_out}")
        return
    if c.target_policy not in ("TRANCHES", "TRAIL_ONLY"):
        _refuse(ctx, c, "INVALID_FIELD", f"unknown target policy {c.target_policy}")
        return
    if c.risk_amount <= 0:
        _refuse(ctx, c, "INVALID_FIELD", "R must be positive")
        return
    sized = cycles.admit(ctx, c, inst)  # day budget, cycles, caps, pre-market (§12-14, §16)
    if sized is None:
        return
    qty = sized.qty
    ctx.emit(
        ev.TradeIntentAccepted(
            seq=state.seq + 1,
            ts_event=c.ts,
            trade_id=c.intent_id,
            account_id=c.account_id,
            symbol=c.symbol,
            side=c.side,
            entry_ideal=c.entry_ideal,
            entry_max=c.entry_max,
            stop=c.stop,
            risk_amount=c.risk_amount,
            qty=qty,
            scale_out=c.scale_out,
            target_policy=c.target_policy,
            urgency=c.urgency,
            bias=c.bias,
            key_level=c.key_level,
        )
    )
    cycles.record(ctx, c, sized)
    _place_entry(ctx, state.trades[c.intent_id], c.entry_ideal, 0, c.ts)


def _place_entry(ctx: Context, t: TradeState, price: Decimal, cycle: int, ts: int) -> None:
    state = ctx.state
    qty = t.qty - t.entry_filled(state)
    order_id = place(
        ctx,
        cmd.SubmitOrder(
            ts=ts,
            account_id=t.account_id,
            symbol=t.symbol,
            side=t.side,
            order_type=OrderType.LIMIT,
            qty=qty,
            price=price,
            client_order_id=f"{t.trade_id}-e{cycle}",
            tag=f"trade:{t.trade_id}",
            extended_hours=t.premarket,  # §13: the pre-market entry is a limit for extended hours
        ),
    )
    if order_id is None:
        abandon_entry(ctx, t, ts, "ENTRY_REFUSED")
        return
    ctx.emit(
        ev.TradeEntryPlaced(
            seq=state.seq + 1,
            ts_event=ts,
            trade_id=t.trade_id,
            order_id=order_id,
            price=price,
            qty=qty,
            cycle=cycle,
            next_reprice_ts=ts + guards.interval_ms(state, t) * MS,  # §8.2 degradation
        )
    )


def best_quote(ctx: Context, t: TradeState) -> Decimal | None:
    """The best opposite quote on the trade's venue: the lowest resting sell (for a buy) or the
    highest resting buy of another account; without one, the last price."""
    want = Side.SELL if t.side is Side.BUY else Side.BUY
    return best_price(ctx.state, t.symbol, want, t.account_id)


def _reprice_price(ctx: Context, t: TradeState, cycle: int) -> Decimal:
    tick = ctx.state.instruments[t.symbol].tick_size
    step = (t.entry_max - t.entry_ideal) * cycle / params(ctx.state).execution.max_repricing_cycles
    long = t.side is Side.BUY
    price = round_to_tick(t.entry_ideal + step, tick, up=not long)
    quote = best_quote(ctx, t)
    if quote is not None:
        price = min(price, quote) if long else max(price, quote)
    price = min(price, t.entry_max) if long else max(price, t.entry_max)
    if t.entry_price is not None:  # never step back from the price already shown
        price = max(price, t.entry_price) if long else min(price, t.entry_price)
    return price


def on_tick(ctx: Context, ts: int) -> None:
    """The timer: reprice or abandon a due entry; cancel the rest of a partial entry."""
    state = ctx.state
    for t in list(state.trades.values()):
        if t.phase != ENTERING:
            continue
        if t.entry_cancel_ts is not None:
            if ts >= t.entry_cancel_ts:
                _finish_partial_entry(ctx, t, ts)
            continue
        if t.next_reprice_ts is None or ts < t.next_reprice_ts or t.entry_order_id is None:
            continue
        order = state.orders.get(t.entry_order_id)
        if order is None or not order.is_live or order.cum_qty:
            continue
        if t.cycle >= guards.max_cycles(state, t):  # §8.2 degradation, §13 pre-market
            abandon_entry(ctx, t, ts, "MAX_REPRICING_CYCLES")
            continue
        cycle = t.cycle + 1
        price = _reprice_price(ctx, t, cycle)
        cancel_for(ctx, order, ts, None)
        ctx.emit(
            ev.TradeEntryRepriced(
                seq=state.seq + 1,
                ts_event=ts,
                trade_id=t.trade_id,
                old_order_id=order.order_id,
                price=price,
                cycle=cycle,
            )
        )
        _place_entry(ctx, t, price, cycle, ts)


def _finish_partial_entry(ctx: Context, t: TradeState, ts: int) -> None:
    state = ctx.state
    cancel_if_working(ctx, t.entry_order_id, ts)
    ctx.emit(
        ev.TradeStopResized(
            seq=state.seq + 1,
            ts_event=ts,
            trade_id=t.trade_id,
            order_id=t.stop_order_id or 0,
            qty=t.position(state),
            cause="ENTRY_DONE",
        )
    )


def next_trade_deadline(state: Any, after: int) -> int | None:
    """The earliest policy deadline later than ``after``: an entry's repricing or partial-entry
    cancel, or any hooked module's."""
    best: int | None = None
    trades = getattr(state, "trades", None)
    if not trades:
        return None
    for t in trades.values():
        if t.phase != ENTERING:
            continue
        due = t.entry_cancel_ts if t.entry_cancel_ts is not None else t.next_reprice_ts
        if due is not None and due > after and (best is None or due < best):
            best = due
    for hook in DEADLINE_HOOKS:
        due = hook(state, after)
        if due is not None and due > after and (best is None or due < best):
            best = due
    return best


def on_advance(ctx: Context, ts: int) -> None:
    """``AdvanceTime``: the entry timers, then every tick hook."""
    on_tick(ctx, ts)
    for hook in TICK_HOOKS:
        hook(ctx, ts)


_STOP_GONE = (ev.OrderCanceled, ev.OrderRejected, ev.OrderExpired, ev.OrderDenied)


def after_events(ctx: Context, out: list[ev.EventBase], start: int) -> None:
    """Run the trade reactions for the events among ``out[start:]`` (and those they cause)."""
    i = start
    orders = ctx.state.trade_orders
    hooks = EVENT_HOOKS
    by_class = HOOKS_BY_CLASS
    while i < len(out):
        event = out[i]
        if event.__class__ is ev.OrderFilled:
            trade_exits.on_fill(ctx, event)
        elif event.__class__ is ev.OrderTriggered and event.order_id in orders:
            trade_exits.on_stop_triggered(ctx, event.order_id, event.ts_event)
        elif isinstance(event, _STOP_GONE) and event.order_id in orders:
            trade_exits.on_stop_gone(ctx, event.order_id, event.ts_event)
        for hook in hooks:
            hook(ctx, event)
        for hook in by_class.get(event.__class__, ()):
            hook(ctx, event)
        i += 1


__all__ = [
    "DEADLINE_HOOKS",
    "EVENT_HOOKS",
    "TICK_HOOKS",
    "after_events",
    "next_trade_deadline",
    "on_advance",
    "on_tick",
    "submit_intent",
]
