"""The USDⓈ-M public market streams (what ccxt.pro's ``linear`` watchers open):
``/fstream/public/ws[/<n>]`` (``<s>@bookTicker``, ``<s>@trade``, ``<s>@depth[<N>][@100ms]``) and
``/fstream/market/ws[/<n>]`` (``<s>@aggTrade``, ``<s>@markPrice[@1s]``, ``<s>@ticker``,
``<s>@miniTicker``, ``<s>@kline_<i>``), also ``/fstream/ws``; Binance's ``SUBSCRIBE`` / ``UNSUBSCRIBE`` /
``LIST_SUBSCRIPTIONS`` protocol (and ``/ws/<stream>`` in the path).

Pushed when a journal batch commits (``hub.on_durable``): trades from the batch's taker
executions; the book, top of book, mark and 24 h ticker as they are at that moment. A mark price,
a top of book and a ticker are also sent at once on subscribing (Binance sends them every second).
Diff depth (``@depth``, ``@depth@100ms``) carries ``U``/``u``/``pu`` on the node's seq, the same
``lastUpdateId`` as ``GET /fapi/v1/depth``, so ccxt.pro's futures snapshot-and-diff sync holds
(``pu`` is the previous event's ``u``).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from aiohttp import web

from atlas_oms.binance_api import futures_reference as fr
from atlas_oms.binance_api import futures_wire as fw
from atlas_oms.binance_api.futures_market import INTERVALS, day_ticker
from atlas_oms.binance_api.market_common import DiffBooks, series_of
from atlas_oms.binance_api.server import now_ms
from atlas_oms.binance_api.table import Call, Route, Security
from atlas_oms.binance_api.ws_conn import Conn, WsStreams
from atlas_oms.model import events as ev
from atlas_oms.model.enums import LiquiditySide, Side

if TYPE_CHECKING:
    from atlas_oms.binance_api.server import Dialect
    from atlas_oms.model.instrument import Instrument

Book = dict[str, list[tuple[Decimal, Decimal]]]
ZERO = Decimal(0)
EMPTY: Book = {"bids": [], "asks": []}


def _is_diff(kind: str) -> bool:
    """``depth``, ``depth@100ms``, ``depth@500ms`` (not the partial ``depth5``...)."""
    return kind.startswith("depth") and not kind[5:6].isdigit()


class FuturesStreams(WsStreams):
    """The public futures connections and the fan-out of durable batches."""

    def __init__(self, dialect: Dialect) -> None:
        super().__init__(dialect)
        #: Diff depth: symbol id -> (last book sent, its update id).
        self._diff = DiffBooks()
        self._tops: dict[str, tuple[Decimal, ...]] = {}
        self._marks: dict[str, Decimal | None] = {}
        dialect.hub.on_durable(self.on_events)

    # ------------------------------------------------------------------ connections
    async def serve(self, call: Call) -> web.StreamResponse:
        return await self.run(call, "public", "fstream")

    def subscribe(self, conn: Conn, streams: Iterable[str]) -> None:
        perps = fw.perpetuals(self.dialect.node)
        for name in streams:
            name = name.strip()
            if not name:
                continue
            conn.streams.add(name)
            symbol_id, _, kind = name.partition("@")
            inst = perps.get(symbol_id.upper())
            if inst is None:
                continue
            sid = symbol_id.upper()
            if _is_diff(kind) and sid not in self._diff:
                self._diff.start(sid, self._book(inst, 1000), self.dialect.node.seq)
            # what Binance sends every second anyway: sent at once
            if kind.startswith("markPrice"):
                conn.publish(name, self._mark_update(inst))
            elif kind == "bookTicker":
                conn.publish(name, self._book_ticker(inst, self._book(inst, 1)))
            elif kind in ("ticker", "miniTicker"):
                conn.publish(name, self._ticker(inst, mini=kind == "miniTicker"))

    # ------------------------------------------------------------------ payloads
    def _book(self, inst: Instrument, levels: int) -> Book:
        return self.dialect.service.book(inst.symbol, levels) or EMPTY

    def _mark_update(self, inst: Instrument) -> dict[str, Any]:
        node = self.dialect.node
        index = fr.premium_index(node, inst, int(node.clock.now()) // 1_000_000)
        now = now_ms()
        return {
            "e": "markPriceUpdate",
            "E": now,
            "s": index["symbol"],
            "p": index["markPrice"],
            "i": index["indexPrice"],
            "P": index["estimatedSettlePrice"],
            "r": index["lastFundingRate"],
            "T": index["nextFundingTime"],
        }

    def _book_ticker(self, inst: Instrument, top: Book) -> dict[str, Any]:
        bid = top["bids"][0] if top["bids"] else (ZERO, ZERO)
        ask = top["asks"][0] if top["asks"] else (ZERO, ZERO)
        now = now_ms()
        return {
            "e": "bookTicker",
            "u": self.dialect.node.seq,
            "E": now,
            "T": now,
            "s": fw.fapi_symbol(inst),
            "b": fw.px(inst, bid[0]),
            "B": fw.qty(inst, bid[1]),
            "a": fw.px(inst, ask[0]),
            "A": fw.qty(inst, ask[1]),
        }

    def _ticker(self, inst: Instrument, mini: bool = False) -> dict[str, Any]:
        """``@ticker`` (24hrTicker), or with ``mini`` ``@miniTicker`` (what ccxt's watch_ticker
        opens by default): ``ticker/24hr``'s figures under the stream's names."""
        now = int(self.dialect.node.clock.now()) // 1_000_000
        t = day_ticker(self.dialect, inst, now)
        if mini:
            return {
                "e": "24hrMiniTicker",
                "E": now_ms(),
                "s": t["symbol"],
                "c": t["lastPrice"],
                "o": t["openPrice"],
                "h": t["highPrice"],
                "l": t["lowPrice"],
                "v": t["volume"],
                "q": t["quoteVolume"],
            }
        return {
            "e": "24hrTicker",
            "E": now_ms(),
            "s": t["symbol"],
            "p": t["priceChange"],
            "P": t["priceChangePercent"],
            "w": t["weightedAvgPrice"],
            "c": t["lastPrice"],
            "Q": t["lastQty"],
            "o": t["openPrice"],
            "h": t["highPrice"],
            "l": t["lowPrice"],
            "v": t["volume"],
            "q": t["quoteVolume"],
            "O": t["openTime"],
            "C": t["closeTime"],
            "F": t["firstId"],
            "L": t["lastId"],
            "n": t["count"],
        }

    # ------------------------------------------------------------------ fan-out
    def _push(self, stream: str, payload: Any) -> None:
        for conn in self.conns:
            conn.publish(stream, payload)

    def on_events(self, events: list[ev.EventBase]) -> None:
        if not self.conns:
            return
        streams: set[str] = set()
        for conn in self.conns:
            streams |= conn.streams
        if not streams:
            return
        perps = fw.perpetuals(self.dialect.node)
        by_symbol = {inst.symbol: sid for sid, inst in perps.items()}
        traded: dict[str, list[ev.OrderFilled]] = {}
        marked: set[str] = set()
        for e in events:
            if isinstance(e, ev.OrderFilled) and e.liquidity_side is LiquiditySide.TAKER:
                sid = by_symbol.get(e.symbol)
                if sid is not None:
                    traded.setdefault(sid, []).append(e)
            elif isinstance(e, ev.PricesUpdated | ev.FundingRateSet):
                sid = by_symbol.get(e.symbol)
                if sid is not None:
                    marked.add(sid)
        wanted = {s.partition("@")[0].upper() for s in streams}
        for sid in sorted(wanted):
            inst = perps.get(sid)
            if inst is None:
                continue
            low = sid.lower()
            mine = {s for s in streams if s.startswith(low + "@")}
            for f in traded.get(sid, ()):
                self._trade(inst, low, f, mine)
            if sid in marked:
                for s in mine:
                    if s.startswith(f"{low}@markPrice"):
                        self._push(s, self._mark_update(inst))
            self._books(inst, low, sid, mine, bool(traded.get(sid)))

    def _trade(self, inst: Instrument, low: str, f: ev.OrderFilled, mine: set[str]) -> None:
        t = fw.ms(f.ts_event)
        sid = fw.fapi_symbol(inst)
        maker_buys = f.side is Side.SELL
        p, q = fw.px(inst, f.last_px), fw.qty(inst, f.last_qty)
        if f"{low}@trade" in mine:
            self._push(
                f"{low}@trade",
                {"e": "trade", "E": t, "T": t, "s": sid, "t": f.seq, "p": p, "q": q,
                 "X": "MARKET", "m": maker_buys},
            )  # fmt: skip
        if f"{low}@aggTrade" in mine:
            self._push(
                f"{low}@aggTrade",
                {"e": "aggTrade", "E": t, "a": f.seq, "s": sid, "p": p, "q": q, "f": f.seq,
                 "l": f.seq, "T": t, "m": maker_buys},
            )  # fmt: skip
        for stream in mine:
            if stream.startswith(f"{low}@kline_"):
                interval = stream.rsplit("_", 1)[-1]
                step = INTERVALS.get(interval)
                if step is not None:
                    self._push(stream, self._kline(inst, interval, step, t))

    def _kline(self, inst: Instrument, interval: str, step: int, t: int) -> dict[str, Any]:
        start = t - t % step
        found = series_of(self.dialect, inst.symbol)
        bar = found.suffix(found.at_or_after(start))
        first, last = bar.first, bar.last
        sid = fw.fapi_symbol(inst)
        return {
            "e": "kline",
            "E": t,
            "s": sid,
            "k": {
                "t": start,
                "T": start + step - 1,
                "s": sid,
                "i": interval,
                "f": first.seq if first else -1,
                "L": last.seq if last else -1,
                "o": fw.px(inst, first.last_px if first else None),
                "c": fw.px(inst, last.last_px if last else None),
                "h": fw.px(inst, bar.high),
                "l": fw.px(inst, bar.low),
                "v": fw.qty(inst, bar.volume),
                "n": bar.count,
                "x": False,
                "q": fw.plain(bar.quote),
                "V": "0",
                "Q": "0",
                "B": "0",
            },
        }

    def _books(self, inst: Instrument, low: str, sid: str, mine: set[str], traded: bool) -> None:
        node = self.dialect.node
        seq = node.seq
        now = now_ms()
        diff = [s for s in mine if _is_diff(s[len(low) + 1 :])]
        for stream in mine:
            kind = stream[len(low) + 1 :]
            if kind.startswith("depth") and kind[5:6].isdigit():
                levels = int(kind[5:].split("@")[0])
                part = self._book(inst, levels)
                self._push(
                    stream,
                    {
                        "e": "depthUpdate",
                        "E": now,
                        "T": now,
                        "s": sid,
                        "U": seq,
                        "u": seq,
                        "pu": seq - 1,
                        "b": [[fw.px(inst, p), fw.qty(inst, q)] for p, q in part["bids"]],
                        "a": [[fw.px(inst, p), fw.qty(inst, q)] for p, q in part["asks"]],
                    },
                )
        if diff:
            self._diff_push(inst, sid, diff, self._book(inst, 1000), seq)
        top = self._book(inst, 1)
        bid = top["bids"][0] if top["bids"] else (ZERO, ZERO)
        ask = top["asks"][0] if top["asks"] else (ZERO, ZERO)
        key = (*bid, *ask)
        changed = self._tops.get(sid) != key
        self._tops[sid] = key
        if changed and f"{low}@bookTicker" in mine:
            self._push(f"{low}@bookTicker", self._book_ticker(inst, top))
        if changed or traded:
            if f"{low}@ticker" in mine:
                self._push(f"{low}@ticker", self._ticker(inst))
            if f"{low}@miniTicker" in mine:
                self._push(f"{low}@miniTicker", self._ticker(inst, mini=True))

    def _diff_push(
        self, inst: Instrument, sid: str, streams: list[str], book: Book, seq: int
    ) -> None:
        step = self._diff.step(sid, book, seq, lambda p: fw.px(inst, p), lambda q: fw.qty(inst, q))
        if step is None:
            return
        last_id, sides = step
        now = now_ms()
        payload = {
            "e": "depthUpdate",
            "E": now,
            "T": now,
            "s": sid,
            "U": last_id + 1,
            "u": seq,
            "pu": last_id,
            "b": sides["bids"],
            "a": sides["asks"],
        }
        for stream in streams:
            self._push(stream, payload)


def futures_ws_routes(dialect: Dialect) -> list[Route]:
    streams = FuturesStreams(dialect)
    dialect.extras["futures_streams"] = streams
    return [
        Route("WS", "/fstream/public/ws", 0, Security.NONE, streams.serve),
        Route("WS", "/fstream/market/ws", 0, Security.NONE, streams.serve),
        Route("WS", "/fstream/ws", 0, Security.NONE, streams.serve),
    ]


__all__ = ["FuturesStreams", "futures_ws_routes"]
