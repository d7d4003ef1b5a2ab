"""The managed trade (issue 13; seed 001 sections 1, 3, 4, 5, 8.1, 9.1): deciding.

A trade intent (:class:`~atlas_oms.model.commands.SubmitTradeIntent`) never carries order details;
this module derives every order, as ordinary Atlas orders tagged ``trade:<id>`` (risk checks
apply), and records each decision as a ``Trade*`` event (folded in ``trade_state.py``):

* **Entry (3.1, 8.1)**: a limit at the ideal price. Every ``repricing-interval-ms`` (a deadline
  in :func:`next_trade_deadline`, delivered by ``AdvanceTime``) an unfilled entry is canceled and
  replaced one step toward the best opposite quote: step ``n`` of ``max-repricing-cycles`` is
  ``ideal + n * (max - ideal) / cycles`` on the tick grid, never beyond the best quote nor the
  zone's max. The deadline after the last cycle abandons the entry (``TradeEntryAbandoned``,
  phase SEEKING: no order works and the trade waits; the strategy's next intent starts the next
  attempt).
* **Bracket (5)**: on the first entry fill, in one event (``TradeBracketPlaced``), a stop-limit
  on the filled quantity (limit ``stop-limit-offset-pct`` beyond the trigger) and one independent
  limit per priced tranche of ``tranches.plan_tranches``: no OCA group.
* **Fills (9.1)**: a stop that triggers cancels every target at once (before it can trade, so
  stop and targets never sell more than the position together); a target fill resizes the stop
  to the position; tranche 1 filled moves the
  stop to break-even (the entry price), never loosening; a stop fill cancels every target; a
  partial target fill resizes the stop and places nothing for the remainder of that target.
  A partial entry fill protects what filled at once and cancels the rest
  ``entry-partial-cancel-ms`` later; entry fills after the bracket grow the stop (the runner
  takes the extra quantity).

The best quote is read from the orders resting on the trade's venue (the built-in exchange's
book is made of Atlas orders); without any, the last price.
"""

from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal

from atlas_oms.core.context import Context
from atlas_oms.core.decimals import ZERO, round_to_tick
from atlas_oms.core.orders.amend import cancel_for, modify
from atlas_oms.core.orders.submit import submit
from atlas_oms.core.policy.params import ExecutionParams
from atlas_oms.core.policy.trade_state import CLOSED, ENTERING, PROTECTED, TradeState
from atlas_oms.core.policy.tranches import ScaleOutProfile, plan_tranches
from atlas_oms.model import commands as cmd
from atlas_oms.model import events as ev
from atlas_oms.model.enums import OrderType, Side

#: The execution parameters the trade uses (seed defaults; ``PolicyParams.execution``).
PARAMS = ExecutionParams()
MS = 1_000_000


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
    long = c.side is Side.BUY
    if (long and not c.stop < c.entry_ideal <= c.entry_max) or (
        not long and not c.stop > c.entry_ideal >= c.entry_max
    ):
        _refuse(
            ctx, c, "INVALID_ZONE", "the stop must lie beyond the ideal entry, the max behind it"
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
    lots = (c.risk_amount / abs(c.entry_ideal - c.stop) / inst.lot_size).to_integral_value(
        rounding=ROUND_FLOOR
    )
    qty = lots * inst.lot_size
    if qty <= 0 or qty < inst.min_qty:
        _refuse(ctx, c, "SIZE_TOO_SMALL", f"R {c.risk_amount} buys less than one lot")
        return
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
    _place_entry(ctx, state.trades[c.intent_id], c.entry_ideal, 0, c.ts)


def _order(ctx: Context, c: cmd.SubmitOrder) -> int | None:
    """Submit ``c``; its order id, or None when it was refused."""
    state = ctx.state
    order_id = state.next_order_id
    submit(ctx, c)
    order = state.orders.get(order_id)
    return order_id if order is not None and order.is_live else None


def _place_entry(ctx: Context, t: TradeState, price: Decimal, cycle: int, ts: int) -> None:
    state = ctx.state
    qty = t.qty - t.entry_filled(state)
    order_id = _order(
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
        ),
    )
    if order_id is None:
        _abandon(ctx, t, ts, "ENTRY_REFUSED")
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
            next_reprice_ts=ts + PARAMS.repricing_interval_ms * MS,
        )
    )


def _cancel_if_working(ctx: Context, order_id: int | None, ts: int) -> bool:
    """Cancel the order if it still works; whether a cancel was sent."""
    order = ctx.state.orders.get(order_id) if order_id is not None else None
    if order is None or not order.is_live:
        return False
    cancel_for(ctx, order, ts, None)
    return True


def _abandon(ctx: Context, t: TradeState, ts: int, reason: str) -> None:
    state = ctx.state
    _cancel_if_working(ctx, t.entry_order_id, ts)
    ctx.emit(
        ev.TradeEntryAbandoned(
            seq=state.seq + 1,
            ts_event=ts,
            trade_id=t.trade_id,
            reason=reason,
            filled_qty=t.entry_filled(state),
        )
    )


def best_quote(ctx: Context, t: TradeState) -> Decimal | None:
    """The best opposite quote on the trade's venue: the lowest resting sell (for a buy) or the
    highest resting buy of another account; without one, the last price."""
    state = ctx.state
    best: Decimal | None = None
    want = Side.SELL if t.side is Side.BUY else Side.BUY
    for order in state.orders.values():
        if (
            order.symbol != t.symbol
            or order.side is not want
            or order.account_id == t.account_id
            or order.price is None
            or order.held
            or not order.is_live
        ):
            continue
        if best is None or (order.price < best if want is Side.SELL else order.price > best):
            best = order.price
    return best if best is not None else state.last.get(t.symbol)


def _reprice_price(ctx: Context, t: TradeState, cycle: int) -> Decimal:
    tick = ctx.state.instruments[t.symbol].tick_size
    step = (t.entry_max - t.entry_ideal) * cycle / PARAMS.max_repricing_cycles
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
        if t.cycle >= PARAMS.max_repricing_cycles:
            _abandon(ctx, t, ts, "MAX_REPRICING_CYCLES")
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
    _cancel_if_working(ctx, t.entry_order_id, ts)
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


def next_trade_deadline(state: object, after: int) -> int | None:
    """The earliest repricing or partial-entry deadline later than ``after``."""
    best: int | None = None
    for t in getattr(state, "trades", {}).values():
        if t.phase != ENTERING:
            continue
        due = t.entry_cancel_ts if t.entry_cancel_ts is not None else t.next_reprice_ts
        if due is not None and due > after and (best is None or due < best):
            best = due
    return best


def _stop_prices(ctx: Context, t: TradeState, trigger: Decimal) -> tuple[Decimal, Decimal]:
    tick = ctx.state.instruments[t.symbol].tick_size
    off = trigger * PARAMS.stop_limit_offset_pct
    if t.side is Side.BUY:  # a long's stop sells: its limit lies below the trigger
        return trigger, round_to_tick(trigger - off, tick, up=False)
    return trigger, round_to_tick(trigger + off, tick, up=True)


def _exit_side(t: TradeState) -> Side:
    return Side.SELL if t.side is Side.BUY else Side.BUY


def _stop_order(
    ctx: Context,
    t: TradeState,
    ts: int,
    qty: Decimal,
    trigger: Decimal,
    limit: Decimal,
    client_order_id: str,
) -> int | None:
    """Submit the trade's protective stop-limit for ``qty`` (seed 001 §4)."""
    return _order(
        ctx,
        cmd.SubmitOrder(
            ts=ts,
            account_id=t.account_id,
            symbol=t.symbol,
            side=_exit_side(t),
            order_type=OrderType.STOP_LIMIT,
            qty=qty,
            price=limit,
            trigger_price=trigger,
            client_order_id=client_order_id,
            tag=f"trade:{t.trade_id}",
        ),
    )


def _place_bracket(ctx: Context, t: TradeState, ts: int, entry_done: bool) -> None:
    state = ctx.state
    inst = state.instruments[t.symbol]
    filled = t.entry_filled(state)
    entry_px = _entry_px(ctx, t)
    trigger, limit = _stop_prices(ctx, t, t.stop0)
    stop_id = _stop_order(ctx, t, ts, filled, trigger, limit, f"{t.trade_id}-s")
    targets: list[tuple[int, int, Decimal, Decimal]] = []
    variant = ""
    if t.target_policy == "TRANCHES":
        plan = plan_tranches(
            profile=ScaleOutProfile(t.scale_out),
            is_buy=t.side is Side.BUY,
            entry=entry_px,
            r=abs(entry_px - t.stop0),
            quantity=filled,
            lot=inst.lot_size,
            tick=inst.tick_size,
            key_level=t.key_level,
        )
        variant = plan.variant.value
        for tranche in plan.tranches:
            if tranche.target is None:
                continue  # the runner is trailed by the stop
            order_id = _order(
                ctx,
                cmd.SubmitOrder(
                    ts=ts,
                    account_id=t.account_id,
                    symbol=t.symbol,
                    side=_exit_side(t),
                    order_type=OrderType.LIMIT,
                    qty=tranche.quantity,
                    price=tranche.target,
                    client_order_id=f"{t.trade_id}-t{tranche.index}",
                    tag=f"trade:{t.trade_id}",
                ),
            )
            if order_id is not None:
                targets.append((order_id, tranche.index, tranche.quantity, tranche.target))
    ctx.emit(
        ev.TradeBracketPlaced(
            seq=state.seq + 1,
            ts_event=ts,
            trade_id=t.trade_id,
            position_qty=filled,
            entry_px=entry_px,
            stop_order_id=stop_id if stop_id is not None else 0,
            stop_trigger=trigger,
            stop_limit=limit,
            targets=tuple(targets),
            variant=variant,
            entry_cancel_ts=None if entry_done else ts + PARAMS.entry_partial_cancel_ms * MS,
        )
    )


def _entry_px(ctx: Context, t: TradeState) -> Decimal:
    state = ctx.state
    qty = ZERO
    notional = ZERO
    for order_id in t.entry_orders:
        order = state.orders.get(order_id)
        if order is not None:
            qty += order.cum_qty
            notional += order.cum_notional
    return notional / qty if qty else t.entry_ideal


def _resize_stop(ctx: Context, t: TradeState, ts: int, cause: str, trigger: Decimal | None) -> None:
    state = ctx.state
    stop = state.orders.get(t.stop_order_id or 0)
    if stop is None or not stop.is_live:
        return
    position = t.position(state)
    new_total = stop.cum_qty + position
    price = None
    if trigger is not None:
        trigger, price = _stop_prices(ctx, t, trigger)
    if new_total != stop.qty or trigger is not None:
        modify(
            ctx,
            cmd.ModifyOrder(
                ts=ts,
                account_id=t.account_id,
                order_id=stop.order_id,
                qty=new_total if new_total != stop.qty else None,
                price=price,
                trigger_price=trigger,
            ),
        )
    ctx.emit(
        ev.TradeStopResized(
            seq=state.seq + 1,
            ts_event=ts,
            trade_id=t.trade_id,
            order_id=stop.order_id,
            qty=position,
            cause=cause,
        )
    )
    if trigger is not None and price is not None:
        ctx.emit(
            ev.TradeStopMoved(
                seq=state.seq + 1,
                ts_event=ts,
                trade_id=t.trade_id,
                order_id=stop.order_id,
                trigger=trigger,
                limit=price,
                cause="BREAK_EVEN",
            )
        )


def _close(ctx: Context, t: TradeState, ts: int, cause: str) -> None:
    state = ctx.state
    for order_id in [*t.targets, t.stop_order_id or 0, t.entry_order_id or 0]:
        if _cancel_if_working(ctx, order_id, ts) and order_id in t.targets:
            ctx.emit(
                ev.TradeTargetCanceled(
                    seq=state.seq + 1,
                    ts_event=ts,
                    trade_id=t.trade_id,
                    order_id=order_id,
                    cause=cause,
                )
            )
    ctx.emit(
        ev.TradeClosed(
            seq=state.seq + 1,
            ts_event=ts,
            trade_id=t.trade_id,
            cause=cause,
            realized_qty=t.entry_filled(state),
        )
    )


def _cancel_targets(ctx: Context, t: TradeState, ts: int, cause: str) -> None:
    state = ctx.state
    for order_id in list(t.targets):
        target = state.orders.get(order_id)
        if target is not None and target.is_live:
            cancel_for(ctx, target, ts, None)
            ctx.emit(
                ev.TradeTargetCanceled(
                    seq=state.seq + 1,
                    ts_event=ts,
                    trade_id=t.trade_id,
                    order_id=order_id,
                    cause=cause,
                )
            )


def on_stop_triggered(ctx: Context, order_id: int, ts: int) -> None:
    """Section 9.1 "Stop ausgeloest": the stop fired, so every target is canceled at once (before
    the stop can trade: a target filling too would sell more than the position)."""
    state = ctx.state
    t: TradeState = state.trades[state.trade_orders[order_id]]
    if t.is_open and order_id == t.stop_order_id:
        _cancel_targets(ctx, t, ts, "STOP_TRIGGERED")


def on_fill(ctx: Context, fill: ev.OrderFilled) -> None:
    """React to a fill of one of a trade's orders (seed 001 section 9.1)."""
    state = ctx.state
    trade_id = state.trade_orders.get(fill.order_id)
    if trade_id is None:
        return
    t: TradeState = state.trades[trade_id]
    if t.phase == CLOSED:
        return
    ts = fill.ts_event
    order = state.orders[fill.order_id]
    if fill.order_id in t.entry_orders:
        done = not order.is_live
        if t.stop_order_id is None:
            _place_bracket(ctx, t, ts, entry_done=done)
        else:
            _resize_stop(ctx, t, ts, "ENTRY_DONE" if done else "ENTRY_FILL", None)
        return
    if fill.order_id == t.stop_order_id:
        if t.position(state) <= 0:
            _close(ctx, t, ts, "STOP")
        else:  # a partial stop fill: the targets go now, the rest stays on the stop
            _cancel_targets(ctx, t, ts, "STOP_FILLED")
        return
    if fill.order_id in t.targets:
        if t.position(state) <= 0:
            _close(ctx, t, ts, "TARGETS")
            return
        index = t.targets[fill.order_id][0]
        move = None
        if index == 1 and not order.is_live and not t.break_even and t.entry_px is not None:
            tick = state.instruments[t.symbol].tick_size
            be = round_to_tick(t.entry_px, tick, up=t.side is Side.BUY)
            looser = t.stop_trigger is not None and (
                be <= t.stop_trigger if t.side is Side.BUY else be >= t.stop_trigger
            )
            move = None if looser else be
        _resize_stop(ctx, t, ts, "TARGET_FILL", move)


_STOP_GONE = (ev.OrderCanceled, ev.OrderRejected, ev.OrderExpired, ev.OrderDenied)


def on_stop_gone(ctx: Context, order_id: int, ts: int) -> None:
    """The venue canceled, refused or expired a trade's stop that the trade did not cancel
    (self-trade prevention against the still-working entry, for one): while a position is open
    it is protected again at once (section 5.2). The working entry is canceled first (it is what
    such a stop would trade against), then a new stop goes out for the whole position."""
    state = ctx.state
    trade_id = state.trade_orders.get(order_id)
    if trade_id is None:
        return
    t: TradeState = state.trades[trade_id]
    if not t.is_open or order_id != t.stop_order_id or t.position(state) <= 0:
        return
    if t.entry_order_id is not None:
        _abandon(ctx, t, ts, "STOP_LOST")
    trigger = t.stop_trigger if t.stop_trigger is not None else t.stop0
    trigger, limit = _stop_prices(ctx, t, trigger)
    qty = t.position(state)
    new_id = _stop_order(ctx, t, ts, qty, trigger, limit, f"{t.trade_id}-s{len(t.stop_history)}")
    if new_id is None:
        return  # refused: the invariant's breach stays visible (stop-market fallback: later)
    ctx.emit(
        ev.TradeStopPlaced(
            seq=state.seq + 1,
            ts_event=ts,
            trade_id=t.trade_id,
            order_id=new_id,
            qty=qty,
            trigger=trigger,
            limit=limit,
            cause="STOP_LOST",
        )
    )


def after_events(ctx: Context, out: list[ev.EventBase], start: int) -> None:
    """Run the trade reactions for the fills among ``out[start:]`` (and those they cause)."""
    i = start
    orders = ctx.state.trade_orders
    while i < len(out):
        event = out[i]
        if event.__class__ is ev.OrderFilled:
            on_fill(ctx, event)
        elif event.__class__ is ev.OrderTriggered and event.order_id in orders:
            on_stop_triggered(ctx, event.order_id, event.ts_event)
        elif isinstance(event, _STOP_GONE) and event.order_id in orders:
            on_stop_gone(ctx, event.order_id, event.ts_event)
        i += 1


__all__ = ["PROTECTED", "after_events", "next_trade_deadline", "on_tick", "submit_intent"]
