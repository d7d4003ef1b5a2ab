"""The built-in exchange as a venue: engine requests in, execution reports out.

It wraps one :class:`~atlas_oms.matching.book.OrderBook` per instrument, computes maker/taker
fees and assigns ids that depend only on the orders involved (a maker and a taker can meet at
most once: after they match, one of them is done), so that a book restored after a restart
produces exactly the ids the uninterrupted run would have.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from atlas_oms.matching.book import Fill, ModifyResult, OrderBook, SubmitResult
from atlas_oms.model.enums import (
    LiquiditySide,
    SelfTradePrevention,
    TimeInForce,
)
from atlas_oms.model.instrument import Instrument
from atlas_oms.model.reasons import Reason
from atlas_oms.model.reports import (
    Report,
    VenueAccepted,
    VenueCanceled,
    VenueCancelRejected,
    VenueFilled,
    VenueModified,
    VenueModifyRejected,
    VenueRejected,
)
from atlas_oms.model.requests import CancelAtVenue, ModifyAtVenue, SubmitToVenue, VenueRequest

_MAKER = LiquiditySide.MAKER
_TAKER = LiquiditySide.TAKER
_IOC = TimeInForce.IOC
_ZERO = Decimal(0)


class SimVenue:
    """A price-time-priority exchange with many accounts trading against each other."""

    #: Reports come back synchronously and deterministically; no durable flush is needed before sending.
    synchronous = True

    def __init__(
        self,
        instruments: Mapping[str, Instrument],
        name: str = "sim",
        stp: SelfTradePrevention = SelfTradePrevention.CANCEL_TAKER,
    ) -> None:
        self.name = name
        self.stp = stp
        self._instruments = instruments
        self.books: dict[str, OrderBook] = {}

    def book(self, symbol: str) -> OrderBook:
        book = self.books.get(symbol)
        if book is None:
            book = self.books[symbol] = OrderBook(symbol, self.stp)
        return book

    def handle(self, request: VenueRequest) -> list[Report]:
        """Carry out one request; return the reports it produced, in order."""
        if type(request) is SubmitToVenue:
            return self._submit(request)
        if type(request) is CancelAtVenue:
            return self._cancel(request)
        if type(request) is ModifyAtVenue:
            return self._modify(request)
        raise TypeError(f"sim venue cannot handle {type(request).__name__}")

    def restore(self, orders: Iterable[tuple[Any, ...]]) -> None:
        """Rebuild the books from resting orders ``(symbol, order_id, account_id, side, price,
        leaves[, display_qty])`` given in time priority (an iceberg shows a full visible part)."""
        self.books.clear()
        per_symbol: dict[str, list[tuple[Any, ...]]] = {}
        for item in orders:
            symbol, order_id, account_id, side, price, leaves = item[:6]
            display = item[6] if len(item) > 6 else None
            per_symbol.setdefault(symbol, []).append(
                (order_id, account_id, side, price, leaves, None, display)
            )
        for symbol, entries in per_symbol.items():
            self.book(symbol).restore(entries)

    # ------------------------------------------------------------------ requests
    def _submit(self, r: SubmitToVenue) -> list[Report]:
        ts = r.ts
        order_id = r.order_id
        venue_order_id = f"{self.name}-{order_id}"
        price = r.price
        tif = r.tif
        market = price is None
        if market and r.protection_price is not None:
            price, tif = r.protection_price, _IOC  # a protected market order is an IOC limit
        result = self.book(r.symbol).submit(
            order_id, r.account_id, r.side, r.qty, price, tif, r.post_only, None, r.display_qty
        )
        reason = result.reason
        if reason == Reason.POST_ONLY_WOULD_TAKE:
            return [
                VenueRejected(
                    order_id=order_id,
                    ts=ts,
                    reason=reason,
                    message="post-only order would have taken liquidity",
                )
            ]
        # Like an exchange's full response to an order that fills on arrival: the fills are the
        # acknowledgement (the engine takes the venue order id from them). Otherwise ack first.
        out: list[Report] = (
            []
            if result.filled_qty == r.qty
            else [VenueAccepted(order_id=order_id, ts=ts, venue_order_id=venue_order_id)]
        )
        if market and reason == Reason.IOC_REMAINDER:
            reason = Reason.MARKET_NO_LIQUIDITY
        self._matched(
            out, r.symbol, order_id, venue_order_id, result, reason, ts, no_taker_fee=r.liquidation
        )
        return out

    def _matched(
        self,
        out: list[Report],
        symbol: str,
        order_id: int,
        venue_order_id: str,
        result: SubmitResult | ModifyResult,
        reason: str | None,
        ts: int,
        no_taker_fee: bool = False,
    ) -> None:
        """Report what a taker did in the book: its fills, makers removed by STP, its canceled rest."""
        if result.fills:
            self._fills(out, symbol, order_id, venue_order_id, result.fills, ts, no_taker_fee)
        for maker_id, _qty in result.stp_canceled:
            out.append(VenueCanceled(order_id=maker_id, ts=ts, reason=Reason.SELF_TRADE_PREVENTED))
        if result.canceled_qty:
            out.append(
                VenueCanceled(
                    order_id=order_id,
                    ts=ts,
                    reason=reason or Reason.IOC_REMAINDER,
                    canceled_qty=result.canceled_qty,
                )
            )

    def _fills(
        self,
        out: list[Report],
        symbol: str,
        taker_id: int,
        taker_venue_id: str,
        fills: list[Fill],
        ts: int,
        no_taker_fee: bool = False,
    ) -> None:
        inst = self._instruments[symbol]
        mult = inst.multiplier
        maker_rate = inst.maker_fee
        taker_rate = _ZERO if no_taker_fee else inst.taker_fee
        fee_asset = inst.settle_asset
        name = self.name
        for f in fills:
            qty = f.qty
            px = f.price
            notional = qty * px * mult
            maker_id = f.maker_order_id
            trade_id = f"{name}-{taker_id}x{maker_id}"
            if f.part:  # an iceberg's refill: the same two orders may meet again
                trade_id = f"{trade_id}p{f.part}"
            out.append(
                VenueFilled(
                    order_id=maker_id,
                    ts=ts,
                    exec_id=trade_id + "-M",
                    trade_id=trade_id,
                    last_qty=qty,
                    last_px=px,
                    liquidity_side=_MAKER,
                    fee=notional * maker_rate if maker_rate else _ZERO,
                    fee_asset=fee_asset,
                    venue_order_id=f"{name}-{maker_id}",
                )
            )
            out.append(
                VenueFilled(
                    order_id=taker_id,
                    ts=ts,
                    exec_id=trade_id + "-T",
                    trade_id=trade_id,
                    last_qty=qty,
                    last_px=px,
                    liquidity_side=_TAKER,
                    fee=notional * taker_rate if taker_rate else _ZERO,
                    fee_asset=fee_asset,
                    venue_order_id=taker_venue_id,
                )
            )

    def _cancel(self, r: CancelAtVenue) -> list[Report]:
        leaves = self.book(r.symbol).cancel(r.order_id)
        if leaves is None:
            return [
                VenueCancelRejected(
                    order_id=r.order_id,
                    ts=r.ts,
                    reason=Reason.ORDER_NOT_LIVE,
                    message="the order is not resting at the venue",
                )
            ]
        return [
            VenueCanceled(
                order_id=r.order_id, ts=r.ts, reason=Reason.CANCELED_BY_USER, canceled_qty=leaves
            )
        ]

    def _modify(self, r: ModifyAtVenue) -> list[Report]:
        book = self.book(r.symbol)
        resting = book.resting(r.order_id)
        if resting is None:
            return [
                VenueModifyRejected(
                    order_id=r.order_id,
                    ts=r.ts,
                    reason=Reason.ORDER_NOT_LIVE,
                    message="the order is not resting at the venue",
                )
            ]
        price = r.price if r.price is not None else resting.price
        if r.leaves_qty <= 0:
            book.cancel(r.order_id)
            return [
                VenueModified(
                    order_id=r.order_id, ts=r.ts, qty=r.qty, leaves_qty=_ZERO, price=price
                )
            ]
        result = book.modify(r.order_id, r.leaves_qty, price, post_only=r.post_only)
        assert result is not None
        if result.reason == Reason.POST_ONLY_WOULD_TAKE:
            return [
                VenueModifyRejected(
                    order_id=r.order_id,
                    ts=r.ts,
                    reason=result.reason,
                    message="the new price would take liquidity: post-only order unchanged",
                )
            ]
        out: list[Report] = [
            VenueModified(
                order_id=r.order_id, ts=r.ts, qty=r.qty, leaves_qty=r.leaves_qty, price=price
            )
        ]
        self._matched(
            out, r.symbol, r.order_id, f"{self.name}-{r.order_id}", result, result.reason, r.ts
        )
        return out
