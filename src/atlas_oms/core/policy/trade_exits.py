"""A managed trade's exits (seed 001 sections 5, 9.1): the bracket and the reactions to fills.

* **Bracket (5)**: on the first entry fill, in one event (``TradeBracketPlaced``), a stop-limit
  on the filled quantity (limit ``stop-limit-offset-pct`` beyond the trigger) and one independent
  limit per priced tranche of ``tranches.plan_tranches``: no OCA group.
* **Fills (9.1)**: a stop that triggers cancels every target at once (before it can trade, so
  stop and targets never sell more than the position together); a target fill resizes the stop
  to the position; tranche 1 filled moves the stop to break-even (the entry price), never
  loosening; a stop fill cancels every target; a partial target fill resizes the stop and places
  nothing for the remainder of that target. A partial entry fill protects what filled at once;
  entry fills after the bracket grow the stop (the runner takes the extra quantity).
* **Stop lost (5.2)**: a stop the venue cancels, refuses or expires while a position is open is
  replaced at once for the whole position.
"""

from __future__ import annotations

from decimal import Decimal

from atlas_oms.core.context import Context
from atlas_oms.core.decimals import ZERO, round_to_tick
from atlas_oms.core.orders.amend import cancel_for, modify
from atlas_oms.core.policy.cover import fire, must_cover, stop_cover
from atlas_oms.core.policy.scale_out import end_exit
from atlas_oms.core.policy.trade_orders import (
    MS,
    abandon_entry,
    cancel_if_working,
    limit_exit,
    params,
    place_stop,
    stop_order,
    stop_prices,
)
from atlas_oms.core.policy.trade_state import CLOSED, TradeState
from atlas_oms.core.policy.tranches import ScaleOutProfile, config_from_params, plan_tranches
from atlas_oms.model import commands as cmd
from atlas_oms.model import events as ev
from atlas_oms.model.enums import OrderStatus, Side
from atlas_oms.model.reasons import Reason
from atlas_oms.model.risk import MarketOrderReason


def place_bracket(ctx: Context, t: TradeState, ts: int, entry_done: bool) -> None:
    """The bracket, in one event: the stop and one target per priced tranche. Where the
    account cannot hold them all (:func:`cover.must_cover`), the targets go first and the stop
    covers the rest (core/policy/cover.py)."""
    state = ctx.state
    inst = state.instruments[t.symbol]
    filled = t.entry_filled(state)
    entry_px = _entry_px(ctx, t)
    trigger, limit = stop_prices(ctx, t, t.stop0)
    variant = ""
    planned: list[tuple[int, Decimal, Decimal]] = []
    # An entry filled at or through its stop has no R to scale out by: the stop alone.
    if t.target_policy == "TRANCHES" and _profit_side(t, entry_px) > 0:
        plan = plan_tranches(
            profile=ScaleOutProfile(t.scale_out),
            is_buy=t.side is Side.BUY,
            entry=entry_px,
            r=abs(entry_px - t.stop0),
            quantity=filled,
            lot=inst.lot_size,
            tick=inst.tick_size,
            key_level=t.key_level,
            value=t.qty * entry_px,  # the intended position picks the row, not a first partial
            config=config_from_params(params(state).tranches),
        )
        variant = plan.variant.value
        # the runner (no target) is trailed by the stop
        planned = [(x.index, x.quantity, x.target) for x in plan.tranches if x.target is not None]
    covering = must_cover(state, t)
    stop_id = None
    if not covering:
        stop_id = stop_order(ctx, t, ts, filled, trigger, limit, f"{t.trade_id}-s")
    targets: list[tuple[int, int, Decimal, Decimal]] = []
    for index, qty, price in planned:
        order_id = limit_exit(ctx, t, ts, qty, price, f"{t.trade_id}-t{index}")
        if order_id is not None:
            targets.append((order_id, index, qty, price))
    if covering:
        held = sum((q for _, _, q, _ in targets), ZERO)
        stop_id = stop_order(ctx, t, ts, filled - held, trigger, limit, f"{t.trade_id}-s")
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
            entry_cancel_ts=None
            if entry_done
            else ts + params(state).execution.entry_partial_cancel_ms * MS,
            covered=covering,
        )
    )


def _profit_side(t: TradeState, entry_px: Decimal) -> Decimal:
    """R as a signed distance: positive when the stop lies on the loss side of the entry."""
    return entry_px - t.stop0 if t.side is Side.BUY else t.stop0 - entry_px


def grow_targets(ctx: Context, t: TradeState, ts: int) -> None:
    """Seed 001 §9.1 "Partial Fill auf Entry: Stops und Targets proportional anpassen": an entry
    fill after the bracket grows each tranche to its share of what has filled now (the row and
    the prices stay those of the bracket), by one more limit order per tranche for the
    difference (no venue is asked to raise an order's quantity); the runner's share goes to
    the stop (:func:`resize_stop`)."""
    state = ctx.state
    if t.target_policy != "TRANCHES" or t.entry_px is None or t.stop_fired or not t.is_open:
        return
    if _profit_side(t, t.entry_px) <= 0:
        return  # filled at or through its stop: no R, no targets
    inst = state.instruments[t.symbol]
    plan = plan_tranches(
        profile=ScaleOutProfile(t.scale_out),
        is_buy=t.side is Side.BUY,
        entry=t.entry_px,
        r=abs(t.entry_px - t.stop0),
        quantity=t.entry_filled(state),
        lot=inst.lot_size,
        tick=inst.tick_size,
        key_level=t.key_level,
        value=t.qty * t.entry_px,
        config=config_from_params(params(state).tranches),
    )
    have: dict[int, Decimal] = {}
    price_of: dict[int, Decimal] = {}
    for index, qty, price in t.targets.values():
        have[index] = have.get(index, ZERO) + qty
        price_of[index] = price
    added: list[tuple[int, int, Decimal, Decimal]] = []
    for tranche in plan.tranches:
        if tranche.target is None:
            continue
        more = tranche.quantity - have.get(tranche.index, ZERO)
        if more <= 0:
            continue
        price = price_of.get(tranche.index, tranche.target)
        n = sum(1 for i, _, _ in t.targets.values() if i == tranche.index)
        coid = f"{t.trade_id}-t{tranche.index}" + (f"-{n}" if n else "")
        order_id = limit_exit(ctx, t, ts, more, price, coid)
        if order_id is not None:
            added.append((order_id, tranche.index, more, price))
    if added:
        ctx.emit(
            ev.TradeTargetsAdded(
                seq=state.seq + 1,
                ts_event=ts,
                trade_id=t.trade_id,
                targets=tuple(added),
                cause="ENTRY_FILL",
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


def resize_stop(ctx: Context, t: TradeState, ts: int, cause: str, trigger: Decimal | None) -> None:
    state = ctx.state
    stop = state.orders.get(t.stop_order_id or 0)
    if stop is None or not stop.is_live:
        return
    position = stop_cover(state, t)
    new_total = stop.cum_qty + position
    price = None
    if trigger is not None:
        trigger, price = stop_prices(ctx, t, trigger)
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


def close(ctx: Context, t: TradeState, ts: int, cause: str) -> None:
    state = ctx.state
    for order_id in [*t.targets, t.stop_order_id or 0, t.entry_order_id or 0, *t.exit_limits]:
        if cancel_if_working(ctx, order_id, ts) and order_id in t.targets:
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


def cancel_targets(ctx: Context, t: TradeState, ts: int, cause: str) -> None:
    state = ctx.state
    for order_id in list(t.targets):
        target = state.orders.get(order_id)
        if target is not None and target.is_live:
            if target.status is not OrderStatus.PENDING_CANCEL:  # not already on its way
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
        if t.covered and not t.stop_fired:
            price = state.last.get(t.symbol) or t.stop_trigger or t.stop0
            fire(ctx, t, price, ts, "VENUE_TRIGGER")
        else:
            cancel_targets(ctx, t, ts, "STOP_TRIGGERED")
        end_exit(ctx, t, ts, "STOP_TRIGGERED")


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
            place_bracket(ctx, t, ts, entry_done=done)
        else:
            grow_targets(ctx, t, ts)
            resize_stop(ctx, t, ts, "ENTRY_DONE" if done else "ENTRY_FILL", None)
        return
    if fill.order_id == t.stop_order_id:
        if t.position(state) <= 0:
            close(ctx, t, ts, "STOP")
        else:  # §9.1 partial stop fill: rest of the stop + all targets at market at once
            from atlas_oms.core.policy import fallback

            fallback.start_exit(
                ctx, t, ts, MarketOrderReason.STOP_PARTIAL_FILL_EMERGENCY, "STOP_PARTIAL_FILL"
            )
        return
    if fill.order_id in t.tranche_plan:  # a target, also one whose cancel was only requested
        if t.position(state) <= 0:
            close(ctx, t, ts, "TARGETS")
            return
        if fill.order_id not in t.targets:
            # it traded before its cancel (stop triggered, scale-out, exit) arrived: the stop
            # must not sell what it sold; after the stop level was reached on a covered trade, a
            # stop that holds less than the position is cover.settle's (on this fill: replaced
            # by one for the whole position), one that holds more is cut here
            stop = state.orders.get(t.stop_order_id or 0)
            if not t.stop_fired or (
                stop is not None and stop.is_live and stop.leaves_qty > stop_cover(state, t)
            ):
                resize_stop(ctx, t, ts, "TARGET_FILL", None)
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
        resize_stop(ctx, t, ts, "TARGET_FILL", move)
        return
    if fill.order_id in t.exit_limits and t.exit_reason is None:  # a scale-out exit
        if t.position(state) <= 0:
            close(ctx, t, ts, "EXIT")
        else:
            resize_stop(ctx, t, ts, "EXIT_FILL", None)


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
    from atlas_oms.core.policy import fallback  # §2/§9.3: refused stops, then market

    if t.exit_reason is not None:
        return  # the trade's own emergency exit canceled it
    if t.fc_order_id is not None:
        return  # forced close: its limit and the internal stop protect (forced_close.py)
    gone = state.orders.get(order_id)
    # A stop canceled by self-trade prevention counts like a refusal: replacing it again and
    # again against the same own order would never end.
    refused = gone is not None and (
        gone.status in (OrderStatus.REJECTED, OrderStatus.DENIED)
        or gone.reason == Reason.SELF_TRADE_PREVENTED
    )
    why = str(gone.reason or "rejected") if gone is not None else ""
    if refused and fallback.count_refusal(ctx, t, order_id, ts, why):
        return
    # what such a stop trades against: the working entries of the account's trades on the
    # symbol (this one's, and a scale-up child's)
    for other in list(state.trades.values()):
        if (
            other.entry_order_id is not None
            and other.account_id == t.account_id
            and other.symbol == t.symbol
            and other.is_open
        ):
            abandon_entry(ctx, other, ts, "STOP_LOST")
    protect_again(ctx, t, ts, "STOP_FIRED" if t.stop_fired else "STOP_LOST")


def protect_again(ctx: Context, t: TradeState, ts: int, cause: str) -> None:
    """A new stop for what the trade's position needs covered now (:func:`cover.stop_cover`),
    at the current stop level (``TradeStopPlaced`` with ``cause``)."""
    from atlas_oms.core.policy import fallback  # §2/§9.3: refused stops, then market

    state = ctx.state
    if t.exit_reason is not None:
        return  # an emergency exit at market runs for the position
    qty = stop_cover(state, t)
    if qty <= 0:
        return
    trigger = t.stop_trigger if t.stop_trigger is not None else t.stop0
    trigger, limit = stop_prices(ctx, t, trigger)
    coid = f"{t.trade_id}-s{len(t.stop_history)}"
    if place_stop(ctx, t, ts, qty, trigger, limit, coid, cause) is None:
        fallback.stop_refused(ctx, t, ts, qty, trigger, limit)
