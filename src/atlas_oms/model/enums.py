"""Enumerations shared by every layer; their string values are the wire and JSON names."""

from __future__ import annotations

from enum import StrEnum


class Side(StrEnum):
    BUY = "BUY"
    SELL = "SELL"

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY


class OrderType(StrEnum):
    MARKET = "MARKET"
    LIMIT = "LIMIT"
    STOP_MARKET = "STOP_MARKET"
    STOP_LIMIT = "STOP_LIMIT"
    TAKE_PROFIT_MARKET = "TAKE_PROFIT_MARKET"
    TAKE_PROFIT_LIMIT = "TAKE_PROFIT_LIMIT"
    TRAILING_STOP_MARKET = "TRAILING_STOP_MARKET"
    TRAILING_STOP_LIMIT = "TRAILING_STOP_LIMIT"


#: Order types the engine holds and releases when their trigger fires.
TRIGGERED_TYPES = frozenset(
    {
        OrderType.STOP_MARKET,
        OrderType.STOP_LIMIT,
        OrderType.TAKE_PROFIT_MARKET,
        OrderType.TAKE_PROFIT_LIMIT,
        OrderType.TRAILING_STOP_MARKET,
        OrderType.TRAILING_STOP_LIMIT,
    }
)
#: Order types that carry a limit price once they work at the venue.
LIMIT_TYPES = frozenset(
    {
        OrderType.LIMIT,
        OrderType.STOP_LIMIT,
        OrderType.TAKE_PROFIT_LIMIT,
        OrderType.TRAILING_STOP_LIMIT,
    }
)
#: Order types that execute as market orders once they work at the venue.
MARKET_TYPES = frozenset(
    {
        OrderType.MARKET,
        OrderType.STOP_MARKET,
        OrderType.TAKE_PROFIT_MARKET,
        OrderType.TRAILING_STOP_MARKET,
    }
)
TRAILING_TYPES = frozenset({OrderType.TRAILING_STOP_MARKET, OrderType.TRAILING_STOP_LIMIT})
TAKE_PROFIT_TYPES = frozenset({OrderType.TAKE_PROFIT_MARKET, OrderType.TAKE_PROFIT_LIMIT})


class TimeInForce(StrEnum):
    GTC = "GTC"
    DAY = "DAY"
    IOC = "IOC"
    FOK = "FOK"
    GTD = "GTD"


class OrderStatus(StrEnum):
    INITIALIZED = "INITIALIZED"
    DENIED = "DENIED"
    SUBMITTED = "SUBMITTED"
    ACCEPTED = "ACCEPTED"
    TRIGGERED = "TRIGGERED"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    PENDING_CANCEL = "PENDING_CANCEL"
    PENDING_REPLACE = "PENDING_REPLACE"
    FILLED = "FILLED"
    CANCELED = "CANCELED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"


TERMINAL_STATUSES = frozenset(
    {
        OrderStatus.DENIED,
        OrderStatus.FILLED,
        OrderStatus.CANCELED,
        OrderStatus.REJECTED,
        OrderStatus.EXPIRED,
    }
)


class InstrumentKind(StrEnum):
    SPOT = "SPOT"
    PERPETUAL = "PERPETUAL"
    FUTURE = "FUTURE"
    EQUITY = "EQUITY"


#: Kinds whose trades move a position on margin instead of swapping assets.
DERIVATIVE_KINDS = frozenset({InstrumentKind.PERPETUAL, InstrumentKind.FUTURE})


class PositionMode(StrEnum):
    NETTING = "NETTING"
    HEDGE = "HEDGE"


class PositionSide(StrEnum):
    #: Netting (one-way) mode: one signed position per instrument.
    BOTH = "BOTH"
    LONG = "LONG"
    SHORT = "SHORT"


class LiquiditySide(StrEnum):
    MAKER = "MAKER"
    TAKER = "TAKER"


class TriggerType(StrEnum):
    LAST = "LAST"
    MARK = "MARK"


class TrailingOffsetType(StrEnum):
    PRICE = "PRICE"
    PERCENT = "PERCENT"


class SelfTradePrevention(StrEnum):
    CANCEL_TAKER = "CANCEL_TAKER"
    CANCEL_MAKER = "CANCEL_MAKER"
    CANCEL_BOTH = "CANCEL_BOTH"
