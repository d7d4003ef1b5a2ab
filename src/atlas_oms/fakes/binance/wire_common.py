"""Binance's JSON shapes: the number formats and the pieces both markets share.

Numbers are strings as Binance sends them: spot with 8 decimals, futures at the symbol's
precision. The exchangeInfo filters and rate limits are here, built per market.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from atlas_oms.fakes.binance.config import SPOT, SymbolSpec

if TYPE_CHECKING:
    from atlas_oms.fakes.binance.records import Order
    from atlas_oms.fakes.binance.venue_state import VenueState

ZERO = Decimal(0)


def s8(value: Decimal) -> str:
    """Spot number: 8 decimals."""
    return f"{value:.8f}"


def fnum(value: Decimal, places: int) -> str:
    return f"{value:.{places}f}"


def _fp(spec: SymbolSpec, value: Decimal) -> str:
    return fnum(value, spec.price_precision)


def _fq(spec: SymbolSpec, value: Decimal) -> str:
    return fnum(value, spec.qty_precision)


def _avg(o: Order) -> Decimal:
    return o.cum_quote / o.executed if o.executed else ZERO


def _filters(spec: SymbolSpec, market: str) -> list[dict[str, Any]]:
    num = s8 if market == SPOT else (lambda d: f"{d.normalize():f}")
    price_filter = {
        "filterType": "PRICE_FILTER",
        "minPrice": num(spec.min_price),
        "maxPrice": num(spec.max_price),
        "tickSize": num(spec.tick),
    }
    lot = {
        "filterType": "LOT_SIZE",
        "minQty": num(spec.min_qty),
        "maxQty": num(spec.max_qty),
        "stepSize": num(spec.step),
    }
    market_lot = dict(lot, filterType="MARKET_LOT_SIZE")
    if market == SPOT:
        notional: dict[str, Any] = {
            "filterType": "NOTIONAL",
            "minNotional": num(spec.min_notional),
            "applyMinToMarket": True,
            "maxNotional": "9000000.00000000",
            "applyMaxToMarket": False,
            "avgPriceMins": 5,
        }
        return [
            price_filter,
            lot,
            market_lot,
            notional,
            {"filterType": "ICEBERG_PARTS", "limit": spec.iceberg_parts},
            {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": 200},
        ]
    return [
        price_filter,
        lot,
        market_lot,
        {"filterType": "MAX_NUM_ORDERS", "limit": 200},
        {"filterType": "MAX_NUM_ALGO_ORDERS", "limit": 10},
        {"filterType": "MIN_NOTIONAL", "notional": num(spec.min_notional)},
        {
            "filterType": "PERCENT_PRICE",
            "multiplierUp": "1.0500",
            "multiplierDown": "0.9500",
            "multiplierDecimal": "4",
        },
    ]


def rate_limits(venue: VenueState, market: str) -> list[dict[str, Any]]:
    lim = venue.limits
    out = [
        {
            "rateLimitType": "REQUEST_WEIGHT",
            "interval": "MINUTE",
            "intervalNum": 1,
            "limit": lim.weight_per_window,
        },
        {
            "rateLimitType": "ORDERS",
            "interval": "SECOND",
            "intervalNum": 10,
            "limit": lim.orders_per_10s,
        },
    ]
    if market == SPOT:
        out.append(
            {
                "rateLimitType": "ORDERS",
                "interval": "DAY",
                "intervalNum": 1,
                "limit": lim.orders_per_day,
            }
        )
    else:
        out.append(
            {
                "rateLimitType": "ORDERS",
                "interval": "MINUTE",
                "intervalNum": 1,
                "limit": lim.orders_per_minute,
            }
        )
    return out
