from atlas_oms.grpc_api.gen.atlas.v1 import types_pb2 as _types_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AccountRequest(_message.Message):
    __slots__ = ("account_id",)
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    def __init__(self, account_id: _Optional[str] = ...) -> None: ...

class ListAccountsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class PositionList(_message.Message):
    __slots__ = ("positions",)
    POSITIONS_FIELD_NUMBER: _ClassVar[int]
    positions: _containers.RepeatedCompositeFieldContainer[_types_pb2.Position]
    def __init__(self, positions: _Optional[_Iterable[_Union[_types_pb2.Position, _Mapping]]] = ...) -> None: ...

class BalanceList(_message.Message):
    __slots__ = ("balances",)
    BALANCES_FIELD_NUMBER: _ClassVar[int]
    balances: _containers.RepeatedCompositeFieldContainer[_types_pb2.Balance]
    def __init__(self, balances: _Optional[_Iterable[_Union[_types_pb2.Balance, _Mapping]]] = ...) -> None: ...

class AccountList(_message.Message):
    __slots__ = ("accounts",)
    ACCOUNTS_FIELD_NUMBER: _ClassVar[int]
    accounts: _containers.RepeatedCompositeFieldContainer[_types_pb2.Account]
    def __init__(self, accounts: _Optional[_Iterable[_Union[_types_pb2.Account, _Mapping]]] = ...) -> None: ...

class AccountDetail(_message.Message):
    __slots__ = ("account", "sub_accounts", "balances")
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    SUB_ACCOUNTS_FIELD_NUMBER: _ClassVar[int]
    BALANCES_FIELD_NUMBER: _ClassVar[int]
    account: _types_pb2.Account
    sub_accounts: _containers.RepeatedScalarFieldContainer[str]
    balances: _containers.RepeatedCompositeFieldContainer[_types_pb2.Balance]
    def __init__(self, account: _Optional[_Union[_types_pb2.Account, _Mapping]] = ..., sub_accounts: _Optional[_Iterable[str]] = ..., balances: _Optional[_Iterable[_Union[_types_pb2.Balance, _Mapping]]] = ...) -> None: ...

class TransferRequest(_message.Message):
    __slots__ = ("from_account_id", "to_account_id", "asset", "amount", "reason")
    FROM_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    TO_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    ASSET_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    from_account_id: str
    to_account_id: str
    asset: str
    amount: str
    reason: str
    def __init__(self, from_account_id: _Optional[str] = ..., to_account_id: _Optional[str] = ..., asset: _Optional[str] = ..., amount: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class TransferResponse(_message.Message):
    __slots__ = ("from_balance", "to_balance", "seq")
    FROM_BALANCE_FIELD_NUMBER: _ClassVar[int]
    TO_BALANCE_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    from_balance: _types_pb2.Balance
    to_balance: _types_pb2.Balance
    seq: int
    def __init__(self, from_balance: _Optional[_Union[_types_pb2.Balance, _Mapping]] = ..., to_balance: _Optional[_Union[_types_pb2.Balance, _Mapping]] = ..., seq: _Optional[int] = ...) -> None: ...

class TransferList(_message.Message):
    __slots__ = ("transfers",)
    TRANSFERS_FIELD_NUMBER: _ClassVar[int]
    transfers: _containers.RepeatedCompositeFieldContainer[_types_pb2.Transfer]
    def __init__(self, transfers: _Optional[_Iterable[_Union[_types_pb2.Transfer, _Mapping]]] = ...) -> None: ...
