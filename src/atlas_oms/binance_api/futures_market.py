"""The USDⓈ-M dialect's public endpoints (``/fapi/v1``): ping, time, exchangeInfo and market data
from the node: the built-in exchange's book and trades (taker executions, without accounts),
klines built from those trades, the mark price, funding rate and next funding time.

Klines: Atlas keeps no bars of its own, so a kline is the trades of its interval (open, high,
low, close, volume); an interval without trades is a flat bar at the previous close with volume
0, as Binance sends it. Mark-price klines are flat at the current mark (Atlas keeps no history
of the mark). ``premiumIndex``'s index price is the mark (Atlas has no separate index)."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from atlas_oms.binance_api import futures_reference as fr
from atlas_oms.binance_api import futures_wire as fw
from atlas_oms.binance_api.errors import BinanceError, bad_symbol
from atlas_oms.binance_api.market_common import DAY_MS, INTERVALS, series_of, tape_of
from atlas_oms.binance_api.server import now_ms
from atlas_oms.binance_api.table import Call, Route, Security
from atlas_oms.model import events as ev
from atlas_oms.model.enums import Side

if TYPE_CHECKING:
    from atlas_oms.binance_api.server import Dialect
    from atlas_oms.model.instrument import Instrument

F1 = "/fapi/v1/"
ZERO = Decimal(0)

#: Kline intervals in milliseconds.


def rate_limits(dialect: Dialect) -> list[dict[str, Any]]:
    return [
        {
            "rateLimitType": "REQUEST_WEIGHT",
            "interval": "MINUTE",
            "intervalNum": 1,
            "limit": dialect.weight_per_minute,
        },
        {
            "rateLimitType": "ORDERS",
            "interval": "SECOND",
            "intervalNum": 10,
            "limit": dialect.orders_per_10s,
        },
        {
            "rateLimitType": "ORDERS",
            "interval": "MINUTE",
            "intervalNum": 1,
            "limit": dialect.orders_per_day,
        },
    ]


def node_ms(call: Call) -> int:
    """The node's clock in ms: the time its events carry (wall time under ``atlas serve``)."""
    return int(call.dialect.node.clock.now()) // 1_000_000


def perpetual(call: Call, required: bool = True) -> Instrument | None:
    """The perpetual the ``symbol`` param names (-1121 Invalid symbol), None when absent and
    not ``required``."""
    symbol = call.params.get("symbol")
    if not symbol:
        if required:
            raise BinanceError(
                -1102, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed."
            )
        return None
    inst = fw.perpetuals(call.dialect.node).get(symbol.upper())
    if inst is None:
        raise bad_symbol()
    return inst


def _limit(call: Call, default: int, most: int) -> int:
    raw = call.params.get("limit")
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise BinanceError(-1100, "Illegal characters found in parameter 'limit'.")
    return min(int(raw), most)


def taker_trades(dialect: Dialect, inst: Instrument) -> list[ev.OrderFilled]:
    """The instrument's trades (taker executions), oldest first: the tape's own list
    (market_common.py): read it, never change it."""
    return series_of(dialect, inst.symbol).fills


def day_ticker(dialect: Dialect, inst: Instrument, now: int) -> dict[str, Any]:
    """The rolling 24 h figures of ``inst`` at ``now`` (ms), by their ``ticker/24hr`` names
    (the ``@ticker`` / ``@miniTicker`` streams rename them)."""
    node = dialect.node
    found = series_of(dialect, inst.symbol)
    day = found.suffix(found.at_or_after(now - DAY_MS))
    last = node.last_price(inst.symbol) or node.reference_price(inst.symbol) or ZERO
    first = day.first.last_px if day.first else last
    volume, quote = day.volume, day.quote
    change = last - first
    return {
        "symbol": fw.fapi_symbol(inst),
        "priceChange": fw.px(inst, change),
        "priceChangePercent": f"{(change / first * 100) if first else ZERO:.3f}",
        "weightedAvgPrice": fw.px(inst, quote / volume if volume else last),
        "lastPrice": fw.px(inst, last),
        "lastQty": fw.qty(inst, day.last.last_qty if day.last else ZERO),
        "openPrice": fw.px(inst, first),
        "highPrice": fw.px(inst, day.high if day.high is not None else last),
        "lowPrice": fw.px(inst, day.low if day.low is not None else last),
        "volume": fw.qty(inst, volume),
        "quoteVolume": fw.plain(quote),
        "openTime": now - DAY_MS,
        "closeTime": now,
        "firstId": day.first.seq if day.first else -1,
        "lastId": day.last.seq if day.last else -1,
        "count": day.count,
    }


# ---------------------------------------------------------------------- handlers


async def ping(call: Call) -> Any:
    return {}


async def server_time(call: Call) -> Any:
    return {"serverTime": now_ms()}


async def exchange_info(call: Call) -> Any:
    return fr.exchange_info(call.dialect.node, now_ms(), rate_limits(call.dialect))


async def depth(call: Call) -> Any:
    inst = perpetual(call)
    assert inst is not None
    levels = _limit(call, 500, 1000)
    book = call.dialect.service.book(inst.symbol, levels) or {"bids": [], "asks": []}
    now = now_ms()
    return {
        "lastUpdateId": call.dialect.node.seq,
        "E": now,
        "T": now,
        "bids": [[fw.px(inst, p), fw.qty(inst, q)] for p, q in book["bids"]],
        "asks": [[fw.px(inst, p), fw.qty(inst, q)] for p, q in book["asks"]],
    }


async def trades(call: Call) -> Any:
    inst = perpetual(call)
    assert inst is not None
    rows = taker_trades(call.dialect, inst)[-_limit(call, 500, 1000) :]
    return [
        {
            "id": f.seq,
            "price": fw.px(inst, f.last_px),
            "qty": fw.qty(inst, f.last_qty),
            "quoteQty": fw.plain(f.last_px * f.last_qty * inst.multiplier),
            "time": fw.ms(f.ts_event),
            "isBuyerMaker": f.side is Side.SELL,
        }
        for f in rows
    ]


async def agg_trades(call: Call) -> Any:
    """``GET /fapi/v1/aggTrades`` (what ccxt's fetch_trades reads): one aggregate per taker
    execution (``fromId``, ``startTime``/``endTime``, ``limit``)."""
    inst = perpetual(call)
    assert inst is not None
    found = series_of(call.dialect, inst.symbol)
    from_id = call.params.get("fromId", "")
    start = int(call.params.get("startTime") or 0)
    end = int(call.params.get("endTime") or 0)
    lo = found.at_or_after(start)
    if from_id.isdigit():
        lo = max(lo, found.from_seq(int(from_id)))
    hi = found.after(end) if end else len(found)
    rows = found.pick(lo, hi, _limit(call, 500, 1000), bool(from_id or start))
    return [
        {
            "a": f.seq,
            "p": fw.px(inst, f.last_px),
            "q": fw.qty(inst, f.last_qty),
            "f": f.seq,
            "l": f.seq,
            "T": fw.ms(f.ts_event),
            "m": f.side is Side.SELL,
        }
        for f in rows
    ]


def _kline_range(call: Call, step: int, most: int) -> tuple[int, int]:
    """(first bar's open time, last bar's open time): ``startTime``/``endTime`` when given,
    else the last ``limit`` bars up to now (Binance's rule)."""
    limit = _limit(call, 500, most)
    now = node_ms(call)
    end_raw = call.params.get("endTime") or ""
    start_raw = call.params.get("startTime") or ""
    last = min(int(end_raw) if end_raw.isdigit() else now, now)
    last -= last % step
    if start_raw.isdigit():
        first = int(start_raw) - int(start_raw) % step
        if int(start_raw) % step:
            first += step
        last = min(last, first + (limit - 1) * step)
    else:
        first = last - (limit - 1) * step
    return first, last


def _interval(call: Call) -> int:
    step = INTERVALS.get(call.params.get("interval", ""))
    if step is None:
        raise BinanceError(-1120, "Invalid interval.")
    return step


async def klines(call: Call) -> Any:
    """``GET /fapi/v1/klines``: every interval of the range, as Binance sends it: a bar from the
    instrument's trades, or with none in it a flat bar at the previous close (volume 0); before
    the first trade the reference price (mark, else last)."""
    inst = perpetual(call)
    assert inst is not None
    step = _interval(call)
    first, last = _kline_range(call, step, 1500)
    node = call.dialect.node
    close = node.reference_price(inst.symbol, prefer_mark=True) or ZERO
    bars: dict[int, list[Any]] = {}
    found = series_of(call.dialect, inst.symbol)
    lo, hi = found.at_or_after(first), found.at_or_after(last + step)
    before: Decimal | None = found.fills[lo - 1].last_px if lo > 0 else None
    for f in found.fills[lo:hi]:
        t = fw.ms(f.ts_event)
        open_t = t - t % step
        bar = bars.get(open_t)
        if bar is None:
            bar = bars[open_t] = [f.last_px, f.last_px, f.last_px, f.last_px, ZERO, ZERO, 0]
        bar[1] = max(bar[1], f.last_px)
        bar[2] = min(bar[2], f.last_px)
        bar[3] = f.last_px
        bar[4] += f.last_qty
        bar[5] += f.last_qty * f.last_px
        bar[6] += 1
    if before is not None:
        close = before
    elif bars:
        close = bars[min(bars)][0]
    rows = []
    for t in range(first, last + 1, step):
        bar = bars.get(t) or [close, close, close, close, ZERO, ZERO, 0]
        close = bar[3]
        rows.append(_kline_row(inst, t, step, bar))
    return rows


def _kline_row(inst: Instrument, t: int, step: int, bar: list[Any]) -> list[Any]:
    return [
        t,
        fw.px(inst, bar[0]),
        fw.px(inst, bar[1]),
        fw.px(inst, bar[2]),
        fw.px(inst, bar[3]),
        fw.qty(inst, bar[4]),
        t + step - 1,
        fw.plain(bar[5]),
        bar[6],
        "0",
        "0",
        "0",
    ]


async def mark_price_klines(call: Call) -> Any:
    """``GET /fapi/v1/markPriceKlines`` (and ``indexPriceKlines``): Atlas keeps no history of
    the mark, so every bar is flat at the current mark."""
    inst = perpetual(call)
    if inst is None:  # indexPriceKlines names a pair
        call.params["symbol"] = call.params.get("pair", "")
        inst = perpetual(call)
    assert inst is not None
    step = _interval(call)
    first, last = _kline_range(call, step, 1500)
    node = call.dialect.node
    mark = node.mark_price(inst.symbol) or node.reference_price(inst.symbol) or ZERO
    bar = [mark, mark, mark, mark, ZERO, ZERO, 0]
    return [_kline_row(inst, t, step, bar) for t in range(first, last + 1, step)]


def _selected(call: Call) -> list[Instrument]:
    inst = perpetual(call, required=False)
    return [inst] if inst is not None else list(fw.perpetuals(call.dialect.node).values())


def _answer(call: Call, rows: list[dict[str, Any]]) -> Any:
    return rows[0] if call.params.get("symbol") else rows


async def premium_index(call: Call) -> Any:
    node = call.dialect.node
    return _answer(call, [fr.premium_index(node, i, node_ms(call)) for i in _selected(call)])


async def funding_rate(call: Call) -> Any:
    node = call.dialect.node
    limit = _limit(call, 100, 1000)
    out: list[dict[str, Any]] = []
    for inst in _selected(call):
        out.extend(fr.funding_history(node, inst, limit))
    return out[-limit:]


async def ticker_price(call: Call) -> Any:
    node = call.dialect.node
    rows = []
    for inst in _selected(call):
        last = node.last_price(inst.symbol) or node.reference_price(inst.symbol)
        rows.append({"symbol": fw.fapi_symbol(inst), "price": fw.px(inst, last), "time": now_ms()})
    return _answer(call, rows)


async def book_ticker(call: Call) -> Any:
    rows = []
    for inst in _selected(call):
        book = call.dialect.service.book(inst.symbol, 1) or {"bids": [], "asks": []}
        bid = book["bids"][0] if book["bids"] else (ZERO, ZERO)
        ask = book["asks"][0] if book["asks"] else (ZERO, ZERO)
        rows.append(
            {
                "symbol": fw.fapi_symbol(inst),
                "bidPrice": fw.px(inst, bid[0]),
                "bidQty": fw.qty(inst, bid[1]),
                "askPrice": fw.px(inst, ask[0]),
                "askQty": fw.qty(inst, ask[1]),
                "time": now_ms(),
                "lastUpdateId": call.dialect.node.seq,
            }
        )
    return _answer(call, rows)


async def ticker_24hr(call: Call) -> Any:
    now = node_ms(call)
    return _answer(call, [day_ticker(call.dialect, inst, now) for inst in _selected(call)])


def futures_market_routes(dialect: Dialect) -> list[Route]:
    """The public ``/fapi`` routes (weights as Binance's)."""
    tape_of(dialect)  # the trade tape follows the node from the start
    pub = Security.NONE
    return [
        Route("GET", F1 + "ping", 1, pub, ping),
        Route("GET", F1 + "time", 1, pub, server_time),
        Route("GET", F1 + "exchangeInfo", 1, pub, exchange_info),
        Route("GET", F1 + "depth", 10, pub, depth),
        Route("GET", F1 + "trades", 5, pub, trades),
        Route("GET", F1 + "aggTrades", 20, pub, agg_trades),
        Route("GET", F1 + "klines", 5, pub, klines),
        Route("GET", F1 + "markPriceKlines", 5, pub, mark_price_klines),
        Route("GET", F1 + "indexPriceKlines", 5, pub, mark_price_klines),
        Route("GET", F1 + "premiumIndex", 1, pub, premium_index, weight_without_symbol=10),
        Route("GET", F1 + "fundingRate", 1, pub, funding_rate),
        Route("GET", F1 + "ticker/24hr", 1, pub, ticker_24hr, weight_without_symbol=40),
        Route("GET", F1 + "ticker/price", 1, pub, ticker_price, weight_without_symbol=2),
        Route("GET", "/fapi/v2/ticker/price", 1, pub, ticker_price, weight_without_symbol=2),
        Route("GET", F1 + "ticker/bookTicker", 2, pub, book_ticker, weight_without_symbol=5),
    ]
