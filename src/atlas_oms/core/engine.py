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

from atlas_oms.core.orders import TRANSITIONS, IllegalTransition, Order, Tx, next_status
from atlas_oms.core.state import EngineState, round_money
from atlas_oms.core.triggers import fires_on_rise
from atlas_oms.core.validation import (
    ABSURD,
    Refusal,
    bad_number,
    check_price,
    check_qty,
    check_shape,
    day_expiry,
    round_to_tick,
)
from atlas_oms.model import commands as cmd_
from atlas_oms.model import events as ev
from atlas_oms.model import reports as rep
from atlas_oms.model.enums import (
    LIMIT_TYPES,
    TRAILING_TYPES,
    TRIGGERED_TYPES,
    OrderStatus,
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
from atlas_oms.model.requests import CancelAtVenue, ModifyAtVenue, SubmitToVenue, VenueRequest

ZERO = Decimal(0)
ONE = Decimal(1)
HUNDRED = Decimal(100)
MARKET_TYPES = frozenset(
    {
        OrderType.MARKET,
        OrderType.STOP_MARKET,
        OrderType.TAKE_PROFIT_MARKET,
        OrderType.TRAILING_STOP_MARKET,
    }
)


def _num(value: Decimal) -> str:
    """A number for a human sentence: no exponent, no trailing zeros."""
    return format(value.normalize(), "f")


class EngineConfig(msgspec.Struct, frozen=True, kw_only=True):
    """Engine policy, every parameter named and defaulted here."""

    #: A market order may not execute more than this percentage away from its reference price.
    market_protection_pct: Decimal = Decimal(5)
    #: Highest leverage an account may set on a derivative.
    max_leverage: Decimal = Decimal(125)


class Engine(EngineState):
    """One shard's deterministic order engine."""

    def __init__(self, config: EngineConfig | None = None) -> None:
        super().__init__()
        self.config = config or EngineConfig()
        self._collar_up = ONE + self.config.market_protection_pct / HUNDRED
        self._collar_down = ONE - self.config.market_protection_pct / HUNDRED
        self.outbox: list[VenueRequest] = []
        # Pure caches of values derived from immutable inputs (not state: never journaled or hashed).
        self._fee_mult: dict[str, Decimal] = {}
        self._protect_cache: dict[tuple[Side, Decimal, Decimal], Decimal] = {}
        self._out: list[ev.EventBase] = []
        self._handlers: dict[type, Callable[[Any], None]] = {
            cmd_.SubmitOrder: self._submit,
            cmd_.CancelOrder: self._cancel,
            cmd_.ModifyOrder: self._modify,
            cmd_.UpdatePrices: self._update_prices,
            cmd_.AdvanceTime: self._advance_time,
            cmd_.AddInstrument: self._add_instrument,
            cmd_.OpenAccount: self._open_account,
            cmd_.AdjustBalance: self._adjust_balance,
            cmd_.SetLeverage: self._set_leverage,
            rep.VenueAccepted: self._on_venue_accepted,
            rep.VenueRejected: self._on_venue_rejected,
            rep.VenueFilled: self._on_venue_filled,
            rep.VenueCanceled: self._on_venue_canceled,
            rep.VenueCancelRejected: self._on_venue_cancel_rejected,
            rep.VenueModified: self._on_venue_modified,
            rep.VenueModifyRejected: self._on_venue_modify_rejected,
            rep.VenueExpired: self._on_venue_expired,
            rep.VenueFillBusted: self._on_venue_fill_busted,
        }

    # ------------------------------------------------------------------ entry points
    def handle(self, message: Any) -> list[ev.EventBase]:
        """Process one command or venue report; return the events it produced (already applied)."""
        self._out = out = []
        handler = self._handlers.get(type(message))
        if handler is None:
            raise TypeError(f"the engine does not handle {type(message).__name__}")
        handler(message)
        return out

    def take_requests(self) -> list[VenueRequest]:
        """Return and clear the venue requests produced so far."""
        out = self.outbox
        self.outbox = []
        return out

    def _emit(self, event: ev.EventBase) -> None:
        self._out.append(event)
        self.apply(event)

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

    def _free(self, account_id: str, asset: str) -> Decimal:
        """Free balance, read without creating a balance (only events change state)."""
        bal = self.balances.get((account_id, asset))
        return bal.free if bal is not None else ZERO

    def _set_leverage(self, c: cmd_.SetLeverage) -> None:
        lev = c.leverage
        if c.account_id not in self.accounts:
            self._reject_command(
                c, Reason.UNKNOWN_ACCOUNT, f"account {c.account_id} does not exist", c.account_id
            )
        elif c.symbol not in self.instruments or not self.instruments[c.symbol].is_derivative:
            self._reject_command(
                c, Reason.UNKNOWN_INSTRUMENT, f"{c.symbol} is not a known derivative", c.account_id
            )
        elif (
            not isinstance(lev, Decimal)
            or not lev.is_finite()
            or not ONE <= lev <= self.config.max_leverage
        ):
            self._reject_command(
                c,
                Reason.INVALID_LEVERAGE,
                f"leverage must be between 1 and {self.config.max_leverage}, got {lev}",
                c.account_id,
            )
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
                f"notional {_num(c.qty * worst * inst.multiplier)} is below the minimum {_num(inst.min_notional)}",
            )
        if c.reduce_only:
            refusal = self._check_reduce_only(c, inst)
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
        if asset is not None and unit:
            need = c.qty * unit
            free = self._free(c.account_id, asset)
            if free < need:
                return (
                    Reason.INSUFFICIENT_BALANCE,
                    f"needs {_num(need)} {asset} but account {c.account_id} has {_num(free)} free",
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
                self.outbox.append(
                    CancelAtVenue(
                        order_id=order_id,
                        account_id=order.account_id,
                        symbol=order.symbol,
                        venue=order.venue,
                        ts=c.ts,
                        venue_order_id=order.venue_order_id,
                    )
                )

    # ------------------------------------------------------------------ cancel
    def _find(
        self, account_id: str, order_id: int | None, client_order_id: str | None
    ) -> Order | None:
        if order_id is None and client_order_id is not None:
            order_id = self.client_ids.get((account_id, client_order_id))
        order = self.orders.get(order_id) if order_id is not None else None
        if order is None or order.account_id != account_id:
            return None
        return order

    def _cancel(self, c: cmd_.CancelOrder) -> None:
        order = self._find(c.account_id, c.order_id, c.client_order_id)
        refusal: Refusal | None = None
        if order is None:
            refusal = (
                Reason.UNKNOWN_ORDER,
                f"account {c.account_id} has no order {c.order_id or c.client_order_id}",
            )
        elif not order.is_live:
            refusal = (
                Reason.ORDER_NOT_LIVE,
                f"order {order.order_id} is {order.status}: nothing to cancel",
            )
        elif order.status is OrderStatus.PENDING_CANCEL:
            refusal = Reason.ORDER_PENDING, f"order {order.order_id} already has a cancel in flight"
        if refusal is not None:
            self._emit(
                ev.OrderCancelRejected(
                    seq=self.seq + 1,
                    ts_event=c.ts,
                    account_id=c.account_id,
                    reason=refusal[0],
                    message=refusal[1],
                    order_id=order.order_id if order else c.order_id,
                    client_order_id=c.client_order_id,
                )
            )
            return
        assert order is not None
        if order.held:
            self._emit(
                ev.OrderCanceled(
                    seq=self.seq + 1,
                    ts_event=c.ts,
                    order_id=order.order_id,
                    reason=Reason.CANCELED_BY_USER,
                )
            )
            return
        self._emit(ev.OrderPendingCancel(seq=self.seq + 1, ts_event=c.ts, order_id=order.order_id))
        self.outbox.append(
            CancelAtVenue(
                order_id=order.order_id,
                account_id=order.account_id,
                symbol=order.symbol,
                venue=order.venue,
                ts=c.ts,
                venue_order_id=order.venue_order_id,
            )
        )

    # ------------------------------------------------------------------ modify
    def _modify(self, c: cmd_.ModifyOrder) -> None:
        order = self._find(c.account_id, c.order_id, c.client_order_id)
        result = self._plan_modify(c, order)
        if isinstance(result[0], Reason):
            self._emit(
                ev.OrderModifyRejected(
                    seq=self.seq + 1,
                    ts_event=c.ts,
                    account_id=c.account_id,
                    reason=result[0],
                    message=result[1],
                    order_id=order.order_id if order else c.order_id,
                    client_order_id=c.client_order_id,
                )
            )
            return
        assert order is not None
        qty, price, trigger, unit, protection, extra = result
        if order.held:
            self._emit(
                ev.OrderReplaced(
                    seq=self.seq + 1,
                    ts_event=c.ts,
                    order_id=order.order_id,
                    qty=qty,
                    price=price,
                    trigger_price=trigger,
                    reserve_unit=unit,
                    protection_price=protection,
                )
            )
            src = self._trigger_source(order.symbol, order.trigger_type)
            if src is not None and order.held and self._would_fire(order, src):
                self._fire(order, src, c.ts)
            return
        self._emit(
            ev.OrderPendingReplace(
                seq=self.seq + 1,
                ts_event=c.ts,
                order_id=order.order_id,
                qty=qty,
                price=price,
                trigger_price=trigger,
                reserve_extra=extra,
            )
        )
        self.outbox.append(
            ModifyAtVenue(
                order_id=order.order_id,
                account_id=order.account_id,
                symbol=order.symbol,
                venue=order.venue,
                ts=c.ts,
                venue_order_id=order.venue_order_id,
                qty=qty,
                leaves_qty=qty - order.cum_qty,
                price=price,
                post_only=order.post_only,
            )
        )

    def _plan_modify(self, c: cmd_.ModifyOrder, order: Order | None) -> tuple[Any, ...]:
        if order is None:
            return (
                Reason.UNKNOWN_ORDER,
                f"account {c.account_id} has no order {c.order_id or c.client_order_id}",
            )
        if not order.is_live:
            return (
                Reason.ORDER_NOT_LIVE,
                f"order {order.order_id} is {order.status}: it cannot be modified",
            )
        if order.status in (
            OrderStatus.PENDING_CANCEL,
            OrderStatus.PENDING_REPLACE,
            OrderStatus.SUBMITTED,
        ):
            return (
                Reason.ORDER_PENDING,
                f"order {order.order_id} is {order.status}: wait for the venue's answer",
            )
        inst = self.instruments[order.symbol]
        works_at_price = order.price is not None
        if not order.held and not works_at_price:
            return Reason.ORDER_NOT_MODIFIABLE, f"order {order.order_id} works as a market order"
        if c.qty is None and c.price is None and c.trigger_price is None:
            return Reason.NOTHING_TO_MODIFY, "give a new quantity, price or trigger price"
        qty = order.qty if c.qty is None else c.qty
        if c.qty is not None:
            refusal = check_qty(inst, c.qty)
            if refusal:
                return refusal
        price = order.price
        if c.price is not None:
            if not works_at_price:
                return Reason.PRICE_NOT_ALLOWED, f"order {order.order_id} has no limit price"
            refusal = check_price(inst, c.price)
            if refusal:
                return refusal
            price = c.price
        trigger = order.trigger_price
        if c.trigger_price is not None:
            if not order.held or order.order_type in TRAILING_TYPES:
                return (
                    Reason.PRICE_NOT_ALLOWED,
                    f"order {order.order_id} has no trigger price to change",
                )
            refusal = check_price(inst, c.trigger_price, "trigger price")
            if refusal:
                return refusal
            trigger = c.trigger_price
        if qty == order.qty and price == order.price and trigger == order.trigger_price:
            return Reason.NOTHING_TO_MODIFY, "the order already has these values"
        protection = order.protection_price
        if order.held and order.order_type in MARKET_TYPES and trigger != order.trigger_price:
            assert trigger is not None
            protection = self._protect(order.side, trigger, inst.tick_size)
        if price is not None:
            worst = price
        elif order.order_type is OrderType.TRAILING_STOP_LIMIT and trigger is not None:
            worst = trigger + (order.limit_offset or ZERO) if order.side is Side.BUY else trigger
        elif trigger is not None and order.held:
            worst = trigger * self._collar_up
        else:
            worst = None
        if worst is not None and qty * worst * inst.multiplier < inst.min_notional:
            return (
                Reason.NOTIONAL_BELOW_MIN,
                f"notional {_num(qty * worst * inst.multiplier)} is below the minimum {_num(inst.min_notional)}",
            )
        ref = protection if order.side is Side.BUY and protection is not None else worst
        asset, unit = self._reserve_unit(order.account_id, inst, order.side, order.reduce_only, ref)
        if unit is None:
            unit = order.reserve_unit
        leaves = qty - order.cum_qty
        extra = ZERO
        if asset is not None and order.reserved_asset == asset:
            extra = leaves * unit - order.reserved if leaves > 0 else ZERO
            if extra < 0:
                extra = ZERO
            free = self._free(order.account_id, asset)
            if extra > free:
                return (
                    Reason.INSUFFICIENT_BALANCE,
                    f"the change needs {_num(extra)} {asset} more but only {_num(free)} is free",
                )
        return qty, price, trigger, unit, protection, extra

    # ------------------------------------------------------------------ venue reports
    def _known(self, r: rep.Report) -> Order | None:
        order = self.orders.get(r.order_id)
        if order is None:
            self._ignore(r, Reason.UNKNOWN_ORDER, f"no order {r.order_id}")
        return order

    def _ignore(self, r: rep.Report, reason: Reason, message: str) -> None:
        self._emit(
            ev.VenueReportIgnored(
                seq=self.seq + 1,
                ts_event=r.ts,
                order_id=r.order_id,
                report=type(r).__name__,
                reason=reason,
                message=message,
            )
        )

    def _allowed(self, order: Order, tx: Tx, r: rep.Report) -> bool:
        try:
            next_status(order, tx)
        except IllegalTransition as exc:
            self._ignore(r, Reason.ILLEGAL_TRANSITION, str(exc))
            return False
        return True

    def _on_venue_accepted(self, r: rep.VenueAccepted) -> None:
        order = self._known(r)
        if order is None:
            return
        if order.accepted and order.venue_order_id == r.venue_order_id and not order.triggered:
            return  # a duplicate acknowledgement changes nothing
        if order.triggered and order.venue_order_id == r.venue_order_id:
            return
        if self._allowed(order, Tx.ACCEPT, r):
            self._emit(
                ev.OrderAccepted(
                    seq=self.seq + 1,
                    ts_event=r.ts,
                    order_id=r.order_id,
                    venue_order_id=r.venue_order_id,
                )
            )

    def _on_venue_rejected(self, r: rep.VenueRejected) -> None:
        order = self._known(r)
        if (
            order is not None
            and order.status is not OrderStatus.REJECTED
            and self._allowed(order, Tx.REJECT, r)
        ):
            self._emit(
                ev.OrderRejected(
                    seq=self.seq + 1,
                    ts_event=r.ts,
                    order_id=r.order_id,
                    reason=r.reason,
                    message=r.message,
                )
            )

    def _on_venue_filled(self, r: rep.VenueFilled) -> None:
        order = self.orders.get(r.order_id)
        if order is None:
            self._ignore(r, Reason.UNKNOWN_ORDER, f"no order {r.order_id}")
            return
        if r.exec_id in self.fills:
            self._ignore(
                r, Reason.DUPLICATE_EXECUTION, f"execution {r.exec_id} was already applied"
            )
            return
        qty, px = r.last_qty, r.last_px
        if not (qty.is_finite() and px.is_finite() and r.fee.is_finite() and qty > 0 and px > 0):
            self._ignore(r, Reason.INVALID_REPORT, f"fill {r.exec_id}: bad quantity, price or fee")
            return
        cum = order.cum_qty + qty
        if cum > order.qty:
            self._ignore(
                r,
                Reason.OVERFILL,
                f"fill {r.exec_id} of {qty} would take order {order.order_id} past its "
                f"quantity {order.qty} (filled {order.cum_qty})",
            )
            return
        if (order.status, Tx.FILL_FULL if cum == order.qty else Tx.FILL_PARTIAL) not in TRANSITIONS:
            self._ignore(
                r,
                Reason.ILLEGAL_TRANSITION,
                f"order {order.order_id} cannot fill in {order.status}",
            )
            return
        self._emit(
            ev.OrderFilled(
                seq=self.seq + 1,
                ts_event=r.ts,
                order_id=order.order_id,
                account_id=order.account_id,
                symbol=order.symbol,
                side=order.side,
                exec_id=r.exec_id,
                trade_id=r.trade_id,
                last_qty=qty,
                last_px=px,
                liquidity_side=r.liquidity_side,
                fee=r.fee,
                fee_asset=r.fee_asset,
                venue_order_id=r.venue_order_id if order.venue_order_id is None else None,
            )
        )
        if self.triggers.active:
            self._check_triggers(order.symbol, TriggerType.LAST, px, r.ts)

    def _on_venue_canceled(self, r: rep.VenueCanceled) -> None:
        order = self._known(r)
        if order is None:
            return
        if not order.is_live:
            return  # the venue confirms what is already final here (e.g. our expiry cancel)
        if self._allowed(order, Tx.CANCEL, r):
            self._emit(
                ev.OrderCanceled(
                    seq=self.seq + 1, ts_event=r.ts, order_id=r.order_id, reason=r.reason
                )
            )

    def _on_venue_cancel_rejected(self, r: rep.VenueCancelRejected) -> None:
        order = self._known(r)
        if order is not None and self._allowed(order, Tx.CANCEL_REJECT, r):
            self._emit(
                ev.OrderCancelRejected(
                    seq=self.seq + 1,
                    ts_event=r.ts,
                    account_id=order.account_id,
                    reason=r.reason,
                    message=r.message or "the venue refused the cancel",
                    order_id=order.order_id,
                    client_order_id=order.client_order_id,
                )
            )

    def _on_venue_modified(self, r: rep.VenueModified) -> None:
        order = self._known(r)
        if order is None:
            return
        qty = r.qty if r.qty > order.cum_qty else order.cum_qty
        tx = Tx.REPLACE if qty > order.cum_qty else Tx.REPLACE_COMPLETE
        if not self._allowed(order, tx, r):
            return
        pending = order.pending
        price = r.price if r.price is not None else (pending[1] if pending else order.price)
        trigger = pending[2] if pending else order.trigger_price
        inst = self.instruments[order.symbol]
        _, unit = self._reserve_unit(order.account_id, inst, order.side, order.reduce_only, price)
        self._emit(
            ev.OrderReplaced(
                seq=self.seq + 1,
                ts_event=r.ts,
                order_id=order.order_id,
                qty=qty,
                price=price,
                trigger_price=trigger,
                reserve_unit=order.reserve_unit if unit is None else unit,
                protection_price=order.protection_price,
            )
        )

    def _on_venue_modify_rejected(self, r: rep.VenueModifyRejected) -> None:
        order = self._known(r)
        if order is not None and self._allowed(order, Tx.MODIFY_REJECT, r):
            self._emit(
                ev.OrderModifyRejected(
                    seq=self.seq + 1,
                    ts_event=r.ts,
                    account_id=order.account_id,
                    reason=r.reason,
                    message=r.message or "the venue refused the modification",
                    order_id=order.order_id,
                    client_order_id=order.client_order_id,
                )
            )

    def _on_venue_expired(self, r: rep.VenueExpired) -> None:
        order = self._known(r)
        if order is not None and order.is_live and self._allowed(order, Tx.EXPIRE, r):
            self._emit(ev.OrderExpired(seq=self.seq + 1, ts_event=r.ts, order_id=r.order_id))

    def _on_venue_fill_busted(self, r: rep.VenueFillBusted) -> None:
        order = self._known(r)
        if order is None:
            return
        fill = self.fills.get(r.exec_id)
        if fill is None or fill.order_id != order.order_id or r.exec_id in self.busted:
            self._ignore(
                r, Reason.UNKNOWN_ORDER, f"no live execution {r.exec_id} on order {r.order_id}"
            )
            return
        if self._allowed(order, Tx.BUST, r):
            self._emit(
                ev.OrderFillBusted(
                    seq=self.seq + 1, ts_event=r.ts, order_id=order.order_id, exec_id=r.exec_id
                )
            )
