"""Binance spot JSON shapes built from the node's views: orders (``GET /api/v3/order``, the
placing answers ACK/RESULT/FULL, cancels), trades (``myTrades``) and the user-data events
(``executionReport``, ``outboundAccountPosition``), the same field names and order as the
fake Binance (fakes/binance/wire_spot.py) whose dialect ccxt 4.5.90 parses.

Mapping decisions (docs/notes/binance-spot.md): Atlas's working statuses are ``NEW`` (or
``PARTIALLY_FILLED`` once something filled); DENIED and REJECTED are ``REJECTED``; a canceled
IOC/FOK or MARKET remainder is ``EXPIRED`` as on Binance. Order types: LIMIT, LIMIT_MAKER
(a post-only LIMIT), MARKET, STOP_LOSS(_LIMIT) = Atlas STOP_MARKET / STOP_LIMIT,
TAKE_PROFIT(_LIMIT) = TAKE_PROFIT_MARKET / _LIMIT. Trade ids are the journal seq of the
account's own fill event (never the built-in exchange's id, which names the other side's order).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from atlas_oms.binance_api.server import num
from atlas_oms.core.views import OrderView
from atlas_oms.model import events as ev
from atlas_oms.model.enums import LiquiditySide, OrderStatus, OrderType, TimeInForce

ZERO = Decimal(0)

#: Binance spot type -> (Atlas type, post_only).
SPOT_TYPES: dict[str, tuple[OrderType, bool]] = {
    "LIMIT": (OrderType.LIMIT, False),
    "LIMIT_MAKER": (OrderType.LIMIT, True),
    "MARKET": (OrderType.MARKET, False),
    "STOP_LOSS": (OrderType.STOP_MARKET, False),
    "STOP_LOSS_LIMIT": (OrderType.STOP_LIMIT, False),
    "TAKE_PROFIT": (OrderType.TAKE_PROFIT_MARKET, False),
    "TAKE_PROFIT_LIMIT": (OrderType.TAKE_PROFIT_LIMIT, False),
}
ATLAS_TYPES: dict[OrderType, str] = {
    OrderType.LIMIT: "LIMIT",
    OrderType.MARKET: "MARKET",
    OrderType.STOP_MARKET: "STOP_LOSS",
    OrderType.STOP_LIMIT: "STOP_LOSS_LIMIT",
    OrderType.TAKE_PROFIT_MARKET: "TAKE_PROFIT",
    OrderType.TAKE_PROFIT_LIMIT: "TAKE_PROFIT_LIMIT",
    OrderType.TRAILING_STOP_MARKET: "STOP_LOSS",
    OrderType.TRAILING_STOP_LIMIT: "STOP_LOSS_LIMIT",
}
_WORKING = frozenset(
    {
        OrderStatus.INITIALIZED,
        OrderStatus.SUBMITTED,
        OrderStatus.ACCEPTED,
        OrderStatus.TRIGGERED,
        OrderStatus.PENDING_CANCEL,
        OrderStatus.PENDING_REPLACE,
        OrderStatus.PARTIALLY_FILLED,
    }
)


def ms(ts_ns: int) -> int:
    return ts_ns // 1_000_000


def order_status(view: OrderView) -> str:
    status = view.status
    if status in _WORKING:
        return "PARTIALLY_FILLED" if view.cum_qty > 0 else "NEW"
    if status in (OrderStatus.DENIED, OrderStatus.REJECTED):
        return "REJECTED"
    if status is OrderStatus.CANCELED and (
        view.tif in (TimeInForce.IOC, TimeInForce.FOK) or view.order_type is OrderType.MARKET
    ):
        return "EXPIRED"
    return str(status)  # FILLED, CANCELED, EXPIRED


def order_type(view: OrderView) -> str:
    if view.order_type is OrderType.LIMIT and view.post_only:
        return "LIMIT_MAKER"
    return ATLAS_TYPES[view.order_type]


def tif(view: OrderView) -> str:
    return str(view.tif) if view.tif in (TimeInForce.IOC, TimeInForce.FOK) else "GTC"


def cum_quote(view: OrderView) -> Decimal:
    return view.avg_px * view.cum_qty if view.avg_px is not None else ZERO


def client_id(view: OrderView) -> str:
    return view.client_order_id or f"atlas-{view.order_id}"


def spot_order(view: OrderView, symbol_id: str) -> dict[str, Any]:
    """``GET /api/v3/order``, ``openOrders``, ``allOrders``."""
    return {
        "symbol": symbol_id,
        "orderId": view.order_id,
        "orderListId": -1,
        "clientOrderId": client_id(view),
        "price": num(view.price or ZERO),
        "origQty": num(view.qty),
        "executedQty": num(view.cum_qty),
        "cummulativeQuoteQty": num(cum_quote(view)),
        "status": order_status(view),
        "timeInForce": tif(view),
        "type": order_type(view),
        "side": str(view.side),
        "stopPrice": num(view.trigger_price or ZERO),
        "icebergQty": num(view.display_qty or ZERO),
        "time": ms(view.ts_init),
        "updateTime": ms(view.ts_last),
        "isWorking": True,
        "workingTime": ms(view.ts_init),
        "origQuoteOrderQty": "0",
        "selfTradePreventionMode": "NONE",
    }


def spot_order_ack(view: OrderView, symbol_id: str) -> dict[str, Any]:
    return {
        "symbol": symbol_id,
        "orderId": view.order_id,
        "orderListId": -1,
        "clientOrderId": client_id(view),
        "transactTime": ms(view.ts_last),
    }


def spot_order_result(view: OrderView, symbol_id: str) -> dict[str, Any]:
    out = spot_order_ack(view, symbol_id)
    full = spot_order(view, symbol_id)
    for name in (
        "price",
        "origQty",
        "executedQty",
        "origQuoteOrderQty",
        "cummulativeQuoteQty",
        "status",
        "timeInForce",
        "type",
        "side",
        "workingTime",
        "selfTradePreventionMode",
    ):
        out[name] = full[name]
    return out


def spot_order_full(view: OrderView, symbol_id: str, fills: list[ev.OrderFilled]) -> dict[str, Any]:
    out = spot_order_result(view, symbol_id)
    out["fills"] = [
        {
            "price": num(f.last_px),
            "qty": num(f.last_qty),
            "commission": num(f.fee),
            "commissionAsset": f.fee_asset,
            "tradeId": f.seq,
        }
        for f in fills
    ]
    return out


def spot_cancel(view: OrderView, symbol_id: str, cancel_id: str | None) -> dict[str, Any]:
    """``DELETE /api/v3/order`` (and each element of ``DELETE openOrders``)."""
    full = spot_order(view, symbol_id)
    return {
        "symbol": symbol_id,
        "origClientOrderId": client_id(view),
        "orderId": view.order_id,
        "orderListId": -1,
        "clientOrderId": cancel_id or client_id(view),
        "transactTime": ms(view.ts_last),
        "price": full["price"],
        "origQty": full["origQty"],
        "executedQty": full["executedQty"],
        "origQuoteOrderQty": "0",
        "cummulativeQuoteQty": full["cummulativeQuoteQty"],
        "status": full["status"],
        "timeInForce": full["timeInForce"],
        "type": full["type"],
        "side": full["side"],
        "selfTradePreventionMode": "NONE",
    }


def spot_trade(f: ev.OrderFilled, symbol_id: str) -> dict[str, Any]:
    """``GET /api/v3/myTrades`` element."""
    return {
        "symbol": symbol_id,
        "id": f.seq,
        "orderId": f.order_id,
        "orderListId": -1,
        "price": num(f.last_px),
        "qty": num(f.last_qty),
        "quoteQty": num(f.last_px * f.last_qty),
        "commission": num(f.fee),
        "commissionAsset": f.fee_asset,
        "time": ms(f.ts_event),
        "isBuyer": str(f.side) == "BUY",
        "isMaker": f.liquidity_side is LiquiditySide.MAKER,
        "isBestMatch": True,
    }


def execution_report(
    view: OrderView,
    symbol_id: str,
    exec_type: str,
    ts_ns: int,
    execution_id: int,
    fill: ev.OrderFilled | None = None,
    status: str | None = None,
) -> dict[str, Any]:
    """A spot ``executionReport`` (``x``: NEW, TRADE, CANCELED, REPLACED, REJECTED, EXPIRED)."""
    return {
        "e": "executionReport",
        "E": ms(ts_ns),
        "s": symbol_id,
        "c": client_id(view),
        "S": str(view.side),
        "o": order_type(view),
        "f": tif(view),
        "q": num(view.qty),
        "p": num(view.price or ZERO),
        "P": num(view.trigger_price or ZERO),
        "F": num(view.display_qty or ZERO),
        "g": -1,
        "C": client_id(view) if exec_type == "CANCELED" else "",
        "x": exec_type,
        "X": status or order_status(view),
        "r": (view.reason or "NONE") if exec_type == "REJECTED" else "NONE",
        "i": view.order_id,
        "l": num(fill.last_qty if fill else ZERO),
        "z": num(view.cum_qty),
        "L": num(fill.last_px if fill else ZERO),
        "n": num(fill.fee) if fill else "0",
        "N": fill.fee_asset if fill else None,
        "T": ms(ts_ns),
        "t": fill.seq if fill else -1,
        "I": execution_id,
        "w": view.is_live,
        "m": bool(fill and fill.liquidity_side is LiquiditySide.MAKER),
        "M": False,
        "O": ms(view.ts_init),
        "Z": num(cum_quote(view)),
        "Y": num(fill.last_qty * fill.last_px if fill else ZERO),
        "Q": "0",
        "W": ms(view.ts_init),
        "V": "NONE",
    }


__all__ = [
    "SPOT_TYPES",
    "execution_report",
    "ms",
    "order_status",
    "spot_cancel",
    "spot_order",
    "spot_order_ack",
    "spot_order_full",
    "spot_order_result",
    "spot_trade",
]
