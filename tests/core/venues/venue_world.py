"""A node with two external venue accounts (``binance`` spot, ``binanceusdm`` perpetual) and
builders of what their gateway sends."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

from atlas_oms import Instrument, ManualClock, Node
from atlas_oms.model.enums import LiquiditySide, PositionMode, Side
from atlas_oms.model.requests import VenueRequest
from atlas_oms.model.venue import (
    ApplyOrderUpdate,
    FactSource,
    OrderUpdate,
    ReconcileVenue,
    SetVenueStatus,
    VenueFill,
    VenueOrder,
    VenueOrderState,
)

SPOT = "BTC/USDT"
PERP = "BTC/USDT:USDT"
VENUE_OF = {SPOT: "binance", PERP: "binanceusdm"}


class GatewayStub:
    """Stands for the venue gateway: it takes requests and answers nothing (the test does)."""

    synchronous = False

    def __init__(self, name: str) -> None:
        self.name = name
        self.requests: list[VenueRequest] = []

    def handle(self, request: VenueRequest) -> list[Any]:
        self.requests.append(request)
        return []


def world(*, hedge: bool = False, ready: bool = True) -> Node:
    node = Node.in_memory(
        clock=ManualClock(1_000), venues=[GatewayStub("binance"), GatewayStub("binanceusdm")]
    )
    node.add_instrument(Instrument.spot(SPOT, tick_size="0.01", lot_size="0.0001", venue="binance"))
    node.add_instrument(
        Instrument.perpetual(PERP, tick_size="0.1", lot_size="0.001", venue="binanceusdm")
    )
    node.open_account("spot")
    node.open_account("fut", position_mode=PositionMode.HEDGE if hedge else PositionMode.NETTING)
    node.deposit("spot", "USDT", 100_000)
    node.deposit("fut", "USDT", 100_000)
    if ready:
        status(node, "binance", "spot", True, "READY")
        status(node, "binanceusdm", "fut", True, "READY")
    return node


def status(node: Node, venue: str, account: str, tradable: bool, reason: str) -> list[Any]:
    return node.process(
        SetVenueStatus(venue=venue, account_id=account, tradable=tradable, reason=reason)
    )


def vorder(
    order_id: int | None,
    state: VenueOrderState,
    *,
    symbol: str = SPOT,
    account: str = "spot",
    qty: str = "1",
    price: str | None = "100",
    cum: str = "0",
    avg: str | None = None,
    side: Side = Side.BUY,
    voi: str | None = None,
    **kw: Any,
) -> VenueOrder:
    return VenueOrder(
        venue=VENUE_OF[symbol],
        account_id=account,
        symbol=symbol,
        venue_symbol="BTCUSDT",
        venue_order_id=voi or f"V{order_id}",
        client_order_id=f"atabc123x{order_id}" if order_id is not None else "web-1",
        order_id=order_id,
        side=side,
        order_type="LIMIT" if price is not None else "MARKET",
        qty=D(qty),
        price=D(price) if price is not None else None,
        cum_qty=D(cum),
        avg_px=D(avg) if avg is not None else None,
        state=state,
        ts=1,
        **kw,
    )


def vfill(
    vo: VenueOrder, trade_id: str, qty: str, px: str = "100", fee: str = "0", **kw: Any
) -> VenueFill:
    return VenueFill(
        venue=vo.venue,
        account_id=vo.account_id,
        symbol=vo.symbol,
        venue_order_id=vo.venue_order_id,
        client_order_id=vo.client_order_id,
        order_id=vo.order_id,
        trade_id=trade_id,
        side=vo.side,
        qty=D(qty),
        px=D(px),
        fee=D(fee),
        fee_asset="USDT",
        liquidity_side=LiquiditySide.MAKER,
        ts=vo.ts,
        **kw,
    )


def update(
    node: Node,
    vo: VenueOrder,
    fill: VenueFill | None = None,
    source: FactSource = FactSource.STREAM,
) -> list[Any]:
    return node.process(
        ApplyOrderUpdate(
            update=OrderUpdate(
                venue=vo.venue,
                account_id=vo.account_id,
                ts=1,
                source=source,
                order=vo,
                exec_type="TRADE" if fill else "NEW",
                fill=fill,
            )
        )
    )


def reconcile(node: Node, venue: str, account: str, **kw: Any) -> list[Any]:
    kw.setdefault("reason", "CONNECT")
    return node.process(ReconcileVenue(venue=venue, account_id=account, **kw))
