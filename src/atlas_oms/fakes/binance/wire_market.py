"""Binance public market-stream JSON shapes (both markets): bookTicker, trade, aggTrade,
markPrice, 24h ticker and mini ticker."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from atlas_oms.fakes.binance.config import SPOT, USDM
from atlas_oms.fakes.binance.wire_common import ZERO, _fp, _fq, s8

if TYPE_CHECKING:
    from atlas_oms.fakes.binance.venue_state import VenueState
    from atlas_oms.matching import OrderBook


# ---------------------------------------------------------------------- market streams


def book_ticker(
    venue: VenueState, market: str, symbol: str, book: OrderBook, ts: int
) -> dict[str, Any]:
    from atlas_oms.model.enums import Side

    bid = book.depth(Side.BUY, 1)
    ask = book.depth(Side.SELL, 1)
    bp, bq = bid[0] if bid else (ZERO, ZERO)
    ap, aq = ask[0] if ask else (ZERO, ZERO)
    update_id = venue.next_execution_id()
    if market == SPOT:
        return {"u": update_id, "s": symbol, "b": s8(bp), "B": s8(bq), "a": s8(ap), "A": s8(aq)}
    spec = venue.spec(USDM, symbol)
    return {
        "e": "bookTicker",
        "u": update_id,
        "E": ts,
        "T": ts,
        "s": symbol,
        "b": _fp(spec, bp),
        "B": _fq(spec, bq),
        "a": _fp(spec, ap),
        "A": _fq(spec, aq),
    }


def book_ticker_rest(venue: VenueState, market: str, symbol: str) -> dict[str, Any]:
    """One row of ``GET /api/v3/ticker/bookTicker`` (spot) or ``GET /fapi/v1/ticker/bookTicker``
    (USDⓈ-M: with ``time`` and ``lastUpdateId``)."""
    book = venue.books[(market, symbol)]
    tick = book_ticker(venue, market, symbol, book, venue.now_ms())
    row = {
        "symbol": symbol,
        "bidPrice": tick["b"],
        "bidQty": tick["B"],
        "askPrice": tick["a"],
        "askQty": tick["A"],
    }
    if market != SPOT:
        row = {"symbol": symbol, **{k: v for k, v in row.items() if k != "symbol"}}
        row["time"] = tick["T"]
        row["lastUpdateId"] = tick["u"]
    return row


def public_trade(
    market: str,
    symbol: str,
    trade_id: int,
    price: Decimal,
    qty: Decimal,
    ts: int,
    buyer_maker: bool,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "e": "trade",
        "E": ts,
        "s": symbol,
        "t": trade_id,
        "p": s8(price),
        "q": s8(qty),
        "T": ts,
        "m": buyer_maker,
    }
    if market == SPOT:
        out["M"] = True
    else:
        out["X"] = "MARKET"
    return out


def agg_trade(
    market: str,
    symbol: str,
    agg_id: int,
    trade_id: int,
    price: Decimal,
    qty: Decimal,
    ts: int,
    buyer_maker: bool,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "e": "aggTrade",
        "E": ts,
        "s": symbol,
        "a": agg_id,
        "p": s8(price),
        "q": s8(qty),
        "f": trade_id,
        "l": trade_id,
        "T": ts,
        "m": buyer_maker,
    }
    if market == SPOT:
        out["M"] = True
    else:
        out["nq"] = s8(qty)
    return out


def mark_price(symbol: str, price: Decimal, ts: int) -> dict[str, Any]:
    return {
        "e": "markPriceUpdate",
        "E": ts,
        "s": symbol,
        "p": s8(price),
        "ap": s8(price),
        "P": s8(price),
        "i": s8(price),
        "r": "0.00010000",
        "T": (ts // 28_800_000 + 1) * 28_800_000,
    }


def ticker_24h(
    market: str, symbol: str, stats: list[Any], book: OrderBook, ts: int, last_id: int
) -> dict[str, Any]:
    """``<symbol>@ticker`` (24hrTicker), statistics since the fake started."""
    from atlas_oms.model.enums import Side

    open_, high, low, last, vol, qvol, count = stats
    bid = book.depth(Side.BUY, 1)
    ask = book.depth(Side.SELL, 1)
    change = last - open_
    out: dict[str, Any] = {
        "e": "24hrTicker",
        "E": ts,
        "s": symbol,
        "p": s8(change),
        "P": f"{(change / open_ * 100) if open_ else ZERO:.3f}",
        "w": s8(qvol / vol if vol else ZERO),
    }
    if market == SPOT:
        out["x"] = s8(open_)
    out.update({"c": s8(last), "Q": s8(ZERO)})
    if market == SPOT:
        out.update(
            {
                "b": s8(bid[0][0] if bid else ZERO),
                "B": s8(bid[0][1] if bid else ZERO),
                "a": s8(ask[0][0] if ask else ZERO),
                "A": s8(ask[0][1] if ask else ZERO),
            }
        )
    out.update(
        {
            "o": s8(open_),
            "h": s8(high),
            "l": s8(low),
            "v": s8(vol),
            "q": s8(qvol),
            "O": ts - 86_400_000,
            "C": ts,
            "F": last_id - count + 1,
            "L": last_id,
            "n": count,
        }
    )
    return out


def mini_ticker(symbol: str, stats: list[Any], ts: int) -> dict[str, Any]:
    """``<symbol>@miniTicker`` (24hrMiniTicker): what ccxt's ``watch_ticker`` subscribes to."""
    open_, high, low, last, vol, qvol, _count = stats
    return {
        "e": "24hrMiniTicker",
        "E": ts,
        "s": symbol,
        "c": s8(last),
        "o": s8(open_),
        "h": s8(high),
        "l": s8(low),
        "v": s8(vol),
        "q": s8(qvol),
    }
