from atlas_oms.grpc_api.gen.atlas.v1 import types_pb2 as _types_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class BookRequest(_message.Message):
    __slots__ = ("symbol", "levels")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    LEVELS_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    levels: int
    def __init__(self, symbol: _Optional[str] = ..., levels: _Optional[int] = ...) -> None: ...

class BookLevel(_message.Message):
    __slots__ = ("price", "qty")
    PRICE_FIELD_NUMBER: _ClassVar[int]
    QTY_FIELD_NUMBER: _ClassVar[int]
    price: str
    qty: str
    def __init__(self, price: _Optional[str] = ..., qty: _Optional[str] = ...) -> None: ...

class Book(_message.Message):
    __slots__ = ("symbol", "bids", "asks", "seq")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    BIDS_FIELD_NUMBER: _ClassVar[int]
    ASKS_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    bids: _containers.RepeatedCompositeFieldContainer[BookLevel]
    asks: _containers.RepeatedCompositeFieldContainer[BookLevel]
    seq: int
    def __init__(self, symbol: _Optional[str] = ..., bids: _Optional[_Iterable[_Union[BookLevel, _Mapping]]] = ..., asks: _Optional[_Iterable[_Union[BookLevel, _Mapping]]] = ..., seq: _Optional[int] = ...) -> None: ...

class TradesRequest(_message.Message):
    __slots__ = ("symbol", "limit")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    limit: int
    def __init__(self, symbol: _Optional[str] = ..., limit: _Optional[int] = ...) -> None: ...

class Trade(_message.Message):
    __slots__ = ("seq", "ts", "symbol", "price", "qty", "taker_side", "trade_id")
    SEQ_FIELD_NUMBER: _ClassVar[int]
    TS_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    QTY_FIELD_NUMBER: _ClassVar[int]
    TAKER_SIDE_FIELD_NUMBER: _ClassVar[int]
    TRADE_ID_FIELD_NUMBER: _ClassVar[int]
    seq: int
    ts: int
    symbol: str
    price: str
    qty: str
    taker_side: _types_pb2.Side
    trade_id: str
    def __init__(self, seq: _Optional[int] = ..., ts: _Optional[int] = ..., symbol: _Optional[str] = ..., price: _Optional[str] = ..., qty: _Optional[str] = ..., taker_side: _Optional[_Union[_types_pb2.Side, str]] = ..., trade_id: _Optional[str] = ...) -> None: ...

class TradeList(_message.Message):
    __slots__ = ("symbol", "trades")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    TRADES_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    trades: _containers.RepeatedCompositeFieldContainer[Trade]
    def __init__(self, symbol: _Optional[str] = ..., trades: _Optional[_Iterable[_Union[Trade, _Mapping]]] = ...) -> None: ...
