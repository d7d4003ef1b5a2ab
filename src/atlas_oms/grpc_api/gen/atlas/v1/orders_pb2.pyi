from atlas_oms.grpc_api.gen.atlas.v1 import types_pb2 as _types_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SubmitOrderRequest(_message.Message):
    __slots__ = ("account_id", "symbol", "side", "order_type", "qty", "price", "display_qty", "trigger_price", "trigger_type", "trailing_offset", "trailing_offset_type", "limit_offset", "tif", "expire_ts", "post_only", "reduce_only", "position_side", "client_order_id", "tag", "extended_hours", "market_reason", "route", "strategy", "venue")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    SIDE_FIELD_NUMBER: _ClassVar[int]
    ORDER_TYPE_FIELD_NUMBER: _ClassVar[int]
    QTY_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_QTY_FIELD_NUMBER: _ClassVar[int]
    TRIGGER_PRICE_FIELD_NUMBER: _ClassVar[int]
    TRIGGER_TYPE_FIELD_NUMBER: _ClassVar[int]
    TRAILING_OFFSET_FIELD_NUMBER: _ClassVar[int]
    TRAILING_OFFSET_TYPE_FIELD_NUMBER: _ClassVar[int]
    LIMIT_OFFSET_FIELD_NUMBER: _ClassVar[int]
    TIF_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_TS_FIELD_NUMBER: _ClassVar[int]
    POST_ONLY_FIELD_NUMBER: _ClassVar[int]
    REDUCE_ONLY_FIELD_NUMBER: _ClassVar[int]
    POSITION_SIDE_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    TAG_FIELD_NUMBER: _ClassVar[int]
    EXTENDED_HOURS_FIELD_NUMBER: _ClassVar[int]
    MARKET_REASON_FIELD_NUMBER: _ClassVar[int]
    ROUTE_FIELD_NUMBER: _ClassVar[int]
    STRATEGY_FIELD_NUMBER: _ClassVar[int]
    VENUE_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    symbol: str
    side: _types_pb2.Side
    order_type: _types_pb2.OrderType
    qty: str
    price: str
    display_qty: str
    trigger_price: str
    trigger_type: _types_pb2.TriggerType
    trailing_offset: str
    trailing_offset_type: _types_pb2.TrailingOffsetType
    limit_offset: str
    tif: _types_pb2.TimeInForce
    expire_ts: int
    post_only: bool
    reduce_only: bool
    position_side: _types_pb2.PositionSide
    client_order_id: str
    tag: str
    extended_hours: bool
    market_reason: str
    route: str
    strategy: str
    venue: str
    def __init__(self, account_id: _Optional[str] = ..., symbol: _Optional[str] = ..., side: _Optional[_Union[_types_pb2.Side, str]] = ..., order_type: _Optional[_Union[_types_pb2.OrderType, str]] = ..., qty: _Optional[str] = ..., price: _Optional[str] = ..., display_qty: _Optional[str] = ..., trigger_price: _Optional[str] = ..., trigger_type: _Optional[_Union[_types_pb2.TriggerType, str]] = ..., trailing_offset: _Optional[str] = ..., trailing_offset_type: _Optional[_Union[_types_pb2.TrailingOffsetType, str]] = ..., limit_offset: _Optional[str] = ..., tif: _Optional[_Union[_types_pb2.TimeInForce, str]] = ..., expire_ts: _Optional[int] = ..., post_only: _Optional[bool] = ..., reduce_only: _Optional[bool] = ..., position_side: _Optional[_Union[_types_pb2.PositionSide, str]] = ..., client_order_id: _Optional[str] = ..., tag: _Optional[str] = ..., extended_hours: _Optional[bool] = ..., market_reason: _Optional[str] = ..., route: _Optional[str] = ..., strategy: _Optional[str] = ..., venue: _Optional[str] = ...) -> None: ...

class SubmitBatchRequest(_message.Message):
    __slots__ = ("orders",)
    ORDERS_FIELD_NUMBER: _ClassVar[int]
    orders: _containers.RepeatedCompositeFieldContainer[SubmitOrderRequest]
    def __init__(self, orders: _Optional[_Iterable[_Union[SubmitOrderRequest, _Mapping]]] = ...) -> None: ...

class BatchResult(_message.Message):
    __slots__ = ("code", "reason", "detail", "order")
    CODE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    code: int
    reason: str
    detail: str
    order: _types_pb2.Order
    def __init__(self, code: _Optional[int] = ..., reason: _Optional[str] = ..., detail: _Optional[str] = ..., order: _Optional[_Union[_types_pb2.Order, _Mapping]] = ...) -> None: ...

class SubmitBatchResponse(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[BatchResult]
    def __init__(self, results: _Optional[_Iterable[_Union[BatchResult, _Mapping]]] = ...) -> None: ...

class OrderRef(_message.Message):
    __slots__ = ("account_id", "order_id", "client_order_id")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    order_id: int
    client_order_id: str
    def __init__(self, account_id: _Optional[str] = ..., order_id: _Optional[int] = ..., client_order_id: _Optional[str] = ...) -> None: ...

class ModifyOrderRequest(_message.Message):
    __slots__ = ("account_id", "order_id", "client_order_id", "qty", "price", "trigger_price")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    QTY_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    TRIGGER_PRICE_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    order_id: int
    client_order_id: str
    qty: str
    price: str
    trigger_price: str
    def __init__(self, account_id: _Optional[str] = ..., order_id: _Optional[int] = ..., client_order_id: _Optional[str] = ..., qty: _Optional[str] = ..., price: _Optional[str] = ..., trigger_price: _Optional[str] = ...) -> None: ...

class ListOrdersRequest(_message.Message):
    __slots__ = ("account_id", "status", "symbol", "open_only", "since_ns", "until_ns", "after", "limit")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    OPEN_ONLY_FIELD_NUMBER: _ClassVar[int]
    SINCE_NS_FIELD_NUMBER: _ClassVar[int]
    UNTIL_NS_FIELD_NUMBER: _ClassVar[int]
    AFTER_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    status: _types_pb2.OrderStatus
    symbol: str
    open_only: bool
    since_ns: int
    until_ns: int
    after: int
    limit: int
    def __init__(self, account_id: _Optional[str] = ..., status: _Optional[_Union[_types_pb2.OrderStatus, str]] = ..., symbol: _Optional[str] = ..., open_only: _Optional[bool] = ..., since_ns: _Optional[int] = ..., until_ns: _Optional[int] = ..., after: _Optional[int] = ..., limit: _Optional[int] = ...) -> None: ...

class ListOrdersResponse(_message.Message):
    __slots__ = ("orders", "next_after")
    ORDERS_FIELD_NUMBER: _ClassVar[int]
    NEXT_AFTER_FIELD_NUMBER: _ClassVar[int]
    orders: _containers.RepeatedCompositeFieldContainer[_types_pb2.Order]
    next_after: int
    def __init__(self, orders: _Optional[_Iterable[_Union[_types_pb2.Order, _Mapping]]] = ..., next_after: _Optional[int] = ...) -> None: ...

class CancelAllRequest(_message.Message):
    __slots__ = ("account_id", "symbol")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    symbol: str
    def __init__(self, account_id: _Optional[str] = ..., symbol: _Optional[str] = ...) -> None: ...

class RefusedCancel(_message.Message):
    __slots__ = ("order_id", "reason")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    order_id: int
    reason: str
    def __init__(self, order_id: _Optional[int] = ..., reason: _Optional[str] = ...) -> None: ...

class CancelAllResponse(_message.Message):
    __slots__ = ("canceled", "refused")
    CANCELED_FIELD_NUMBER: _ClassVar[int]
    REFUSED_FIELD_NUMBER: _ClassVar[int]
    canceled: _containers.RepeatedScalarFieldContainer[int]
    refused: _containers.RepeatedCompositeFieldContainer[RefusedCancel]
    def __init__(self, canceled: _Optional[_Iterable[int]] = ..., refused: _Optional[_Iterable[_Union[RefusedCancel, _Mapping]]] = ...) -> None: ...

class StreamOrderUpdatesRequest(_message.Message):
    __slots__ = ("account_id", "since_seq", "subaccounts")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    SINCE_SEQ_FIELD_NUMBER: _ClassVar[int]
    SUBACCOUNTS_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    since_seq: int
    subaccounts: bool
    def __init__(self, account_id: _Optional[str] = ..., since_seq: _Optional[int] = ..., subaccounts: _Optional[bool] = ...) -> None: ...

class OrderUpdate(_message.Message):
    __slots__ = ("seq", "ts_event", "type", "order_id", "account_id", "replay", "order", "fill", "reason", "message", "event_json")
    SEQ_FIELD_NUMBER: _ClassVar[int]
    TS_EVENT_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    REPLAY_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    FILL_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    EVENT_JSON_FIELD_NUMBER: _ClassVar[int]
    seq: int
    ts_event: int
    type: str
    order_id: int
    account_id: str
    replay: bool
    order: _types_pb2.Order
    fill: _types_pb2.Fill
    reason: str
    message: str
    event_json: str
    def __init__(self, seq: _Optional[int] = ..., ts_event: _Optional[int] = ..., type: _Optional[str] = ..., order_id: _Optional[int] = ..., account_id: _Optional[str] = ..., replay: _Optional[bool] = ..., order: _Optional[_Union[_types_pb2.Order, _Mapping]] = ..., fill: _Optional[_Union[_types_pb2.Fill, _Mapping]] = ..., reason: _Optional[str] = ..., message: _Optional[str] = ..., event_json: _Optional[str] = ...) -> None: ...
