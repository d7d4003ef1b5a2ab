"""The shapes of the API's answers as the OpenAPI document describes them (problem documents,
health, pages, results of the operator and derivatives routes...): msgspec structs turned into JSON
Schemas by :mod:`atlas_oms.service.openapi`, which lists which route answers which."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec

from atlas_oms.core.views import BalanceView, OrderView, PositionView
from atlas_oms.model import events as ev
from atlas_oms.model.account import Account
from atlas_oms.model.enums import Side
from atlas_oms.model.margin import MarginMode, MarginTier
from atlas_oms.model.risk import MarketStatus, RiskLimits, Scope
from atlas_oms.runtime.account_history import ClosedPosition, EquityPoint, PnlEntry
from atlas_oms.runtime.trade_view import TradeView


class Problem(msgspec.Struct, kw_only=True):
    """An error (RFC 9457 problem details) with the engine's reason code."""

    type: str
    title: str
    status: int
    detail: str
    reason: str


class DeniedOrder(Problem, kw_only=True):
    """The engine denied the order: it is journaled (with its id) and answered 422."""

    order: OrderView


class Health(msgspec.Struct, kw_only=True):
    status: str
    seq: int
    venues: list[str]


class ReconcileSummaryDoc(msgspec.Struct, kw_only=True):
    reason: str
    at_ns: int
    ok: bool
    duration_ms: float
    orders: int
    not_found: int
    fills: int
    events: int
    differences: int
    error: str


class VenueAccountHealth(msgspec.Struct, kw_only=True):
    """An external venue account as the gateway sees it. ``status``: ``ok`` (tradable) or
    ``not_tradable`` (``reason``: CONNECTING, RECONCILING, DISCONNECTED, CLOCK_SKEW, BANNED,
    POSITION_MODE_MISMATCH; ``message`` says more)."""

    status: str
    venue: str
    account_id: str
    connected: bool
    tradable: bool
    reason: str
    message: str
    last_message_age_s: float | None
    clock_offset_ms: float | None
    rate_limit: dict[str, int]
    rate_limit_paused_s: float
    reconciliation: str
    last_reconciliation: ReconcileSummaryDoc | None
    unresolved_orders: int
    reconnects: int
    error: str
    overhead: dict[str, dict[str, Any]]


class VenueQuote(msgspec.Struct, kw_only=True):
    """A venue instrument's latest public prices (book ticker, last trade, mark)."""

    symbol: str
    venue: str
    bid: Decimal | None
    ask: Decimal | None
    last: Decimal | None
    mark: Decimal | None
    ts: int


class VenueRoute(msgspec.Struct, kw_only=True):
    """Where a strategy's orders for an instrument go (accounts.yaml ``account_routing``)."""

    strategy: str | None
    symbol: str
    market: str
    account_id: str
    venue: str


class VenueHealth(msgspec.Struct, kw_only=True):
    """The built-in exchange (``status`` ok and the account's risk), or an external venue
    account: the gateway's view (see VenueAccountHealth), 503 while it is not tradable."""

    status: str
    venue: str
    account_id: str
    risk: dict[str, Any]
    connected: bool | None = None
    tradable: bool | None = None
    reason: str | None = None
    message: str | None = None
    last_message_age_s: float | None = None
    clock_offset_ms: float | None = None
    rate_limit: dict[str, int] | None = None
    rate_limit_paused_s: float | None = None
    reconciliation: str | None = None
    last_reconciliation: ReconcileSummaryDoc | None = None
    unresolved_orders: int | None = None
    reconnects: int | None = None
    error: str | None = None
    overhead: dict[str, dict[str, Any]] | None = None


class Me(msgspec.Struct, kw_only=True):
    key_id: str
    label: str | None
    roles: list[str]
    accounts: list[str]
    visible_accounts: list[str]
    require_signature: bool
    can_kill: bool


class AccountDetail(msgspec.Struct, kw_only=True):
    account: Account
    sub_accounts: list[str]
    balances: list[BalanceView]


class OrdersPage(msgspec.Struct, kw_only=True):
    """A page of orders; ``next_after``: pass it as ``after`` for the next page (None: last)."""

    orders: list[OrderView]
    next_after: int | None


class BatchItem(msgspec.Struct, kw_only=True):
    """One order's answer: its status (201, 200 duplicate, 422 denied) and body (the order, or a
    problem document with the order)."""

    status: int
    body: dict[str, Any]


class BatchResult(msgspec.Struct, kw_only=True):
    results: list[BatchItem]


class CancelRefusal(msgspec.Struct, kw_only=True):
    order_id: int
    reason: str


class CancelAllResult(msgspec.Struct, kw_only=True):
    canceled: list[int]
    refused: list[CancelRefusal]


class TransferResult(msgspec.Struct, kw_only=True):
    sent: BalanceView = msgspec.field(name="from")
    received: BalanceView = msgspec.field(name="to")
    seq: int


class Book(msgspec.Struct, kw_only=True):
    """Price levels, best first: ``[price, quantity]``."""

    symbol: str
    bids: list[tuple[Decimal, Decimal]]
    asks: list[tuple[Decimal, Decimal]]


class Trade(msgspec.Struct, kw_only=True):
    seq: int
    ts: int
    price: Decimal
    qty: Decimal
    taker_side: Side


class Trades(msgspec.Struct, kw_only=True):
    symbol: str
    trades: list[Trade]


class PricesResult(msgspec.Struct, kw_only=True):
    symbol: str
    seq: int


class TradingStateEntry(msgspec.Struct, kw_only=True):
    scope: Scope
    scope_id: str
    state: str
    actor: str
    reason: str
    since: int


class KillEntry(msgspec.Struct, kw_only=True):
    scope: Scope
    scope_id: str
    actor: str
    reason: str
    flatten: bool
    since: int


class LimitsEntry(msgspec.Struct, kw_only=True):
    scope: Scope
    scope_id: str
    limits: RiskLimits


class RiskStatus(msgspec.Struct, kw_only=True):
    """Trading states, kill switches, circuit breakers (each one's report), limits and market
    status in force (all, or those over one account)."""

    trading_states: list[TradingStateEntry]
    kill_switches: list[KillEntry]
    circuit_breakers: list[dict[str, Any]]
    limits: list[LimitsEntry]
    market_status: dict[str, str]


class LimitsResult(msgspec.Struct, kw_only=True):
    scope: Scope
    scope_id: str
    limits: RiskLimits


class KillResult(msgspec.Struct, kw_only=True):
    events: int
    seq: int
    canceled: list[int]
    pending_cancel: list[int]
    flatten_orders: list[int]


class SeqResult(msgspec.Struct, kw_only=True):
    """The journal's sequence number after the change."""

    seq: int


class Revoked(msgspec.Struct, kw_only=True):
    revoked: str


class IssuedKey(msgspec.Struct, kw_only=True):
    """A new key; ``token`` (the secret) is in this answer only."""

    key_id: str
    token: str
    roles: list[str]
    accounts: list[str]


# ------------------------------------------------- operator actions (service/routes_operator.py)
class LeverageResult(msgspec.Struct, kw_only=True):
    """The leverage set; ``max_notional``: the largest position its tier allows (None: no
    limit), in ``settle_asset``."""

    account_id: str
    symbol: str
    leverage: Decimal
    max_notional: Decimal | None
    settle_asset: str
    seq: int


class MarginModeResult(msgspec.Struct, kw_only=True):
    account_id: str
    symbol: str
    margin_mode: MarginMode
    seq: int


class IsolatedMarginResult(msgspec.Struct, kw_only=True):
    """The margin moved and the position after it."""

    account_id: str
    symbol: str
    action: str
    amount: Decimal
    settle_asset: str
    position: PositionView | None
    seq: int


class CashResult(msgspec.Struct, kw_only=True):
    """The account's balance in the asset after a deposit or withdrawal."""

    balance: BalanceView
    seq: int


class FundingRateResult(msgspec.Struct, kw_only=True):
    symbol: str
    rate: Decimal
    interval_min: int
    next_funding_ts: int | None
    seq: int


class MarginTiers(msgspec.Struct, kw_only=True):
    """A derivative's maintenance-margin tiers; ``source``: ``set``, ``default`` or the file's."""

    symbol: str
    source: str
    tiers: list[MarginTier]


class MarginTiersSet(MarginTiers, kw_only=True):
    seq: int


class MarketStatusResult(msgspec.Struct, kw_only=True):
    """The status set (None: the instrument's schedule again)."""

    symbol: str
    status: MarketStatus | None
    seq: int


class CorporateHolding(msgspec.Struct, kw_only=True):
    """One holder of a corporate action: shares before and after, cash paid (a dividend)."""

    account_id: str
    before: Decimal
    after: Decimal
    cash: Decimal


class CorporateActionResult(msgspec.Struct, kw_only=True):
    """A corporate action applied (routes_corporate.py): who held what, orders adjusted."""

    action_id: str
    symbol: str
    kind: str
    ratio: Decimal | None
    amount: Decimal | None
    actor: str
    holdings: list[CorporateHolding]
    orders_adjusted: int
    seq: int


class SettledPosition(msgspec.Struct, kw_only=True):
    """A position the settlement closed: its quantity before, its realized P&L after."""

    account_id: str
    qty: Decimal
    realized_pnl: Decimal | None


class SettleResult(msgspec.Struct, kw_only=True):
    symbol: str
    price: Decimal
    settled: list[SettledPosition]
    seq: int


class MarkResult(msgspec.Struct, kw_only=True):
    """The mark set, the one before, the insurance funds (by asset) before and after, and every
    event it set off (funding, triggered orders, liquidations), each with its ``type``."""

    symbol: str
    mark: Decimal
    last: Decimal | None
    previous_mark: Decimal | None
    insurance_funds_before: dict[str, Decimal]
    insurance_funds: dict[str, Decimal]
    events: list[ev.Event]
    seq: int


class InsuranceFund(msgspec.Struct, kw_only=True):
    """An insurance fund: deposits, what liquidations paid in (positive) and took out
    (negative), and its balance."""

    asset: str
    deposited: Decimal
    from_liquidations: Decimal
    to_liquidations: Decimal
    balance: Decimal


class InsuranceFunds(msgspec.Struct, kw_only=True):
    insurance_funds: list[InsuranceFund]


class FundDepositResult(msgspec.Struct, kw_only=True):
    asset: str
    amount: Decimal
    balance: Decimal
    seq: int


# ---------------------------------------------------- account history (service/routes_history.py)
class ClosedPositions(msgspec.Struct, kw_only=True):
    """A page of closed positions; ``next_after_seq``: pass it as ``after_seq`` (None: last)."""

    account_id: str
    positions: list[ClosedPosition]
    next_after_seq: int | None


class PnlHistory(msgspec.Struct, kw_only=True):
    """A page of P&L entries and equity points; ``next_after_seq`` as for closed positions."""

    account_id: str
    entries: list[PnlEntry]
    equity: list[EquityPoint]
    next_after_seq: int | None


# ---------------------------------------------------- managed trades (service/routes_trades.py)
class TradesPage(msgspec.Struct, kw_only=True):
    """Managed trades (without their events)."""

    trades: list[TradeView]


class TradeEvents(msgspec.Struct, kw_only=True):
    """A managed trade's events: its own decisions and its orders' events, in order."""

    trade_id: str
    events: list[Any]


class PolicyParam(msgspec.Struct, kw_only=True):
    """One execution-policy parameter (seed 001 §16)."""

    name: str
    value: str
    default: str
    source: str
    seed: str
    section_16: bool
    seed_default: bool


class PolicyParamsDoc(msgspec.Struct, kw_only=True):
    """Every execution-policy parameter, sorted by name."""

    parameters: list[PolicyParam]


# ---------------------------------------------------------------------- the routes
