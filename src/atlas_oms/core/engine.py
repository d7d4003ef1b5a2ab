"""The engine: takes one message, decides, and returns the events it emitted.

``Engine.handle(message) -> list[Event]`` dispatches the message to its handler, a plain
function ``handler(ctx, message)`` of one domain (orders, risk, derivatives, accounts, market);
handlers change state only by emitting events, which the fold books at once. Requests for venues
collect in the outbox (drain it with :meth:`Engine.take_requests`). The engine reads no clock
(``ts`` arrives inside every message), does no I/O and draws no random numbers: the same
messages always give the same events.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal
from functools import partial
from typing import Any

from atlas_oms.core import accounts, journal, market, market_data, rebalance
from atlas_oms.core.algos import algo as algos
from atlas_oms.core.config import EngineConfig
from atlas_oms.core.context import Context
from atlas_oms.core.deadlines import next_deadline
from atlas_oms.core.derivatives import commands as derivatives
from atlas_oms.core.derivatives.liquidation import follow_up
from atlas_oms.core.derivatives.settlement import settle_future
from atlas_oms.core.equities import corporate
from atlas_oms.core.orders import amend, links, reports
from atlas_oms.core.orders.submit import submit
from atlas_oms.core.policy import (  # noqa: F401  (wiring registers the hooks)
    guards,
    scale_out,
    trade,
    trailing,
    wiring,
)
from atlas_oms.core.policy.settings import set_policy_params
from atlas_oms.core.refusals import Refusal
from atlas_oms.core.risk import controls
from atlas_oms.core.risk.after import after_step
from atlas_oms.core.risk.pretrade import risk_submit
from atlas_oms.core.sor import pair as sor_pair
from atlas_oms.core.sor.wiring import SOR_HANDLERS
from atlas_oms.core.state import fold
from atlas_oms.core.state.digest import canonical, digest
from atlas_oms.core.state.state import State
from atlas_oms.core.venues import instruments as venue_instruments
from atlas_oms.core.venues import orders as venue_orders
from atlas_oms.core.venues import reconcile, routing, status
from atlas_oms.model import commands as cmd
from atlas_oms.model import events as ev
from atlas_oms.model import reports as rep
from atlas_oms.model import venue as vm
from atlas_oms.model.algos import CancelAlgo, PauseAlgo, ResumeAlgo, RouteAlgo, SubmitAlgo
from atlas_oms.model.archive import RestoreOrder
from atlas_oms.model.events_market_data import NoteVenueSpread
from atlas_oms.model.instrument import Instrument
from atlas_oms.model.rebalance import NoteVenueTransfer, PlanRebalance
from atlas_oms.model.requests import VenueRequest
from atlas_oms.model.routing import SwitchRoute

__all__ = ["HANDLERS", "DryRunWouldAct", "Engine", "EngineConfig"]

Handler = Callable[[Context, Any], None]

#: Message type -> its handler. Every command and venue report has one (a test pins it).
HANDLERS: dict[type, Handler] = {
    cmd.SubmitOrder: submit,
    cmd.SubmitOrderList: links.submit_list,
    cmd.SubmitTradeIntent: trade.submit_intent,
    cmd.SetPolicyParams: set_policy_params,
    cmd.TriggerScaleOut: scale_out.trigger_scale_out,
    cmd.ApplyBar: trailing.apply_bar,
    cmd.TightenTradeStop: trailing.tighten_stop,
    cmd.SetTradeTargetPolicy: trailing.set_target_policy,
    cmd.ResumeTrading: guards.resume_trading,
    cmd.CancelOrder: amend.cancel,
    cmd.ModifyOrder: amend.modify,
    cmd.UpdatePrices: market.update_prices,
    cmd.AdvanceTime: market.advance_time,
    cmd.AddInstrument: venue_instruments.add_instrument,
    cmd.OpenAccount: accounts.open_account,
    cmd.AdjustBalance: accounts.adjust_balance,
    cmd.TransferFunds: accounts.transfer_funds,
    cmd.SetLeverage: derivatives.set_leverage,
    cmd.SetRiskLimits: controls.set_risk_limits,
    cmd.SetTradingState: controls.set_trading_state,
    cmd.TripKillSwitch: controls.trip_kill_switch,
    cmd.ResetKillSwitch: controls.reset_kill_switch,
    cmd.ResetCircuitBreaker: controls.reset_circuit_breaker,
    cmd.SetMarketStatus: controls.set_market_status,
    cmd.SetSessionCalendar: corporate.set_session_calendar,
    cmd.ApplyCorporateAction: corporate.apply_corporate_action,
    cmd.RecordCloseEquity: corporate.record_close_equity,
    cmd.SetMarginMode: derivatives.set_margin_mode,
    cmd.AdjustIsolatedMargin: derivatives.adjust_isolated_margin,
    cmd.SetMarginTiers: derivatives.set_margin_tiers,
    cmd.SetFundingRate: derivatives.set_funding_rate,
    cmd.DepositInsuranceFund: derivatives.deposit_insurance_fund,
    cmd.SettleFuture: settle_future,
    RestoreOrder: market.restore_order,
    cmd.RepairJournal: journal.repair_journal,
    rep.VenueAccepted: reports.on_accepted,
    rep.VenueRejected: reports.on_rejected,
    rep.VenueFilled: reports.on_filled,
    rep.VenueCanceled: reports.on_canceled,
    rep.VenueCancelRejected: reports.on_cancel_rejected,
    rep.VenueModified: reports.on_modified,
    rep.VenueModifyRejected: reports.on_modify_rejected,
    rep.VenueExpired: reports.on_expired,
    rep.VenueFillBusted: reports.on_fill_busted,
    rep.VenueFillCorrected: reports.on_fill_corrected,
    vm.ApplyOrderUpdate: venue_orders.apply_order_update,
    vm.ReconcileVenue: reconcile.reconcile_venue,
    vm.SetVenueStatus: status.set_venue_status,
    vm.NoteOutcomeUnknown: status.note_outcome_unknown,
    SwitchRoute: routing.switch_route,
    **SOR_HANDLERS,
    PlanRebalance: rebalance.plan_rebalance,
    NoteVenueTransfer: rebalance.note_venue_transfer,
    SubmitAlgo: algos.submit_algo,
    PauseAlgo: algos.pause_algo,
    ResumeAlgo: algos.resume_algo,
    CancelAlgo: algos.cancel_algo,
    RouteAlgo: algos.route_algo,
    NoteVenueSpread: market_data.note_venue_spread,
}

_VENUE_REJECTED = rep.VenueRejected


class DryRunWouldAct(RuntimeError):
    """A dry run (:meth:`Engine.pre_trade_check`) reached a decision that emits an event."""


class DryRunContext(Context):
    """A context whose ``emit`` refuses: checks run on it decide nothing that changes state."""

    __slots__ = ()

    def emit(self, event: Any) -> None:
        raise DryRunWouldAct(
            f"the check would have acted ({type(event).__name__}): send the order through handle()"
        )


class Engine:
    """One shard's deterministic order engine: its state, its handlers, its outbox."""

    __slots__ = ("_ctx", "_dry", "_handlers", "apply", "config")

    #: Fold one journaled event into the state (replay); events must arrive gap-free.
    apply: Callable[[ev.EventBase], None]

    def __init__(self, config: EngineConfig | None = None) -> None:
        self.config = config or EngineConfig()
        state = State()
        self._ctx = Context(state, self.config)
        self._handlers = HANDLERS
        self._dry: DryRunContext | None = None
        self.apply = partial(fold.apply, state)

    # ------------------------------------------------------------------ deciding
    def handle(self, message: Any) -> list[ev.EventBase]:
        """Process one command or venue report; return the events it produced (already folded)."""
        ctx = self._ctx
        out: list[ev.EventBase] = []
        ctx.out = out
        handler = self._handlers.get(message.__class__)
        if handler is None:
            raise TypeError(f"the engine does not handle {type(message).__name__}")
        state = ctx.state
        due = state.bar_book.next_close  # a 1-minute bar of a trailed symbol is over
        if due is not None and message.ts >= due:
            trailing.close_due(ctx, message.ts)
        handler(ctx, message)
        if out and state.links.by_order:
            links.follow(ctx, out, message.ts)
        if state.trades:
            if message.__class__ is cmd.AdvanceTime:
                trade.on_advance(ctx, message.ts)
            if out:
                trade.after_events(ctx, out, 0)
        if state.algos_open:  # parent orders (issue 16): slices, refills, routes
            algos.after_message(ctx, message, out)
        if state.pairs and out:
            sor_pair.after_events(ctx, out, 0)
        if state.liq.cases:
            follow_up(ctx, getattr(message, "order_id", None), message.ts)
        if out and (state.risk.after_needed or message.__class__ is _VENUE_REJECTED):
            after_step(ctx, out, message.ts)
        return out

    def folded_before_failure(self) -> list[ev.EventBase]:
        """The events the last :meth:`handle` emitted (and folded) before it raised: the state
        holds them, so the journal must too (or every later append would leave a gap)."""
        return list(self._ctx.out)

    def take_requests(self) -> list[VenueRequest]:
        """Return and clear the venue requests produced so far."""
        ctx = self._ctx
        out = ctx.outbox
        ctx.outbox = []
        return out

    @property
    def has_requests(self) -> bool:
        """Whether venue requests are waiting in the outbox."""
        return bool(self._ctx.outbox)

    def pre_trade_check(
        self, c: cmd.SubmitOrder, inst: Instrument, worst: Decimal | None
    ) -> Refusal | None:
        """The pre-trade risk checks of ``c`` alone, without submitting it (measurement and
        what-if): the first refusal, or None. Nothing is journaled and the state never changes:
        a check that would have to act (a circuit breaker tripping on the order rate, or
        resetting itself) raises :class:`DryRunWouldAct` before anything is folded."""
        dry = self._dry
        if dry is None or dry.state is not self._ctx.state:
            dry = self._dry = DryRunContext(self._ctx.state, self.config)
        return risk_submit(dry, c, inst, worst)

    # ------------------------------------------------------------------ folding (replay)
    def apply_all(self, events: Iterable[ev.EventBase]) -> None:
        """Fold journaled events in order (replay)."""
        fold.apply_all(self._ctx.state, events)

    # ------------------------------------------------------------------ reading
    @property
    def state(self) -> State:
        """The engine's state, for reading (the read side in ``runtime/queries.py``). Only the
        engine changes it."""
        return self._ctx.state

    @property
    def seq(self) -> int:
        """The sequence number of the last event folded in (0: none)."""
        return self._ctx.state.seq

    def next_deadline(self, after: int) -> int | None:
        """The earliest time later than ``after`` at which a timer tick (``AdvanceTime``) has
        something to do: an order expiry, a funding boundary, a breaker's automatic reset."""
        return next_deadline(self._ctx.state, after)

    def digest(self) -> str:
        """SHA-256 of the whole state; a replay of the journal gives the same value."""
        return digest(self._ctx.state)

    def canonical(self) -> list[Any]:
        """The state as plain ordered data (what the digest hashes)."""
        return canonical(self._ctx.state)
