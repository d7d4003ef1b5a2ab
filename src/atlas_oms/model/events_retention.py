"""Events of retention and repair: terminal orders archived and restored, a damaged journal
repaired on purpose. Part of the union in :mod:`atlas_oms.model.events`."""

from __future__ import annotations

from decimal import Decimal

import msgspec

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
from atlas_oms.model.event_base import EventBase
from atlas_oms.model.events_orders import OrderFilled


class ArchivedOrder(msgspec.Struct, frozen=True, kw_only=True, gc=False, omit_defaults=True):
    """A terminal order as the engine held it when it left memory: the order's fields (those
    of ``core/orders/order.py`` but its lookup cache), its executions as booked (corrections
    applied) and the ids of those busted. Enough to load the order back exactly."""

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
    ts_last: int
    status: OrderStatus
    cum_qty: Decimal
    leaves_qty: Decimal
    cum_notional: Decimal
    fees: Decimal
    fee_asset: str | None = None
    fill_count: int = 0
    venue_order_id: str | None = None
    accepted: bool = False
    held: bool = False
    triggered: bool = False
    watermark: Decimal | None = None
    protection_price: Decimal | None = None
    reserved_asset: str | None = None
    reserve_unit: Decimal = Decimal(0)
    reserved: Decimal = Decimal(0)
    pending: tuple[Decimal, Decimal | None, Decimal | None, Decimal] | None = None
    reason: str | None = None
    priority_seq: int = 0
    intent: SubmitOrder | None = None
    fills: tuple[OrderFilled, ...] = ()
    busted: tuple[str, ...] = ()


class OrdersArchived(EventBase, frozen=True):
    """Terminal orders older than the retention window leave memory (they stay in the journal:
    history reads find them here). ``forgotten`` are the (account, client order id) keys whose
    idempotency window ended; ``keys_swept``: how many entries of the client-id queue were
    looked at (the fold drops that many from its front)."""

    orders: tuple[ArchivedOrder, ...] = ()
    forgotten: tuple[tuple[str, str], ...] = ()
    keys_swept: int = 0


class OrderRestored(EventBase, frozen=True):
    """An archived order is loaded back into memory (a late venue report, a reused client order
    id or a request names it); it leaves again after the retention window."""

    order: ArchivedOrder


class JournalRepaired(EventBase, frozen=True):
    """An operator started the node on a damaged journal on purpose: seqs ``lost_from_seq`` ..
    ``lost_to_seq`` (``lost_events``, in ``lost_chunks`` chunks) are gone for ``reason``
    (``detail``; what could be kept is at ``kept_at``). This event's seq is ``lost_to_seq + 1``,
    the one gap a journal accepts, and the next order id (``next_order_id``) and liquidation case
    id (``next_case_id``) jump above anything the lost range could have issued: nothing is
    issued twice."""

    reason: str
    lost_from_seq: int
    lost_to_seq: int
    lost_events: int
    next_order_id: int
    next_case_id: int
    lost_chunks: int = 0
    kept_at: str = ""
    detail: str = ""
    actor: str = ""
