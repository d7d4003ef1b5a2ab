"""The managed trade's aggregate state (issue 13, seed 001 sections 1, 3, 5, 9) and its fold.

The fold only books the ``Trade*`` events: every decision (price, quantity, order id, deadline)
is a field of an event, so a replay rebuilds the same trades. The position of a trade is never
booked here: it is read from its orders (entry fills minus exit fills), which the order fold books.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from atlas_oms.core.decimals import ZERO
from atlas_oms.core.policy.params import PolicyParams
from atlas_oms.model import events as ev
from atlas_oms.model.enums import Side

if TYPE_CHECKING:
    from atlas_oms.core.state.state import State

#: Phases of a managed trade.
ENTERING = "ENTERING"
SEEKING = "SEEKING"  # entry abandoned: no order works; a new intent starts the next attempt
PROTECTED = "PROTECTED"
CLOSED = "CLOSED"


@dataclass(slots=True)
class TradeState:
    """One managed trade."""

    trade_id: str
    account_id: str
    symbol: str
    side: Side
    entry_ideal: Decimal
    entry_max: Decimal
    stop0: Decimal
    risk_amount: Decimal
    qty: Decimal
    scale_out: str
    target_policy: str
    key_level: Decimal | None
    opened_ts: int
    phase: str = ENTERING
    entry_order_id: int | None = None
    entry_price: Decimal | None = None
    entry_orders: list[int] = field(default_factory=list)
    cycle: int = 0
    next_reprice_ts: int | None = None
    entry_cancel_ts: int | None = None
    entry_px: Decimal | None = None
    stop_order_id: int | None = None
    stop_trigger: Decimal | None = None
    stop_limit: Decimal | None = None
    #: target order id -> (tranche index, qty, price)
    targets: dict[int, tuple[int, Decimal, Decimal]] = field(default_factory=dict)
    exit_orders: list[int] = field(default_factory=list)
    stop_history: list[tuple[int, Decimal, str]] = field(default_factory=list)
    break_even: bool = False
    close_cause: str | None = None
    #: The stop level was reached (``TradeStopFired``; core/policy/cover.py).
    stop_fired: bool = False
    #: The targets hold part of the position and the stop the rest (core/policy/cover.py).
    covered: bool = False
    #: A started exit (core/policy/scale_out.py): what it must sell in all, its limit orders,
    #: and when the working one is repriced.
    exit_qty: Decimal = ZERO
    exit_limits: list[int] = field(default_factory=list)
    next_exit_ts: int | None = None
    # -- interfaces (h13-api): what the read view shows that the policy does not need
    urgency: str = "NORMAL"
    bias: str = "NEUTRAL"
    #: every target the trade ever placed (order id -> tranche index, qty, price); ``targets``
    #: forgets canceled ones, this keeps them for the tranche table.
    tranche_plan: dict[int, tuple[int, Decimal, Decimal]] = field(default_factory=dict)
    # --- stop maintenance (§10, core/policy/trailing.py; booked by core/policy/bar_book.py)
    #: Trailing is active (from the bracket on, ``TradeTrailingStarted``).
    trailing: bool = False
    #: The ATR at the bracket, or the first one available after it (None: not warmed up yet).
    entry_atr: Decimal | None = None
    #: Bars starting at or after this minute count for the MFE (the first minute after entry).
    trail_from_ns: int = 0
    #: Highest high (short: lowest low) of those bars: ``currentHigh`` and the MFE of §10.2.
    trail_extreme: Decimal | None = None
    # -- emergency exits and forced close (fallback.py, forced_close.py)
    #: When a triggered, unfilled stop-limit falls back to market (seed 001 §4).
    stop_fallback_ts: int | None = None
    #: The active market exit's MarketOrderReason and cause (None: no emergency exit).
    exit_reason: str | None = None
    exit_cause: str | None = None
    #: The latest market exit order and how many were sent.
    exit_order_id: int | None = None
    exit_attempts: int = 0
    #: Refusals/rejections of this trade's protective stops (seed 001 §9.3).
    stop_rejects: int = 0
    #: The session status the trade last saw (seed 001 §4 gap opening, LULD resume).
    session_status: str | None = None
    #: Forced close (§11): the working aggressive limit, its repricings, the next repricing.
    fc_order_id: int | None = None
    fc_reprices: int = 0
    fc_next_ts: int | None = None
    cannot_liquidate: bool = False
    # -- cycles and guards (seed 001 §12-14; core/policy/cycles.py, desk.py) --
    #: The pipeline's (account, symbol) cycle number this trading day (1 = the first).
    cycle_number: int = 0
    #: The trade this one adds to (§12.1 scale-up: a child with its own entry, stop, targets).
    add_to: str | None = None
    #: Entered in pre-market (§13: one limit attempt, no repricing).
    premarket: bool = False
    #: The entry's adverse slippage against the intent price (§14.1), once measured.
    entry_slippage: Decimal | None = None

    @property
    def is_open(self) -> bool:
        return self.phase in (ENTERING, PROTECTED)

    def entry_filled(self, state: State) -> Decimal:
        return sum((_cum(state, o) for o in self.entry_orders), ZERO)

    def position(self, state: State) -> Decimal:
        """The open quantity: entry fills minus exit fills (read from the orders)."""
        return self.entry_filled(state) - sum((_cum(state, o) for o in self.exit_orders), ZERO)


def _cum(state: State, order_id: int) -> Decimal:
    order = state.orders.get(order_id)
    return order.cum_qty if order is not None else ZERO


def _trade(state: State, trade_id: str) -> TradeState:
    trades: dict[str, TradeState] = state.trades
    return trades[trade_id]


def apply_accepted(state: State, e: ev.TradeIntentAccepted) -> None:
    state.trades[e.trade_id] = TradeState(
        trade_id=e.trade_id,
        account_id=e.account_id,
        symbol=e.symbol,
        side=e.side,
        entry_ideal=e.entry_ideal,
        entry_max=e.entry_max,
        stop0=e.stop,
        risk_amount=e.risk_amount,
        qty=e.qty,
        scale_out=e.scale_out,
        target_policy=e.target_policy,
        key_level=e.key_level,
        opened_ts=e.ts_event,
        urgency=e.urgency,
        bias=e.bias,
    )


def apply_nothing(state: State, e: Any) -> None:
    """Refusals are audit only."""


def apply_entry_placed(state: State, e: ev.TradeEntryPlaced) -> None:
    t = _trade(state, e.trade_id)
    t.phase = ENTERING
    t.entry_order_id = e.order_id
    t.entry_price = e.price
    t.entry_orders.append(e.order_id)
    t.cycle = e.cycle
    t.next_reprice_ts = e.next_reprice_ts
    state.trade_orders[e.order_id] = e.trade_id


def apply_entry_repriced(state: State, e: ev.TradeEntryRepriced) -> None:
    t = _trade(state, e.trade_id)
    t.entry_order_id = None
    t.next_reprice_ts = None


def apply_entry_abandoned(state: State, e: ev.TradeEntryAbandoned) -> None:
    t = _trade(state, e.trade_id)
    t.entry_order_id = None
    t.next_reprice_ts = None
    t.entry_cancel_ts = None
    if t.stop_order_id is None:
        t.phase = SEEKING
    else:
        t.phase = PROTECTED


def apply_bracket_placed(state: State, e: ev.TradeBracketPlaced) -> None:
    t = _trade(state, e.trade_id)
    t.entry_px = e.entry_px
    t.stop_order_id = e.stop_order_id
    t.stop_trigger = e.stop_trigger
    t.stop_limit = e.stop_limit
    t.stop_history.append((e.ts_event, e.stop_trigger, "INITIAL"))
    t.exit_orders.append(e.stop_order_id)
    state.trade_orders[e.stop_order_id] = e.trade_id
    for order_id, index, qty, price in e.targets:
        t.targets[order_id] = (index, qty, price)
        t.tranche_plan[order_id] = (index, qty, price)
        t.exit_orders.append(order_id)
        state.trade_orders[order_id] = e.trade_id
    t.next_reprice_ts = None
    t.entry_cancel_ts = e.entry_cancel_ts
    t.covered = e.covered
    if e.entry_cancel_ts is None:
        t.phase = PROTECTED
        t.entry_order_id = None


def apply_stop_placed(state: State, e: ev.TradeStopPlaced) -> None:
    t = _trade(state, e.trade_id)
    t.stop_order_id = e.order_id
    t.stop_trigger = e.trigger
    t.stop_limit = e.limit
    t.stop_history.append((e.ts_event, e.trigger, e.cause))
    t.exit_orders.append(e.order_id)
    state.trade_orders[e.order_id] = e.trade_id


def apply_stop_resized(state: State, e: ev.TradeStopResized) -> None:
    t = _trade(state, e.trade_id)
    if e.cause == "ENTRY_DONE":
        t.phase = PROTECTED
        t.entry_order_id = None
        t.entry_cancel_ts = None


def apply_stop_moved(state: State, e: ev.TradeStopMoved) -> None:
    t = _trade(state, e.trade_id)
    t.stop_trigger = e.trigger
    t.stop_limit = e.limit
    t.stop_history.append((e.ts_event, e.trigger, e.cause))
    if e.cause == "BREAK_EVEN":
        t.break_even = True


def apply_target_canceled(state: State, e: ev.TradeTargetCanceled) -> None:
    _trade(state, e.trade_id).targets.pop(e.order_id, None)


def apply_closed(state: State, e: ev.TradeClosed) -> None:
    t = _trade(state, e.trade_id)
    t.phase = CLOSED
    t.close_cause = e.cause
    t.entry_order_id = None
    t.next_reprice_ts = None
    t.entry_cancel_ts = None


def apply_targets_added(state: State, e: ev.TradeTargetsAdded) -> None:
    t = _trade(state, e.trade_id)
    for order_id, index, qty, price in e.targets:
        t.targets[order_id] = (index, qty, price)
        t.tranche_plan[order_id] = (index, qty, price)
        t.exit_orders.append(order_id)
        state.trade_orders[order_id] = e.trade_id


def apply_scale_out_started(state: State, e: ev.TradeScaleOutStarted) -> None:
    _trade(state, e.trade_id).exit_qty += e.qty


def apply_scale_out_placed(state: State, e: ev.TradeScaleOutPlaced) -> None:
    t = _trade(state, e.trade_id)
    t.next_exit_ts = e.next_reprice_ts
    if e.order_id:
        t.exit_limits.append(e.order_id)
        t.exit_orders.append(e.order_id)
        state.trade_orders[e.order_id] = e.trade_id


def apply_scale_out_ended(state: State, e: ev.TradeScaleOutEnded) -> None:
    t = _trade(state, e.trade_id)
    t.next_exit_ts = None
    t.exit_qty = sum((_cum(state, o) for o in t.exit_limits), ZERO)


def apply_stop_fired(state: State, e: ev.TradeStopFired) -> None:
    _trade(state, e.trade_id).stop_fired = True


def params_from(overrides: tuple[tuple[str, str], ...]) -> PolicyParams:
    """The seed defaults with ``overrides`` applied (raises ``ParamError``)."""
    return PolicyParams().with_overrides(dict(overrides)) if overrides else PolicyParams()


def apply_policy_params_set(state: State, e: ev.PolicyParamsSet) -> None:
    state.policy = params_from(e.overrides)
    state.policy_overrides = e.overrides


TRADE_APPLIERS: dict[type, Any] = {
    ev.PolicyParamsSet: apply_policy_params_set,
    ev.TradeStopFired: apply_stop_fired,
    ev.TradeTargetsAdded: apply_targets_added,
    ev.TradeScaleOutStarted: apply_scale_out_started,
    ev.TradeScaleOutPlaced: apply_scale_out_placed,
    ev.TradeScaleOutEnded: apply_scale_out_ended,
    ev.TradeIntentAccepted: apply_accepted,
    ev.TradeIntentRefused: apply_nothing,
    ev.TradeEntryPlaced: apply_entry_placed,
    ev.TradeEntryRepriced: apply_entry_repriced,
    ev.TradeEntryAbandoned: apply_entry_abandoned,
    ev.TradeBracketPlaced: apply_bracket_placed,
    ev.TradeStopPlaced: apply_stop_placed,
    ev.TradeStopResized: apply_stop_resized,
    ev.TradeStopMoved: apply_stop_moved,
    ev.TradeTargetCanceled: apply_target_canceled,
    ev.TradeClosed: apply_closed,
}
