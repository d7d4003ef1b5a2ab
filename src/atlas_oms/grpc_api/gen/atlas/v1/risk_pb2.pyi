from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RiskStatusRequest(_message.Message):
    __slots__ = ("account_id",)
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    def __init__(self, account_id: _Optional[str] = ...) -> None: ...

class TradingStateEntry(_message.Message):
    __slots__ = ("scope", "scope_id", "state", "actor", "reason", "since")
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    SCOPE_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    scope: str
    scope_id: str
    state: str
    actor: str
    reason: str
    since: int
    def __init__(self, scope: _Optional[str] = ..., scope_id: _Optional[str] = ..., state: _Optional[str] = ..., actor: _Optional[str] = ..., reason: _Optional[str] = ..., since: _Optional[int] = ...) -> None: ...

class KillSwitchEntry(_message.Message):
    __slots__ = ("scope", "scope_id", "actor", "reason", "flatten", "since")
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    SCOPE_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    FLATTEN_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    scope: str
    scope_id: str
    actor: str
    reason: str
    flatten: bool
    since: int
    def __init__(self, scope: _Optional[str] = ..., scope_id: _Optional[str] = ..., actor: _Optional[str] = ..., reason: _Optional[str] = ..., flatten: _Optional[bool] = ..., since: _Optional[int] = ...) -> None: ...

class LimitsEntry(_message.Message):
    __slots__ = ("scope", "scope_id", "limits")
    class LimitsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    SCOPE_ID_FIELD_NUMBER: _ClassVar[int]
    LIMITS_FIELD_NUMBER: _ClassVar[int]
    scope: str
    scope_id: str
    limits: _containers.ScalarMap[str, str]
    def __init__(self, scope: _Optional[str] = ..., scope_id: _Optional[str] = ..., limits: _Optional[_Mapping[str, str]] = ...) -> None: ...

class RiskStatus(_message.Message):
    __slots__ = ("trading_states", "kill_switches", "circuit_breakers_json", "limits", "market_status")
    class MarketStatusEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    TRADING_STATES_FIELD_NUMBER: _ClassVar[int]
    KILL_SWITCHES_FIELD_NUMBER: _ClassVar[int]
    CIRCUIT_BREAKERS_JSON_FIELD_NUMBER: _ClassVar[int]
    LIMITS_FIELD_NUMBER: _ClassVar[int]
    MARKET_STATUS_FIELD_NUMBER: _ClassVar[int]
    trading_states: _containers.RepeatedCompositeFieldContainer[TradingStateEntry]
    kill_switches: _containers.RepeatedCompositeFieldContainer[KillSwitchEntry]
    circuit_breakers_json: _containers.RepeatedScalarFieldContainer[str]
    limits: _containers.RepeatedCompositeFieldContainer[LimitsEntry]
    market_status: _containers.ScalarMap[str, str]
    def __init__(self, trading_states: _Optional[_Iterable[_Union[TradingStateEntry, _Mapping]]] = ..., kill_switches: _Optional[_Iterable[_Union[KillSwitchEntry, _Mapping]]] = ..., circuit_breakers_json: _Optional[_Iterable[str]] = ..., limits: _Optional[_Iterable[_Union[LimitsEntry, _Mapping]]] = ..., market_status: _Optional[_Mapping[str, str]] = ...) -> None: ...
