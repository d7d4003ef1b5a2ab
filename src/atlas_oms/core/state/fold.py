"""The fold: ``state = fold(apply, events)``. One applier per event type, in one table.

Nothing else changes the state. Appliers book what their event says and decide nothing; the
decision side (the handlers) put every decision in the events' fields.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from atlas_oms.core.state import booking
from atlas_oms.core.state import fold_accounts as acc
from atlas_oms.core.state import fold_derivatives as der
from atlas_oms.core.state import fold_orders as ords
from atlas_oms.core.state import fold_risk as rsk
from atlas_oms.model import events as ev

if TYPE_CHECKING:
    from atlas_oms.core.state.state import State

Applier = Callable[["State", Any], None]

#: Event type -> its applier. Every member of the ``Event`` union has one (a test pins it).
APPLIERS: dict[type, Applier] = {
    ev.InstrumentAdded: acc.apply_instrument_added,
    ev.AccountOpened: acc.apply_account_opened,
    ev.BalanceAdjusted: acc.apply_balance_adjusted,
    ev.FundsTransferred: acc.apply_funds_transferred,
    ev.LeverageSet: acc.apply_leverage_set,
    ev.PricesUpdated: acc.apply_prices_updated,
    ev.CommandRejected: ords.apply_nothing,
    ev.OrderDenied: ords.apply_denied,
    ev.OrderSubmitted: ords.apply_submitted,
    ev.OrderDuplicateIgnored: ords.apply_nothing,
    ev.OrderAccepted: ords.apply_accepted,
    ev.OrderRejected: ords.apply_rejected,
    ev.OrderTriggered: ords.apply_triggered,
    ev.OrderTrailingUpdated: ords.apply_trailing_updated,
    ev.OrderPendingCancel: ords.apply_pending_cancel,
    ev.OrderCancelRejected: ords.apply_cancel_rejected,
    ev.OrderCanceled: ords.apply_canceled,
    ev.OrderPendingReplace: ords.apply_pending_replace,
    ev.OrderReplaced: ords.apply_replaced,
    ev.OrderModifyRejected: ords.apply_modify_rejected,
    ev.OrderExpired: ords.apply_expired,
    ev.OrderFilled: booking.apply_filled,
    ev.OrderFillBusted: booking.apply_fill_busted,
    ev.OrderFillCorrected: booking.apply_fill_corrected,
    ev.VenueReportIgnored: ords.apply_nothing,
    ev.RiskLimitsSet: rsk.apply_risk_limits_set,
    ev.TradingStateChanged: rsk.apply_trading_state_changed,
    ev.KillSwitchTripped: rsk.apply_kill_switch_tripped,
    ev.KillSwitchReset: rsk.apply_kill_switch_reset,
    ev.CircuitBreakerTripped: rsk.apply_breaker_tripped,
    ev.CircuitBreakerReset: rsk.apply_breaker_reset,
    ev.BreakerEquityMarked: rsk.apply_breaker_equity_marked,
    ev.RiskAlert: rsk.apply_risk_alert,
    ev.AccountFlattening: rsk.apply_account_flattening,
    ev.MarketStatusChanged: rsk.apply_market_status_changed,
    ev.MarginModeSet: der.apply_margin_mode_set,
    ev.IsolatedMarginAdjusted: der.apply_isolated_margin_adjusted,
    ev.MarginTiersSet: der.apply_margin_tiers_set,
    ev.FundingRateSet: der.apply_funding_rate_set,
    ev.FundingSettled: der.apply_funding_settled,
    ev.InsuranceFundDeposited: der.apply_insurance_fund_deposited,
    ev.LiquidationStarted: der.apply_liquidation_started,
    ev.LiquidationStep: der.apply_liquidation_step,
    ev.LiquidationFundTransfer: der.apply_liquidation_fund_transfer,
    ev.PositionAutoDeleveraged: der.apply_position_auto_deleveraged,
    ev.LiquidationFinished: der.apply_liquidation_finished,
    ev.FutureSettled: der.apply_future_settled,
}


def apply(state: State, event: ev.EventBase) -> None:
    """Fold one event into the state. Events must arrive gap-free, in sequence."""
    if event.seq != state.seq + 1:
        raise ValueError(f"event seq {event.seq} does not follow {state.seq}")
    state.seq = event.seq
    APPLIERS[event.__class__](state, event)


def apply_all(state: State, events: Iterable[ev.EventBase]) -> None:
    """Fold events in order (replay)."""
    appliers = APPLIERS
    seq = state.seq
    for event in events:
        seq += 1
        if event.seq != seq:
            raise ValueError(f"event seq {event.seq} does not follow {seq - 1}")
        state.seq = seq
        appliers[event.__class__](state, event)
