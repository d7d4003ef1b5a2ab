"""The engine's state and the fold that builds it: ``state = fold(apply, events)``.

Nothing else mutates state. The engine decides which events to emit; replay calls :meth:`apply`
on the journal's events and reaches the same state, byte for byte (see :meth:`digest`).
"""

from __future__ import annotations

import hashlib
import heapq
from collections.abc import Callable, Iterable
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

import msgspec

from atlas_oms.core.equities import EquityBook, book_sale
from atlas_oms.core.liq_state import NET, Case, LiqBook, LiqIndex
from atlas_oms.core.orders import RESTORE, TRANSITIONS, Order, Tx, next_status
from atlas_oms.core.positions import Balance, Position
from atlas_oms.core.risk_state import RiskBook
from atlas_oms.core.triggers import TriggerIndex
from atlas_oms.model import events as ev
from atlas_oms.model.account import Account
from atlas_oms.model.enums import (
    TRIGGERED_TYPES,
    InstrumentKind,
    OrderStatus,
    PositionSide,
    Side,
)
from atlas_oms.model.instrument import Instrument
from atlas_oms.model.margin import MarginMode
from atlas_oms.model.reasons import Reason
from atlas_oms.model.risk import Scope

ZERO = Decimal(0)
ONE = Decimal(1)
#: Margin is kept to this many places: a division by leverage would otherwise repeat to 28
#: digits, and adding and removing such amounts in ``locked`` would leave dust behind.
MONEY_QUANTUM = Decimal("1e-12")


def round_money(value: Decimal, rounding: str = ROUND_CEILING) -> Decimal:
    """Round ``value`` onto :data:`MONEY_QUANTUM` if it is finer; coarser values stay as they are."""
    if value.as_tuple().exponent < -12:  # type: ignore[operator]
        return value.quantize(MONEY_QUANTUM, rounding=rounding)
    return value


class EngineState:
    """Everything the engine knows. Indexes (triggers, expiries, client ids) are derived from orders."""

    def __init__(self) -> None:
        self.seq = 0
        self.next_order_id = 1
        self.instruments: dict[str, Instrument] = {}
        self.accounts: dict[str, Account] = {}
        self.orders: dict[int, Order] = {}
        self.client_ids: dict[tuple[str, str], int] = {}
        self.positions: dict[tuple[str, str, PositionSide], Position] = {}
        self.balances: dict[tuple[str, str], Balance] = {}
        self.leverage: dict[tuple[str, str], Decimal] = {}
        self.last: dict[str, Decimal] = {}
        self.mark: dict[str, Decimal] = {}
        self.fills: dict[str, ev.OrderFilled] = {}
        self.busted: set[str] = set()
        self.triggers = TriggerIndex()
        self.expiries: list[tuple[int, int]] = []
        self.risk = RiskBook()
        #: US equities: a cash account's unsettled sale proceeds; live equity orders (derived).
        self.equities = EquityBook()
        #: The derivatives venue: margin modes, insurance funds, funding, liquidations.
        self.liq = LiqBook()
        #: Positions by liquidation price (derived; see core/liq_state.py).
        self.liq_index = LiqIndex()
        #: symbol -> its positions (funding and ADL walk these; derived).
        self.symbol_positions: dict[str, list[Position]] = {}
        #: account -> its live derivative orders (a liquidation cancels them; derived).
        self.deriv_live: dict[str, dict[int, None]] = {}
        # Derived from orders and positions (rebuilt on import, never hashed): risk's exposure.
        #: account -> number of live orders.
        self.open_orders: dict[str, int] = {}
        #: symbol -> [net position, gross position, open buy leaves, open sell leaves], all accounts.
        self.firm: dict[str, list[Decimal]] = {}
        #: account -> its positions and balances (equity and flattening walk these).
        self.account_positions: dict[str, list[Position]] = {}
        self.account_balances: dict[str, list[Balance]] = {}
        #: (account, symbol, position side) -> (instrument, position, balance, balance): lookups saved.
        self._refs_cache: dict[tuple[str, str, PositionSide], tuple[Any, ...]] = {}
        self._appliers: dict[type, Callable[[Any], None]] = {
            cls: getattr(self, "_on_" + cls.__name__) for cls in _event_classes()
        }

    # ------------------------------------------------------------------ folding
    def apply(self, event: ev.EventBase) -> None:
        """Fold one event into the state. Events must arrive gap-free, in sequence."""
        if event.seq != self.seq + 1:
            raise ValueError(f"event seq {event.seq} does not follow {self.seq}")
        self.seq = event.seq
        self._appliers[event.__class__](event)

    def apply_all(self, events: Iterable[ev.EventBase]) -> None:
        apply = self.apply
        for event in events:
            apply(event)

    # ------------------------------------------------------------------ helpers
    def balance(self, account_id: str, asset: str) -> Balance:
        key = (account_id, asset)
        bal = self.balances.get(key)
        if bal is None:
            bal = self.balances[key] = Balance(asset)
            self.account_balances.setdefault(account_id, []).append(bal)
        return bal

    def position(self, account_id: str, inst: Instrument, side: PositionSide) -> Position:
        key = (account_id, inst.symbol, side)
        pos = self.positions.get(key)
        if pos is None:
            pos = self.positions[key] = Position(account_id, inst.symbol, side, inst.multiplier)
            self.account_positions.setdefault(account_id, []).append(pos)
            self.symbol_positions.setdefault(inst.symbol, []).append(pos)
        return pos

    def leverage_of(self, account_id: str, symbol: str) -> Decimal:
        return self.leverage.get((account_id, symbol), ONE)

    def reference_price(self, symbol: str, prefer_mark: bool = False) -> Decimal | None:
        if prefer_mark:
            return self.mark.get(symbol) or self.last.get(symbol)
        return self.last.get(symbol) or self.mark.get(symbol)

    def _release(self, order: Order, amount: Decimal) -> None:
        if amount and order.reserved_asset is not None:
            self._reserve_balance(order).locked -= amount
            order.reserved -= amount

    def _reserve_balance(self, order: Order) -> Balance:
        """The balance an order's reservation sits in: the quote of a spot or equity buy, the
        base of a sell, the settle asset of a derivative (``_book_fill``'s cached balances)."""
        refs = order.book_refs or self._refs(order)
        bal_a, bal_b = refs[2], refs[3]
        bal = bal_b if bal_b is not None and order.side is Side.BUY else bal_a
        assert bal.asset == order.reserved_asset, (bal.asset, order.reserved_asset)
        return bal  # type: ignore[no-any-return]

    def _release_all(self, order: Order) -> None:
        if order.reserved:
            self._release(order, order.reserved)
        if order.pending is not None:
            self._release_pending(order)

    def _release_pending(self, order: Order) -> None:
        assert order.pending is not None
        extra = order.pending[3]
        if extra and order.reserved_asset is not None:
            self.balance(order.account_id, order.reserved_asset).locked -= extra
        order.pending = None

    def _finish(self, order: Order) -> None:
        """Leave the live indexes: the order is done (its quantities stay as they are)."""
        order.leaves_qty = ZERO
        if order.reserved or order.pending is not None:
            self._release_all(order)
        if order.held:
            self.triggers.remove(order.order_id)

    def _track(self, order: Order, old_leaves: Decimal) -> None:
        """Carry a change of an order's leaves into the exposure risk checks (live = leaves > 0)."""
        change = order.leaves_qty - old_leaves
        if not change:
            return
        refs = order.book_refs or self._refs(order)
        pos = refs[1]
        firm = refs[4]
        if order.side is _BUY:
            pos.open_buy += change
            firm[2] += change
        else:
            pos.open_sell += change
            firm[3] += change
        if not old_leaves:
            self.open_orders[order.account_id] = self.open_orders.get(order.account_id, 0) + 1
            if refs[3] is None:
                self.deriv_live.setdefault(order.account_id, {})[order.order_id] = None
        elif not order.leaves_qty:
            self.open_orders[order.account_id] -= 1
            if refs[3] is None:
                self.deriv_live[order.account_id].pop(order.order_id, None)
        if refs[5]:
            self.equities.track(order)

    # ------------------------------------------------------------------ reference data
    def _on_InstrumentAdded(self, e: ev.InstrumentAdded) -> None:
        self.instruments[e.instrument.symbol] = e.instrument

    def _on_AccountOpened(self, e: ev.AccountOpened) -> None:
        self.accounts[e.account.account_id] = e.account
        self.risk.on_account(e.account.account_id, e.account.parent_id)

    def _on_BalanceAdjusted(self, e: ev.BalanceAdjusted) -> None:
        self.balance(e.account_id, e.asset).total += e.amount
        self.liq_index.dirty.add(e.account_id)

    def _on_FundsTransferred(self, e: ev.FundsTransferred) -> None:
        # The same Decimal leaves one balance and reaches the other: nothing is created or lost.
        self.balance(e.account_id, e.asset).total -= e.amount
        self.balance(e.to_account_id, e.asset).total += e.amount
        dirty = self.liq_index.dirty  # both accounts' cross margin (liquidation prices) moved
        dirty.add(e.account_id)
        dirty.add(e.to_account_id)

    def _on_LeverageSet(self, e: ev.LeverageSet) -> None:
        self.leverage[(e.account_id, e.symbol)] = e.leverage

    def _on_PricesUpdated(self, e: ev.PricesUpdated) -> None:
        if e.last is not None:
            self.last[e.symbol] = e.last
        if e.mark is not None:
            self.mark[e.symbol] = e.mark
            self.liq_index.epoch += 1

    def _on_CommandRejected(self, e: ev.CommandRejected) -> None:
        pass

    def _on_VenueReportIgnored(self, e: ev.VenueReportIgnored) -> None:
        pass

    def _on_OrderDuplicateIgnored(self, e: ev.OrderDuplicateIgnored) -> None:
        pass

    # ------------------------------------------------------------------ order lifecycle
    def _new_order(self, order_id: int, intent: Any, venue: str, ts: int) -> Order:
        order = Order(  # positional, in field order
            order_id,
            intent.account_id,
            intent.symbol,
            venue,
            intent.side,
            intent.order_type,
            intent.qty,
            intent.price,
            intent.trigger_price,
            intent.trigger_type,
            intent.trailing_offset,
            intent.trailing_offset_type,
            intent.limit_offset,
            intent.tif,
            intent.expire_ts,
            intent.post_only,
            intent.reduce_only,
            intent.position_side or PositionSide.BOTH,
            intent.client_order_id,
            intent.tag,
            ts,
            ts,
            S_INITIALIZED,
            ZERO,
            intent.qty,
        )
        self.orders[order_id] = order
        if intent.client_order_id is not None:
            self.client_ids[(intent.account_id, intent.client_order_id)] = order_id
        if order_id >= self.next_order_id:
            self.next_order_id = order_id + 1
        return order

    def _on_OrderDenied(self, e: ev.OrderDenied) -> None:
        inst = self.instruments.get(e.intent.symbol)
        order = self._new_order(e.order_id, e.intent, inst.venue if inst else "", e.ts_event)
        order.status = next_status(order, Tx.DENY)
        order.leaves_qty = ZERO
        order.reason = e.reason

    def _on_OrderSubmitted(self, e: ev.OrderSubmitted) -> None:
        intent = e.intent
        inst = self.instruments[intent.symbol]
        order = self._new_order(e.order_id, intent, inst.venue, e.ts_event)
        order.status = next_status(order, Tx.SUBMIT)
        order.trigger_price = e.trigger_price
        order.protection_price = e.protection_price
        order.expire_ts = e.expire_ts
        order.held = intent.order_type in TRIGGERED_TYPES
        order.reserved_asset = e.reserved_asset
        order.reserve_unit = e.reserve_unit
        self._refs(order)  # the position and balances its fills and reservation will move
        if e.reserved_asset is not None and e.reserve_unit:
            unit = e.reserve_unit
            # Share the quantity object when the unit is one (a spot sell): memory per order.
            order.reserved = intent.qty if unit == ONE else intent.qty * unit
            self._reserve_balance(order).locked += order.reserved
        if e.expire_ts is not None:
            heapq.heappush(self.expiries, (e.expire_ts, e.order_id))
        # Exposure (``_track`` from nothing, inlined: this runs for every order).
        refs = order.book_refs
        qty = intent.qty
        if order.side is _BUY:
            refs[1].open_buy += qty  # type: ignore[index]
            refs[4][2] += qty  # type: ignore[index]
        else:
            refs[1].open_sell += qty  # type: ignore[index]
            refs[4][3] += qty  # type: ignore[index]
        open_orders = self.open_orders
        account_id = order.account_id
        open_orders[account_id] = open_orders.get(account_id, 0) + 1
        if refs[3] is None:  # type: ignore[index]  # a derivative
            live = self.deriv_live.get(account_id)
            if live is None:
                live = self.deriv_live[account_id] = {}
            live[e.order_id] = None
        elif refs[5]:  # type: ignore[index]
            self.equities.track(order)
        risk = self.risk
        if risk.count_rates or risk.count_ratios or risk.dup_window_ns or intent.retry_of:
            risk.on_submitted(e.order_id, intent, e.ts_event)

    def _on_OrderAccepted(self, e: ev.OrderAccepted) -> None:
        order = self.orders[e.order_id]
        order.status = next_status(order, Tx.ACCEPT)
        order.accepted = True
        order.ts_last = e.ts_event
        if self.risk.breakers:
            self.risk.on_accepted(order.account_id, order.tag)
        if e.venue_order_id is not None:
            order.venue_order_id = e.venue_order_id
            if not order.priority_seq:
                order.priority_seq = e.seq
        if order.held and order.trigger_price is not None and order.order_id not in self.triggers:
            self.triggers.add(
                order.order_id,
                order.symbol,
                order.trigger_type,
                order.side,
                order.order_type,
                order.trigger_price,
            )

    def _on_OrderRejected(self, e: ev.OrderRejected) -> None:
        order = self.orders[e.order_id]
        old = order.leaves_qty
        order.status = next_status(order, Tx.REJECT)
        order.reason = e.reason
        order.ts_last = e.ts_event
        self._finish(order)
        self._track(order, old)
        if self.risk.breakers:
            self.risk.on_rejected(order.account_id, order.tag, e.reason, e.seq)

    def _on_OrderTriggered(self, e: ev.OrderTriggered) -> None:
        order = self.orders[e.order_id]
        order.status = next_status(order, Tx.TRIGGER)
        order.triggered = True
        order.held = False
        order.trigger_price = e.trigger_price
        order.price = e.price
        order.protection_price = e.protection_price
        order.ts_last = e.ts_event
        self.triggers.remove(order.order_id)

    def _on_OrderTrailingUpdated(self, e: ev.OrderTrailingUpdated) -> None:
        order = self.orders[e.order_id]
        order.watermark = e.watermark
        order.trigger_price = e.trigger_price
        order.ts_last = e.ts_event

    def _on_OrderPendingCancel(self, e: ev.OrderPendingCancel) -> None:
        order = self.orders[e.order_id]
        order.status = next_status(order, Tx.PENDING_CANCEL)
        order.ts_last = e.ts_event
        if e.reason is not None:
            order.reason = e.reason  # the venue's confirmation will carry its own wording
        if self.risk.count_ratios:
            self.risk.on_cancel_request(order.account_id, e.ts_event)

    def _on_OrderCancelRejected(self, e: ev.OrderCancelRejected) -> None:
        order = self.orders.get(e.order_id) if e.order_id is not None else None
        # ORDER_PENDING refuses a second request: the first one is still in flight.
        if (
            order is not None
            and order.status is OrderStatus.PENDING_CANCEL
            and e.reason != Reason.ORDER_PENDING
        ):
            order.status = next_status(order, Tx.CANCEL_REJECT)
            order.ts_last = e.ts_event

    def _on_OrderCanceled(self, e: ev.OrderCanceled) -> None:
        order = self.orders[e.order_id]
        was_live = order.is_live
        old = order.leaves_qty
        if order.held and self.risk.count_ratios:
            self.risk.on_cancel_request(order.account_id, e.ts_event)  # no pending step
        order.status = next_status(order, Tx.CANCEL)
        if was_live:
            order.reason = e.reason
            order.ts_last = e.ts_event
            self._finish(order)
            self._track(order, old)

    def _on_OrderPendingReplace(self, e: ev.OrderPendingReplace) -> None:
        order = self.orders[e.order_id]
        order.status = next_status(order, Tx.PENDING_REPLACE)
        order.pending = (e.qty, e.price, e.trigger_price, e.reserve_extra)
        if e.reserve_extra and order.reserved_asset is not None:
            self.balance(order.account_id, order.reserved_asset).locked += e.reserve_extra
        order.ts_last = e.ts_event
        risk = self.risk
        if risk.count_rates or risk.count_ratios:
            risk.on_modify_request(order.account_id, order.tag, e.ts_event)

    def _on_OrderReplaced(self, e: ev.OrderReplaced) -> None:
        order = self.orders[e.order_id]
        old = order.leaves_qty
        if order.pending is not None:
            self._release_pending(order)
        elif (
            self.risk.count_rates or self.risk.count_ratios
        ):  # held: replaced without a pending step
            self.risk.on_modify_request(order.account_id, order.tag, e.ts_event)
        qty = e.qty if e.qty > order.cum_qty else order.cum_qty
        if e.price != order.price or qty - order.cum_qty > order.leaves_qty:
            order.priority_seq = e.seq  # a new price or more quantity goes to the back of the queue
        order.qty = qty
        order.leaves_qty = qty - order.cum_qty
        order.price = e.price
        order.protection_price = e.protection_price
        order.ts_last = e.ts_event
        order.status = next_status(order, Tx.REPLACE if order.leaves_qty else Tx.REPLACE_COMPLETE)
        new_reserved = order.leaves_qty * e.reserve_unit
        if order.reserved_asset is not None:
            self.balance(order.account_id, order.reserved_asset).locked += (
                new_reserved - order.reserved
            )
        order.reserved = new_reserved
        order.reserve_unit = e.reserve_unit
        if e.trigger_price != order.trigger_price:
            order.trigger_price = e.trigger_price
            if order.order_id in self.triggers:
                self.triggers.remove(order.order_id)
                self.triggers.add(
                    order.order_id,
                    order.symbol,
                    order.trigger_type,
                    order.side,
                    order.order_type,
                    e.trigger_price,
                )  # type: ignore[arg-type]
        if not order.leaves_qty:
            self._finish(order)
        self._track(order, old)

    def _on_OrderModifyRejected(self, e: ev.OrderModifyRejected) -> None:
        order = self.orders.get(e.order_id) if e.order_id is not None else None
        if (
            order is not None
            and order.status is OrderStatus.PENDING_REPLACE
            and e.reason != Reason.ORDER_PENDING
        ):
            order.status = next_status(order, Tx.MODIFY_REJECT)
            if order.pending is not None:
                self._release_pending(order)
            order.ts_last = e.ts_event

    def _on_OrderExpired(self, e: ev.OrderExpired) -> None:
        order = self.orders[e.order_id]
        old = order.leaves_qty
        order.status = next_status(order, Tx.EXPIRE)
        order.reason = "EXPIRED"
        order.ts_last = e.ts_event
        self._finish(order)
        self._track(order, old)

    def _on_OrderFilled(self, e: ev.OrderFilled) -> None:
        order = self.orders[e.order_id]
        qty = e.last_qty
        px = e.last_px
        old = order.leaves_qty
        was_live = order.status in _LIVE
        cum = order.cum_qty + qty
        order.cum_qty = cum
        order.cum_notional += qty * px
        fee = e.fee
        if fee:
            order.fees += fee
        order.fee_asset = e.fee_asset
        order.fill_count += 1
        if order.venue_order_id is None and e.venue_order_id is not None:
            order.venue_order_id = e.venue_order_id  # filled on arrival: the fill is the ack
        order.ts_last = e.ts_event
        full = cum >= order.qty
        target = TRANSITIONS[(order.status, _FILL_FULL if full else _FILL_PARTIAL)]
        order.status = order.working_status() if target is RESTORE else target  # type: ignore[assignment]
        if was_live:
            order.leaves_qty = order.qty - cum
            if full:
                self._finish(order)
            elif order.reserved:
                unit_release = qty * order.reserve_unit
                self._release(
                    order, unit_release if unit_release < order.reserved else order.reserved
                )
        self.fills[e.exec_id] = e
        self.last[e.symbol] = px
        realized = self._book_fill(order, e.side, qty, px, fee, e.fee_asset, e.ts_event)
        if order.side is _SELL and order.book_refs[5]:
            book_sale(self, order, e, e.ts_event)
        if old != order.leaves_qty:
            self._track(order, old)
        risk = self.risk
        if risk.watch_fills:
            risk.on_fill(
                order.account_id,
                order.tag,
                realized - fee if realized else None,
                e.ts_event,
                e.seq,
            )

    def _refs(self, order: Order) -> tuple[Any, ...]:
        refs = self._refs_of(order.account_id, order.symbol, order.position_side)
        order.book_refs = refs
        return refs

    def _refs_of(
        self, account_id: str, symbol: str, position_side: PositionSide
    ) -> tuple[Any, ...]:
        """(instrument, position, balance, balance, firm exposure, is an equity) of one position."""
        key = (account_id, symbol, position_side)
        refs = self._refs_cache.get(key)
        if refs is None:
            inst = self.instruments[symbol]
            pos = self.position(account_id, inst, position_side)
            firm = self.firm.get(inst.symbol)
            if firm is None:
                firm = self.firm[inst.symbol] = [ZERO, ZERO, ZERO, ZERO]
            # (instrument, position, balance, balance, firm exposure, is an equity)
            if inst.is_derivative:
                refs = (
                    inst,
                    pos,
                    self.balance(account_id, inst.settle_asset),
                    None,
                    firm,
                    False,
                )
            else:
                refs = (
                    inst,
                    pos,
                    self.balance(account_id, inst.base),
                    self.balance(account_id, inst.quote),
                    firm,
                    inst.kind is _EQUITY,
                )
            self._refs_cache[key] = refs
        return refs

    def _book_fill(
        self,
        order: Order,
        side: Side,
        qty: Decimal,
        px: Decimal,
        fee: Decimal,
        fee_asset: str,
        ts: int,
    ) -> Decimal:
        """Move positions and balances for one execution (or reverse one, for a bust); return the
        P&L it realized (before fees)."""
        return self._book(
            order.book_refs or self._refs(order),
            order.account_id,
            order.order_id,
            side,
            qty,
            px,
            fee,
            fee_asset,
            ts,
        )

    def _book(
        self,
        refs: tuple[Any, ...],
        account_id: str,
        order_id: int,
        side: Side,
        qty: Decimal,
        px: Decimal,
        fee: Decimal,
        fee_asset: str,
        ts: int,
    ) -> Decimal:
        inst, pos, bal_a, bal_b, firm, _ = refs
        delta = qty if side is _BUY else -qty
        old_qty = pos.qty
        realized = pos.apply_fill(delta, px, fee, order_id, ts)
        new_qty = pos.qty
        firm[0] += new_qty - old_qty
        firm[1] += abs(new_qty) - abs(old_qty)
        if bal_b is not None:  # spot and equities swap assets
            notional = qty * px if inst.multiplier == ONE else qty * px * inst.multiplier
            if delta > ZERO:
                bal_a.total += qty
                bal_b.total -= notional
            else:
                bal_a.total -= qty
                bal_b.total += notional
            if fee:
                (
                    bal_b if fee_asset == bal_b.asset else self.balance(account_id, fee_asset)
                ).total -= fee
            return realized
        self.liq_index.dirty.add(account_id)
        settle = bal_a
        if realized:
            settle.total += realized
        # Margin follows the open quantity: released pro rata on reduction, added on increase.
        if not old_qty or ((old_qty > ZERO) == (new_qty > ZERO) and abs(new_qty) >= abs(old_qty)):
            closed, opened = ZERO, abs(new_qty) - abs(old_qty)
        elif not new_qty or (old_qty > ZERO) != (new_qty > ZERO):
            closed, opened = abs(old_qty), abs(new_qty)
        else:
            closed, opened = abs(old_qty) - abs(new_qty), ZERO
        if closed:
            release = (
                pos.margin
                if closed == abs(old_qty)
                else round_money(pos.margin * closed / abs(old_qty), ROUND_FLOOR)
            )
            pos.margin -= release
            settle.locked -= release
        if opened:
            add = round_money(
                opened * px * inst.multiplier / self.leverage.get((account_id, inst.symbol), ONE)
            )
            pos.margin += add
            settle.locked += add
        if fee:
            (
                settle if fee_asset == settle.asset else self.balance(account_id, fee_asset)
            ).total -= fee
        return realized

    def _on_OrderFillBusted(self, e: ev.OrderFillBusted) -> None:
        fill = self.fills[e.exec_id]
        order = self.orders[e.order_id]
        old = order.leaves_qty
        self.busted.add(e.exec_id)
        order.cum_qty -= fill.last_qty
        order.cum_notional -= fill.last_qty * fill.last_px
        order.fees -= fill.fee
        order.ts_last = e.ts_event
        order.status = next_status(order, Tx.BUST)
        if order.is_live:
            order.leaves_qty = order.qty - order.cum_qty
            more = fill.last_qty * order.reserve_unit
            if more and order.reserved_asset is not None:
                self.balance(order.account_id, order.reserved_asset).locked += more
                order.reserved += more
        # Reverse by an offsetting entry at the busted price, refunding the fee.
        self._book_fill(
            order,
            fill.side.opposite,
            fill.last_qty,
            fill.last_px,
            -fill.fee,
            fill.fee_asset,
            e.ts_event,
        )
        if order.side is _SELL and order.book_refs[5]:
            book_sale(self, order, fill, e.ts_event, reverse=True)
        self._track(order, old)

    def _on_OrderFillCorrected(self, e: ev.OrderFillCorrected) -> None:
        old = self.fills[e.exec_id]
        order = self.orders[e.order_id]
        old_leaves = order.leaves_qty
        was_live = order.status in _LIVE
        order.cum_qty += e.last_qty - old.last_qty
        order.cum_notional += e.last_qty * e.last_px - old.last_qty * old.last_px
        order.fees += e.fee - old.fee
        order.ts_last = e.ts_event
        if was_live and order.cum_qty == order.qty:
            order.status = next_status(order, Tx.FILL_FULL)  # the correction completes it
            self._finish(order)
        else:
            order.status = next_status(order, Tx.CORRECT)
            if was_live:
                order.leaves_qty = order.qty - order.cum_qty
                change = (old.last_qty - e.last_qty) * order.reserve_unit
                if order.reserved_asset is not None and order.reserve_unit:
                    if order.reserved + change < 0:
                        change = -order.reserved
                    self._reserve_balance(order).locked += change
                    order.reserved += change
        # Positions and balances: reverse the execution as it was, book it as it is now.
        self._book_fill(
            order, old.side.opposite, old.last_qty, old.last_px, -old.fee, old.fee_asset, e.ts_event
        )
        self._book_fill(order, old.side, e.last_qty, e.last_px, e.fee, old.fee_asset, e.ts_event)
        self.fills[e.exec_id] = msgspec.structs.replace(
            old, last_qty=e.last_qty, last_px=e.last_px, fee=e.fee
        )
        if order.side is _SELL and order.book_refs[5]:
            book_sale(self, order, old, e.ts_event, reverse=True)
            book_sale(self, order, self.fills[e.exec_id], e.ts_event)
        self._track(order, old_leaves)

    # ------------------------------------------------------------------ risk
    def _on_RiskLimitsSet(self, e: ev.RiskLimitsSet) -> None:
        self.risk.on_limits(e)

    def _on_TradingStateChanged(self, e: ev.TradingStateChanged) -> None:
        self.risk.on_trading_state(e)

    def _on_KillSwitchTripped(self, e: ev.KillSwitchTripped) -> None:
        todo = []
        if e.flatten:
            todo = sorted(
                {
                    p.account_id
                    for p in self.positions.values()
                    if p.qty and self.in_scope(e.scope, e.scope_id, p.account_id, None)
                }
            )
        self.risk.on_kill(e, todo)

    def _on_KillSwitchReset(self, e: ev.KillSwitchReset) -> None:
        self.risk.on_kill_reset(e)

    def _on_CircuitBreakerTripped(self, e: ev.CircuitBreakerTripped) -> None:
        self.risk.on_breaker_tripped(e)

    def _on_CircuitBreakerReset(self, e: ev.CircuitBreakerReset) -> None:
        self.risk.on_breaker_reset(e)

    def _on_BreakerEquityMarked(self, e: ev.BreakerEquityMarked) -> None:
        self.risk.on_equity_marked(e)

    def _on_RiskAlert(self, e: ev.RiskAlert) -> None:
        self.risk.on_alert(e)

    def _on_AccountFlattening(self, e: ev.AccountFlattening) -> None:
        self.risk.flatten_todo.pop(e.account_id, None)
        self.risk.refresh()

    def _on_MarketStatusChanged(self, e: ev.MarketStatusChanged) -> None:
        if e.status is None:
            self.risk.market_status.pop(e.symbol, None)
        else:
            self.risk.market_status[e.symbol] = e.status
        self.risk.refresh()

    # ------------------------------------------------------------------ derivatives venue
    def _on_MarginModeSet(self, e: ev.MarginModeSet) -> None:
        if e.mode is MarginMode.CROSS:
            self.liq.margin_mode.pop((e.account_id, e.symbol), None)
        else:
            self.liq.margin_mode[(e.account_id, e.symbol)] = e.mode
        self.liq_index.dirty.add(e.account_id)

    def _on_IsolatedMarginAdjusted(self, e: ev.IsolatedMarginAdjusted) -> None:
        refs = self._refs_of(e.account_id, e.symbol, e.position_side)
        refs[1].margin += e.amount
        refs[2].locked += e.amount
        self.liq_index.dirty.add(e.account_id)

    def _replace_instrument(self, symbol: str, **changes: Any) -> None:
        """A new version of an instrument; cached references to the old one are dropped (orders
        re-read it on their next fill)."""
        self.instruments[symbol] = msgspec.structs.replace(self.instruments[symbol], **changes)
        for key in [k for k in self._refs_cache if k[1] == symbol]:
            del self._refs_cache[key]
        for order in self.orders.values():
            if order.symbol == symbol:
                order.book_refs = None

    def _on_MarginTiersSet(self, e: ev.MarginTiersSet) -> None:
        self._replace_instrument(e.symbol, margin_tiers=e.tiers)
        for pos in self.symbol_positions.get(e.symbol, ()):
            self.liq_index.dirty.add(pos.account_id)
        self.liq_index.epoch += 1

    def _on_FundingRateSet(self, e: ev.FundingRateSet) -> None:
        self.liq.funding_rate[e.symbol] = e.rate
        if e.symbol not in self.liq.last_funding:
            interval = self.instruments[e.symbol].funding_interval_min * 60_000_000_000
            self.liq.last_funding[e.symbol] = e.ts_event - e.ts_event % interval if interval else 0

    def _on_FundingSettled(self, e: ev.FundingSettled) -> None:
        liq = self.liq
        liq.last_funding[e.symbol] = e.funding_ts
        self.liq_index.epoch += 1
        refs = self._refs_of(e.account_id, e.symbol, e.position_side)
        refs[2].total += e.amount
        if liq.margin_mode.get((e.account_id, e.symbol)) is MarginMode.ISOLATED:
            refs[1].margin += e.amount  # an isolated position's funding moves its own margin
            refs[2].locked += e.amount
        key = (e.account_id, e.symbol, e.position_side)
        liq.funding_total[key] = liq.funding_total.get(key, ZERO) + e.amount
        self.liq_index.dirty.add(e.account_id)

    def _on_InsuranceFundDeposited(self, e: ev.InsuranceFundDeposited) -> None:
        self.liq.fund[e.asset] = self.liq.fund.get(e.asset, ZERO) + e.amount

    def _on_LiquidationStarted(self, e: ev.LiquidationStarted) -> None:
        liq = self.liq
        liq.cases[e.case_id] = Case(e.case_id, e.account_id, e.mode, e.asset, list(e.positions))
        liq.next_case_id = e.case_id + 1
        liq.liquidations += 1
        key = (e.account_id, "*" if e.mode is MarginMode.CROSS else e.symbol)
        liq.frozen[key] = e.case_id
        self.liq_index.dirty.add(e.account_id)

    def _on_LiquidationStep(self, e: ev.LiquidationStep) -> None:
        case = self.liq.cases[e.case_id]
        if e.stage == NET:
            return  # a netting of the account's own legs: no order, no stage of a position
        target = (e.symbol, e.position_side)
        if case.current != target:
            case.todo.remove(target)
            case.current = target
        case.stage = e.stage
        case.bankruptcy = e.bankruptcy_price
        case.order_id = e.order_id
        case.settled_qty = ZERO
        case.settled_notional = ZERO
        if e.order_id is not None:
            self.liq.orders[e.order_id] = e.case_id

    def _on_LiquidationFundTransfer(self, e: ev.LiquidationFundTransfer) -> None:
        liq = self.liq
        case = liq.cases[e.case_id]
        order = self.orders[e.order_id]
        case.settled_qty = order.cum_qty
        case.settled_notional = order.cum_notional
        self.balance(e.account_id, e.asset).total -= e.amount
        liq.fund[e.asset] = liq.fund.get(e.asset, ZERO) + e.amount
        self.liq_index.dirty.add(e.account_id)

    def _on_PositionAutoDeleveraged(self, e: ev.PositionAutoDeleveraged) -> None:
        if not e.liquidated:
            self.liq.adl_count += 1
        refs = self._refs_of(e.account_id, e.symbol, e.position_side)
        side = _SELL if refs[1].qty > ZERO else _BUY
        realized = self._book(
            refs, e.account_id, 0, side, e.qty, e.price, ZERO, refs[2].asset, e.ts_event
        )
        if self.risk.watch_fills:
            self.risk.on_fill(e.account_id, None, realized or None, e.ts_event, e.seq)

    def _on_LiquidationFinished(self, e: ev.LiquidationFinished) -> None:
        liq = self.liq
        case = liq.cases.pop(e.case_id)
        for key in [k for k, v in liq.frozen.items() if v == e.case_id]:
            del liq.frozen[key]
        for order_id in [k for k, v in liq.orders.items() if v == e.case_id]:
            del liq.orders[order_id]
        case.shortfall = e.shortfall
        self.liq_index.dirty.add(case.account_id)

    def _on_FutureSettled(self, e: ev.FutureSettled) -> None:
        self._replace_instrument(e.symbol, tradable=False)
        for pos in sorted(
            self.symbol_positions.get(e.symbol, ()), key=lambda p: (p.account_id, p.position_side)
        ):
            if pos.qty:
                refs = self._refs_of(pos.account_id, e.symbol, pos.position_side)
                side = _SELL if pos.qty > ZERO else _BUY
                self._book(
                    refs,
                    pos.account_id,
                    0,
                    side,
                    abs(pos.qty),
                    e.price,
                    ZERO,
                    refs[2].asset,
                    e.ts_event,
                )
        self.last[e.symbol] = e.price
        self.mark[e.symbol] = e.price
        self.liq_index.epoch += 1

    def in_scope(self, scope: Scope, scope_id: str, account_id: str, tag: str | None) -> bool:
        """Whether an account's order (with strategy ``tag``) falls in a scope."""
        if scope is Scope.GLOBAL:
            return True
        if scope is Scope.ACCOUNT:
            return scope_id in self.risk.chain(account_id)
        if scope is Scope.STRATEGY:
            return tag == scope_id
        return False

    # ------------------------------------------------------------------ digest
    def digest(self) -> str:
        """SHA-256 of a canonical encoding of the whole state: equal digests mean equal states."""
        return hashlib.sha256(msgspec.msgpack.encode(self.canonical())).hexdigest()

    def canonical(self) -> list[Any]:
        orders = [
            [getattr(o, name) for name in _ORDER_FIELDS] for _, o in sorted(self.orders.items())
        ]
        positions = [
            [
                k,
                p.qty,
                p.cost,
                p.realized_pnl,
                p.fees,
                p.margin,
                p.trade_count,
                p.closed_lots,
                [
                    [lot.qty, lot.price, lot.order_id, lot.ts_open, lot.realized_pnl]
                    for lot in p.lots
                ],
            ]
            for k, p in sorted(self.positions.items())
        ]
        balances = [[k, b.total, b.locked] for k, b in sorted(self.balances.items())]
        return [
            self.seq,
            self.next_order_id,
            [i for _, i in sorted(self.instruments.items())],
            [a for _, a in sorted(self.accounts.items())],
            orders,
            positions,
            balances,
            sorted(self.leverage.items()),
            sorted(self.last.items()),
            sorted(self.mark.items()),
            sorted(self.fills),
            sorted(self.busted),
            sorted(self.client_ids.items()),
            len(self.triggers),
            # The expiry heap is an index: the timer pops due entries outside the fold, so only
            # the entries of live orders are state (a replay still holds the popped ones).
            sorted(e for e in self.expiries if self.orders[e[1]].is_live),
            self.equities.canonical(),
            self.risk.canonical(),
            self.liq.canonical(),
        ]


_FILL_FULL = Tx.FILL_FULL
_BUY = Side.BUY
_SELL = Side.SELL
_EQUITY = InstrumentKind.EQUITY
S_INITIALIZED = OrderStatus.INITIALIZED
_FILL_PARTIAL = Tx.FILL_PARTIAL
_LIVE = frozenset(
    {
        OrderStatus.SUBMITTED,
        OrderStatus.ACCEPTED,
        OrderStatus.TRIGGERED,
        OrderStatus.PARTIALLY_FILLED,
        OrderStatus.PENDING_CANCEL,
        OrderStatus.PENDING_REPLACE,
    }
)
_ORDER_FIELDS = tuple(sorted(set(Order.__struct_fields__) - {"book_refs"}))


def _event_classes() -> list[type]:
    return [
        c
        for c in vars(ev).values()
        if isinstance(c, type) and issubclass(c, ev.EventBase) and c is not ev.EventBase
    ]


_SNAPSHOT_FIELDS = (
    "seq",
    "next_order_id",
    "instruments",
    "accounts",
    "orders",
    "client_ids",
    "positions",
    "balances",
    "leverage",
    "last",
    "mark",
    "fills",
    "busted",
    "expiries",
    "risk",
    "equities",
    "liq",
)


def export_state(state: EngineState) -> dict[str, Any]:
    """The state's data (no derived indexes), for a snapshot."""
    return {name: getattr(state, name) for name in _SNAPSHOT_FIELDS}


def import_state(state: EngineState, data: dict[str, Any]) -> None:
    """Load :func:`export_state` data into a fresh state and rebuild the derived indexes."""
    if state.seq:
        raise ValueError("import_state needs a fresh state")
    for name in _SNAPSHOT_FIELDS:
        current, value = getattr(state, name), data[name]
        if isinstance(current, dict):
            # Fill the same dict: adapters hold references to it (the sim venue's instruments).
            current.clear()
            current.update(value)
        else:
            setattr(state, name, value)
    state.account_positions.clear()
    state.account_balances.clear()
    state.symbol_positions.clear()
    state.deriv_live.clear()
    state.liq_index.clear()
    for (account_id, _), bal in state.balances.items():
        state.account_balances.setdefault(account_id, []).append(bal)
    for pos in state.positions.values():
        state.account_positions.setdefault(pos.account_id, []).append(pos)
        state.symbol_positions.setdefault(pos.symbol, []).append(pos)
        state.liq_index.dirty.add(pos.account_id)
        pos.open_buy = pos.open_sell = ZERO
        firm = state.firm.setdefault(pos.symbol, [ZERO, ZERO, ZERO, ZERO])
        firm[0] += pos.qty
        firm[1] += abs(pos.qty)
    for order in state.orders.values():
        order.book_refs = None  # the pickled refs hold the snapshot's copies of the firm sums
        if order.leaves_qty:
            state._track(order, ZERO)
    for order in state.orders.values():
        if order.held and order.is_live and order.accepted and order.trigger_price is not None:
            state.triggers.add(
                order.order_id,
                order.symbol,
                order.trigger_type,
                order.side,
                order.order_type,
                order.trigger_price,
            )
