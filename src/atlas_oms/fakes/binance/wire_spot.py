"""Binance spot JSON shapes: REST answers (``/api/v3``) and user-stream events."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from atlas_oms.fakes.binance.config import SPOT
from atlas_oms.fakes.binance.wire_common import ZERO, _filters, rate_limits, s8

if TYPE_CHECKING:
    from atlas_oms.fakes.binance.records import Account, Order, Trade
    from atlas_oms.fakes.binance.venue_state import VenueState


# ---------------------------------------------------------------------- spot REST


def spot_order_result(o: Order, transact_time: int) -> dict[str, Any]:
    """``POST /api/v3/order`` with ``newOrderRespType=RESULT``."""
    return {
        "symbol": o.symbol,
        "orderId": o.order_id,
        "orderListId": -1,
        "clientOrderId": o.client_id,
        "transactTime": transact_time,
        "price": s8(o.price),
        "origQty": s8(o.qty),
        "executedQty": s8(o.executed),
        "origQuoteOrderQty": s8(ZERO),
        "cummulativeQuoteQty": s8(o.cum_quote),
        "status": o.status,
        "timeInForce": o.tif,
        "type": o.type,
        "side": o.side,
        "workingTime": o.time,
        "selfTradePreventionMode": "NONE",
    }


def spot_order_ack(o: Order, transact_time: int) -> dict[str, Any]:
    return {
        "symbol": o.symbol,
        "orderId": o.order_id,
        "orderListId": -1,
        "clientOrderId": o.client_id,
        "transactTime": transact_time,
    }


def spot_order_full(o: Order, transact_time: int, fills: list[Trade]) -> dict[str, Any]:
    out = spot_order_result(o, transact_time)
    out["fills"] = [
        {
            "price": s8(t.price),
            "qty": s8(t.qty),
            "commission": s8(t.commission),
            "commissionAsset": t.commission_asset,
            "tradeId": t.trade_id,
        }
        for t in fills
    ]
    return out


def spot_cancel(o: Order, transact_time: int) -> dict[str, Any]:
    """``DELETE /api/v3/order``."""
    return {
        "symbol": o.symbol,
        "origClientOrderId": o.client_id,
        "orderId": o.order_id,
        "orderListId": -1,
        "clientOrderId": o.cancel_client_id,
        "transactTime": transact_time,
        "price": s8(o.price),
        "origQty": s8(o.qty),
        "executedQty": s8(o.executed),
        "origQuoteOrderQty": s8(ZERO),
        "cummulativeQuoteQty": s8(o.cum_quote),
        "status": o.status,
        "timeInForce": o.tif,
        "type": o.type,
        "side": o.side,
        "selfTradePreventionMode": "NONE",
    }


def spot_order(o: Order) -> dict[str, Any]:
    """``GET /api/v3/order``, ``openOrders``, ``allOrders``."""
    return {
        "symbol": o.symbol,
        "orderId": o.order_id,
        "orderListId": -1,
        "clientOrderId": o.client_id,
        "price": s8(o.price),
        "origQty": s8(o.qty),
        "executedQty": s8(o.executed),
        "cummulativeQuoteQty": s8(o.cum_quote),
        "status": o.status,
        "timeInForce": o.tif,
        "type": o.type,
        "side": o.side,
        "stopPrice": s8(ZERO),
        "icebergQty": s8(o.iceberg_qty),
        "time": o.time,
        "updateTime": o.update_time,
        "isWorking": True,
        "workingTime": o.time,
        "origQuoteOrderQty": s8(ZERO),
        "selfTradePreventionMode": "NONE",
    }


def spot_amended(o: Order, transact_time: int, execution_id: int) -> dict[str, Any]:
    """``PUT /api/v3/order/amend/keepPriority``."""
    return {
        "transactTime": transact_time,
        "executionId": execution_id,
        "amendedOrder": {
            "symbol": o.symbol,
            "orderId": o.order_id,
            "orderListId": -1,
            "origClientOrderId": o.orig_client_id,
            "clientOrderId": o.client_id,
            "price": s8(o.price),
            "qty": s8(o.qty),
            "executedQty": s8(o.executed),
            "preventedQty": s8(ZERO),
            "quoteOrderQty": s8(ZERO),
            "cumulativeQuoteQty": s8(o.cum_quote),
            "status": o.status,
            "timeInForce": o.tif,
            "type": o.type,
            "side": o.side,
            "workingTime": o.time,
            "selfTradePreventionMode": "NONE",
        },
    }


def spot_trade(t: Trade) -> dict[str, Any]:
    """``GET /api/v3/myTrades`` element."""
    return {
        "symbol": t.symbol,
        "id": t.trade_id,
        "orderId": t.order_id,
        "orderListId": -1,
        "price": s8(t.price),
        "qty": s8(t.qty),
        "quoteQty": s8(t.price * t.qty),
        "commission": s8(t.commission),
        "commissionAsset": t.commission_asset,
        "time": t.time,
        "isBuyer": t.side == "BUY",
        "isMaker": t.maker,
        "isBestMatch": True,
    }


def spot_account(acct: Account) -> dict[str, Any]:
    """``GET /api/v3/account``."""
    cfg = acct.cfg
    return {
        "makerCommission": int(cfg.spot_maker * 10000),
        "takerCommission": int(cfg.spot_taker * 10000),
        "buyerCommission": 0,
        "sellerCommission": 0,
        "commissionRates": {
            "maker": s8(cfg.spot_maker),
            "taker": s8(cfg.spot_taker),
            "buyer": s8(ZERO),
            "seller": s8(ZERO),
        },
        "canTrade": True,
        "canWithdraw": True,
        "canDeposit": True,
        "brokered": False,
        "requireSelfTradePrevention": False,
        "preventSor": False,
        "updateTime": acct.update_time,
        "accountType": "SPOT",
        "balances": [
            {"asset": asset, "free": s8(row[0]), "locked": s8(row[1])}
            for asset, row in sorted(acct.spot.items())
        ],
        "permissions": ["SPOT"],
        "uid": 354937868 + abs(hash(acct.name)) % 1000,
    }


def spot_exchange_info(venue: VenueState) -> dict[str, Any]:
    """``GET /api/v3/exchangeInfo``."""
    symbols = []
    for spec in venue.symbols[SPOT].values():
        symbols.append(
            {
                "symbol": spec.symbol,
                "status": "TRADING",
                "baseAsset": spec.base,
                "baseAssetPrecision": 8,
                "quoteAsset": spec.quote,
                "quotePrecision": 8,
                "quoteAssetPrecision": 8,
                "baseCommissionPrecision": 8,
                "quoteCommissionPrecision": 8,
                "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET"],
                "icebergAllowed": spec.iceberg_allowed,
                "ocoAllowed": False,
                "otoAllowed": False,
                "opoAllowed": False,
                "quoteOrderQtyMarketAllowed": False,
                "allowTrailingStop": False,
                "cancelReplaceAllowed": True,
                "amendAllowed": True,
                "pegInstructionsAllowed": False,
                "isSpotTradingAllowed": True,
                "isMarginTradingAllowed": False,
                "filters": _filters(spec, SPOT),
                "permissions": [],
                "permissionSets": [["SPOT"]],
                "defaultSelfTradePreventionMode": "NONE",
                "allowedSelfTradePreventionModes": ["NONE"],
            }
        )
    return {
        "timezone": "UTC",
        "serverTime": venue.now_ms(),
        "rateLimits": rate_limits(venue, SPOT),
        "exchangeFilters": [],
        "symbols": symbols,
    }


# ---------------------------------------------------------------------- user streams


def execution_report(
    venue: VenueState, o: Order, exec_type: str, ts: int, t: Trade | None
) -> dict[str, Any]:
    """Spot ``executionReport`` (the event inside ``{"subscriptionId":N,"event":...}``)."""
    canceled = exec_type == "CANCELED"
    return {
        "e": "executionReport",
        "E": ts,
        "s": o.symbol,
        "c": o.cancel_client_id if canceled else o.client_id,
        "S": o.side,
        "o": o.type,
        "f": o.tif,
        "q": s8(o.qty),
        "p": s8(o.price),
        "P": s8(ZERO),
        "F": s8(o.iceberg_qty),
        "g": -1,
        "C": o.client_id if canceled else (o.orig_client_id if exec_type == "REPLACED" else ""),
        "x": exec_type,
        "X": o.status,
        "r": "NONE",
        "i": o.order_id,
        "l": s8(t.qty if t else ZERO),
        "z": s8(o.executed),
        "L": s8(t.price if t else ZERO),
        "n": s8(t.commission) if t else "0",
        "N": t.commission_asset if t else None,
        "T": ts,
        "t": t.trade_id if t else -1,
        "I": venue.next_execution_id(),
        "w": o.is_open,
        "m": bool(t and t.maker),
        "M": False,
        "O": o.time,
        "Z": s8(o.cum_quote),
        "Y": s8(t.qty * t.price if t else ZERO),
        "Q": s8(ZERO),
        "W": o.time,
        "V": "NONE",
    }


def outbound_account_position(acct: Account, assets: set[str], ts: int) -> dict[str, Any]:
    return {
        "e": "outboundAccountPosition",
        "E": ts,
        "u": ts,
        "B": [
            {
                "a": a,
                "f": s8(acct.spot.get(a, [ZERO, ZERO])[0]),
                "l": s8(acct.spot.get(a, [ZERO, ZERO])[1]),
            }
            for a in sorted(assets)
            if a
        ],
    }
