"""Events: what happened (past-tense names). The journal stores them; state is their fold.

Every event carries ``seq`` (gap-free, global within one engine) and ``ts_event`` (integer ns).
``Event`` below is the tagged union the journal encodes and decodes. The events of external
venues, linked orders and managed trades live in ``events_venues.py``, ``events_lists.py`` and
``events_trades.py`` and are importable from here too.

Every decision is carried in an event's fields, so the fold only books: the order's status after
a fill, a correction, a replace or a refused cancel (``order_status``), whether a replace cost the
order its place in the queue (``loses_priority``), which accounts a kill switch flattens
(``flatten_accounts``), whether a venue rejection is a system error (``system_error``), where
funding starts counting (``funding_from_ts``). Journals written before these fields existed
decode them as ``None``; ``core/state/legacy.py`` then reaches the same decision the fold made
at the time, so old journals replay to the same state.
"""

from __future__ import annotations

from decimal import Decimal

import msgspec

from atlas_oms.model.account import Account
from atlas_oms.model.commands import SubmitOrder
from atlas_oms.model.enums import (
    LiquiditySide,
    OrderStatus,
    OrderType,
    PositionSide,
    Side,
    TimeInForce,
    TrailingOffsetType,
    TriggerType,
)
from atlas_oms.model.event_base import EventBase as EventBase
from atlas_oms.model.events_algos import (
    AlgoAccepted,
    AlgoCanceled,
    AlgoChildPlaced,
    AlgoChildRefused,
    AlgoCompleted,
    AlgoPaused,
    AlgoRefused,
    AlgoRerouted,
    AlgoResumed,
    AlgoRouted,
    AlgoRouteRequested,
    AlgoSlicesPlanned,
    AlgoSliceStarted,
)
from atlas_oms.model.events_cycles import (
    RepricingDegraded,
    SlippageEscalated,
    TradeSized,
    TradeSlippageRecorded,
    TradingDayOpened,
    TradingResumed,
)
from atlas_oms.model.events_exits import (
    TradeCannotLiquidate,
    TradeExitOrderPlaced,
    TradeExitStarted,
    TradeForcedCloseOrder,
    TradeSessionObserved,
    TradeStopRejected,
    TradeStopTriggered,
)
from atlas_oms.model.events_lists import (
    OrderListClosed,
    OrderListCreated,
    OrderListReleased,
    OrderListSiblingCanceled,
)
from atlas_oms.model.events_market_data import VenueSpreadCrossed
from atlas_oms.model.events_rebalance import RebalancePlanned, VenueTransferNoted
from atlas_oms.model.events_routing import RouteSwitched
from atlas_oms.model.events_sor import (
    ArbitrageDetected,
    ArbitragePairDone,
    ArbitragePairPlaced,
    ArbitragePairUnwound,
)
from atlas_oms.model.events_trades import (
    PolicyParamsSet,
    TradeBracketPlaced,
    TradeClosed,
    TradeEntryAbandoned,
    TradeEntryPlaced,
    TradeEntryRepriced,
    TradeIntentAccepted,
    TradeIntentRefused,
    TradeScaleOutEnded,
    TradeScaleOutPlaced,
    TradeScaleOutStarted,
    TradeStopFired,
    TradeStopMoved,
    TradeStopPlaced,
    TradeStopResized,
    TradeTargetCanceled,
    TradeTargetsAdded,
)
from atlas_oms.model.events_trailing import (
    BarApplied,
    BarClosed,
    TradeEntryAtrSet,
    TradeTargetPolicySet,
    TradeTrailingStarted,
)
from atlas_oms.model.events_venues import (
    ExternalOrderAdopted,
    OrderOutcomeUnknown,
    PositionReconciled,
    VenueReconciled,
    VenueStatusChanged,
)
from atlas_oms.model.events_venues import VenueDifference as VenueDifference
from atlas_oms.model.instrument import Instrument
from atlas_oms.model.margin import MarginMode, MarginTier
from atlas_oms.model.risk import (
    AlertLevel,
    BreakerState,
    MarketStatus,
    RiskLimits,
    Scope,
    TradingState,
)


class InstrumentAdded(EventBase, frozen=True):
    instrument: Instrument


class AccountOpened(EventBase, frozen=True):
    account: Account


class BalanceAdjusted(EventBase, frozen=True):
    account_id: str
    asset: str
    amount: Decimal
    reason: str


class FundsTransferred(EventBase, frozen=True):
    """``amount`` (positive) of ``asset`` left ``account_id`` and reached ``to_account_id``, two
    accounts of one account tree: the same Decimal on both sides, so money is neither created nor
    lost. It is in both accounts' audit trails."""

    account_id: str
    to_account_id: str
    asset: str
    amount: Decimal
    reason: str
    #: A planned (rebalancing) transfer's id, its idempotency key ("" for a manual transfer).
    transfer_id: str = ""
    #: The venue's id of the transfer (Binance ``tranId``), "" when it was made in Atlas only.
    venue_transfer_id: str = ""


class LeverageSet(EventBase, frozen=True):
    account_id: str
    symbol: str
    leverage: Decimal


class PricesUpdated(EventBase, frozen=True):
    symbol: str
    last: Decimal | None = None
    mark: Decimal | None = None


class CommandRejected(EventBase, frozen=True):
    """A command that was refused and changed nothing (a bad deposit, a duplicate account…)."""

    command: str
    reason: str
    message: str
    account_id: str | None = None
    #: Who asked, for an operator's command.
    actor: str | None = None


class OrderDenied(EventBase, frozen=True):
    """The engine refused the order before it reached any venue."""

    order_id: int
    intent: SubmitOrder
    reason: str
    message: str


class OrderSubmitted(EventBase, frozen=True):
    """The order's intent, recorded before anything is sent to a venue.

    ``reserved`` of ``reserved_asset`` is locked for it: ``reserve_unit`` per unit of leaves.
    ``protection_price`` bounds its market execution; ``trigger_price`` is its initial trigger.
    """

    order_id: int
    intent: SubmitOrder
    reserved_asset: str | None
    reserve_unit: Decimal
    protection_price: Decimal | None
    trigger_price: Decimal | None
    expire_ts: int | None


class OrderDuplicateIgnored(EventBase, frozen=True):
    """A submit reused a client order id: the existing order stands, nothing else happened."""

    order_id: int
    account_id: str
    client_order_id: str


class OrderAccepted(EventBase, frozen=True):
    order_id: int
    venue_order_id: str | None
    #: Where an external venue's word came from (stream, query, reconciliation); None otherwise.
    source: str | None = None


class OrderRejected(EventBase, frozen=True):
    """The venue refused the order. ``system_error``: the refusal counts as a system error for
    circuit breakers (a venue failure, not a business outcome such as a post-only cross)."""

    order_id: int
    reason: str
    message: str
    system_error: bool | None = None
    source: str | None = None


class OrderTriggered(EventBase, frozen=True):
    """A held order's trigger fired; ``price`` is the limit it now works at (None: market)."""

    order_id: int
    trigger_price: Decimal
    last_px: Decimal
    price: Decimal | None
    protection_price: Decimal | None = None


class OrderTrailingUpdated(EventBase, frozen=True):
    """A trailing stop tightened (it never loosens)."""

    order_id: int
    watermark: Decimal
    trigger_price: Decimal


class OrderPendingCancel(EventBase, frozen=True):
    """A cancel was sent; ``reason`` says who wanted it when it was not the user (kill switch)."""

    order_id: int
    reason: str | None = None


class OrderCancelRejected(EventBase, frozen=True):
    """A cancel was refused: by the engine (the order is unchanged) or by the venue (a pending
    cancel goes back to the order's working status). ``order_status`` is the order's status after
    it (None: no such order)."""

    account_id: str
    reason: str
    message: str
    order_id: int | None = None
    client_order_id: str | None = None
    order_status: OrderStatus | None = None


class OrderCanceled(EventBase, frozen=True):
    order_id: int
    reason: str
    source: str | None = None


class OrderPendingReplace(EventBase, frozen=True):
    """A modify was sent; ``reserve_extra`` more funds are locked until the venue answers."""

    order_id: int
    qty: Decimal
    price: Decimal | None
    trigger_price: Decimal | None
    reserve_extra: Decimal


class OrderReplaced(EventBase, frozen=True):
    """The order now has this quantity and prices (quantity <= filled completes it).

    ``order_status`` is its status after the replace; ``loses_priority``: it went to the back of
    its price level's queue at the venue (a new price, or more quantity)."""

    order_id: int
    qty: Decimal
    price: Decimal | None
    trigger_price: Decimal | None
    reserve_unit: Decimal
    protection_price: Decimal | None = None
    order_status: OrderStatus | None = None
    loses_priority: bool | None = None
    source: str | None = None


class OrderModifyRejected(EventBase, frozen=True):
    """A modify was refused: by the engine (the order is unchanged) or by the venue (a pending
    replace goes back to the order's working status). ``order_status`` is the order's status after
    it (None: no such order)."""

    account_id: str
    reason: str
    message: str
    order_id: int | None = None
    client_order_id: str | None = None
    order_status: OrderStatus | None = None


class OrderExpired(EventBase, frozen=True):
    order_id: int
    source: str | None = None


class OrderFilled(EventBase, frozen=True):
    """One execution of an order; positions and balances follow from it. ``order_status`` is the
    order's status after it (FIX OrdStatus): a partial or a full fill, or a late fill that leaves a
    canceled or expired order as it was."""

    order_id: int
    account_id: str
    symbol: str
    side: Side
    exec_id: str
    trade_id: str
    last_qty: Decimal
    last_px: Decimal
    liquidity_side: LiquiditySide
    fee: Decimal
    fee_asset: str
    venue_order_id: str | None = None
    order_status: OrderStatus | None = None
    source: str | None = None


class OrderFillBusted(EventBase, frozen=True):
    """The venue broke an earlier execution; its effects on order, position and balances reverse.
    ``order_status`` is the order's status after it (FIX ExecType H): a FILLED order that it
    leaves below its quantity reopens (PARTIALLY_FILLED, or its working status with nothing
    filled); a canceled or expired one stays so. None in journals written before it was added."""

    order_id: int
    exec_id: str
    order_status: OrderStatus | None = None
    #: The reversal comes out of the lot the execution opened, if it still holds it (nothing
    #: realized); False in older journals, which booked it as a FIFO closing trade.
    takes_back_lot: bool = False


class OrderFillCorrected(EventBase, frozen=True):
    """The venue corrected an earlier execution: its old effects reverse, the corrected ones apply.
    ``order_status`` is the order's status after it (a correction may complete the order)."""

    order_id: int
    exec_id: str
    last_qty: Decimal
    last_px: Decimal
    fee: Decimal
    order_status: OrderStatus | None = None
    #: As :attr:`OrderFillBusted.takes_back_lot`, for the reversal of the execution as it was.
    takes_back_lot: bool = False


class VenueReportIgnored(EventBase, frozen=True):
    """A venue report that could not apply (unknown order, duplicate, would overfill), kept for audit."""

    order_id: int
    report: str
    reason: str
    message: str


# ---------------------------------------------------------------------- risk
class RiskLimitsSet(EventBase, frozen=True):
    scope: Scope
    scope_id: str
    limits: RiskLimits
    actor: str
    reason: str


class TradingStateChanged(EventBase, frozen=True):
    scope: Scope
    scope_id: str
    state: TradingState
    actor: str
    reason: str


class KillSwitchTripped(EventBase, frozen=True):
    """From this event on, no order in the scope is accepted (its own flattening orders aside).
    With ``flatten``, the accounts in ``flatten_accounts`` (those of the scope holding a position
    when it tripped) are closed once their open orders are gone."""

    scope: Scope
    scope_id: str
    actor: str
    reason: str
    flatten: bool = False
    flatten_accounts: list[str] | None = None


class KillSwitchReset(EventBase, frozen=True):
    scope: Scope
    scope_id: str
    actor: str
    reason: str


class CircuitBreakerTripped(EventBase, frozen=True):
    """``cause`` is the limit met (``DAILY_LOSS_LIMIT``…); no reset before ``cooldown_until``,
    automatic reset at ``auto_reset_at`` (None: manual reset only)."""

    scope: Scope
    scope_id: str
    cause: str
    message: str
    cooldown_until: int
    auto_reset_at: int | None
    actor: str = "risk"
    reason: str = ""


class CircuitBreakerReset(EventBase, frozen=True):
    scope: Scope
    scope_id: str
    actor: str
    reason: str
    automatic: bool = False
    state: BreakerState = BreakerState.CLOSED


class BreakerEquityMarked(EventBase, frozen=True):
    """The breaker measured a new day (start-of-day equity) or a new equity peak."""

    scope: Scope
    scope_id: str
    day: int
    start_equity: Decimal
    peak_equity: Decimal


class RiskAlert(EventBase, frozen=True):
    """A warning or a CRITICAL alert for people to act on; ``code`` is a reason code."""

    level: AlertLevel
    code: str
    message: str
    account_id: str | None = None
    order_id: int | None = None
    symbol: str | None = None


class AccountFlattening(EventBase, frozen=True):
    """A kill switch with ``flatten`` closes this account's positions now (its orders are gone)."""

    account_id: str
    scope: Scope
    scope_id: str
    actor: str
    reason: str


class MarketStatusChanged(EventBase, frozen=True):
    symbol: str
    status: MarketStatus | None
    actor: str
    reason: str


# ---------------------------------------------------------------------- derivatives venue
class MarginModeSet(EventBase, frozen=True):
    account_id: str
    symbol: str
    mode: MarginMode


class IsolatedMarginAdjusted(EventBase, frozen=True):
    """Margin moved into (positive) or out of (negative) an isolated position."""

    account_id: str
    symbol: str
    position_side: PositionSide
    amount: Decimal


class MarginTiersSet(EventBase, frozen=True):
    symbol: str
    tiers: tuple[MarginTier, ...]
    actor: str
    reason: str


class FundingRateSet(EventBase, frozen=True):
    """The rate of the perpetual's next funding settlement. ``funding_from_ts``, on its first
    rate: the funding boundary settlements count from (the one at or before the event)."""

    symbol: str
    rate: Decimal
    funding_from_ts: int | None = None


class FundingSettled(EventBase, frozen=True):
    """One position's funding at one settlement of a perpetual, at ``mark`` and ``rate``:
    ``amount`` received (+) or paid (-) in ``asset``. One event per open position, so each
    account's trail holds its own payments only."""

    symbol: str
    asset: str
    rate: Decimal
    mark: Decimal
    funding_ts: int
    account_id: str
    position_side: PositionSide
    qty: Decimal
    amount: Decimal


class InsuranceFundDeposited(EventBase, frozen=True):
    asset: str
    amount: Decimal
    actor: str
    reason: str


class LiquidationStarted(EventBase, frozen=True):
    """An account (cross) or one position (isolated) reached 100% margin ratio at ``mark``: it is
    frozen and its positions listed in ``positions`` ``(symbol, position side)`` are liquidated."""

    case_id: int
    account_id: str
    mode: MarginMode
    asset: str
    symbol: str
    mark: Decimal
    margin_balance: Decimal
    maint_margin: Decimal
    positions: list[tuple[str, PositionSide]]


class LiquidationStep(EventBase, frozen=True):
    """The next step of liquidating one position: ``stage`` BOOK (an IOC order at the bankruptcy
    price, ``order_id``), FUND (an IOC at a worse ``price``, the insurance fund paying the
    difference) or ADL (closed against opposite positions at the bankruptcy price)."""

    case_id: int
    symbol: str
    position_side: PositionSide
    stage: str
    bankruptcy_price: Decimal
    order_id: int | None = None
    price: Decimal | None = None


class LiquidationFundTransfer(EventBase, frozen=True):
    """Between a liquidated account and the insurance fund: ``amount`` > 0 goes to the fund (the
    fills were better than the bankruptcy price), < 0 comes from it."""

    case_id: int
    order_id: int
    account_id: str
    asset: str
    amount: Decimal
    filled_qty: Decimal


class PositionAutoDeleveraged(EventBase, frozen=True):
    """ADL: ``qty`` of one account's position closed at the bankruptcy ``price``. They come in
    pairs with the same ``case_id`` and ``rank``: the liquidated position (``liquidated``) and the
    opposite position it was closed against. Neither names the other account."""

    case_id: int
    symbol: str
    price: Decimal
    qty: Decimal
    account_id: str
    position_side: PositionSide
    rank: int
    liquidated: bool = False


class LiquidationFinished(EventBase, frozen=True):
    """The case is over: the account or position is unfrozen. ``shortfall`` is any quantity that
    neither the book, the fund nor ADL could close (0 in a consistent venue)."""

    case_id: int
    account_id: str
    shortfall: Decimal = Decimal(0)


class FutureSettled(EventBase, frozen=True):
    """A dated future was cash-settled at ``price``: every position in it closed there (each
    account's realized P&L in its trail as the position's close), and it no longer trades."""

    symbol: str
    price: Decimal
    actor: str
    reason: str


# ----------------------------------------------------------------------------- retention
class ArchivedOrder(msgspec.Struct, frozen=True, kw_only=True, gc=False, omit_defaults=True):
    """A terminal order as the engine held it when it left memory: the order's fields (those
    of ``core/orders/order.py`` but its lookup cache), its executions as booked (corrections
    applied) and the ids of those busted. Enough to load the order back exactly."""

    order_id: int
    account_id: str
    symbol: str
    venue: str
    side: Side
    order_type: OrderType
    qty: Decimal
    price: Decimal | None
    trigger_price: Decimal | None
    trigger_type: TriggerType
    trailing_offset: Decimal | None
    trailing_offset_type: TrailingOffsetType
    limit_offset: Decimal | None
    tif: TimeInForce
    expire_ts: int | None
    post_only: bool
    reduce_only: bool
    position_side: PositionSide
    client_order_id: str | None
    tag: str | None
    ts_init: int
    ts_last: int
    status: OrderStatus
    cum_qty: Decimal
    leaves_qty: Decimal
    cum_notional: Decimal
    fees: Decimal
    fee_asset: str | None = None
    fill_count: int = 0
    venue_order_id: str | None = None
    accepted: bool = False
    held: bool = False
    triggered: bool = False
    watermark: Decimal | None = None
    protection_price: Decimal | None = None
    reserved_asset: str | None = None
    reserve_unit: Decimal = Decimal(0)
    reserved: Decimal = Decimal(0)
    pending: tuple[Decimal, Decimal | None, Decimal | None, Decimal] | None = None
    reason: str | None = None
    priority_seq: int = 0
    intent: SubmitOrder | None = None
    fills: tuple[OrderFilled, ...] = ()
    busted: tuple[str, ...] = ()


class OrdersArchived(EventBase, frozen=True):
    """Terminal orders older than the retention window leave memory (they stay in the journal:
    history reads find them here). ``forgotten`` are the (account, client order id) keys whose
    idempotency window ended; ``keys_swept``: how many entries of the client-id queue were
    looked at (the fold drops that many from its front)."""

    orders: tuple[ArchivedOrder, ...] = ()
    forgotten: tuple[tuple[str, str], ...] = ()
    keys_swept: int = 0


class OrderRestored(EventBase, frozen=True):
    """An archived order is loaded back into memory (a late venue report, a reused client order
    id or a request names it); it leaves again after the retention window."""

    order: ArchivedOrder


class JournalRepaired(EventBase, frozen=True):
    """An operator started the node on a damaged journal on purpose: seqs ``lost_from_seq`` ..
    ``lost_to_seq`` (``lost_events``, in ``lost_chunks`` chunks) are gone for ``reason``
    (``detail``; what could be kept is at ``kept_at``). This event's seq is ``lost_to_seq + 1``,
    the one gap a journal accepts, and the next order id (``next_order_id``) and liquidation case
    id (``next_case_id``) jump above anything the lost range could have issued: nothing is
    issued twice."""

    reason: str
    lost_from_seq: int
    lost_to_seq: int
    lost_events: int
    next_order_id: int
    next_case_id: int
    lost_chunks: int = 0
    kept_at: str = ""
    detail: str = ""
    actor: str = ""


# ---------------------------------------------------------------------- US markets (issue 15 §3)
class SessionCalendarSet(EventBase, frozen=True):
    """A session's holidays and early closes from ``first_day`` to ``last_day`` (``YYYY-MM-DD``):
    each exception is (day, close minute after local midnight, or None for a holiday, name)."""

    session: str
    first_day: str
    last_day: str
    exceptions: tuple[tuple[str, int | None, str], ...]
    actor: str
    reason: str = ""


class CorporateActionApplied(EventBase, frozen=True):
    """A split, bonus or cash dividend on ``symbol`` (POS-5), as booked: ``holdings`` lists
    (account, shares before, shares after, cash paid in the quote currency) per holder; a
    split's open orders are then modified (``OrderPendingReplace``/``OrderReplaced``)."""

    symbol: str
    kind: str
    action_id: str
    ratio: Decimal | None
    amount: Decimal | None
    holdings: tuple[tuple[str, Decimal, Decimal, Decimal], ...]
    actor: str
    reason: str = ""


class CloseEquityRecorded(EventBase, frozen=True):
    """US equities: each margin account's equity at the regular close of trade day ``day``
    (``YYYY-MM-DD``), as (account, currency, equity)."""

    day: str
    equities: tuple[tuple[str, str, Decimal], ...]


class OrderSessionQueued(EventBase, frozen=True):
    """An order accepted while its session is closed (US equities with a journaled calendar):
    Atlas holds it (status ACCEPTED, pending the session) until ``release_ts``, the open of the
    next session it may trade in (pre-market for an extended-hours order, else the regular open);
    it may be canceled or modified meanwhile."""

    order_id: int
    session: str
    release_ts: int


class OrderSessionReleased(EventBase, frozen=True):
    """A session-queued order released at its session's open: sent to its venue (status
    SUBMITTED), or, a stop or take-profit, held by its trigger from now on."""

    order_id: int
    session: str
    order_status: OrderStatus


class OrderSessionReleaseRefused(EventBase, frozen=True):
    """A session-queued order that fails, at its release, a check that depends on the market or
    the account at that moment (price band after a gap, kill switch, halt, buying power, PDT,
    blocked account: ``core/equities/release_checks.py``): canceled by Atlas with ``reason`` (a
    ``Reason`` code) and ``message``; it never reaches the venue."""

    order_id: int
    session: str
    reason: str
    message: str


class PositionQtyAdopted(EventBase, frozen=True):
    """A reconciliation adopted the broker's share count of an equity (a corporate action
    applied in Atlas but not at the broker, or the reverse): the position's lots are rescaled
    from ``qty_before`` to ``qty_after`` with their total cost kept (each lot's price scaled the
    other way), so position and balance agree again. ``action_ids``: the corporate actions
    Atlas applied to the symbol (the likely cause), newest last."""

    account_id: str
    symbol: str
    position_side: PositionSide
    qty_before: Decimal
    qty_after: Decimal
    venue: str
    action_ids: tuple[str, ...] = ()


Event = (
    InstrumentAdded
    | AccountOpened
    | BalanceAdjusted
    | FundsTransferred
    | LeverageSet
    | PricesUpdated
    | CommandRejected
    | OrderDenied
    | OrderSubmitted
    | OrderDuplicateIgnored
    | OrderAccepted
    | OrderRejected
    | OrderTriggered
    | OrderTrailingUpdated
    | OrderPendingCancel
    | OrderCancelRejected
    | OrderCanceled
    | OrderPendingReplace
    | OrderReplaced
    | OrderModifyRejected
    | OrderExpired
    | OrderFilled
    | OrderFillBusted
    | OrderFillCorrected
    | VenueReportIgnored
    | RiskLimitsSet
    | TradingStateChanged
    | KillSwitchTripped
    | KillSwitchReset
    | CircuitBreakerTripped
    | CircuitBreakerReset
    | BreakerEquityMarked
    | RiskAlert
    | AccountFlattening
    | MarketStatusChanged
    | MarginModeSet
    | IsolatedMarginAdjusted
    | MarginTiersSet
    | FundingRateSet
    | FundingSettled
    | InsuranceFundDeposited
    | LiquidationStarted
    | LiquidationStep
    | LiquidationFundTransfer
    | PositionAutoDeleveraged
    | LiquidationFinished
    | FutureSettled
    | OrdersArchived
    | OrderRestored
    | JournalRepaired
    | ExternalOrderAdopted
    | PositionReconciled
    | VenueReconciled
    | VenueStatusChanged
    | OrderOutcomeUnknown
    | RouteSwitched
    | ArbitrageDetected
    | ArbitragePairPlaced
    | ArbitragePairUnwound
    | ArbitragePairDone
    | RebalancePlanned
    | VenueTransferNoted
    | VenueSpreadCrossed
    | OrderListCreated
    | OrderListReleased
    | OrderListSiblingCanceled
    | OrderListClosed
    | TradeIntentAccepted
    | TradeIntentRefused
    | TradeEntryPlaced
    | TradeEntryRepriced
    | TradeEntryAbandoned
    | TradeBracketPlaced
    | TradeStopPlaced
    | TradeStopResized
    | TradeStopMoved
    | TradeTargetCanceled
    | TradeClosed
    | PolicyParamsSet
    | TradeStopFired
    | TradeTargetsAdded
    | TradeScaleOutStarted
    | TradeScaleOutPlaced
    | TradeScaleOutEnded
    | BarClosed
    | BarApplied
    | TradeTrailingStarted
    | TradeEntryAtrSet
    | TradeTargetPolicySet
    | TradeCannotLiquidate
    | TradeExitOrderPlaced
    | TradeExitStarted
    | TradeForcedCloseOrder
    | TradeSessionObserved
    | TradeStopRejected
    | TradeStopTriggered
    | TradingDayOpened
    | TradeSized
    | TradeSlippageRecorded
    | SlippageEscalated
    | RepricingDegraded
    | TradingResumed
    | SessionCalendarSet
    | CorporateActionApplied
    | CloseEquityRecorded
    | OrderSessionQueued
    | OrderSessionReleased
    | OrderSessionReleaseRefused
    | PositionQtyAdopted
    | AlgoAccepted
    | AlgoRefused
    | AlgoSlicesPlanned
    | AlgoSliceStarted
    | AlgoChildPlaced
    | AlgoChildRefused
    | AlgoRouteRequested
    | AlgoRouted
    | AlgoRerouted
    | AlgoPaused
    | AlgoResumed
    | AlgoCanceled
    | AlgoCompleted
)
