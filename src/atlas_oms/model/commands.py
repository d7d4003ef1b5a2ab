"""Commands: what a user, a strategy or an operator asks the engine to do (imperative names).

Every message carries ``ts`` (integer nanoseconds since the epoch), stamped by the node's clock
before the engine sees it: the engine itself never reads a clock.
"""

from __future__ import annotations

from decimal import Decimal

import msgspec

from atlas_oms.model.account import Account
from atlas_oms.model.enums import (
    OrderType,
    PositionMode,
    PositionSide,
    Side,
    TimeInForce,
    TrailingOffsetType,
    TriggerType,
)
from atlas_oms.model.instrument import Instrument
from atlas_oms.model.margin import MarginMode, MarginTier
from atlas_oms.model.risk import (
    EquityAccountType,
    MarketOrderReason,
    MarketStatus,
    RiskLimits,
    Scope,
    TradingState,
)


class Command(msgspec.Struct, frozen=True, kw_only=True, gc=False, tag=True, omit_defaults=True):
    ts: int = 0


class AddInstrument(Command, frozen=True):
    instrument: Instrument


class OpenAccount(Command, frozen=True):
    account_id: str
    parent_id: str | None = None
    position_mode: PositionMode = PositionMode.NETTING
    name: str = ""
    equity_type: EquityAccountType = EquityAccountType.CASH
    pattern_day_trader: bool = False

    def to_account(self) -> Account:
        return Account(
            account_id=self.account_id,
            parent_id=self.parent_id,
            position_mode=self.position_mode,
            name=self.name,
            equity_type=self.equity_type,
            pattern_day_trader=self.pattern_day_trader,
        )


class AdjustBalance(Command, frozen=True):
    """Deposit (positive ``amount``) or withdraw (negative) an asset."""

    account_id: str
    asset: str
    amount: Decimal
    reason: str = "deposit"


class TransferFunds(Command, frozen=True):
    """Move ``amount`` (positive) of an asset from ``account_id`` to ``to_account_id``: two
    accounts of the same account tree (an account and its sub-accounts, at any depth)."""

    account_id: str
    to_account_id: str
    asset: str
    amount: Decimal
    reason: str = "transfer"
    transfer_id: str = ""
    venue_transfer_id: str = ""


class SetLeverage(Command, frozen=True):
    account_id: str
    symbol: str
    leverage: Decimal


class SubmitOrder(Command, frozen=True):
    """Ask for a new order. ``client_order_id`` is the idempotency key (per account).

    ``price`` is the limit price (limit types only). ``trigger_price`` fires stop, take-profit and
    (optionally, as the initial stop) trailing orders. ``trailing_offset`` is a price distance or a
    percentage (``trailing_offset_type``); ``limit_offset`` places a trailing-stop-limit's limit
    price that far beyond its trigger. ``expire_ts`` is required for GTD.
    """

    account_id: str
    symbol: str
    side: Side
    order_type: OrderType
    qty: Decimal
    price: Decimal | None = None
    #: An iceberg: only this much of the order shows in the venue's book at a time, refilled
    #: from the hidden rest as it fills (limit orders on a venue with native icebergs; None:
    #: all of it shows).
    display_qty: Decimal | None = None
    trigger_price: Decimal | None = None
    trigger_type: TriggerType = TriggerType.LAST
    trailing_offset: Decimal | None = None
    trailing_offset_type: TrailingOffsetType = TrailingOffsetType.PRICE
    limit_offset: Decimal | None = None
    tif: TimeInForce = TimeInForce.GTC
    expire_ts: int | None = None
    post_only: bool = False
    reduce_only: bool = False
    position_side: PositionSide | None = None
    client_order_id: str | None = None
    tag: str | None = None
    #: Equities: allow execution in pre- and post-market sessions.
    extended_hours: bool = False
    #: Why this market order is allowed when the market-order policy is on (recorded for audit).
    market_reason: MarketOrderReason | None = None
    #: The engine's retry of a rejected protective order names the order it retries.
    retry_of: int | None = None


#: SubmitOrder fields the engine sets itself: every other field is the user's to give, and every
#: interface (``Node.submit``, the REST body, ``atlas order submit``) takes each of them; a test
#: per interface fails when a field added here does not reach it.
ENGINE_SET_SUBMIT_FIELDS = frozenset({"ts", "retry_of"})


def user_submit_fields() -> tuple[str, ...]:
    """The :class:`SubmitOrder` fields a user gives, in declaration order."""
    return tuple(f for f in SubmitOrder.__struct_fields__ if f not in ENGINE_SET_SUBMIT_FIELDS)


class SubmitOrderList(Command, frozen=True):
    """Submit linked orders (broker-style linkage, see ``core/orders/links.py``).

    ``kind`` OCO: ``orders`` are the legs, all working at once; when one fills or ends the
    engine cancels the others (``oco_partial`` REDUCE: a partial fill shrinks the others by
    what filled instead). OTO: ``orders[0]`` is the parent, the rest its children, held by the
    engine until the parent fills. BRACKET: an OTO whose released children form an OCO group.
    Every order of the list must belong to ``account_id``."""

    account_id: str
    kind: str
    orders: tuple[SubmitOrder, ...]
    oco_partial: str = "CANCEL"


class CancelOrder(Command, frozen=True):
    """Cancel by ``order_id`` or by the account's ``client_order_id``."""

    account_id: str
    order_id: int | None = None
    client_order_id: str | None = None


class ModifyOrder(Command, frozen=True):
    """Cancel/replace: new total quantity, limit price and/or trigger price (None keeps it)."""

    account_id: str
    order_id: int | None = None
    client_order_id: str | None = None
    qty: Decimal | None = None
    price: Decimal | None = None
    trigger_price: Decimal | None = None


class UpdatePrices(Command, frozen=True):
    """Market data: last trade and/or mark price of an instrument."""

    symbol: str
    last: Decimal | None = None
    mark: Decimal | None = None


class AdvanceTime(Command, frozen=True):
    """A timer tick: lets the engine expire DAY and GTD orders up to ``ts``."""


# ---------------------------------------------------------------------- risk operations
class OperatorCommand(Command, frozen=True, kw_only=True):
    """An operator's action: ``actor`` (who) and ``reason`` (why) are journaled with its effect."""

    actor: str
    reason: str = ""


class SetRiskLimits(OperatorCommand, frozen=True, kw_only=True):
    """Replace the limits of one scope (``scope_id`` is "" for GLOBAL)."""

    scope: Scope
    scope_id: str = ""
    limits: RiskLimits


class SetTradingState(OperatorCommand, frozen=True, kw_only=True):
    scope: Scope
    scope_id: str = ""
    state: TradingState


class TripKillSwitch(OperatorCommand, frozen=True, kw_only=True):
    """Block new orders in the scope, cancel its open orders and, with ``flatten``, close its
    positions with reduce-only market orders. Firing it again changes nothing."""

    scope: Scope
    scope_id: str = ""
    flatten: bool = False


class ResetKillSwitch(OperatorCommand, frozen=True, kw_only=True):
    scope: Scope
    scope_id: str = ""


class ResetCircuitBreaker(OperatorCommand, frozen=True, kw_only=True):
    scope: Scope
    scope_id: str = ""


class SetMarketStatus(OperatorCommand, frozen=True, kw_only=True):
    """Override an instrument's session (halt, close, reopen); ``None`` returns it to its schedule."""

    symbol: str
    status: MarketStatus | None = None


class TriggerScaleOut(Command, frozen=True):
    """Seed 001 §6.2 "Parabolic/Exhaustion Events: Scale-Out-Ladder triggert sofort": the
    trade's working targets are taken now, by a limit at the bid repriced until filled (§3.1
    "Normal Exit (Tranchen)"); the runner stays on the stop. ``reason`` names the event."""

    trade_id: str
    reason: str = ""


class SetPolicyParams(OperatorCommand, frozen=True, kw_only=True):
    """Replace the execution policy's parameters (seed 001 §16; ``core/policy/params.py``):
    ``overrides`` holds ``(name, value text)`` pairs applied to the seed defaults (an empty
    tuple returns to the defaults). Every name and value is checked; a bad one refuses the
    whole command and nothing changes."""

    overrides: tuple[tuple[str, str], ...] = ()


# ---------------------------------------------------------------------- derivatives venue
class SetMarginMode(Command, frozen=True):
    """Margin one account's positions in one derivative ISOLATED or CROSS (only while flat)."""

    account_id: str
    symbol: str
    mode: MarginMode


class AdjustIsolatedMargin(Command, frozen=True):
    """Add margin to, or remove it from, an isolated position. ``amount`` is positive; ``remove``
    says which way."""

    account_id: str
    symbol: str
    amount: Decimal
    remove: bool = False
    position_side: PositionSide | None = None


class SetMarginTiers(OperatorCommand, frozen=True, kw_only=True):
    """Replace a derivative's maintenance-margin tier table."""

    symbol: str
    tiers: tuple[MarginTier, ...]


class SetFundingRate(Command, frozen=True):
    """The funding rate the next settlement of a perpetual will apply (a fraction: 0.0001 = 0.01%)."""

    symbol: str
    rate: Decimal


class DepositInsuranceFund(OperatorCommand, frozen=True, kw_only=True):
    """Put money into (positive) or take it out of (negative) the insurance fund of an asset."""

    asset: str
    amount: Decimal


class SettleFuture(OperatorCommand, frozen=True, kw_only=True):
    """Cash-settle a dated future at its settlement price: open orders are cancelled, every
    position closes at ``price`` and the instrument stops trading."""

    symbol: str
    price: Decimal


class RepairJournal(OperatorCommand, frozen=True, kw_only=True):
    """Record that the journal lost seqs ``lost_from_seq`` .. ``lost_to_seq`` (found when it was
    opened, see ``RecoveryReport``) and carry on above them: the node sends it, once, as the first
    thing after recovering a damaged journal the operator chose to repair. ``reason`` is the
    damage's code (``CRC_MISMATCH``, ``TRUNCATED``...)."""

    detail: str = ""
    lost_from_seq: int
    lost_to_seq: int
    lost_events: int
    lost_chunks: int = 0
    kept_at: str = ""


class SubmitTradeIntent(Command, frozen=True):
    """A strategy's trade intent (seed 001 section 1): no order details, the OMS derives them.

    ``risk_amount`` is R in the quote currency: the size is ``R / |entry_ideal - stop|`` in whole
    lots. ``intent_id`` is the idempotency key (and the trade id)."""

    intent_id: str
    account_id: str
    symbol: str
    side: Side
    entry_ideal: Decimal
    entry_max: Decimal
    stop: Decimal
    risk_amount: Decimal
    urgency: str = "NORMAL"
    bias: str = "NEUTRAL"
    scale_out: str = "STANDARD"
    target_policy: str = "TRANCHES"
    key_level: Decimal | None = None
    #: §12.1 scale-up: the open trade of the same pipeline this intent adds to (a child trade
    #: with its own entry, stop and targets; the parent's shares are untouched).
    add_to: str | None = None


# ---------------------------------------------------------------- stop maintenance (issue 13)
class ApplyBar(Command, frozen=True):
    """Market data: one complete 1-minute OHLCV bar of ``symbol`` starting at ``start_ns`` (an
    external venue's or a backtest's bar; seed 001 §10.1). Refused (``CommandRejected``) when its
    numbers contradict each other or the symbol is unknown."""

    symbol: str
    start_ns: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal = Decimal(0)


class TightenTradeStop(Command, frozen=True):
    """A CRITICAL monitor event (seed 001 §10.1 "Bei CRITICAL Monitor Event (z.B. Blow-off ->
    tighten)"): run the trade's stop maintenance at once; ``stop`` (optional) is one more
    candidate level, taken only if it tightens (the stop never loosens)."""

    trade_id: str
    reason: str
    stop: Decimal | None = None


class SetTradeTargetPolicy(Command, frozen=True):
    """Switch an open trade's target policy (seed 001 §7: ``TRAIL_ONLY`` cancels every open
    target and trails the whole remaining position)."""

    trade_id: str
    target_policy: str
    reason: str = ""


class ResumeTrading(OperatorCommand, frozen=True, kw_only=True):
    """The strategy's next cycle (seed 001 §8.2 "bis naechster LLM-Zyklus"): ends the account's
    low-fill-rate degradation and forgets its entry attempts (``TradingResumed``)."""

    account_id: str


# ---------------------------------------------------------------------- US markets (issue 15 §3)
class SessionException(msgspec.Struct, frozen=True, kw_only=True):
    """One day off a session's weekly schedule: ``day`` (``YYYY-MM-DD``, exchange-local) has no
    session (``close_min`` None, a holiday) or its regular session closes early, ``close_min``
    minutes after local midnight (780 = 13:00)."""

    day: str
    close_min: int | None = None
    name: str = ""


class SetSessionCalendar(OperatorCommand, frozen=True, kw_only=True):
    """The exchange calendar of ``session`` from ``first_day`` to ``last_day`` (inclusive,
    ``YYYY-MM-DD``): its holidays and early closes, computed by the runtime
    (``runtime/calendars.py``) and handed to the core as data. It replaces what an earlier
    calendar said about those days."""

    session: str = "XNYS"
    first_day: str
    last_day: str
    exceptions: tuple[SessionException, ...] = ()


class ApplyCorporateAction(OperatorCommand, frozen=True, kw_only=True):
    """A corporate action on an equity (POS-5), effective at ``ts``.

    ``SPLIT``: every holding × ``ratio`` (2 for a 2-for-1, 0.1 for a 1-for-10 reverse split),
    cost per share ÷ ``ratio``, open orders' leaves × ``ratio`` and prices ÷ ``ratio`` (to the
    tick). ``BONUS``: ``ratio`` new shares per share held, at zero cost. ``DIVIDEND``: ``amount``
    of the quote currency per share held, paid in cash (a short pays it); no position change.
    ``action_id`` names it (a second action with the same id is refused)."""

    symbol: str
    kind: str
    action_id: str
    ratio: Decimal | None = None
    amount: Decimal | None = None


class RecordCloseEquity(Command, frozen=True):
    """The regular close: record every US-equities margin account's equity at ``ts``; the
    pattern-day-trader rule reads it the next business day ("prior-close equity")."""
