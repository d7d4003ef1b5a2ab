from atlas_oms.grpc_api.gen.atlas.v1 import types_pb2 as _types_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AlgoKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ALGO_KIND_UNSPECIFIED: _ClassVar[AlgoKind]
    ALGO_KIND_SMART: _ClassVar[AlgoKind]
    ALGO_KIND_TWAP: _ClassVar[AlgoKind]
    ALGO_KIND_VWAP: _ClassVar[AlgoKind]
    ALGO_KIND_ICEBERG: _ClassVar[AlgoKind]

class AlgoStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ALGO_STATUS_UNSPECIFIED: _ClassVar[AlgoStatus]
    ALGO_STATUS_WORKING: _ClassVar[AlgoStatus]
    ALGO_STATUS_PAUSED: _ClassVar[AlgoStatus]
    ALGO_STATUS_DONE: _ClassVar[AlgoStatus]
    ALGO_STATUS_CANCELED: _ClassVar[AlgoStatus]
    ALGO_STATUS_EXPIRED: _ClassVar[AlgoStatus]

class Remainder(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REMAINDER_UNSPECIFIED: _ClassVar[Remainder]
    REMAINDER_STAY: _ClassVar[Remainder]
    REMAINDER_REROUTE: _ClassVar[Remainder]
    REMAINDER_CANCEL: _ClassVar[Remainder]
ALGO_KIND_UNSPECIFIED: AlgoKind
ALGO_KIND_SMART: AlgoKind
ALGO_KIND_TWAP: AlgoKind
ALGO_KIND_VWAP: AlgoKind
ALGO_KIND_ICEBERG: AlgoKind
ALGO_STATUS_UNSPECIFIED: AlgoStatus
ALGO_STATUS_WORKING: AlgoStatus
ALGO_STATUS_PAUSED: AlgoStatus
ALGO_STATUS_DONE: AlgoStatus
ALGO_STATUS_CANCELED: AlgoStatus
ALGO_STATUS_EXPIRED: AlgoStatus
REMAINDER_UNSPECIFIED: Remainder
REMAINDER_STAY: Remainder
REMAINDER_REROUTE: Remainder
REMAINDER_CANCEL: Remainder

class SubmitAlgoRequest(_message.Message):
    __slots__ = ("account_id", "symbol", "side", "qty", "kind", "algo_id", "limit_price", "venue", "strategy", "remainder", "start_ts", "end_ts", "duration_ms", "slices", "randomize_pct", "seed", "slice_aggression_bps", "weights", "lookback_windows", "participation_pct", "display_qty", "display_variance_pct", "native", "depth_margin_pct", "reroute_after_ms")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    SIDE_FIELD_NUMBER: _ClassVar[int]
    QTY_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    ALGO_ID_FIELD_NUMBER: _ClassVar[int]
    LIMIT_PRICE_FIELD_NUMBER: _ClassVar[int]
    VENUE_FIELD_NUMBER: _ClassVar[int]
    STRATEGY_FIELD_NUMBER: _ClassVar[int]
    REMAINDER_FIELD_NUMBER: _ClassVar[int]
    START_TS_FIELD_NUMBER: _ClassVar[int]
    END_TS_FIELD_NUMBER: _ClassVar[int]
    DURATION_MS_FIELD_NUMBER: _ClassVar[int]
    SLICES_FIELD_NUMBER: _ClassVar[int]
    RANDOMIZE_PCT_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    SLICE_AGGRESSION_BPS_FIELD_NUMBER: _ClassVar[int]
    WEIGHTS_FIELD_NUMBER: _ClassVar[int]
    LOOKBACK_WINDOWS_FIELD_NUMBER: _ClassVar[int]
    PARTICIPATION_PCT_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_QTY_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_VARIANCE_PCT_FIELD_NUMBER: _ClassVar[int]
    NATIVE_FIELD_NUMBER: _ClassVar[int]
    DEPTH_MARGIN_PCT_FIELD_NUMBER: _ClassVar[int]
    REROUTE_AFTER_MS_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    symbol: str
    side: _types_pb2.Side
    qty: str
    kind: AlgoKind
    algo_id: str
    limit_price: str
    venue: str
    strategy: str
    remainder: Remainder
    start_ts: int
    end_ts: int
    duration_ms: int
    slices: int
    randomize_pct: str
    seed: int
    slice_aggression_bps: str
    weights: _containers.RepeatedScalarFieldContainer[str]
    lookback_windows: int
    participation_pct: str
    display_qty: str
    display_variance_pct: str
    native: bool
    depth_margin_pct: str
    reroute_after_ms: int
    def __init__(self, account_id: _Optional[str] = ..., symbol: _Optional[str] = ..., side: _Optional[_Union[_types_pb2.Side, str]] = ..., qty: _Optional[str] = ..., kind: _Optional[_Union[AlgoKind, str]] = ..., algo_id: _Optional[str] = ..., limit_price: _Optional[str] = ..., venue: _Optional[str] = ..., strategy: _Optional[str] = ..., remainder: _Optional[_Union[Remainder, str]] = ..., start_ts: _Optional[int] = ..., end_ts: _Optional[int] = ..., duration_ms: _Optional[int] = ..., slices: _Optional[int] = ..., randomize_pct: _Optional[str] = ..., seed: _Optional[int] = ..., slice_aggression_bps: _Optional[str] = ..., weights: _Optional[_Iterable[str]] = ..., lookback_windows: _Optional[int] = ..., participation_pct: _Optional[str] = ..., display_qty: _Optional[str] = ..., display_variance_pct: _Optional[str] = ..., native: _Optional[bool] = ..., depth_margin_pct: _Optional[str] = ..., reroute_after_ms: _Optional[int] = ...) -> None: ...

class AlgoRef(_message.Message):
    __slots__ = ("algo_id",)
    ALGO_ID_FIELD_NUMBER: _ClassVar[int]
    algo_id: str
    def __init__(self, algo_id: _Optional[str] = ...) -> None: ...

class ListAlgosRequest(_message.Message):
    __slots__ = ("account_id", "open_only")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    OPEN_ONLY_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    open_only: bool
    def __init__(self, account_id: _Optional[str] = ..., open_only: _Optional[bool] = ...) -> None: ...

class ListAlgosResponse(_message.Message):
    __slots__ = ("algos",)
    ALGOS_FIELD_NUMBER: _ClassVar[int]
    algos: _containers.RepeatedCompositeFieldContainer[Algo]
    def __init__(self, algos: _Optional[_Iterable[_Union[Algo, _Mapping]]] = ...) -> None: ...

class Algo(_message.Message):
    __slots__ = ("algo_id", "account_id", "symbol", "side", "kind", "venue", "qty", "limit_price", "status", "cum_qty", "avg_px", "leaves_qty", "working_qty", "strategy", "remainder", "start_ts", "end_ts", "accepted_ts", "ended_ts", "end_reason", "arrival_price", "slices_planned", "slices_done", "children", "duplicate", "view_json")
    ALGO_ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    SIDE_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    VENUE_FIELD_NUMBER: _ClassVar[int]
    QTY_FIELD_NUMBER: _ClassVar[int]
    LIMIT_PRICE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CUM_QTY_FIELD_NUMBER: _ClassVar[int]
    AVG_PX_FIELD_NUMBER: _ClassVar[int]
    LEAVES_QTY_FIELD_NUMBER: _ClassVar[int]
    WORKING_QTY_FIELD_NUMBER: _ClassVar[int]
    STRATEGY_FIELD_NUMBER: _ClassVar[int]
    REMAINDER_FIELD_NUMBER: _ClassVar[int]
    START_TS_FIELD_NUMBER: _ClassVar[int]
    END_TS_FIELD_NUMBER: _ClassVar[int]
    ACCEPTED_TS_FIELD_NUMBER: _ClassVar[int]
    ENDED_TS_FIELD_NUMBER: _ClassVar[int]
    END_REASON_FIELD_NUMBER: _ClassVar[int]
    ARRIVAL_PRICE_FIELD_NUMBER: _ClassVar[int]
    SLICES_PLANNED_FIELD_NUMBER: _ClassVar[int]
    SLICES_DONE_FIELD_NUMBER: _ClassVar[int]
    CHILDREN_FIELD_NUMBER: _ClassVar[int]
    DUPLICATE_FIELD_NUMBER: _ClassVar[int]
    VIEW_JSON_FIELD_NUMBER: _ClassVar[int]
    algo_id: str
    account_id: str
    symbol: str
    side: _types_pb2.Side
    kind: AlgoKind
    venue: str
    qty: str
    limit_price: str
    status: AlgoStatus
    cum_qty: str
    avg_px: str
    leaves_qty: str
    working_qty: str
    strategy: str
    remainder: Remainder
    start_ts: int
    end_ts: int
    accepted_ts: int
    ended_ts: int
    end_reason: str
    arrival_price: str
    slices_planned: int
    slices_done: int
    children: _containers.RepeatedCompositeFieldContainer[_types_pb2.Order]
    duplicate: bool
    view_json: str
    def __init__(self, algo_id: _Optional[str] = ..., account_id: _Optional[str] = ..., symbol: _Optional[str] = ..., side: _Optional[_Union[_types_pb2.Side, str]] = ..., kind: _Optional[_Union[AlgoKind, str]] = ..., venue: _Optional[str] = ..., qty: _Optional[str] = ..., limit_price: _Optional[str] = ..., status: _Optional[_Union[AlgoStatus, str]] = ..., cum_qty: _Optional[str] = ..., avg_px: _Optional[str] = ..., leaves_qty: _Optional[str] = ..., working_qty: _Optional[str] = ..., strategy: _Optional[str] = ..., remainder: _Optional[_Union[Remainder, str]] = ..., start_ts: _Optional[int] = ..., end_ts: _Optional[int] = ..., accepted_ts: _Optional[int] = ..., ended_ts: _Optional[int] = ..., end_reason: _Optional[str] = ..., arrival_price: _Optional[str] = ..., slices_planned: _Optional[int] = ..., slices_done: _Optional[int] = ..., children: _Optional[_Iterable[_Union[_types_pb2.Order, _Mapping]]] = ..., duplicate: _Optional[bool] = ..., view_json: _Optional[str] = ...) -> None: ...
