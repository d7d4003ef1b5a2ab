"""Cancel and modify (cancel/replace): the part of the engine that amends live orders.

A mixin of :class:`~atlas_oms.core.engine.Engine`; it uses the engine's ``_emit``, ``outbox``,
``_reserve_unit``, ``_protect``, ``_would_fire``, ``_fire`` and ``_trigger_source``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from atlas_oms.core import equities
from atlas_oms.core.orders import Order
from atlas_oms.core.state import EngineState
from atlas_oms.core.validation import (
    Refusal,
    check_price,
    check_qty,
    plain,
)
from atlas_oms.model import commands as cmd_
from atlas_oms.model import events as ev
from atlas_oms.model.enums import (
    MARKET_TYPES,
    TRAILING_TYPES,
    InstrumentKind,
    OrderStatus,
    OrderType,
    Side,
)
from atlas_oms.model.reasons import Reason
from atlas_oms.model.requests import CancelAtVenue, ModifyAtVenue

ZERO = Decimal(0)


def cancel_request(order: Order, ts: int) -> CancelAtVenue:
    """Ask the order's venue to take it off the book."""
    return CancelAtVenue(
        order_id=order.order_id,
        account_id=order.account_id,
        symbol=order.symbol,
        venue=order.venue,
        ts=ts,
        venue_order_id=order.venue_order_id,
    )


class AmendHandlers(EngineState):
    """Cancel and modify requests: refuse, act at once (held orders), or ask the venue."""

    _risk_modify: Any  # the risk engine's modify check (RiskChecks)

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
        elif order.order_id in self.liq.orders:
            refusal = (
                Reason.LIQUIDATION_IN_PROGRESS,
                f"order {order.order_id} is a liquidation order: only the venue ends it",
            )
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
        self.outbox.append(cancel_request(order, c.ts))

    def _cancel_for(self, order: Order, ts: int, reason: Reason) -> None:
        """Cancel on the engine's own initiative (kill switch, liquidation): a held order at once,
        a working one by asking its venue."""
        if order.held:
            self._emit(
                ev.OrderCanceled(
                    seq=self.seq + 1, ts_event=ts, order_id=order.order_id, reason=reason
                )
            )
        else:
            self._emit(
                ev.OrderPendingCancel(
                    seq=self.seq + 1, ts_event=ts, order_id=order.order_id, reason=reason
                )
            )
            self.outbox.append(cancel_request(order, ts))

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
                f"notional {plain(qty * worst * inst.multiplier)} is below the minimum {plain(inst.min_notional)}",
            )
        if self.liq.frozen and self.liq.is_frozen(order.account_id, order.symbol):
            return (
                Reason.LIQUIDATION_IN_PROGRESS,
                f"account {order.account_id} is being liquidated on {order.symbol}",
            )
        refusal = self._risk_modify(order, inst, qty, price, trigger, worst, c.ts)
        if refusal:
            return refusal
        ref = protection if order.side is Side.BUY and protection is not None else worst
        asset, unit = self._reserve_unit(order.account_id, inst, order.side, order.reduce_only, ref)
        if unit is None:
            unit = order.reserve_unit
        if inst.kind is InstrumentKind.EQUITY:
            refusal = equities.check_modify(
                self, order, inst, qty, price, trigger, protection, unit, c.ts
            )
            if refusal:
                return refusal
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
                    f"the change needs {plain(extra)} {asset} more but only {plain(free)} is free",
                )
        return qty, price, trigger, unit, protection, extra
