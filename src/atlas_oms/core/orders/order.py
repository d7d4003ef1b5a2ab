"""The order as the engine tracks it, and its read-only view."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

import msgspec

from atlas_oms.core.orders.transitions import LIVE_STATUSES
from atlas_oms.model.commands import SubmitOrder
from atlas_oms.model.enums import (
    OrderStatus,
    OrderType,
    PositionSide,
    Side,
    TimeInForce,
    TrailingOffsetType,
    TriggerType,
)
from atlas_oms.model.risk import MarketOrderReason

if TYPE_CHECKING:
    from atlas_oms.core.state.booking import PositionRefs

S = OrderStatus
ZERO = Decimal(0)


class Order(msgspec.Struct, gc=False):
    """One order as the engine tracks it. Mutated only by the engine's event appliers.

    A ``msgspec.Struct`` without garbage-collector tracking (it holds no reference cycles): a
    million resting orders cost the cyclic collector nothing. The engine builds it positionally:
    keyword construction of a struct this wide costs five times as much (~1 µs).
    """

    order_id: int
    account_id: str
    symbol: str
    venue: str
    side: Side
    order_type: OrderType
    qty: Decimal
    price: Decimal | None
    trigger_price: Decimal | None
    trigger_type: TriggerType
    trailing_offset: Decimal | None
    trailing_offset_type: TrailingOffsetType
    limit_offset: Decimal | None
    tif: TimeInForce
    expire_ts: int | None
    post_only: bool
    reduce_only: bool
    position_side: PositionSide
    client_order_id: str | None
    tag: str | None
    ts_init: int
    ts_last: int = 0
    status: OrderStatus = S.INITIALIZED
    cum_qty: Decimal = ZERO
    leaves_qty: Decimal = ZERO
    cum_notional: Decimal = ZERO
    fees: Decimal = ZERO
    fee_asset: str | None = None
    fill_count: int = 0
    venue_order_id: str | None = None
    accepted: bool = False
    held: bool = False
    triggered: bool = False
    watermark: Decimal | None = None
    protection_price: Decimal | None = None
    reserved_asset: str | None = None
    reserve_unit: Decimal = ZERO
    reserved: Decimal = ZERO
    #: A modify in flight: (qty, price, trigger price, extra funds locked for it).
    pending: tuple[Decimal, Decimal | None, Decimal | None, Decimal] | None = None
    reason: str | None = None
    #: Seq of the event at which the order took its current place in the venue's queue.
    priority_seq: int = 0
    #: The request as it was submitted, kept when it has a client order id (a resend is compared
    #: with it) or carries what the fields above do not (extended hours, a market reason).
    intent: SubmitOrder | None = None
    #: The position, balances and exposure this order's fills and reservation move (a cached
    #: lookup, not state: never hashed or snapshotted).
    refs: PositionRefs | None = None
    #: Accepted outside its session: when it is released to its venue (ns; None otherwise).
    #: Mirrors ``state.equities.us.queued`` (not in the order record).
    session_release: int | None = None

    @property
    def is_live(self) -> bool:
        return self.status in LIVE_STATUSES

    @property
    def avg_px(self) -> Decimal | None:
        """Average fill price: exact notional over filled quantity (None before any fill)."""
        return self.cum_notional / self.cum_qty if self.cum_qty else None

    def working_status(self) -> OrderStatus:
        if self.cum_qty > 0:
            return S.PARTIALLY_FILLED
        if self.triggered:
            return S.TRIGGERED
        if self.accepted:
            return S.ACCEPTED
        return S.SUBMITTED

    def view(self) -> OrderView:
        return OrderView(
            order_id=self.order_id,
            client_order_id=self.client_order_id,
            account_id=self.account_id,
            symbol=self.symbol,
            venue=self.venue,
            side=self.side,
            order_type=self.order_type,
            status=self.status,
            qty=self.qty,
            price=self.price,
            trigger_price=self.trigger_price,
            tif=self.tif,
            cum_qty=self.cum_qty,
            leaves_qty=self.leaves_qty,
            avg_px=self.avg_px,
            fees=self.fees,
            fee_asset=self.fee_asset,
            post_only=self.post_only,
            reduce_only=self.reduce_only,
            position_side=self.position_side,
            venue_order_id=self.venue_order_id,
            reason=self.reason,
            tag=self.tag,
            ts_init=self.ts_init,
            ts_last=self.ts_last,
            trigger_type=self.trigger_type,
            trailing_offset=self.trailing_offset,
            trailing_offset_type=self.trailing_offset_type,
            limit_offset=self.limit_offset,
            expire_ts=self.expire_ts,
            extended_hours=self.intent is not None and self.intent.extended_hours,
            market_reason=None if self.intent is None else self.intent.market_reason,
            display_qty=None if self.intent is None else self.intent.display_qty,
            protection_price=self.protection_price,
            session_release=self.session_release,
        )


class OrderView(msgspec.Struct, frozen=True, kw_only=True):
    """A read-only picture of an order, as the API and the blotter show it."""

    order_id: int
    client_order_id: str | None
    account_id: str
    symbol: str
    venue: str
    side: Side
    order_type: OrderType
    status: OrderStatus
    qty: Decimal
    price: Decimal | None
    trigger_price: Decimal | None
    tif: TimeInForce
    cum_qty: Decimal
    leaves_qty: Decimal
    avg_px: Decimal | None
    fees: Decimal
    fee_asset: str | None
    post_only: bool
    reduce_only: bool
    position_side: PositionSide
    venue_order_id: str | None
    reason: str | None
    tag: str | None
    ts_init: int
    ts_last: int
    trigger_type: TriggerType = TriggerType.LAST
    trailing_offset: Decimal | None = None
    trailing_offset_type: TrailingOffsetType = TrailingOffsetType.PRICE
    limit_offset: Decimal | None = None
    expire_ts: int | None = None
    extended_hours: bool = False
    market_reason: MarketOrderReason | None = None
    #: True when a submit reused the client order id with the same terms: this is the order
    #: that id already named, nothing new was placed.
    duplicate: bool = False
    #: An external venue's order Atlas did not place, adopted so positions reconcile.
    external: bool = False
    #: A place, cancel or amend of it got no definitive answer yet (the venue will tell).
    in_doubt: bool = False
    #: A market order's price bound (never fill a buy above it or a sell below it).
    protection_price: Decimal | None = None
    #: Pending its session: accepted while the market was closed, Atlas sends it to the venue
    #: at this instant (ns), the next session's open; None when it is not queued.
    session_release: int | None = None
    #: An iceberg's visible part (None: all of it shows).
    display_qty: Decimal | None = None

    @property
    def is_live(self) -> bool:
        """Whether the order can still trade."""
        return self.status in LIVE_STATUSES
