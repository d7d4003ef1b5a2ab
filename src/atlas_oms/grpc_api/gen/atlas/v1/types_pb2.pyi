from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Side(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SIDE_UNSPECIFIED: _ClassVar[Side]
    SIDE_BUY: _ClassVar[Side]
    SIDE_SELL: _ClassVar[Side]

class OrderType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ORDER_TYPE_UNSPECIFIED: _ClassVar[OrderType]
    ORDER_TYPE_MARKET: _ClassVar[OrderType]
    ORDER_TYPE_LIMIT: _ClassVar[OrderType]
    ORDER_TYPE_STOP_MARKET: _ClassVar[OrderType]
    ORDER_TYPE_STOP_LIMIT: _ClassVar[OrderType]
    ORDER_TYPE_TAKE_PROFIT_MARKET: _ClassVar[OrderType]
    ORDER_TYPE_TAKE_PROFIT_LIMIT: _ClassVar[OrderType]
    ORDER_TYPE_TRAILING_STOP_MARKET: _ClassVar[OrderType]
    ORDER_TYPE_TRAILING_STOP_LIMIT: _ClassVar[OrderType]

class TimeInForce(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TIME_IN_FORCE_UNSPECIFIED: _ClassVar[TimeInForce]
    TIME_IN_FORCE_GTC: _ClassVar[TimeInForce]
    TIME_IN_FORCE_DAY: _ClassVar[TimeInForce]
    TIME_IN_FORCE_IOC: _ClassVar[TimeInForce]
    TIME_IN_FORCE_FOK: _ClassVar[TimeInForce]
    TIME_IN_FORCE_GTD: _ClassVar[TimeInForce]

class OrderStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ORDER_STATUS_UNSPECIFIED: _ClassVar[OrderStatus]
    ORDER_STATUS_INITIALIZED: _ClassVar[OrderStatus]
    ORDER_STATUS_DENIED: _ClassVar[OrderStatus]
    ORDER_STATUS_SUBMITTED: _ClassVar[OrderStatus]
    ORDER_STATUS_ACCEPTED: _ClassVar[OrderStatus]
    ORDER_STATUS_TRIGGERED: _ClassVar[OrderStatus]
    ORDER_STATUS_PARTIALLY_FILLED: _ClassVar[OrderStatus]
    ORDER_STATUS_PENDING_CANCEL: _ClassVar[OrderStatus]
    ORDER_STATUS_PENDING_REPLACE: _ClassVar[OrderStatus]
    ORDER_STATUS_FILLED: _ClassVar[OrderStatus]
    ORDER_STATUS_CANCELED: _ClassVar[OrderStatus]
    ORDER_STATUS_REJECTED: _ClassVar[OrderStatus]
    ORDER_STATUS_EXPIRED: _ClassVar[OrderStatus]

class PositionSide(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    POSITION_SIDE_UNSPECIFIED: _ClassVar[PositionSide]
    POSITION_SIDE_BOTH: _ClassVar[PositionSide]
    POSITION_SIDE_LONG: _ClassVar[PositionSide]
    POSITION_SIDE_SHORT: _ClassVar[PositionSide]

class LiquiditySide(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LIQUIDITY_SIDE_UNSPECIFIED: _ClassVar[LiquiditySide]
    LIQUIDITY_SIDE_MAKER: _ClassVar[LiquiditySide]
    LIQUIDITY_SIDE_TAKER: _ClassVar[LiquiditySide]

class TriggerType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TRIGGER_TYPE_UNSPECIFIED: _ClassVar[TriggerType]
    TRIGGER_TYPE_LAST: _ClassVar[TriggerType]
    TRIGGER_TYPE_MARK: _ClassVar[TriggerType]

class TrailingOffsetType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TRAILING_OFFSET_TYPE_UNSPECIFIED: _ClassVar[TrailingOffsetType]
    TRAILING_OFFSET_TYPE_PRICE: _ClassVar[TrailingOffsetType]
    TRAILING_OFFSET_TYPE_PERCENT: _ClassVar[TrailingOffsetType]
SIDE_UNSPECIFIED: Side
SIDE_BUY: Side
SIDE_SELL: Side
ORDER_TYPE_UNSPECIFIED: OrderType
ORDER_TYPE_MARKET: OrderType
ORDER_TYPE_LIMIT: OrderType
ORDER_TYPE_STOP_MARKET: OrderType
ORDER_TYPE_STOP_LIMIT: OrderType
ORDER_TYPE_TAKE_PROFIT_MARKET: OrderType
ORDER_TYPE_TAKE_PROFIT_LIMIT: OrderType
ORDER_TYPE_TRAILING_STOP_MARKET: OrderType
ORDER_TYPE_TRAILING_STOP_LIMIT: OrderType
TIME_IN_FORCE_UNSPECIFIED: TimeInForce
TIME_IN_FORCE_GTC: TimeInForce
TIME_IN_FORCE_DAY: TimeInForce
TIME_IN_FORCE_IOC: TimeInForce
TIME_IN_FORCE_FOK: TimeInForce
TIME_IN_FORCE_GTD: TimeInForce
ORDER_STATUS_UNSPECIFIED: OrderStatus
ORDER_STATUS_INITIALIZED: OrderStatus
ORDER_STATUS_DENIED: OrderStatus
ORDER_STATUS_SUBMITTED: OrderStatus
ORDER_STATUS_ACCEPTED: OrderStatus
ORDER_STATUS_TRIGGERED: OrderStatus
ORDER_STATUS_PARTIALLY_FILLED: OrderStatus
ORDER_STATUS_PENDING_CANCEL: OrderStatus
ORDER_STATUS_PENDING_REPLACE: OrderStatus
ORDER_STATUS_FILLED: OrderStatus
ORDER_STATUS_CANCELED: OrderStatus
ORDER_STATUS_REJECTED: OrderStatus
ORDER_STATUS_EXPIRED: OrderStatus
POSITION_SIDE_UNSPECIFIED: PositionSide
POSITION_SIDE_BOTH: PositionSide
POSITION_SIDE_LONG: PositionSide
POSITION_SIDE_SHORT: PositionSide
LIQUIDITY_SIDE_UNSPECIFIED: LiquiditySide
LIQUIDITY_SIDE_MAKER: LiquiditySide
LIQUIDITY_SIDE_TAKER: LiquiditySide
TRIGGER_TYPE_UNSPECIFIED: TriggerType
TRIGGER_TYPE_LAST: TriggerType
TRIGGER_TYPE_MARK: TriggerType
TRAILING_OFFSET_TYPE_UNSPECIFIED: TrailingOffsetType
TRAILING_OFFSET_TYPE_PRICE: TrailingOffsetType
TRAILING_OFFSET_TYPE_PERCENT: TrailingOffsetType

class Order(_message.Message):
    __slots__ = ("order_id", "client_order_id", "account_id", "symbol", "venue", "side", "order_type", "status", "qty", "price", "trigger_price", "tif", "cum_qty", "leaves_qty", "avg_px", "fees", "fee_asset", "post_only", "reduce_only", "position_side", "venue_order_id", "reason", "tag", "ts_init", "ts_last", "trigger_type", "trailing_offset", "trailing_offset_type", "limit_offset", "expire_ts", "extended_hours", "market_reason", "duplicate", "external", "in_doubt", "protection_price", "session_release", "display_qty")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    VENUE_FIELD_NUMBER: _ClassVar[int]
    SIDE_FIELD_NUMBER: _ClassVar[int]
    ORDER_TYPE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    QTY_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    TRIGGER_PRICE_FIELD_NUMBER: _ClassVar[int]
    TIF_FIELD_NUMBER: _ClassVar[int]
    CUM_QTY_FIELD_NUMBER: _ClassVar[int]
    LEAVES_QTY_FIELD_NUMBER: _ClassVar[int]
    AVG_PX_FIELD_NUMBER: _ClassVar[int]
    FEES_FIELD_NUMBER: _ClassVar[int]
    FEE_ASSET_FIELD_NUMBER: _ClassVar[int]
    POST_ONLY_FIELD_NUMBER: _ClassVar[int]
    REDUCE_ONLY_FIELD_NUMBER: _ClassVar[int]
    POSITION_SIDE_FIELD_NUMBER: _ClassVar[int]
    VENUE_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    TAG_FIELD_NUMBER: _ClassVar[int]
    TS_INIT_FIELD_NUMBER: _ClassVar[int]
    TS_LAST_FIELD_NUMBER: _ClassVar[int]
    TRIGGER_TYPE_FIELD_NUMBER: _ClassVar[int]
    TRAILING_OFFSET_FIELD_NUMBER: _ClassVar[int]
    TRAILING_OFFSET_TYPE_FIELD_NUMBER: _ClassVar[int]
    LIMIT_OFFSET_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_TS_FIELD_NUMBER: _ClassVar[int]
    EXTENDED_HOURS_FIELD_NUMBER: _ClassVar[int]
    MARKET_REASON_FIELD_NUMBER: _ClassVar[int]
    DUPLICATE_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_FIELD_NUMBER: _ClassVar[int]
    IN_DOUBT_FIELD_NUMBER: _ClassVar[int]
    PROTECTION_PRICE_FIELD_NUMBER: _ClassVar[int]
    SESSION_RELEASE_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_QTY_FIELD_NUMBER: _ClassVar[int]
    order_id: int
    client_order_id: str
    account_id: str
    symbol: str
    venue: str
    side: Side
    order_type: OrderType
    status: OrderStatus
    qty: str
    price: str
    trigger_price: str
    tif: TimeInForce
    cum_qty: str
    leaves_qty: str
    avg_px: str
    fees: str
    fee_asset: str
    post_only: bool
    reduce_only: bool
    position_side: PositionSide
    venue_order_id: str
    reason: str
    tag: str
    ts_init: int
    ts_last: int
    trigger_type: TriggerType
    trailing_offset: str
    trailing_offset_type: TrailingOffsetType
    limit_offset: str
    expire_ts: int
    extended_hours: bool
    market_reason: str
    duplicate: bool
    external: bool
    in_doubt: bool
    protection_price: str
    session_release: int
    display_qty: str
    def __init__(self, order_id: _Optional[int] = ..., client_order_id: _Optional[str] = ..., account_id: _Optional[str] = ..., symbol: _Optional[str] = ..., venue: _Optional[str] = ..., side: _Optional[_Union[Side, str]] = ..., order_type: _Optional[_Union[OrderType, str]] = ..., status: _Optional[_Union[OrderStatus, str]] = ..., qty: _Optional[str] = ..., price: _Optional[str] = ..., trigger_price: _Optional[str] = ..., tif: _Optional[_Union[TimeInForce, str]] = ..., cum_qty: _Optional[str] = ..., leaves_qty: _Optional[str] = ..., avg_px: _Optional[str] = ..., fees: _Optional[str] = ..., fee_asset: _Optional[str] = ..., post_only: _Optional[bool] = ..., reduce_only: _Optional[bool] = ..., position_side: _Optional[_Union[PositionSide, str]] = ..., venue_order_id: _Optional[str] = ..., reason: _Optional[str] = ..., tag: _Optional[str] = ..., ts_init: _Optional[int] = ..., ts_last: _Optional[int] = ..., trigger_type: _Optional[_Union[TriggerType, str]] = ..., trailing_offset: _Optional[str] = ..., trailing_offset_type: _Optional[_Union[TrailingOffsetType, str]] = ..., limit_offset: _Optional[str] = ..., expire_ts: _Optional[int] = ..., extended_hours: _Optional[bool] = ..., market_reason: _Optional[str] = ..., duplicate: _Optional[bool] = ..., external: _Optional[bool] = ..., in_doubt: _Optional[bool] = ..., protection_price: _Optional[str] = ..., session_release: _Optional[int] = ..., display_qty: _Optional[str] = ...) -> None: ...

class Fill(_message.Message):
    __slots__ = ("seq", "ts_event", "order_id", "account_id", "symbol", "side", "exec_id", "trade_id", "last_qty", "last_px", "liquidity_side", "fee", "fee_asset", "venue_order_id", "order_status")
    SEQ_FIELD_NUMBER: _ClassVar[int]
    TS_EVENT_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    SIDE_FIELD_NUMBER: _ClassVar[int]
    EXEC_ID_FIELD_NUMBER: _ClassVar[int]
    TRADE_ID_FIELD_NUMBER: _ClassVar[int]
    LAST_QTY_FIELD_NUMBER: _ClassVar[int]
    LAST_PX_FIELD_NUMBER: _ClassVar[int]
    LIQUIDITY_SIDE_FIELD_NUMBER: _ClassVar[int]
    FEE_FIELD_NUMBER: _ClassVar[int]
    FEE_ASSET_FIELD_NUMBER: _ClassVar[int]
    VENUE_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_STATUS_FIELD_NUMBER: _ClassVar[int]
    seq: int
    ts_event: int
    order_id: int
    account_id: str
    symbol: str
    side: Side
    exec_id: str
    trade_id: str
    last_qty: str
    last_px: str
    liquidity_side: LiquiditySide
    fee: str
    fee_asset: str
    venue_order_id: str
    order_status: OrderStatus
    def __init__(self, seq: _Optional[int] = ..., ts_event: _Optional[int] = ..., order_id: _Optional[int] = ..., account_id: _Optional[str] = ..., symbol: _Optional[str] = ..., side: _Optional[_Union[Side, str]] = ..., exec_id: _Optional[str] = ..., trade_id: _Optional[str] = ..., last_qty: _Optional[str] = ..., last_px: _Optional[str] = ..., liquidity_side: _Optional[_Union[LiquiditySide, str]] = ..., fee: _Optional[str] = ..., fee_asset: _Optional[str] = ..., venue_order_id: _Optional[str] = ..., order_status: _Optional[_Union[OrderStatus, str]] = ...) -> None: ...

class Lot(_message.Message):
    __slots__ = ("order_id", "qty", "price", "realized_pnl", "unrealized_pnl", "ts_open")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    QTY_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    REALIZED_PNL_FIELD_NUMBER: _ClassVar[int]
    UNREALIZED_PNL_FIELD_NUMBER: _ClassVar[int]
    TS_OPEN_FIELD_NUMBER: _ClassVar[int]
    order_id: int
    qty: str
    price: str
    realized_pnl: str
    unrealized_pnl: str
    ts_open: int
    def __init__(self, order_id: _Optional[int] = ..., qty: _Optional[str] = ..., price: _Optional[str] = ..., realized_pnl: _Optional[str] = ..., unrealized_pnl: _Optional[str] = ..., ts_open: _Optional[int] = ...) -> None: ...

class Position(_message.Message):
    __slots__ = ("account_id", "symbol", "position_side", "qty", "avg_entry_px", "realized_pnl", "unrealized_pnl", "fees", "margin", "mark_px", "lots", "margin_mode", "leverage", "notional", "maint_margin", "margin_balance", "margin_ratio", "liquidation_price", "bankruptcy_price", "funding")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    POSITION_SIDE_FIELD_NUMBER: _ClassVar[int]
    QTY_FIELD_NUMBER: _ClassVar[int]
    AVG_ENTRY_PX_FIELD_NUMBER: _ClassVar[int]
    REALIZED_PNL_FIELD_NUMBER: _ClassVar[int]
    UNREALIZED_PNL_FIELD_NUMBER: _ClassVar[int]
    FEES_FIELD_NUMBER: _ClassVar[int]
    MARGIN_FIELD_NUMBER: _ClassVar[int]
    MARK_PX_FIELD_NUMBER: _ClassVar[int]
    LOTS_FIELD_NUMBER: _ClassVar[int]
    MARGIN_MODE_FIELD_NUMBER: _ClassVar[int]
    LEVERAGE_FIELD_NUMBER: _ClassVar[int]
    NOTIONAL_FIELD_NUMBER: _ClassVar[int]
    MAINT_MARGIN_FIELD_NUMBER: _ClassVar[int]
    MARGIN_BALANCE_FIELD_NUMBER: _ClassVar[int]
    MARGIN_RATIO_FIELD_NUMBER: _ClassVar[int]
    LIQUIDATION_PRICE_FIELD_NUMBER: _ClassVar[int]
    BANKRUPTCY_PRICE_FIELD_NUMBER: _ClassVar[int]
    FUNDING_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    symbol: str
    position_side: PositionSide
    qty: str
    avg_entry_px: str
    realized_pnl: str
    unrealized_pnl: str
    fees: str
    margin: str
    mark_px: str
    lots: _containers.RepeatedCompositeFieldContainer[Lot]
    margin_mode: str
    leverage: str
    notional: str
    maint_margin: str
    margin_balance: str
    margin_ratio: str
    liquidation_price: str
    bankruptcy_price: str
    funding: str
    def __init__(self, account_id: _Optional[str] = ..., symbol: _Optional[str] = ..., position_side: _Optional[_Union[PositionSide, str]] = ..., qty: _Optional[str] = ..., avg_entry_px: _Optional[str] = ..., realized_pnl: _Optional[str] = ..., unrealized_pnl: _Optional[str] = ..., fees: _Optional[str] = ..., margin: _Optional[str] = ..., mark_px: _Optional[str] = ..., lots: _Optional[_Iterable[_Union[Lot, _Mapping]]] = ..., margin_mode: _Optional[str] = ..., leverage: _Optional[str] = ..., notional: _Optional[str] = ..., maint_margin: _Optional[str] = ..., margin_balance: _Optional[str] = ..., margin_ratio: _Optional[str] = ..., liquidation_price: _Optional[str] = ..., bankruptcy_price: _Optional[str] = ..., funding: _Optional[str] = ...) -> None: ...

class Balance(_message.Message):
    __slots__ = ("account_id", "asset", "total", "locked", "free")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    ASSET_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    LOCKED_FIELD_NUMBER: _ClassVar[int]
    FREE_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    asset: str
    total: str
    locked: str
    free: str
    def __init__(self, account_id: _Optional[str] = ..., asset: _Optional[str] = ..., total: _Optional[str] = ..., locked: _Optional[str] = ..., free: _Optional[str] = ...) -> None: ...

class Account(_message.Message):
    __slots__ = ("account_id", "parent_id", "position_mode", "name", "equity_type", "pattern_day_trader")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    PARENT_ID_FIELD_NUMBER: _ClassVar[int]
    POSITION_MODE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    EQUITY_TYPE_FIELD_NUMBER: _ClassVar[int]
    PATTERN_DAY_TRADER_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    parent_id: str
    position_mode: str
    name: str
    equity_type: str
    pattern_day_trader: bool
    def __init__(self, account_id: _Optional[str] = ..., parent_id: _Optional[str] = ..., position_mode: _Optional[str] = ..., name: _Optional[str] = ..., equity_type: _Optional[str] = ..., pattern_day_trader: _Optional[bool] = ...) -> None: ...

class Transfer(_message.Message):
    __slots__ = ("seq", "ts_event", "account_id", "to_account_id", "asset", "amount", "reason")
    SEQ_FIELD_NUMBER: _ClassVar[int]
    TS_EVENT_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    TO_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    ASSET_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    seq: int
    ts_event: int
    account_id: str
    to_account_id: str
    asset: str
    amount: str
    reason: str
    def __init__(self, seq: _Optional[int] = ..., ts_event: _Optional[int] = ..., account_id: _Optional[str] = ..., to_account_id: _Optional[str] = ..., asset: _Optional[str] = ..., amount: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...
