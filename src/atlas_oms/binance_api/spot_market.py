"""The spot dialect's public endpoints (``/api/v3``): ping, time, exchangeInfo, and market data
from the node (the built-in exchange's book and trades, or a venue's quotes)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from atlas_oms.binance_api.server import now_ms, num
from atlas_oms.binance_api.symbols import binance_id
from atlas_oms.binance_api.table import Call, Route, Security
from atlas_oms.model.instrument import Instrument

if TYPE_CHECKING:
    from atlas_oms.binance_api.server import Dialect

API = "/api/v3/"


async def ping(call: Call) -> Any:
    return {}


async def server_time(call: Call) -> Any:
    return {"serverTime": now_ms()}


def spot_symbol_info(inst: Instrument) -> dict[str, Any]:
    """One ``symbols[]`` entry: the filters from the instrument's tick, lot and minimum notional."""
    max_qty = inst.max_qty if inst.max_qty is not None else 9000000
    return {
        "symbol": binance_id(inst),
        "status": "TRADING" if inst.tradable else "BREAK",
        "baseAsset": inst.base,
        "baseAssetPrecision": 8,
        "quoteAsset": inst.quote,
        "quotePrecision": 8,
        "quoteAssetPrecision": 8,
        "baseCommissionPrecision": 8,
        "quoteCommissionPrecision": 8,
        "orderTypes": [
            "LIMIT",
            "LIMIT_MAKER",
            "MARKET",
            "STOP_LOSS",
            "STOP_LOSS_LIMIT",
            "TAKE_PROFIT",
            "TAKE_PROFIT_LIMIT",
        ],
        "icebergAllowed": True,
        "ocoAllowed": False,
        "otoAllowed": False,
        "quoteOrderQtyMarketAllowed": True,
        "allowTrailingStop": False,
        "cancelReplaceAllowed": True,
        "amendAllowed": False,
        "isSpotTradingAllowed": True,
        "isMarginTradingAllowed": False,
        "filters": [
            {
                "filterType": "PRICE_FILTER",
                "minPrice": num(inst.tick_size),
                "maxPrice": "1000000000",
                "tickSize": num(inst.tick_size),
            },
            {
                "filterType": "LOT_SIZE",
                "minQty": num(max(inst.min_qty, inst.lot_size)),
                "maxQty": num(max_qty),
                "stepSize": num(inst.lot_size),
            },
            {
                "filterType": "MARKET_LOT_SIZE",
                "minQty": num(max(inst.min_qty, inst.lot_size)),
                "maxQty": num(max_qty),
                "stepSize": num(inst.lot_size),
            },
            {
                "filterType": "MIN_NOTIONAL",
                "minNotional": num(inst.min_notional),
                "applyToMarket": True,
                "avgPriceMins": 5,
            },
            {
                "filterType": "NOTIONAL",
                "minNotional": num(inst.min_notional),
                "applyMinToMarket": True,
                "maxNotional": "9000000000",
                "applyMaxToMarket": False,
                "avgPriceMins": 5,
            },
        ],
        "permissions": [],
        "permissionSets": [["SPOT"]],
        "defaultSelfTradePreventionMode": "NONE",
        "allowedSelfTradePreventionModes": ["NONE"],
    }


async def exchange_info(call: Call) -> Any:
    symbols = call.dialect.spot_symbols.all()
    wanted: list[str] | None = None
    if call.params.get("symbol"):
        wanted = [call.params["symbol"]]
    elif call.params.get("symbols"):
        raw = call.params["symbols"].strip("[]")
        wanted = [s.strip().strip('"') for s in raw.split(",") if s.strip()]
    chosen = list(symbols.values())
    if wanted is not None:
        chosen = [call.dialect.spot_symbols.instrument(s) for s in wanted]
    return {
        "timezone": "UTC",
        "serverTime": now_ms(),
        "rateLimits": [
            {
                "rateLimitType": "REQUEST_WEIGHT",
                "interval": "MINUTE",
                "intervalNum": 1,
                "limit": call.dialect.weight_per_minute,
            },
            {
                "rateLimitType": "ORDERS",
                "interval": "SECOND",
                "intervalNum": 10,
                "limit": call.dialect.orders_per_10s,
            },
            {
                "rateLimitType": "ORDERS",
                "interval": "DAY",
                "intervalNum": 1,
                "limit": call.dialect.orders_per_day,
            },
        ],
        "exchangeFilters": [],
        "symbols": [spot_symbol_info(i) for i in chosen],
    }


def spot_market_routes(dialect: Dialect) -> list[Route]:
    return [
        Route("GET", API + "ping", 1, Security.NONE, ping),
        Route("GET", API + "time", 1, Security.NONE, server_time),
        Route("GET", API + "exchangeInfo", 20, Security.NONE, exchange_info),
    ]


__all__ = ["spot_market_routes", "spot_symbol_info"]
