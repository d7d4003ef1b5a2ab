"""Events: what happened (past-tense names). The journal stores them; state is their fold.

Every event carries ``seq`` (gap-free, global within one engine) and ``ts_event`` (integer ns).
``Event`` below is the tagged union the journal encodes and decodes. The events themselves live
in topic modules (``events_accounts.py``, ``events_orders.py``, ``events_risk.py``,
``events_derivatives.py``, ``events_retention.py``, ``events_equities.py``, ``events_venues.py``,
``events_lists.py``, ``events_trades.py`` ...) and are importable from here too. A journal tags an
event by its class name only, so moving a class between these modules changes no journal.

Every decision is carried in an event's fields, so the fold only books: the order's status after
a fill, a correction, a replace or a refused cancel (``order_status``), whether a replace cost the
order its place in the queue (``loses_priority``), which accounts a kill switch flattens
(``flatten_accounts``), whether a venue rejection is a system error (``system_error``), where
funding starts counting (``funding_from_ts``). Journals written before these fields existed
decode them as ``None``; ``core/state/legacy.py`` then reaches the same decision the fold made
at the time, so old journals replay to the same state.
"""

from __future__ import annotations

from atlas_oms.model.event_base import EventBase as EventBase
from atlas_oms.model.events_accounts import (
    AccountOpened,
    BalanceAdjusted,
    CommandRejected,
    FundsTransferred,
    InstrumentAdded,
    LeverageSet,
    PricesUpdated,
)
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
from atlas_oms.model.events_derivatives import (
    FundingRateSet,
    FundingSettled,
    FutureSettled,
    InsuranceFundDeposited,
    IsolatedMarginAdjusted,
    LiquidationFinished,
    LiquidationFundTransfer,
    LiquidationStarted,
    LiquidationStep,
    MarginModeSet,
    MarginTiersSet,
    PositionAutoDeleveraged,
)
from atlas_oms.model.events_equities import (
    CloseEquityRecorded,
    CorporateActionApplied,
    OrderSessionQueued,
    OrderSessionReleased,
    OrderSessionReleaseRefused,
    PositionQtyAdopted,
    SessionCalendarSet,
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
from atlas_oms.model.events_orders import (
    OrderAccepted,
    OrderCanceled,
    OrderCancelRejected,
    OrderDenied,
    OrderDuplicateIgnored,
    OrderExpired,
    OrderFillBusted,
    OrderFillCorrected,
    OrderFilled,
    OrderModifyRejected,
    OrderPendingCancel,
    OrderPendingReplace,
    OrderRejected,
    OrderReplaced,
    OrderSubmitted,
    OrderTrailingUpdated,
    OrderTriggered,
    VenueReportIgnored,
)
from atlas_oms.model.events_rebalance import RebalancePlanned, VenueTransferNoted
from atlas_oms.model.events_retention import ArchivedOrder as ArchivedOrder
from atlas_oms.model.events_retention import (
    JournalRepaired,
    OrderRestored,
    OrdersArchived,
)
from atlas_oms.model.events_risk import (
    AccountFlattening,
    BreakerEquityMarked,
    CircuitBreakerReset,
    CircuitBreakerTripped,
    KillSwitchReset,
    KillSwitchTripped,
    MarketStatusChanged,
    RiskAlert,
    RiskLimitsSet,
    TradingStateChanged,
)
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
