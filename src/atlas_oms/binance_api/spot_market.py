"""The spot dialect's public endpoints (``/api/v3``): ping, time, exchangeInfo, and market data
from the node (the built-in exchange's book and trades, or a venue's quotes)."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from atlas_oms.binance_api.errors import BinanceError, mandatory
from atlas_oms.binance_api.market_common import DAY_MS, SPOT_INTERVALS, series_of, tape_of
from atlas_oms.binance_api.server import now_ms, num
from atlas_oms.binance_api.spot_wire import ms
from atlas_oms.binance_api.symbols import binance_id
from atlas_oms.binance_api.table import Call, Route, Security
from atlas_oms.model import events as ev
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


# ---------------------------------------------------------------------- market data

#: Kline intervals (ms); a month is refused (-1120).
INTERVALS_MS = SPOT_INTERVALS
DEPTH_LIMITS = (5, 10, 20, 50, 100, 500, 1000, 5000)


def int_param(call: Call, name: str, default: int | None = None) -> int | None:
    raw = call.params.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise BinanceError(
            -1100,
            f"Illegal characters found in parameter '{name}'; legal range is '^[0-9]{{1,20}}$'.",
        ) from None


def limit_param(call: Call, default: int, most: int) -> int:
    value = int_param(call, "limit", default)
    assert value is not None
    if value < 1:
        raise BinanceError(-1100, "Illegal characters found in parameter 'limit'.")
    return min(value, most)


def required_symbol(call: Call) -> Instrument:
    if not call.params.get("symbol"):
        raise mandatory("symbol")
    return call.dialect.spot_symbols.instrument(call.params["symbol"])


def taker_fills(dialect: Dialect, inst: Instrument) -> list[ev.OrderFilled]:
    """The market's trades: one per execution, its taker's fill (ids: the fill's journal seq).
    The tape's own list (market_common.py): read it, never change it."""
    return series_of(dialect, inst.symbol).fills


def public_trade(f: ev.OrderFilled) -> dict[str, Any]:
    return {
        "id": f.seq,
        "price": num(f.last_px),
        "qty": num(f.last_qty),
        "quoteQty": num(f.last_px * f.last_qty),
        "time": ms(f.ts_event),
        "isBuyerMaker": str(f.side) == "SELL",
        "isBestMatch": True,
    }


def agg_trade(f: ev.OrderFilled) -> dict[str, Any]:
    return {
        "a": f.seq,
        "p": num(f.last_px),
        "q": num(f.last_qty),
        "f": f.seq,
        "l": f.seq,
        "T": ms(f.ts_event),
        "m": str(f.side) == "SELL",
        "M": True,
    }


def book_of(
    dialect: Dialect, inst: Instrument, levels: int
) -> dict[str, list[tuple[Decimal, Decimal]]]:
    return dialect.service.book(inst.symbol, levels) or {"bids": [], "asks": []}


async def depth(call: Call) -> Any:
    inst = required_symbol(call)
    limit = limit_param(call, 100, 5000)
    book = book_of(call.dialect, inst, limit)
    return {
        "lastUpdateId": call.dialect.node.seq,
        "bids": [[num(p), num(q)] for p, q in book["bids"]],
        "asks": [[num(p), num(q)] for p, q in book["asks"]],
    }


async def trades(call: Call) -> Any:
    inst = required_symbol(call)
    limit = limit_param(call, 500, 1000)
    return [public_trade(f) for f in taker_fills(call.dialect, inst)[-limit:]]


async def historical_trades(call: Call) -> Any:
    inst = required_symbol(call)
    limit = limit_param(call, 500, 1000)
    found = series_of(call.dialect, inst.symbol)
    from_id = int_param(call, "fromId")
    if from_id is not None:
        return [
            public_trade(f) for f in found.pick(found.from_seq(from_id), len(found), limit, True)
        ]
    return [public_trade(f) for f in found.fills[-limit:]]


async def agg_trades(call: Call) -> Any:
    inst = required_symbol(call)
    limit = limit_param(call, 500, 1000)
    found = series_of(call.dialect, inst.symbol)
    from_id = int_param(call, "fromId")
    start = int_param(call, "startTime")
    end = int_param(call, "endTime")
    lo, hi = 0, len(found)
    if from_id is not None:
        lo = max(lo, found.from_seq(from_id))
    if start is not None:
        lo = max(lo, found.at_or_after(start))
    if end is not None:
        hi = found.after(end)
    picked = found.pick(lo, hi, limit, from_id is not None or start is not None)
    return [agg_trade(f) for f in picked]


def klines_of(
    fills: list[ev.OrderFilled], every: int, start: int | None, end: int | None
) -> list[list[Any]]:
    """OHLCV bars of the trades (only intervals with trades: Atlas keeps no empty bars)."""
    bars: dict[int, list[Any]] = {}
    for f in fills:
        t = ms(f.ts_event)
        if (start is not None and t < start) or (end is not None and t > end):
            continue
        open_time = t - t % every
        px, qty = f.last_px, f.last_qty
        bar = bars.get(open_time)
        taker_buy = qty if str(f.side) == "BUY" else Decimal(0)
        if bar is None:
            bars[open_time] = [
                open_time,
                px,
                px,
                px,
                px,
                qty,
                open_time + every - 1,
                px * qty,
                1,
                taker_buy,
                taker_buy * px,
                "0",
            ]
            continue
        bar[2] = max(bar[2], px)
        bar[3] = min(bar[3], px)
        bar[4] = px
        bar[5] += qty
        bar[7] += px * qty
        bar[8] += 1
        bar[9] += taker_buy
        bar[10] += taker_buy * px
    return [[num(v) if isinstance(v, Decimal) else v for v in bars[k]] for k in sorted(bars)]


async def klines(call: Call) -> Any:
    inst = required_symbol(call)
    interval = call.params.get("interval")
    if not interval:
        raise mandatory("interval")
    every = INTERVALS_MS.get(interval)
    if every is None:
        raise BinanceError(-1120, "Invalid interval.")
    limit = limit_param(call, 500, 1000)
    start, end = int_param(call, "startTime"), int_param(call, "endTime")
    found = series_of(call.dialect, inst.symbol)
    lo = found.at_or_after(start) if start is not None else 0
    hi = found.after(end) if end is not None else len(found)
    rows = klines_of(found.bars(lo, hi, every, limit, start is not None), every, start, end)
    return rows[:limit] if start is not None else rows[-limit:]


def _symbols_param(call: Call) -> list[Instrument]:
    spot = call.dialect.spot_symbols
    if call.params.get("symbol"):
        return [spot.instrument(call.params["symbol"])]
    if call.params.get("symbols"):
        raw = call.params["symbols"].strip("[]")
        return [spot.instrument(s.strip().strip('"')) for s in raw.split(",") if s.strip()]
    return list(spot.all().values())


def _one_or_list(call: Call, rows: list[dict[str, Any]]) -> Any:
    return rows[0] if call.params.get("symbol") else rows


def top(
    dialect: Dialect, inst: Instrument
) -> tuple[tuple[Decimal, Decimal], tuple[Decimal, Decimal]]:
    book = book_of(dialect, inst, 1)
    zero = (Decimal(0), Decimal(0))
    return (book["bids"][0] if book["bids"] else zero, book["asks"][0] if book["asks"] else zero)


def last_price(dialect: Dialect, inst: Instrument) -> Decimal:
    return dialect.node.last_price(inst.symbol) or Decimal(0)


async def ticker_price(call: Call) -> Any:
    rows = [
        {"symbol": binance_id(i), "price": num(last_price(call.dialect, i))}
        for i in _symbols_param(call)
    ]
    return _one_or_list(call, rows)


async def book_ticker(call: Call) -> Any:
    rows = []
    for inst in _symbols_param(call):
        (bid, bid_qty), (ask, ask_qty) = top(call.dialect, inst)
        rows.append(
            {
                "symbol": binance_id(inst),
                "bidPrice": num(bid),
                "bidQty": num(bid_qty),
                "askPrice": num(ask),
                "askQty": num(ask_qty),
            }
        )
    return _one_or_list(call, rows)


def ticker_24h(dialect: Dialect, inst: Instrument) -> dict[str, Any]:
    """The rolling 24 h statistics of the node's trades in ``inst``."""
    now = ms(dialect.node.clock.now())
    found = series_of(dialect, inst.symbol)
    day = found.suffix(found.after(now - DAY_MS))
    last = last_price(dialect, inst)
    (bid, bid_qty), (ask, ask_qty) = top(dialect, inst)
    zero = Decimal(0)
    open_px = day.first.last_px if day.first else last
    volume = day.volume
    quote_volume = day.quote
    change = last - open_px
    pct = (change / open_px * 100).quantize(Decimal("0.001")) if open_px else zero
    return {
        "symbol": binance_id(inst),
        "priceChange": num(change),
        "priceChangePercent": num(pct),
        "weightedAvgPrice": num(quote_volume / volume if volume else last),
        "prevClosePrice": num(open_px),
        "lastPrice": num(last),
        "lastQty": num(day.last.last_qty if day.last else zero),
        "bidPrice": num(bid),
        "bidQty": num(bid_qty),
        "askPrice": num(ask),
        "askQty": num(ask_qty),
        "openPrice": num(open_px),
        "highPrice": num(day.high if day.high is not None else last),
        "lowPrice": num(day.low if day.low is not None else last),
        "volume": num(volume),
        "quoteVolume": num(quote_volume),
        "openTime": now - 86_400_000,
        "closeTime": now,
        "firstId": day.first.seq if day.first else -1,
        "lastId": day.last.seq if day.last else -1,
        "count": day.count,
    }


async def ticker_24hr(call: Call) -> Any:
    return _one_or_list(call, [ticker_24h(call.dialect, i) for i in _symbols_param(call)])


async def avg_price(call: Call) -> Any:
    inst = required_symbol(call)
    now = ms(call.dialect.node.clock.now())
    found = series_of(call.dialect, inst.symbol)
    recent = found.suffix(found.after(now - 300_000))
    qty = recent.volume
    price = recent.quote / qty if qty else last_price(call.dialect, inst)
    return {"mins": 5, "price": num(price), "closeTime": now}


def spot_market_routes(dialect: Dialect) -> list[Route]:
    tape_of(dialect)  # the trade tape follows the node from the start
    public = Security.NONE
    return [
        Route("GET", API + "ping", 1, public, ping),
        Route("GET", API + "time", 1, public, server_time),
        Route("GET", API + "exchangeInfo", 20, public, exchange_info),
        Route("GET", API + "depth", 5, public, depth),
        Route("GET", API + "trades", 25, public, trades),
        Route("GET", API + "historicalTrades", 25, Security.MARKET_DATA, historical_trades),
        Route("GET", API + "aggTrades", 4, public, agg_trades),
        Route("GET", API + "klines", 2, public, klines),
        Route("GET", API + "uiKlines", 2, public, klines),
        Route("GET", API + "avgPrice", 2, public, avg_price),
        Route("GET", API + "ticker/price", 2, public, ticker_price, weight_without_symbol=4),
        Route("GET", API + "ticker/bookTicker", 2, public, book_ticker, weight_without_symbol=4),
        Route("GET", API + "ticker/24hr", 2, public, ticker_24hr, weight_without_symbol=80),
    ]


__all__ = ["spot_market_routes", "spot_symbol_info", "taker_fills", "ticker_24h", "top"]
