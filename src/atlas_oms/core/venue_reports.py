"""Venue execution reports: the part of the engine that hears what venues did.

A mixin of :class:`~atlas_oms.core.engine.Engine`. Every report is checked against the order
state table; one that cannot apply is journaled as ``VenueReportIgnored`` with its reason.
"""

from __future__ import annotations

from decimal import Decimal

from atlas_oms.core.orders import TRANSITIONS, IllegalTransition, Order, Tx, next_status
from atlas_oms.core.state import EngineState
from atlas_oms.model import events as ev
from atlas_oms.model import reports as rep
from atlas_oms.model.enums import (
    OrderStatus,
    TriggerType,
)
from atlas_oms.model.reasons import Reason

ZERO = Decimal(0)


class ReportHandlers(EngineState):
    """Acknowledgements, fills, cancels, replaces, expiries and busts reported by venues."""

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
        if not (
            qty.is_finite() and px.is_finite() and r.fee.is_finite() and qty > ZERO and px > ZERO
        ):
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
                    seq=self.seq + 1,
                    ts_event=r.ts,
                    order_id=r.order_id,
                    # A cancel the engine asked for (kill switch) keeps its own reason.
                    reason=order.reason
                    if order.status is OrderStatus.PENDING_CANCEL and order.reason
                    else r.reason,
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
        fill = self._live_execution(r, order, r.exec_id)
        if fill is None:
            return
        if self._allowed(order, Tx.BUST, r):
            self._emit(
                ev.OrderFillBusted(
                    seq=self.seq + 1, ts_event=r.ts, order_id=order.order_id, exec_id=r.exec_id
                )
            )

    def _on_venue_fill_corrected(self, r: rep.VenueFillCorrected) -> None:
        order = self._known(r)
        if order is None:
            return
        fill = self._live_execution(r, order, r.exec_id)
        if fill is None:
            return
        qty, px = r.last_qty, r.last_px
        if not (
            qty.is_finite() and px.is_finite() and r.fee.is_finite() and qty > ZERO and px > ZERO
        ):
            self._ignore(
                r, Reason.INVALID_REPORT, f"correction of {r.exec_id}: bad quantity, price or fee"
            )
            return
        if order.cum_qty - fill.last_qty + qty > order.qty:
            self._ignore(
                r,
                Reason.OVERFILL,
                f"correction of {r.exec_id} to {qty} would take order {order.order_id} past its "
                f"quantity {order.qty}",
            )
            return
        if self._allowed(order, Tx.CORRECT, r):
            self._emit(
                ev.OrderFillCorrected(
                    seq=self.seq + 1,
                    ts_event=r.ts,
                    order_id=order.order_id,
                    exec_id=r.exec_id,
                    last_qty=qty,
                    last_px=px,
                    fee=r.fee,
                )
            )

    def _live_execution(self, r: rep.Report, order: Order, exec_id: str) -> ev.OrderFilled | None:
        """The order's execution ``exec_id`` if it stands (not busted); else ignore the report."""
        fill = self.fills.get(exec_id)
        if fill is None or fill.order_id != order.order_id or exec_id in self.busted:
            self._ignore(
                r, Reason.UNKNOWN_ORDER, f"no live execution {exec_id} on order {r.order_id}"
            )
            return None
        return fill
