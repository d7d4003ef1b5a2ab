"""Checks at the edge of the core: numbers, ticks, lots and order shape. Each returns a refusal or None."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from atlas_oms.core.decimals import ABSURD
from atlas_oms.core.refusals import Refusal
from atlas_oms.model.commands import SubmitOrder
from atlas_oms.model.enums import (
    LIMIT_TYPES,
    TRAILING_TYPES,
    TRIGGERED_TYPES,
    OrderType,
    TimeInForce,
    TrailingOffsetType,
)
from atlas_oms.model.instrument import Instrument
from atlas_oms.model.reasons import Reason

MAX_CLIENT_ORDER_ID_LEN = 64


def bad_number(value: object, what: str) -> Refusal | None:
    """Refuse anything but a finite, positive, sane Decimal."""
    if not isinstance(value, Decimal):
        return (
            Reason.INVALID_QUANTITY if what == "quantity" else Reason.INVALID_PRICE,
            f"{what} must be a Decimal, got {type(value).__name__}",
        )
    if not value.is_finite() or value <= 0 or value >= ABSURD:
        reason = Reason.INVALID_QUANTITY if what == "quantity" else Reason.INVALID_PRICE
        return reason, f"{what} must be a positive finite number below {ABSURD:.0E}, got {value}"
    return None


def check_qty(inst: Instrument, qty: object) -> Refusal | None:
    refusal = bad_number(qty, "quantity")
    if refusal:
        return refusal
    assert isinstance(qty, Decimal)
    if _off_grid(qty, inst.lot_size):
        return (
            Reason.QUANTITY_NOT_MULTIPLE_OF_LOT,
            f"quantity {qty} is not a multiple of the lot size {inst.lot_size} of {inst.symbol}",
        )
    if qty < inst.min_qty:
        return (
            Reason.QUANTITY_BELOW_MIN,
            f"quantity {qty} is below the minimum {inst.min_qty} of {inst.symbol}",
        )
    if inst.max_qty is not None and qty > inst.max_qty:
        return (
            Reason.QUANTITY_ABOVE_MAX,
            f"quantity {qty} is above the maximum {inst.max_qty} of {inst.symbol}",
        )
    return None


def check_price(inst: Instrument, price: object, what: str = "price") -> Refusal | None:
    refusal = bad_number(price, what)
    if refusal:
        if what != "price":
            return Reason.INVALID_TRIGGER_PRICE, refusal[1]
        return refusal
    assert isinstance(price, Decimal)
    if _off_grid(price, inst.tick_size):
        return (
            Reason.PRICE_NOT_ON_TICK,
            f"{what} {price} is not on the tick size {inst.tick_size} of {inst.symbol}",
        )
    return None


def _off_grid(value: Decimal, step: Decimal) -> bool:
    try:
        return bool(value % step)
    except InvalidOperation:  # too many steps to count exactly: certainly not a sane value
        return True


def check_shape(cmd: SubmitOrder, inst: Instrument, now: int) -> Refusal | None:
    """Refuse an order whose type, prices, flags and time in force do not fit together."""
    otype = cmd.order_type
    if cmd.client_order_id is not None and not (
        0 < len(cmd.client_order_id) <= MAX_CLIENT_ORDER_ID_LEN
    ):
        return (
            Reason.INVALID_CLIENT_ORDER_ID,
            f"client_order_id must be 1 to {MAX_CLIENT_ORDER_ID_LEN} characters",
        )
    refusal = check_qty(inst, cmd.qty)
    if refusal:
        return refusal
    if otype in LIMIT_TYPES and otype is not OrderType.TRAILING_STOP_LIMIT:
        if cmd.price is None:
            return Reason.MISSING_PRICE, f"a {otype} order needs a limit price"
        refusal = check_price(inst, cmd.price)
        if refusal:
            return refusal
    elif cmd.price is not None:
        return Reason.PRICE_NOT_ALLOWED, f"a {otype} order takes no limit price"
    if otype in TRIGGERED_TYPES and otype not in TRAILING_TYPES:
        if cmd.trigger_price is None:
            return Reason.MISSING_TRIGGER_PRICE, f"a {otype} order needs a trigger price"
        refusal = check_price(inst, cmd.trigger_price, "trigger price")
        if refusal:
            return refusal
    elif otype in TRAILING_TYPES:
        offset = cmd.trailing_offset
        if (
            not isinstance(offset, Decimal)
            or not offset.is_finite()
            or offset <= 0
            or offset >= ABSURD
        ):
            return (
                Reason.INVALID_TRAILING_OFFSET,
                f"a trailing stop needs a positive trailing offset, got {offset}",
            )
        if cmd.trailing_offset_type is TrailingOffsetType.PERCENT and offset >= 100:
            return (
                Reason.INVALID_TRAILING_OFFSET,
                f"a percent trailing offset must be below 100, got {offset}",
            )
        if cmd.trigger_price is not None:
            refusal = check_price(inst, cmd.trigger_price, "trigger price")
            if refusal:
                return refusal
        if otype is OrderType.TRAILING_STOP_LIMIT:
            lo = cmd.limit_offset
            if not isinstance(lo, Decimal) or not lo.is_finite() or lo < 0 or lo >= ABSURD:
                return (
                    Reason.INVALID_TRAILING_OFFSET,
                    "a trailing-stop-limit needs a limit offset >= 0",
                )
    elif cmd.trigger_price is not None:
        return Reason.PRICE_NOT_ALLOWED, f"a {otype} order takes no trigger price"
    if cmd.post_only and (
        otype is not OrderType.LIMIT or cmd.tif in (TimeInForce.IOC, TimeInForce.FOK)
    ):
        return (
            Reason.POST_ONLY_NOT_ALLOWED,
            "post-only applies to GTC, DAY or GTD limit orders only",
        )
    if cmd.tif is TimeInForce.GTD:
        if cmd.expire_ts is None or cmd.expire_ts <= now:
            return Reason.INVALID_EXPIRE_TIME, "a GTD order needs an expire time in the future"
    elif cmd.expire_ts is not None:
        return Reason.INVALID_EXPIRE_TIME, "only GTD orders take an expire time"
    if otype is OrderType.MARKET and cmd.tif is TimeInForce.GTD:
        return Reason.INVALID_TIME_IN_FORCE, "a market order cannot be GTD"
    if cmd.display_qty is not None:
        return check_display(cmd, inst)
    return None


def check_display(cmd: SubmitOrder, inst: Instrument) -> Refusal | None:
    """An iceberg (``display_qty`` set): a resting limit order (GTC, GTD or DAY; post-only may
    be, as Binance's LIMIT_MAKER may) on a venue with native icebergs, showing a positive
    part of its quantity below the whole, on the lot grid, in at most the venue's parts."""
    shown = cmd.display_qty
    if not inst.native_iceberg:
        return (
            Reason.ICEBERG_NOT_SUPPORTED,
            f"{inst.symbol} on {inst.venue} takes no native iceberg orders: "
            "use the ICEBERG algorithm, which emulates one",
        )
    if cmd.order_type is not OrderType.LIMIT:
        return Reason.INVALID_DISPLAY_QTY, "only a limit order can show a display quantity"
    if cmd.tif in (TimeInForce.IOC, TimeInForce.FOK):
        return (
            Reason.INVALID_DISPLAY_QTY,
            f"an iceberg rests in the book: GTC, GTD or DAY, not {cmd.tif}",
        )
    if not isinstance(shown, Decimal) or not shown.is_finite() or shown <= 0:
        return Reason.INVALID_DISPLAY_QTY, f"display quantity must be positive, got {shown}"
    if shown >= cmd.qty:
        return (
            Reason.INVALID_DISPLAY_QTY,
            f"display quantity {shown} must be below the quantity {cmd.qty}",
        )
    if _off_grid(shown, inst.lot_size):
        return (
            Reason.INVALID_DISPLAY_QTY,
            f"display quantity {shown} is not a multiple of the lot size {inst.lot_size} "
            f"of {inst.symbol}",
        )
    if shown < inst.min_qty:
        return (
            Reason.INVALID_DISPLAY_QTY,
            f"display quantity {shown} is below the minimum {inst.min_qty} of {inst.symbol}",
        )
    parts = inst.iceberg_parts
    if parts is not None and -(-cmd.qty // shown) > parts:
        return (
            Reason.INVALID_DISPLAY_QTY,
            f"display quantity {shown} splits {cmd.qty} into more than the {parts} parts "
            f"{inst.symbol} allows",
        )
    return None


DAY_NS = 86_400 * 1_000_000_000


def day_expiry(now: int, close_utc_min: int) -> int:
    """The next instant (after ``now``) at which a DAY order ends."""
    close = close_utc_min * 60 * 1_000_000_000
    day_start = now - now % DAY_NS
    candidate = day_start + close
    return candidate if candidate > now else candidate + DAY_NS
