"""The engine: takes one message, decides, and returns the events it emitted.

``Engine.handle(message) -> list[Event]``; requests for venues collect in ``outbox`` (drain it with
:meth:`take_requests`). The engine reads no clock (``ts`` arrives inside every message), does no
I/O and draws no random numbers: the same messages always give the same events.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import msgspec

from atlas_oms.core import equities
from atlas_oms.core.amend import AmendHandlers, cancel_request
from atlas_oms.core.liquidation import LiquidationEngine
from atlas_oms.core.orders import Order
from atlas_oms.core.risk import RiskChecks
from atlas_oms.core.state import round_money
from atlas_oms.core.triggers import fires_on_rise
from atlas_oms.core.validation import (
    ABSURD,
    Refusal,
    bad_number,
    check_shape,
    day_expiry,
    plain,
    round_to_tick,
)
from atlas_oms.core.venue_reports import ReportHandlers
from atlas_oms.model import commands as cmd_
from atlas_oms.model import events as ev
from atlas_oms.model import reports as rep
from atlas_oms.model.enums import (
    DERIVATIVE_KINDS,
    LIMIT_TYPES,
    MARKET_TYPES,
    TRAILING_TYPES,
    TRIGGERED_TYPES,
    InstrumentKind,
    OrderType,
    PositionMode,
    PositionSide,
    Side,
    TimeInForce,
    TrailingOffsetType,
    TriggerType,
)
from atlas_oms.model.instrument import Instrument
from atlas_oms.model.reasons import Reason
from atlas_oms.model.requests import SubmitToVenue, VenueRequest
from atlas_oms.model.risk import AlertLevel

ZERO = Decimal(0)
ONE = Decimal(1)
_VENUE_REJECTED = rep.VenueRejected
_EQUITY = InstrumentKind.EQUITY
HUNDRED = Decimal(100)
_DERIVATIVES = DERIVATIVE_KINDS


class EngineConfig(msgspec.Struct, frozen=True, kw_only=True):
    """Engine policy, every parameter named and defaulted here."""

    #: A market order may not execute more than this percentage away from its reference price.
    market_protection_pct: Decimal = Decimal(5)
    #: Highest leverage on a derivative without a margin tier table (its single default tier).
    max_leverage: Decimal = Decimal(125)
    #: Maintenance margin rate of that default tier.
    default_maint_margin_rate: Decimal = Decimal("0.005")
    #: Venues whose derivatives Atlas liquidates itself (it is their exchange); elsewhere the
    #: venue liquidates and Atlas only shows the figures.
    liquidation_venues: frozenset[str] = frozenset({"sim"})


class Engine(AmendHandlers, ReportHandlers, RiskChecks, LiquidationEngine):
    """One shard's deterministic order engine."""

    def __init__(self, config: EngineConfig | None = None) -> None:
        super().__init__()
        self.config = config or EngineConfig()
        self._collar_up = ONE + self.config.market_protection_pct / HUNDRED
        self._collar_down = ONE - self.config.market_protection_pct / HUNDRED
        self._liq_venues = self.config.liquidation_venues
        #: Liquidations move on when their own order reports; after a restart, all are looked at.
        self._liq_sweep = True
        self._adl_queues = {}
        self.outbox: list[VenueRequest] = []
        # Pure caches of values derived from immutable inputs (not state: never journaled or hashed).
        self._fee_mult: dict[str, Decimal] = {}
        self._protect_cache: dict[tuple[Side, Decimal, Decimal], Decimal] = {}
        self._out: list[ev.EventBase] = []
        self._limits_cache = {}
        self._limits_version = -1
        self._dup_warning: str | None = None
        self._handlers: dict[type, Callable[[Any], None]] = {
            cmd_.SubmitOrder: self._submit,
            cmd_.CancelOrder: self._cancel,
            cmd_.ModifyOrder: self._modify,
            cmd_.UpdatePrices: self._update_prices,
            cmd_.AdvanceTime: self._advance_time,
            cmd_.AddInstrument: self._add_instrument,
            cmd_.OpenAccount: self._open_account,
            cmd_.AdjustBalance: self._adjust_balance,
            cmd_.TransferFunds: self._transfer_funds,
            cmd_.SetLeverage: self._set_leverage,
            cmd_.SetRiskLimits: self._set_risk_limits,
            cmd_.SetTradingState: self._set_trading_state,
            cmd_.TripKillSwitch: self._trip_kill_switch,
            cmd_.ResetKillSwitch: self._reset_kill_switch,
            cmd_.ResetCircuitBreaker: self._reset_circuit_breaker,
            cmd_.SetMarketStatus: self._set_market_status,
            cmd_.SetMarginMode: self._set_margin_mode,
            cmd_.AdjustIsolatedMargin: self._adjust_isolated_margin,
            cmd_.SetMarginTiers: self._set_margin_tiers,
            cmd_.SetFundingRate: self._set_funding_rate,
            cmd_.DepositInsuranceFund: self._deposit_insurance_fund,
            cmd_.SettleFuture: self._settle_future,
            rep.VenueAccepted: self._on_venue_accepted,
            rep.VenueRejected: self._on_venue_rejected,
            rep.VenueFilled: self._on_venue_filled,
            rep.VenueCanceled: self._on_venue_canceled,
            rep.VenueCancelRejected: self._on_venue_cancel_rejected,
            rep.VenueModified: self._on_venue_modified,
            rep.VenueModifyRejected: self._on_venue_modify_rejected,
            rep.VenueExpired: self._on_venue_expired,
            rep.VenueFillBusted: self._on_venue_fill_busted,
            rep.VenueFillCorrected: self._on_venue_fill_corrected,
        }

    # ------------------------------------------------------------------ entry points
    def handle(self, message: Any) -> list[ev.EventBase]:
        """Process one command or venue report; return the events it produced (already applied)."""
        self._out = out = []
        handler = self._handlers.get(type(message))
        if handler is None:
            raise TypeError(f"the engine does not handle {type(message).__name__}")
        handler(message)
        if self.liq.cases:
            if self._liq_sweep:  # first message after a restart: look at every open case
                self._liq_sweep = False
                self._liq_progress(message.ts)
            else:
                case_id = self.liq.orders.get(getattr(message, "order_id", None))  # type: ignore[arg-type]
                if case_id is not None and case_id in self.liq.cases:
                    self._liq_advance(self.liq.cases[case_id], message.ts)
        if out and (self.risk.after_needed or message.__class__ is _VENUE_REJECTED):
            self._risk_after(out, message.ts)
        return out

    def take_requests(self) -> list[VenueRequest]:
        """Return and clear the venue requests produced so far."""
        out = self.outbox
        self.outbox = []
        return out

    def _emit(self, event: ev.EventBase) -> None:
        """Record an event and fold it in (``apply`` without its sequence check: we number it)."""
        self._out.append(event)
        self.seq = event.seq
        self._appliers[event.__class__](event)

    # ------------------------------------------------------------------ reference data
    def _add_instrument(self, c: cmd_.AddInstrument) -> None:
        if c.instrument.symbol in self.instruments:
            self._reject_command(
                c, Reason.DUPLICATE_INSTRUMENT, f"instrument {c.instrument.symbol} already exists"
            )
            return
        self._emit(ev.InstrumentAdded(seq=self.seq + 1, ts_event=c.ts, instrument=c.instrument))

    def _open_account(self, c: cmd_.OpenAccount) -> None:
        if c.account_id in self.accounts:
            self._reject_command(
                c, Reason.DUPLICATE_ACCOUNT, f"account {c.account_id} already exists", c.account_id
            )
        elif c.parent_id is not None and c.parent_id not in self.accounts:
            self._reject_command(
                c,
                Reason.UNKNOWN_PARENT_ACCOUNT,
                f"parent account {c.parent_id} does not exist",
                c.account_id,
            )
        elif not c.account_id or len(c.account_id) > 64:
            self._reject_command(
                c, Reason.UNKNOWN_ACCOUNT, "an account id has 1 to 64 characters", c.account_id
            )
        else:
            self._emit(ev.AccountOpened(seq=self.seq + 1, ts_event=c.ts, account=c.to_account()))

    def _adjust_balance(self, c: cmd_.AdjustBalance) -> None:
        amount = c.amount
        if c.account_id not in self.accounts:
            self._reject_command(
                c, Reason.UNKNOWN_ACCOUNT, f"account {c.account_id} does not exist", c.account_id
            )
        elif (
            not isinstance(amount, Decimal)
            or not amount.is_finite()
            or not amount
            or abs(amount) >= ABSURD
        ):
            self._reject_command(
                c,
                Reason.INVALID_AMOUNT,
                f"amount must be a non-zero finite number, got {amount}",
                c.account_id,
            )
        elif amount < 0 and self._free(c.account_id, c.asset) < -amount:
            self._reject_command(
                c,
                Reason.INSUFFICIENT_BALANCE,
                f"cannot withdraw {-amount} {c.asset}: only "
                f"{self._free(c.account_id, c.asset)} is free",
                c.account_id,
            )
        else:
            self._emit(
                ev.BalanceAdjusted(
                    seq=self.seq + 1,
                    ts_event=c.ts,
                    account_id=c.account_id,
                    asset=c.asset,
                    amount=amount,
                    reason=c.reason,
                )
            )

    def _transfer_funds(self, c: cmd_.TransferFunds) -> None:
        """Between two accounts of one tree; what may leave is what the sender could spend
        (:meth:`_transferable`). A refusal is the sender's (its ``account_id``)."""
        src, dst, amount, asset = c.account_id, c.to_account_id, c.amount, c.asset
        accounts = self.accounts
        refusal: Refusal | None = None
        if src not in accounts:
            refusal = Reason.UNKNOWN_ACCOUNT, f"account {src} does not exist"
        elif dst not in accounts:
            refusal = Reason.UNKNOWN_ACCOUNT, f"receiving account {dst} does not exist"
        elif src == dst:
            refusal = Reason.INVALID_TRANSFER, f"account {src} cannot transfer to itself"
        elif (root := self._tree_root(src)) != (dst_root := self._tree_root(dst)):
            refusal = (
                Reason.TRANSFER_NOT_ALLOWED,
                f"accounts {src} and {dst} are not in one account tree (their top-level "
                f"accounts are {root} and {dst_root}): transfers stay between an account and "
                "its sub-accounts",
            )
        elif (
            not isinstance(amount, Decimal)
            or not amount.is_finite()
            or amount <= 0
            or amount >= ABSURD
        ):
            refusal = (
                Reason.INVALID_AMOUNT,
                f"a transfer amount must be a positive finite number, got {amount}",
            )
        else:
            available, free, less = self._transferable(src, asset, c.ts)
            if amount > available:
                detail = f"only {plain(free)} is free"
                if less:
                    detail = (
                        f"only {plain(available)} can leave it ({plain(free)} free, less "
                        + " and ".join(f"{plain(v)} of {what}" for what, v in less)
                        + ")"
                    )
                refusal = (
                    Reason.INSUFFICIENT_BALANCE,
                    f"cannot transfer {plain(amount)} {asset} from account {src}: {detail}",
                )
        if refusal is not None:
            self._reject_command(c, refusal[0], refusal[1], src if isinstance(src, str) else None)
            return
        self._emit(
            ev.FundsTransferred(
                seq=self.seq + 1,
                ts_event=c.ts,
                account_id=src,
                to_account_id=dst,
                asset=asset,
                amount=amount,
                reason=c.reason,
            )
        )

    def _tree_root(self, account_id: str) -> str:
        """The top-level account of ``account_id``'s tree (itself if it has no parent)."""
        accounts = self.accounts
        while (parent := accounts[account_id].parent_id) is not None:
            account_id = parent
        return account_id

    def _transferable(
        self, account_id: str, asset: str, ts: int
    ) -> tuple[Decimal, Decimal, list[tuple[str, Decimal]]]:
        """What may leave an account: its free balance (total less what its orders and positions
        lock), less a cash account's sale proceeds not settled at ``ts`` (they cannot pay for
        anything yet) and its cross positions' unrealized losses in ``asset`` (the wallet owes
        them). Returns (that amount, never below zero; the free balance; what was taken off)."""
        free = self._free(account_id, asset)
        less: list[tuple[str, Decimal]] = []
        unsettled, _ = self.equities.unsettled_at(account_id, asset, ts)
        if unsettled:
            less.append(("unsettled sale proceeds", unsettled))
        loss = ZERO
        for _, pos in self._cross_positions(account_id, asset):
            upnl = pos.unrealized_pnl(self._valuation(pos))
            if upnl < 0:
                loss -= upnl
        if loss:
            less.append(("unrealized cross losses", loss))
        return max(ZERO, free - unsettled - loss), free, less

    def _free(self, account_id: str, asset: str) -> Decimal:
        """Free balance, read without creating a balance (only events change state)."""
        bal = self.balances.get((account_id, asset))
        return bal.free if bal is not None else ZERO

    def _set_leverage(self, c: cmd_.SetLeverage) -> None:
        inst = self._derivative(c)  # refuses an unknown account or a non-derivative
        if inst is None:
            return
        lev = c.leverage
        if not isinstance(lev, Decimal) or not lev.is_finite() or lev < ONE:
            self._reject_command(
                c,
                Reason.INVALID_LEVERAGE,
                f"leverage must be a number of at least 1, got {lev}",
                c.account_id,
            )
        elif refusal := self._leverage_refusal(c.account_id, inst, lev):
            self._reject_command(c, refusal[0], refusal[1], c.account_id)
        else:
            self._emit(
                ev.LeverageSet(
                    seq=self.seq + 1,
                    ts_event=c.ts,
                    account_id=c.account_id,
                    symbol=c.symbol,
                    leverage=lev,
                )
            )

    def _reject_command(
        self, c: Any, reason: Reason, message: str, account_id: str | None = None
    ) -> None:
        self._emit(
            ev.CommandRejected(
                seq=self.seq + 1,
                ts_event=c.ts,
                command=type(c).__name__,
                reason=reason,
                message=message,
                account_id=account_id,
            )
        )

    # ------------------------------------------------------------------ submit
    def _submit(self, c: cmd_.SubmitOrder) -> None:
        if (
            c.side.__class__ is not Side
            or c.order_type.__class__ is not OrderType
            or c.tif.__class__ is not TimeInForce
            or c.trigger_type.__class__ is not TriggerType
            or c.trailing_offset_type.__class__ is not TrailingOffsetType
            or (c.position_side is not None and c.position_side.__class__ is not PositionSide)
        ):
            # Built by hand with plain strings: take them through the schema, or refuse.
            try:
                c = msgspec.convert(msgspec.to_builtins(c), cmd_.SubmitOrder)
            except (msgspec.ValidationError, TypeError) as exc:
                # Not journaled as an order: its fields would not read back.
                self._reject_command(
                    c,
                    Reason.INVALID_FIELD,
                    f"the order is malformed: {exc}",
                    c.account_id if isinstance(c.account_id, str) else None,
                )
                return
        if c.client_order_id is not None:
            existing = self.client_ids.get((c.account_id, c.client_order_id))
            if existing is not None:
                self._emit(
                    ev.OrderDuplicateIgnored(
                        seq=self.seq + 1,
                        ts_event=c.ts,
                        order_id=existing,
                        account_id=c.account_id,
                        client_order_id=c.client_order_id,
                    )
                )
                return
        order_id = self.next_order_id
        self._dup_warning = None
        plan = self._plan(c)
        if isinstance(plan[0], Reason):
            self._emit(
                ev.OrderDenied(
                    seq=self.seq + 1,
                    ts_event=c.ts,
                    order_id=order_id,
                    intent=c,
                    reason=plan[0],
                    message=plan[1],
                )
            )
            return
        inst, asset, unit, protection, trigger, expire_ts, watermark = plan
        self._emit(
            ev.OrderSubmitted(
                seq=self.seq + 1,
                ts_event=c.ts,
                order_id=order_id,
                intent=c,
                reserved_asset=asset,
                reserve_unit=unit,
                protection_price=protection,
                trigger_price=trigger,
                expire_ts=expire_ts,
            )
        )
        if self._dup_warning is not None:
            self._emit(
                ev.RiskAlert(
                    seq=self.seq + 1,
                    ts_event=c.ts,
                    level=AlertLevel.WARNING,
                    code=Reason.DUPLICATE_ORDER,
                    message=self._dup_warning,
                    account_id=c.account_id,
                    order_id=order_id,
                    symbol=c.symbol,
                )
            )
        if c.order_type in TRIGGERED_TYPES:
            # Held by the engine: accepted here, released to the venue when the trigger fires.
            self._emit(
                ev.OrderAccepted(
                    seq=self.seq + 1, ts_event=c.ts, order_id=order_id, venue_order_id=None
                )
            )
            if watermark is not None:
                self._emit(
                    ev.OrderTrailingUpdated(
                        seq=self.seq + 1,
                        ts_event=c.ts,
                        order_id=order_id,
                        watermark=watermark,
                        trigger_price=trigger,
                    )
                )  # type: ignore[arg-type]
            price = self._trigger_source(c.symbol, c.trigger_type)
            if price is not None and self._would_fire(self.orders[order_id], price):
                self._fire(self.orders[order_id], price, c.ts)
        else:
            self.outbox.append(
                SubmitToVenue(
                    order_id=order_id,
                    account_id=c.account_id,
                    symbol=c.symbol,
                    venue=inst.venue,
                    ts=c.ts,
                    side=c.side,
                    qty=c.qty,
                    price=c.price,
                    protection_price=protection,
                    tif=c.tif,
                    post_only=c.post_only,
                    reduce_only=c.reduce_only,
                )
            )

    def _plan(self, c: cmd_.SubmitOrder) -> Refusal | tuple[Any, ...]:
        """Validate a submit; return a refusal, or what the OrderSubmitted event needs."""
        account = self.accounts.get(c.account_id)
        if account is None:
            return Reason.UNKNOWN_ACCOUNT, f"account {c.account_id} does not exist"
        inst = self.instruments.get(c.symbol)
        if inst is None:
            return Reason.UNKNOWN_INSTRUMENT, f"instrument {c.symbol} does not exist"
        if not inst.tradable:
            return Reason.INSTRUMENT_NOT_TRADABLE, f"{c.symbol} is not tradable now"
        if self.liq.frozen and self.liq.is_frozen(c.account_id, c.symbol):
            return (
                Reason.LIQUIDATION_IN_PROGRESS,
                f"account {c.account_id} is being liquidated: no new {c.symbol} orders until it ends",
            )
        refusal = check_shape(c, inst, c.ts)
        if refusal:
            return refusal
        if account.position_mode is PositionMode.HEDGE:
            if c.position_side not in (PositionSide.LONG, PositionSide.SHORT):
                return (
                    Reason.POSITION_SIDE_REQUIRED,
                    f"account {c.account_id} is in hedge mode: say LONG or SHORT",
                )
        elif c.position_side not in (None, PositionSide.BOTH):
            return (
                Reason.POSITION_SIDE_NOT_ALLOWED,
                f"account {c.account_id} is in netting mode: position side must be BOTH",
            )
        otype = c.order_type
        side = c.side
        tick = inst.tick_size
        trigger = c.trigger_price
        watermark = None
        if otype in TRAILING_TYPES:
            watermark = self._trigger_source(c.symbol, c.trigger_type)
            if watermark is not None:
                trailed = self._trail(
                    side, watermark, c.trailing_offset, c.trailing_offset_type, tick
                )  # type: ignore[arg-type]
                if trigger is None:
                    trigger = trailed
                elif side is Side.SELL:
                    trigger = max(trigger, trailed)
                else:
                    trigger = min(trigger, trailed)
            elif trigger is None:
                return (
                    Reason.NO_REFERENCE_PRICE,
                    f"no price for {c.symbol} yet to trail from: give an initial trigger price",
                )
            if trigger <= 0:
                return (
                    Reason.INVALID_TRAILING_OFFSET,
                    "the trailing offset is larger than the price",
                )
        # The price the order may execute at in the worst case, for reservations and notional.
        protection = None
        if otype in MARKET_TYPES:
            base_px = trigger if otype in TRIGGERED_TYPES else self.reference_price(c.symbol)
            if base_px is not None:
                protection = self._protect(side, base_px, tick)
            worst = base_px * self._collar_up if base_px is not None else None
        elif otype is OrderType.TRAILING_STOP_LIMIT:
            assert trigger is not None and c.limit_offset is not None
            worst = trigger + c.limit_offset if side is Side.BUY else trigger
        else:
            worst = c.price
        if (
            inst.min_notional
            and worst is not None
            and c.qty * worst * inst.multiplier < inst.min_notional
        ):
            return (
                Reason.NOTIONAL_BELOW_MIN,
                f"notional {plain(c.qty * worst * inst.multiplier)} is below the minimum {plain(inst.min_notional)}",
            )
        if c.reduce_only:
            refusal = self._check_reduce_only(c, inst)
            if refusal:
                return refusal
        refusal = self._risk_submit(c, inst, protection if protection is not None else worst)
        if refusal:
            return refusal
        asset, unit = self._reserve_unit(
            c.account_id,
            inst,
            side,
            c.reduce_only,
            protection if side is Side.BUY and protection else worst,
        )
        if unit is None:
            return (
                Reason.NO_REFERENCE_PRICE,
                f"no price for {c.symbol} yet: a market buy needs a reference to reserve funds",
            )
        if inst.kind is _EQUITY:
            refusal = equities.check_submit(self, c, inst, unit, protection, trigger)
            if refusal:
                return refusal
        elif inst.is_derivative:
            refusal = self._margin_refusal(c, inst, protection if protection is not None else worst)
            if refusal:
                return refusal
        if asset is not None and unit:
            need = c.qty * unit
            free = self._free(c.account_id, asset)
            if inst.is_derivative:
                free += self._unrealized_loss(c.account_id, inst)
            if free < need:
                if inst.is_derivative:
                    return (
                        Reason.INSUFFICIENT_MARGIN,
                        f"initial margin {plain(need)} {asset} exceeds account {c.account_id}'s "
                        f"free collateral {plain(free)}",
                    )
                return (
                    Reason.INSUFFICIENT_BALANCE,
                    f"needs {plain(need)} {asset} but account {c.account_id} has {plain(free)} free",
                )
        expire_ts = c.expire_ts
        if c.tif is TimeInForce.DAY and otype is not OrderType.MARKET:
            expire_ts = day_expiry(c.ts, inst.day_close_utc_min)
        return inst, asset, unit, protection, trigger, expire_ts, watermark

    def _reserve_unit(
        self, account_id: str, inst: Instrument, side: Side, reduce_only: bool, px: Decimal | None
    ) -> tuple[str | None, Decimal | None]:
        """What one unit of the order locks: (asset, amount per unit); amount None = unknown."""
        fee_mult = self._fee_mult.get(inst.symbol)
        if fee_mult is None:
            fee_mult = self._fee_mult[inst.symbol] = ONE + max(inst.maker_fee, inst.taker_fee, ZERO)
        if inst.kind is _EQUITY and equities.is_margin(self, account_id):
            return None, ZERO  # Reg T: buying power counts open orders instead (core/equities.py)
        if inst.is_derivative:
            if reduce_only:
                return None, ZERO
            if px is None:
                return inst.settle_asset, None
            notional = px * inst.multiplier
            lev = self.leverage.get((account_id, inst.symbol), ONE)
            return inst.settle_asset, round_money(notional / lev + notional * (fee_mult - ONE))
        if side is Side.SELL:
            return inst.base, ONE
        if px is None:
            return inst.quote, None
        return (
            inst.quote,
            px * fee_mult if inst.multiplier == ONE else px * inst.multiplier * fee_mult,
        )

    def _check_reduce_only(self, c: cmd_.SubmitOrder, inst: Instrument) -> Refusal | None:
        pside = c.position_side or PositionSide.BOTH
        pos = self.positions.get((c.account_id, inst.symbol, pside))
        held = pos.qty if pos is not None else ZERO
        reduces = (held > 0 and c.side is Side.SELL) or (held < 0 and c.side is Side.BUY)
        if not reduces:
            return (
                Reason.REDUCE_ONLY_WOULD_INCREASE,
                f"reduce-only {c.side} would open or increase the {inst.symbol} position ({held})",
            )
        if c.qty > abs(held):
            return (
                Reason.REDUCE_ONLY_WOULD_INCREASE,
                f"reduce-only quantity {c.qty} exceeds the position {abs(held)}",
            )
        return None

    def _protect(self, side: Side, px: Decimal, tick: Decimal) -> Decimal:
        """The worst price a market order may trade at, ``px`` being its reference."""
        key = (side, px, tick)
        cached = self._protect_cache.get(key)
        if cached is not None:
            return cached
        if side is Side.BUY:
            value = round_to_tick(px * self._collar_up, tick, up=False)
        else:
            value = max(round_to_tick(px * self._collar_down, tick, up=True), tick)
        if len(self._protect_cache) >= 4096:
            self._protect_cache.clear()
        self._protect_cache[key] = value
        return value

    @staticmethod
    def _trail(
        side: Side, watermark: Decimal, offset: Decimal, kind: TrailingOffsetType, tick: Decimal
    ) -> Decimal:
        dist = watermark * offset / HUNDRED if kind is TrailingOffsetType.PERCENT else offset
        if side is Side.SELL:
            return round_to_tick(watermark - dist, tick, up=False)
        return round_to_tick(watermark + dist, tick, up=True)

    # ------------------------------------------------------------------ triggers
    def _trigger_source(self, symbol: str, trigger_type: TriggerType) -> Decimal | None:
        if trigger_type is TriggerType.MARK:
            return self.mark.get(symbol)
        return self.last.get(symbol)

    @staticmethod
    def _would_fire(order: Order, price: Decimal) -> bool:
        trig = order.trigger_price
        if trig is None:
            return False
        if order.order_type in TRAILING_TYPES:
            return price >= trig if order.side is Side.BUY else price <= trig
        return price >= trig if fires_on_rise(order.side, order.order_type) else price <= trig

    def _check_triggers(
        self, symbol: str, trigger_type: TriggerType, price: Decimal, ts: int
    ) -> None:
        book = self.triggers.book(symbol, trigger_type)
        if not book:
            return
        if book.trailing:
            self._trail_orders(book.trailing, price, ts)
        orders = self.orders
        for order_id in self.triggers.fired(symbol, trigger_type, price):
            self._fire(orders[order_id], price, ts)

    def _trail_orders(self, trailing: dict[int, None], price: Decimal, ts: int) -> None:
        orders = self.orders
        for order_id in list(trailing):
            order = orders[order_id]
            wm = order.watermark
            sell = order.side is Side.SELL
            if wm is None or (price > wm if sell else price < wm):
                tick = self.instruments[order.symbol].tick_size
                trailed = self._trail(
                    order.side,
                    price,
                    order.trailing_offset,  # type: ignore[arg-type]
                    order.trailing_offset_type,
                    tick,
                )
                trig = order.trigger_price
                if trig is not None:
                    trailed = max(trig, trailed) if sell else min(trig, trailed)  # never loosens
                self._emit(
                    ev.OrderTrailingUpdated(
                        seq=self.seq + 1,
                        ts_event=ts,
                        order_id=order_id,
                        watermark=price,
                        trigger_price=trailed,
                    )
                )
            if self._would_fire(order, price):
                self._fire(order, price, ts)

    def _fire(self, order: Order, price: Decimal, ts: int) -> None:
        trig = order.trigger_price
        assert trig is not None
        inst = self.instruments[order.symbol]
        otype = order.order_type
        protection = None
        if otype is OrderType.TRAILING_STOP_LIMIT:
            off = order.limit_offset or ZERO
            limit = (
                round_to_tick(trig + off, inst.tick_size, up=True)
                if order.side is Side.BUY
                else max(round_to_tick(trig - off, inst.tick_size, up=False), inst.tick_size)
            )
        elif otype in LIMIT_TYPES:
            limit = order.price
        else:
            limit = None
            protection = self._protect(order.side, trig, inst.tick_size)
            if order.side is Side.BUY and order.protection_price is not None:
                protection = min(protection, order.protection_price)  # stay within what is reserved
        self._emit(
            ev.OrderTriggered(
                seq=self.seq + 1,
                ts_event=ts,
                order_id=order.order_id,
                trigger_price=trig,
                last_px=price,
                price=limit,
                protection_price=protection,
            )
        )
        self.outbox.append(
            SubmitToVenue(
                order_id=order.order_id,
                account_id=order.account_id,
                symbol=order.symbol,
                venue=order.venue,
                ts=ts,
                side=order.side,
                qty=order.leaves_qty,
                price=limit,
                protection_price=protection,
                tif=order.tif,
                reduce_only=order.reduce_only,
            )
        )

    # ------------------------------------------------------------------ market data and time
    def _update_prices(self, c: cmd_.UpdatePrices) -> None:
        inst = self.instruments.get(c.symbol)
        if inst is None:
            self._reject_command(
                c, Reason.UNKNOWN_INSTRUMENT, f"instrument {c.symbol} does not exist"
            )
            return
        for value in (c.last, c.mark):
            if value is not None and bad_number(value, "price"):
                self._reject_command(
                    c, Reason.INVALID_PRICE, f"price update {value} is not a valid price"
                )
                return
        if c.last is None and c.mark is None:
            return
        self._emit(
            ev.PricesUpdated(
                seq=self.seq + 1, ts_event=c.ts, symbol=c.symbol, last=c.last, mark=c.mark
            )
        )
        if c.last is not None:
            self._check_triggers(c.symbol, TriggerType.LAST, c.last, c.ts)
        if c.mark is not None:
            self._check_triggers(c.symbol, TriggerType.MARK, c.mark, c.ts)
            if inst.venue in self._liq_venues and inst.kind in _DERIVATIVES:
                self._check_liquidations(c.symbol, c.ts)

    def _advance_time(self, c: cmd_.AdvanceTime) -> None:
        heap = self.expiries
        orders = self.orders
        due: list[int] = []
        while heap and heap[0][0] <= c.ts:
            _, order_id = heapq.heappop(heap)
            order = orders[order_id]
            if order.is_live:
                due.append(order_id)
        for order_id in due:
            order = orders[order_id]
            at_venue = not order.held
            self._emit(ev.OrderExpired(seq=self.seq + 1, ts_event=c.ts, order_id=order_id))
            if at_venue:
                self.outbox.append(cancel_request(order, c.ts))
        if self.liq.funding_rate:
            self._funding_due(c.ts)
        if self.risk.breakers:
            self._risk_sweep(c.ts)
