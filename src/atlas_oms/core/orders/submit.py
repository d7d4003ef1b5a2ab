"""A new order: validate its shape, run the pre-trade checks (risk, buying power, margin),
reserve what it may spend, record its intent, and send it to its venue or hold it until its
trigger fires."""

from __future__ import annotations

from decimal import Decimal

import msgspec

from atlas_oms.core.context import Context
from atlas_oms.core.decimals import ZERO, plain
from atlas_oms.core.derivatives.figures import unrealized_loss
from atlas_oms.core.derivatives.pretrade import margin_refusal
from atlas_oms.core.equities.calendar import day_order_expiry, has_calendar
from atlas_oms.core.equities.checks import check_submit
from atlas_oms.core.equities.session_queue import queue_order
from atlas_oms.core.orders.order import Order
from atlas_oms.core.orders.pricing import protect, reserve_unit, trail
from atlas_oms.core.orders.triggers import fire_if_reached, trigger_source
from atlas_oms.core.orders.validation import check_shape, day_expiry
from atlas_oms.core.refusals import Refusal, reject_command
from atlas_oms.core.risk.pretrade import risk_submit
from atlas_oms.core.venues.status import venue_refusal
from atlas_oms.model import commands as cmd
from atlas_oms.model import events as ev
from atlas_oms.model.enums import (
    MARKET_TYPES,
    TRAILING_TYPES,
    TRIGGERED_TYPES,
    InstrumentKind,
    OrderType,
    PositionMode,
    PositionSide,
    Side,
    TimeInForce,
    TrailingOffsetType,
    TriggerType,
)
from atlas_oms.model.instrument import Instrument
from atlas_oms.model.reasons import Reason
from atlas_oms.model.requests import SubmitToVenue
from atlas_oms.model.risk import AlertLevel

_EQUITY = InstrumentKind.EQUITY
#: The fields a resend of a client order id must repeat: every field a user gives.
USER_FIELDS = cmd.user_submit_fields()
_BUY = Side.BUY
_SELL = Side.SELL


class Plan(msgspec.Struct, frozen=True, gc=False):
    """What an accepted submit records: its reservation, protection bound, trigger and expiry."""

    inst: Instrument
    reserved_asset: str | None
    reserve_unit: Decimal
    protection_price: Decimal | None
    trigger_price: Decimal | None
    expire_ts: int | None
    watermark: Decimal | None


def other_terms(order: Order | None, c: cmd.SubmitOrder) -> str:
    """Where a resend ``c`` of a client order id differs from the order that id names: the
    differing user fields (every SubmitOrder field but ``ts``) with both values; "" if none.

    A resend is compared with the request as it was submitted (later modifies, triggers and
    trails of the order do not count). An order no longer in memory is taken as the same."""
    intent = order.intent if order is not None else None
    if intent is None:
        return ""
    out = []
    for name in USER_FIELDS:
        was, now = getattr(intent, name), getattr(c, name)
        if was != now:
            out.append(f"{name} ({_shown(was)} there, {_shown(now)} here)")
    return ", ".join(out)


def _shown(value: object) -> str:
    if isinstance(value, Decimal):
        return plain(value) if value.is_finite() else str(value)
    if value is None:
        return "none"
    return str(value).lower() if isinstance(value, bool) else str(value)


def submit(ctx: Context, c: cmd.SubmitOrder) -> None:
    """Handle ``SubmitOrder``: a client order id reused with the same terms is a duplicate (the
    original order stands), with other terms it is refused ``DUPLICATE_CLIENT_ORDER_ID``; a
    refused order is ``OrderDenied``, an accepted one ``OrderSubmitted`` (then held or sent to
    its venue)."""
    if (
        c.side.__class__ is not Side
        or c.order_type.__class__ is not OrderType
        or c.tif.__class__ is not TimeInForce
        or c.trigger_type.__class__ is not TriggerType
        or c.trailing_offset_type.__class__ is not TrailingOffsetType
        or (c.position_side is not None and c.position_side.__class__ is not PositionSide)
    ):
        # Built by hand with plain strings: take them through the schema, or refuse.
        try:
            c = msgspec.convert(msgspec.to_builtins(c), cmd.SubmitOrder)
        except (msgspec.ValidationError, TypeError) as exc:
            # Not journaled as an order: its fields would not read back.
            reject_command(
                ctx,
                c,
                Reason.INVALID_FIELD,
                f"the order is malformed: {exc}",
                c.account_id if isinstance(c.account_id, str) else None,
            )
            return
    state = ctx.state
    if c.client_order_id is not None:
        existing = state.client_ids.get((c.account_id, c.client_order_id))
        if existing is not None:
            differs = other_terms(state.orders.get(existing), c)
            if differs:
                reject_command(
                    ctx,
                    c,
                    Reason.DUPLICATE_CLIENT_ORDER_ID,
                    f"client order id {c.client_order_id} already names order {existing}, "
                    f"which differs in {differs}: a new order needs a new client order id",
                    c.account_id,
                )
                return
            ctx.emit(
                ev.OrderDuplicateIgnored(
                    seq=state.seq + 1,
                    ts_event=c.ts,
                    order_id=existing,
                    account_id=c.account_id,
                    client_order_id=c.client_order_id,
                )
            )
            return
    order_id = state.next_order_id
    ctx.dup_warning = None
    ctx.session_release = None
    plan = _plan(ctx, c)
    if not isinstance(plan, Plan):
        ctx.emit(
            ev.OrderDenied(
                seq=state.seq + 1,
                ts_event=c.ts,
                order_id=order_id,
                intent=c,
                reason=plan[0],
                message=plan[1],
            )
        )
        return
    trigger = plan.trigger_price
    ctx.emit(
        ev.OrderSubmitted(
            seq=state.seq + 1,
            ts_event=c.ts,
            order_id=order_id,
            intent=c,
            reserved_asset=plan.reserved_asset,
            reserve_unit=plan.reserve_unit,
            protection_price=plan.protection_price,
            trigger_price=trigger,
            expire_ts=plan.expire_ts,
        )
    )
    if ctx.dup_warning is not None:
        ctx.emit(
            ev.RiskAlert(
                seq=state.seq + 1,
                ts_event=c.ts,
                level=AlertLevel.WARNING,
                code=Reason.DUPLICATE_ORDER,
                message=ctx.dup_warning,
                account_id=c.account_id,
                order_id=order_id,
                symbol=c.symbol,
            )
        )
    if ctx.session_release is not None:
        # Its session is closed: held by Atlas until the next one opens (session_queue.py).
        assert plan.inst.session is not None
        queue_order(ctx, order_id, plan.inst.session, ctx.session_release, c.ts)
        ctx.session_release = None
        return
    if c.order_type in TRIGGERED_TYPES:
        # Held by the engine: accepted here, released to the venue when the trigger fires.
        ctx.emit(
            ev.OrderAccepted(
                seq=state.seq + 1, ts_event=c.ts, order_id=order_id, venue_order_id=None
            )
        )
        if plan.watermark is not None:
            assert trigger is not None
            ctx.emit(
                ev.OrderTrailingUpdated(
                    seq=state.seq + 1,
                    ts_event=c.ts,
                    order_id=order_id,
                    watermark=plan.watermark,
                    trigger_price=trigger,
                )
            )
        fire_if_reached(ctx, state.orders[order_id], c.ts)
    else:
        ctx.outbox.append(
            SubmitToVenue(
                order_id=order_id,
                account_id=c.account_id,
                symbol=c.symbol,
                venue=plan.inst.venue,
                ts=c.ts,
                side=c.side,
                qty=c.qty,
                price=c.price,
                protection_price=plan.protection_price,
                tif=c.tif,
                post_only=c.post_only,
                reduce_only=c.reduce_only,
                extended_hours=c.extended_hours,
                display_qty=c.display_qty,
            )
        )


def _plan(ctx: Context, c: cmd.SubmitOrder) -> Refusal | Plan:
    """Validate a submit; return a refusal, or what the ``OrderSubmitted`` event records."""
    state = ctx.state
    account = state.accounts.get(c.account_id)
    if account is None:
        return Reason.UNKNOWN_ACCOUNT, f"account {c.account_id} does not exist"
    inst = state.instruments.get(c.symbol)
    if inst is None:
        return Reason.UNKNOWN_INSTRUMENT, f"instrument {c.symbol} does not exist"
    if not inst.tradable:
        return Reason.INSTRUMENT_NOT_TRADABLE, f"{c.symbol} is not tradable now"
    if inst.venue != "sim":
        refusal = venue_refusal(state, c.account_id, inst)
        if refusal:
            return refusal
    if state.liq.frozen and state.liq.is_frozen(c.account_id, c.symbol):
        return (
            Reason.LIQUIDATION_IN_PROGRESS,
            f"account {c.account_id} is being liquidated: no new {c.symbol} orders until it ends",
        )
    refusal = check_shape(c, inst, c.ts)
    if refusal:
        return refusal
    if account.position_mode is PositionMode.HEDGE:
        if c.position_side not in (PositionSide.LONG, PositionSide.SHORT):
            return (
                Reason.POSITION_SIDE_REQUIRED,
                f"account {c.account_id} is in hedge mode: say LONG or SHORT",
            )
    elif c.position_side not in (None, PositionSide.BOTH):
        return (
            Reason.POSITION_SIDE_NOT_ALLOWED,
            f"account {c.account_id} is in netting mode: position side must be BOTH",
        )
    otype = c.order_type
    side = c.side
    tick = inst.tick_size
    trigger = c.trigger_price
    watermark = None
    if otype in TRAILING_TYPES:
        watermark = trigger_source(state, c.symbol, c.trigger_type)
        if watermark is not None:
            assert c.trailing_offset is not None  # check_shape refuses a trailing stop without
            trailed = trail(side, watermark, c.trailing_offset, c.trailing_offset_type, tick)
            if trigger is None:
                trigger = trailed
            elif side is _SELL:
                trigger = max(trigger, trailed)
            else:
                trigger = min(trigger, trailed)
        elif trigger is None:
            return (
                Reason.NO_REFERENCE_PRICE,
                f"no price for {c.symbol} yet to trail from: give an initial trigger price",
            )
        if trigger <= 0:
            return (
                Reason.INVALID_TRAILING_OFFSET,
                "the trailing offset is larger than the price",
            )
    # The price the order may execute at in the worst case, for reservations and notional.
    protection = None
    worst: Decimal | None
    if otype in MARKET_TYPES:
        base_px = trigger if otype in TRIGGERED_TYPES else state.reference_price(c.symbol)
        if base_px is not None:
            protection = protect(ctx, side, base_px, tick)
        worst = base_px * ctx.collar_up if base_px is not None else None
    elif otype is OrderType.TRAILING_STOP_LIMIT:
        assert trigger is not None and c.limit_offset is not None
        worst = trigger + c.limit_offset if side is _BUY else trigger
    else:
        worst = c.price
    if (
        inst.min_notional
        and worst is not None
        and c.qty * worst * inst.multiplier < inst.min_notional
    ):
        return (
            Reason.NOTIONAL_BELOW_MIN,
            f"notional {plain(c.qty * worst * inst.multiplier)} is below the minimum "
            f"{plain(inst.min_notional)}",
        )
    if c.reduce_only:
        refusal = _reduce_only_refusal(ctx, c, inst)
        if refusal:
            return refusal
    refusal = risk_submit(ctx, c, inst, protection if protection is not None else worst)
    if refusal:
        return refusal
    asset, unit = reserve_unit(
        ctx,
        c.account_id,
        inst,
        side,
        c.reduce_only,
        protection if side is _BUY and protection else worst,
    )
    if unit is None:
        return (
            Reason.NO_REFERENCE_PRICE,
            f"no price for {c.symbol} yet: a market buy needs a reference to reserve funds",
        )
    if inst.kind is _EQUITY:
        refusal = check_submit(state, c, inst, unit, protection, trigger)
        if refusal:
            return refusal
    elif inst.is_derivative:
        refusal = margin_refusal(
            state, ctx.config, c, inst, protection if protection is not None else worst
        )
        if refusal:
            return refusal
    if asset is not None and unit:
        need = c.qty * unit
        free = state.free(c.account_id, asset)
        if inst.is_derivative:
            free += unrealized_loss(state, c.account_id, inst)
        if free < need:
            if inst.is_derivative:
                return (
                    Reason.INSUFFICIENT_MARGIN,
                    f"initial margin {plain(need)} {asset} exceeds account {c.account_id}'s "
                    f"free collateral {plain(free)}",
                )
            return (
                Reason.INSUFFICIENT_BALANCE,
                f"needs {plain(need)} {asset} but account {c.account_id} has {plain(free)} free",
            )
    expire_ts = c.expire_ts
    if c.tif is TimeInForce.DAY and otype is not OrderType.MARKET:
        us = state.equities.us
        if inst.session is not None and has_calendar(us, inst.session):  # the real close
            expire_ts = day_order_expiry(us, inst.session, c.ts, c.extended_hours)
        else:
            expire_ts = day_expiry(c.ts, inst.day_close_utc_min)
    return Plan(inst, asset, unit, protection, trigger, expire_ts, watermark)


def _reduce_only_refusal(ctx: Context, c: cmd.SubmitOrder, inst: Instrument) -> Refusal | None:
    pside = c.position_side or PositionSide.BOTH
    pos = ctx.state.positions.get((c.account_id, inst.symbol, pside))
    held = pos.qty if pos is not None else ZERO
    reduces = (held > 0 and c.side is _SELL) or (held < 0 and c.side is _BUY)
    if not reduces:
        return (
            Reason.REDUCE_ONLY_WOULD_INCREASE,
            f"reduce-only {c.side} would open or increase the {inst.symbol} position ({held})",
        )
    if c.qty > abs(held):
        return (
            Reason.REDUCE_ONLY_WOULD_INCREASE,
            f"reduce-only quantity {c.qty} exceeds the position {abs(held)}",
        )
    return None
