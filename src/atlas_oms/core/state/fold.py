"""The fold: ``state = fold(apply, events)``. One applier per event type, in one table.

Nothing else changes the state. Appliers book what their event says and decide nothing; the
decision side (the handlers) put every decision in the events' fields. The appliers of reference
data, money, prices and risk operations are here; orders' lives are in :mod:`.fold_orders`,
executions in :mod:`.booking`, the derivatives venue in :mod:`.fold_derivatives`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from atlas_oms.core import retention
from atlas_oms.core.algos.state import ALGO_APPLIERS
from atlas_oms.core.equities.day_trades import chain_day_trades
from atlas_oms.core.equities.us_fold import US_MARKET_APPLIERS
from atlas_oms.core.orders import link_book
from atlas_oms.core.policy.bar_book import TRAILING_APPLIERS, apply_print
from atlas_oms.core.policy.desk import DESK_APPLIERS, chain_filled
from atlas_oms.core.policy.exits_state import EXIT_APPLIERS
from atlas_oms.core.policy.trade_state import TRADE_APPLIERS
from atlas_oms.core.sor.pair_state import SOR_APPLIERS
from atlas_oms.core.state import booking
from atlas_oms.core.state import fold_derivatives as der
from atlas_oms.core.state import fold_orders as ords
from atlas_oms.core.venues import fold as venues
from atlas_oms.model import events as ev

if TYPE_CHECKING:
    from atlas_oms.core.state.state import State
from typing import TYPE_CHECKING

from atlas_oms.core.state import legacy


# ------------------------------------------------------------- reference data, money, prices
def apply_instrument_added(state: State, e: ev.InstrumentAdded) -> None:
    if e.instrument.symbol in state.instruments:  # an update (a venue reloaded its rules)
        booking.forget_instrument(state, e.instrument.symbol)
    state.instruments[e.instrument.symbol] = e.instrument


def apply_account_opened(state: State, e: ev.AccountOpened) -> None:
    state.accounts[e.account.account_id] = e.account
    state.risk.on_account(e.account.account_id, e.account.parent_id)


def apply_balance_adjusted(state: State, e: ev.BalanceAdjusted) -> None:
    state.balance(e.account_id, e.asset).total += e.amount
    state.liq_index.dirty.add(e.account_id)


def apply_funds_transferred(state: State, e: ev.FundsTransferred) -> None:
    # The same Decimal leaves one balance and reaches the other: nothing is created or lost.
    state.balance(e.account_id, e.asset).total -= e.amount
    state.balance(e.to_account_id, e.asset).total += e.amount
    dirty = state.liq_index.dirty  # both accounts' cross margin (liquidation prices) moved
    dirty.add(e.account_id)
    dirty.add(e.to_account_id)


def apply_leverage_set(state: State, e: ev.LeverageSet) -> None:
    state.leverage[(e.account_id, e.symbol)] = e.leverage


def apply_prices_updated(state: State, e: ev.PricesUpdated) -> None:
    if e.last is not None:
        state.last[e.symbol] = e.last
    if e.mark is not None:
        state.mark[e.symbol] = e.mark
        state.liq_index.epoch += 1


# ------------------------------------------------------------------------- risk operations
def apply_risk_limits_set(state: State, e: ev.RiskLimitsSet) -> None:
    state.risk.on_limits(e)


def apply_trading_state_changed(state: State, e: ev.TradingStateChanged) -> None:
    state.risk.on_trading_state(e)


def apply_kill_switch_tripped(state: State, e: ev.KillSwitchTripped) -> None:
    accounts = e.flatten_accounts
    if accounts is None:
        accounts = legacy.flatten_accounts(state, e)
    state.risk.on_kill(e, accounts)


def apply_kill_switch_reset(state: State, e: ev.KillSwitchReset) -> None:
    state.risk.on_kill_reset(e)


def apply_breaker_tripped(state: State, e: ev.CircuitBreakerTripped) -> None:
    state.risk.on_breaker_tripped(e)


def apply_breaker_reset(state: State, e: ev.CircuitBreakerReset) -> None:
    state.risk.on_breaker_reset(e)


def apply_breaker_equity_marked(state: State, e: ev.BreakerEquityMarked) -> None:
    state.risk.on_equity_marked(e)


def apply_risk_alert(state: State, e: ev.RiskAlert) -> None:
    state.risk.on_alert(e)


def apply_account_flattening(state: State, e: ev.AccountFlattening) -> None:
    state.risk.on_flattening(e.account_id)


def apply_market_status_changed(state: State, e: ev.MarketStatusChanged) -> None:
    state.risk.on_market_status(e.symbol, e.status)


def apply_journal_repaired(state: State, e: ev.JournalRepaired) -> None:
    # The event's own seq (lost_to_seq + 1) is booked by apply/emit; the ids jump as decided.
    state.next_order_id = max(state.next_order_id, e.next_order_id)
    state.liq.next_case_id = max(state.liq.next_case_id, e.next_case_id)


def _bridged(seq: int, event: ev.EventBase) -> bool:
    """Whether ``event`` is a repair naming exactly the gap after ``seq`` (the one gap allowed)."""
    return (
        isinstance(event, ev.JournalRepaired)
        and event.lost_from_seq == seq + 1
        and event.lost_to_seq == event.seq - 1
    )


def apply_filled(state: State, e: ev.OrderFilled) -> None:
    """Book the execution, then the print in its symbol's 1-minute bar (core/policy/bar_book.py)."""
    booking.apply_filled(state, e)
    apply_print(state, e)


Applier = Callable[["State", Any], None]

#: Event type -> its applier. Every member of the ``Event`` union has one (a test pins it).
APPLIERS: dict[type, Applier] = {
    ev.InstrumentAdded: apply_instrument_added,
    ev.AccountOpened: apply_account_opened,
    ev.BalanceAdjusted: apply_balance_adjusted,
    ev.FundsTransferred: apply_funds_transferred,
    ev.LeverageSet: apply_leverage_set,
    ev.PricesUpdated: apply_prices_updated,
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
    ev.OrderFilled: apply_filled,
    ev.OrderFillBusted: booking.apply_fill_busted,
    ev.OrderFillCorrected: booking.apply_fill_corrected,
    ev.VenueReportIgnored: ords.apply_nothing,
    ev.RiskLimitsSet: apply_risk_limits_set,
    ev.TradingStateChanged: apply_trading_state_changed,
    ev.KillSwitchTripped: apply_kill_switch_tripped,
    ev.KillSwitchReset: apply_kill_switch_reset,
    ev.CircuitBreakerTripped: apply_breaker_tripped,
    ev.CircuitBreakerReset: apply_breaker_reset,
    ev.BreakerEquityMarked: apply_breaker_equity_marked,
    ev.RiskAlert: apply_risk_alert,
    ev.AccountFlattening: apply_account_flattening,
    ev.MarketStatusChanged: apply_market_status_changed,
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
    ev.OrdersArchived: retention.apply_archived,
    ev.OrderRestored: retention.apply_restored,
    ev.JournalRepaired: apply_journal_repaired,
    ev.ExternalOrderAdopted: venues.apply_external_adopted,
    ev.PositionReconciled: venues.apply_position_reconciled,
    ev.VenueReconciled: venues.apply_venue_reconciled,
    ev.VenueStatusChanged: venues.apply_venue_status_changed,
    ev.OrderOutcomeUnknown: venues.apply_outcome_unknown,
    ev.RouteSwitched: venues.apply_route_switched,
    ev.RebalancePlanned: ords.apply_nothing,  # a plan moves nothing: its transfers do
    ev.VenueTransferNoted: ords.apply_nothing,
    ev.VenueSpreadCrossed: ords.apply_nothing,  # the desk was told; nothing changes
    ev.OrderListCreated: link_book.apply_list_created,
    ev.OrderListReleased: link_book.apply_list_released,
    ev.OrderListSiblingCanceled: link_book.apply_nothing,
    ev.OrderListClosed: link_book.apply_list_closed,
    **TRADE_APPLIERS,
    **SOR_APPLIERS,
    **TRAILING_APPLIERS,
    **EXIT_APPLIERS,
    **DESK_APPLIERS,
    **US_MARKET_APPLIERS,
    **ALGO_APPLIERS,
}
APPLIERS[ev.OrderFilled] = chain_filled(apply_filled)  # §13 prints (core/policy/desk.py)
# Day trades of margin accounts' equities (core/equities/day_trades.py)
APPLIERS[ev.OrderFilled] = chain_day_trades(APPLIERS[ev.OrderFilled])


def apply(state: State, event: ev.EventBase) -> None:
    """Fold one event into the state. Events must arrive gap-free, in sequence (a
    ``JournalRepaired`` bridges the lost range it names)."""
    if event.seq != state.seq + 1 and not _bridged(state.seq, event):
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
            if not _bridged(seq - 1, event):
                raise ValueError(f"event seq {event.seq} does not follow {seq - 1}")
            seq = event.seq
        state.seq = seq
        appliers[event.__class__](state, event)
