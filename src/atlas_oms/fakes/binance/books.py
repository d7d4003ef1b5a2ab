"""The fake Binance's public order book (issue 16): ``GET /api/v3/depth``, ``GET /fapi/v1/depth``
and the depth streams, built from the fake's own book (house quotes and resting orders).

Shapes as Binance documents them:

- spot REST ``{"lastUpdateId", "bids", "asks"}``; USDⓈ-M REST adds ``E`` and ``T``;
- partial book depth ``<symbol>@depth<5|10|20>@100ms`` (also without ``@100ms``): the whole top
  N at each push; spot ``{"lastUpdateId", "bids", "asks"}`` (no symbol, no time: use the combined
  stream ``/stream`` whose wrapper names the stream), USDⓈ-M ``{"e": "depthUpdate", "E", "T",
  "s", "U", "u", "pu", "b", "a"}``;
- diff depth ``<symbol>@depth@100ms`` (and ``@depth``): the changed levels (quantity ``0``:
  removed) with ``U``/``u`` (first and last update id of the event), and on USDⓈ-M ``pu`` (the
  previous event's ``u``) and ``T``.

Each change of a book is one update id (a per-book counter, as Binance's ``lastUpdateId``), and
the streams push at each change (Binance batches changes per 100 ms; one change per push is a
valid batch). Prices and sizes: spot with 8 decimals, USDⓈ-M at the symbol's precision.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from atlas_oms.fakes.binance.config import SPOT, SymbolSpec
from atlas_oms.fakes.binance.wire_common import _fp, _fq, s8
from atlas_oms.model.enums import Side

if TYPE_CHECKING:
    from atlas_oms.fakes.binance.venue_state import VenueState

#: The partial book depth stream's level counts.
PARTIAL_LEVELS = (5, 10, 20)
#: ``GET /fapi/v1/depth`` takes these limits only (spot: any 1..5000).
FUTURES_LIMITS = (5, 10, 20, 50, 100, 500, 1000)
#: How many levels a side the diff stream follows.
DIFF_LEVELS = 1000

Levels = list[tuple[Decimal, Decimal]]


class BookFeed:
    """Per book: the update id and the levels last published (to diff against)."""

    def __init__(self) -> None:
        self.update_id: dict[tuple[str, str], int] = {}
        self.last: dict[tuple[str, str], tuple[Levels, Levels]] = {}


def levels(venue: VenueState, market: str, symbol: str, n: int) -> tuple[Levels, Levels]:
    book = venue.books[(market, symbol)]
    return book.depth(Side.BUY, n), book.depth(Side.SELL, n)


def _rows(market: str, spec: SymbolSpec, side: Levels) -> list[list[str]]:
    if market == SPOT:
        return [[s8(p), s8(q)] for p, q in side]
    return [[_fp(spec, p), _fq(spec, q)] for p, q in side]


def depth_rest(
    venue: VenueState, feed: BookFeed, market: str, symbol: str, limit: int
) -> dict[str, Any]:
    """``GET /api/v3/depth`` / ``GET /fapi/v1/depth`` answer."""
    spec = venue.spec(market, symbol)
    bids, asks = levels(venue, market, symbol, limit)
    out: dict[str, Any] = {"lastUpdateId": feed.update_id.get((market, symbol), 1)}
    if market != SPOT:
        now = venue.now_ms()
        out["E"] = now
        out["T"] = now
    out["bids"] = _rows(market, spec, bids)
    out["asks"] = _rows(market, spec, asks)
    return out


def _diff(old: Levels, new: Levels) -> Levels:
    before = dict(old)
    after = dict(new)
    changed = [(p, q) for p, q in new if before.get(p) != q]
    changed += [(p, Decimal(0)) for p in before if p not in after]
    return changed


def book_changed(
    venue: VenueState, feed: BookFeed, market: str, symbol: str, ts: int
) -> list[tuple[str, dict[str, Any]]]:
    """The depth stream messages (stream name, payload) for a change of the book, or none when
    the book is as last published."""
    key = (market, symbol)
    bids, asks = levels(venue, market, symbol, DIFF_LEVELS)
    old_bids, old_asks = feed.last.get(key, ([], []))
    if (bids, asks) == (old_bids, old_asks):
        return []
    feed.last[key] = (bids, asks)
    prev = feed.update_id.get(key, 1)
    u = prev + 1
    feed.update_id[key] = u
    spec = venue.spec(market, symbol)
    name = symbol.lower()
    out: list[tuple[str, dict[str, Any]]] = []
    for n in PARTIAL_LEVELS:
        top_b, top_a = _rows(market, spec, bids[:n]), _rows(market, spec, asks[:n])
        if market == SPOT:
            payload: dict[str, Any] = {"lastUpdateId": u, "bids": top_b, "asks": top_a}
        else:
            payload = {
                "e": "depthUpdate",
                "E": ts,
                "T": ts,
                "s": symbol,
                "U": u,
                "u": u,
                "pu": prev,
                "b": top_b,
                "a": top_a,
            }
        out.append((f"{name}@depth{n}@100ms", payload))
        out.append((f"{name}@depth{n}", payload))
    diff: dict[str, Any] = {"e": "depthUpdate", "E": ts}
    if market != SPOT:
        diff["T"] = ts
    diff.update({"s": symbol, "U": u, "u": u})
    if market != SPOT:
        diff["pu"] = prev
    diff["b"] = _rows(market, spec, _diff(old_bids, bids))
    diff["a"] = _rows(market, spec, _diff(old_asks, asks))
    out.append((f"{name}@depth@100ms", diff))
    out.append((f"{name}@depth", diff))
    return out
