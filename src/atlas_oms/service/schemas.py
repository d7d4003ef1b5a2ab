"""Request bodies (pydantic, for validation and the OpenAPI document). Numbers are exact: a
decimal is sent as a JSON string (``"0.1"``) or an integer, never a float."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from atlas_oms.model.algos import AlgoKind, Remainder
from atlas_oms.model.enums import (
    OrderType,
    PositionSide,
    Side,
    TimeInForce,
    TrailingOffsetType,
    TriggerType,
)
from atlas_oms.model.numbers import parse_decimal
from atlas_oms.model.risk import MarketOrderReason, Scope, TradingState


def _exact(value: Any) -> Decimal:
    """A decimal sent as a string or an integer; floats, booleans, NaN and infinities are refused
    (``NotANumber`` is a ``ValueError``: pydantic reports its sentence as the field's error)."""
    return parse_decimal(value)


Dec = Annotated[
    Decimal,
    BeforeValidator(_exact),
    WithJsonSchema({"type": "string", "pattern": r"^-?\d+(\.\d+)?([eE][-+]?\d+)?$"}),
]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OrderIn(Body):
    """A new order: every field of :class:`~atlas_oms.model.commands.SubmitOrder` a user gives,
    by the same name, in the same order (tests/service/test_command_shape.py pins it)."""

    account_id: str = Field(min_length=1, max_length=64)
    symbol: str = Field(min_length=1, max_length=64)
    side: Side
    order_type: OrderType = OrderType.LIMIT
    qty: Dec
    price: Dec | None = None
    display_qty: Dec | None = None
    trigger_price: Dec | None = None
    trigger_type: TriggerType = TriggerType.LAST
    trailing_offset: Dec | None = None
    trailing_offset_type: TrailingOffsetType = TrailingOffsetType.PRICE
    limit_offset: Dec | None = None
    tif: TimeInForce = TimeInForce.GTC
    expire_ts: int | None = None
    post_only: bool = False
    reduce_only: bool = False
    position_side: PositionSide | None = None
    client_order_id: str | None = Field(default=None, min_length=1, max_length=64)
    tag: str | None = Field(default=None, max_length=64)
    extended_hours: bool = False
    market_reason: MarketOrderReason | None = None
    # Where the order goes, not what it is (service/routing.py; not SubmitOrder fields):
    #: ``auto``: accounts.yaml's failover may send it to another venue account when this one is
    #: down; ``strict``: here or nowhere (a down venue refuses it ``VENUE_NOT_TRADABLE``).
    route: Literal["auto", "strict"] = "auto"
    #: The strategy it belongs to: any of the strategy's accounts with rate-limit budget left
    #: may take it (accounts.yaml ``account_routing.strategies``).
    strategy: str | None = Field(default=None, min_length=1, max_length=64)
    #: ``SMART``: a parent order the smart order router splits over the venues (the answer's
    #: ``routing`` says where and why: service/routes_algos.py); a venue's name: it must be the
    #: symbol's venue (``VENUE_MISMATCH`` otherwise); None: the symbol's venue.
    venue: str | None = Field(default=None, min_length=1, max_length=64)
    #: SMART only: what an unfilled routed child does (``STAY``, ``REROUTE``, ``CANCEL``).
    remainder: Remainder | None = None
    #: SMART only: how far beyond a venue's visible depth a child may go (percent).
    depth_margin_pct: Dec | None = None
    #: SMART only: a routed child resting unfilled this long (ms) meets ``remainder``.
    reroute_after_ms: int | None = Field(default=None, ge=0)

    #: The fields that route the order (left out of the SubmitOrder command).
    ROUTING_FIELDS: ClassVar[frozenset[str]] = frozenset(
        {"route", "strategy", "venue", "remainder", "depth_margin_pct", "reroute_after_ms"}
    )


class BatchIn(Body):
    orders: list[OrderIn] = Field(min_length=1, max_length=100)


class ModifyIn(Body):
    account_id: str
    qty: Dec | None = None
    price: Dec | None = None
    trigger_price: Dec | None = None


class CancelAllIn(Body):
    account_id: str
    symbol: str | None = None


class PricesIn(Body):
    symbol: str
    last: Dec | None = None
    mark: Dec | None = None


class TradingStateIn(Body):
    scope: Scope
    scope_id: str = ""
    state: TradingState
    reason: str = Field(min_length=1)


class KillIn(Body):
    scope: Scope
    scope_id: str = ""
    reason: str = Field(min_length=1)
    flatten: bool = False


class ResetIn(Body):
    scope: Scope
    scope_id: str = ""
    reason: str = Field(min_length=1)


class TransferIn(Body):
    from_account_id: str
    to_account_id: str
    asset: str = Field(min_length=1, max_length=16)
    amount: Dec
    reason: str = Field(default="transfer", max_length=200)


class AccountIn(Body):
    account_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")
    parent_id: str | None = None
    name: str = Field(default="", max_length=200)


class KeyIn(Body):
    roles: list[str] = Field(min_length=1)
    accounts: list[str] = Field(default_factory=list)
    label: str = Field(default="", max_length=200)
    require_signature: bool = False


class LimitsIn(Body):
    scope: Scope
    scope_id: str = ""
    #: RiskLimits fields (see docs/RISK.md); decimals as strings.
    limits: dict[str, Any]
    reason: str = Field(min_length=1)


class AlgoIn(Body):
    """A parent order: every parameter of ``Node.submit_algo`` but ``book`` (see
    :class:`~atlas_oms.model.algos.SubmitAlgo` for what each kind reads)."""

    account_id: str = Field(min_length=1, max_length=64)
    symbol: str = Field(min_length=1, max_length=64)
    side: Side
    qty: Dec
    kind: AlgoKind
    #: The client's idempotency key (a repeat answers the parent it names, 200); empty: Atlas
    #: assigns ``A<seq>``.
    algo_id: str = Field(default="", max_length=64, pattern=r"^[A-Za-z0-9._:-]*$")
    limit_price: Dec | None = None
    #: Empty: the symbol's venue; ``SMART``: each slice routed; a venue's name: the symbol's.
    venue: str = Field(default="", max_length=64)
    strategy: str | None = Field(default=None, min_length=1, max_length=64)
    remainder: Remainder = Remainder.STAY
    start_ts: int | None = None
    end_ts: int | None = None
    #: Sets ``end_ts`` from the start (ms).
    duration_ms: int | None = Field(default=None, gt=0)
    slices: int = Field(default=1, ge=1, le=10_000)
    randomize_pct: Dec = Decimal(0)
    seed: int = 0
    slice_aggression_bps: Dec = Decimal(0)
    weights: list[Dec] | None = Field(default=None, max_length=10_000)
    lookback_windows: int = Field(default=5, ge=1, le=1000)
    participation_pct: Dec | None = None
    display_qty: Dec | None = None
    display_variance_pct: Dec = Decimal(0)
    #: None: the venue's own iceberg where it has one (else emulated); False: always emulated.
    native: bool | None = None
    depth_margin_pct: Dec = Decimal(0)
    reroute_after_ms: int = Field(default=0, ge=0)
