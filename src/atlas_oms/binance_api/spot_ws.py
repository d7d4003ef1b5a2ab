"""The spot dialect's WebSockets: public market streams (``/ws``, ``/ws/<stream>``,
``/stream?streams=a/b``; the ``SUBSCRIBE`` protocol) and the WebSocket API (``/ws-api/v3``:
``ping``, ``time``, ``userDataStream.subscribe.signature`` / ``.unsubscribe``).

Everything pushed is built when the journal has committed a batch (``hub.on_durable``):
user data (``executionReport``, ``outboundAccountPosition``, ``balanceUpdate``) from the
batch's own events; market streams (``<s>@trade``, ``@aggTrade``, ``@kline_<i>``, ``@ticker``,
``@miniTicker``, ``@bookTicker``, partial ``@depth<N>[@100ms]`` and diff ``@depth[@100ms]``
with ``U``/``u``) from the batch's trades and from the book as it is when the batch commits
(the diff stream's update ids are the node's seq, the same ``lastUpdateId`` as
``GET /api/v3/depth``, so ccxt's snapshot-and-diff sync holds).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from aiohttp import web

from atlas_oms.binance_api import spot_trade
from atlas_oms.binance_api.durable_push import Delivery, DurableQueue
from atlas_oms.binance_api.errors import BinanceError, invalid_key, translate
from atlas_oms.binance_api.keys import resolve
from atlas_oms.binance_api.listen_keys import ListenKeys, listen_key_shaped
from atlas_oms.binance_api.market_common import DiffBooks, series_of
from atlas_oms.binance_api.server import INTERFACE, check_timestamp, now_ms, num
from atlas_oms.binance_api.spot_market import INTERVALS_MS, ticker_24h
from atlas_oms.binance_api.spot_stream import SpotUserStream
from atlas_oms.binance_api.spot_wire import ms
from atlas_oms.binance_api.symbols import binance_id
from atlas_oms.binance_api.table import Call, Route, Security
from atlas_oms.binance_api.ws_conn import Conn, WsStreams
from atlas_oms.model import events as ev
from atlas_oms.model.enums import LiquiditySide
from atlas_oms.model.instrument import Instrument

if TYPE_CHECKING:
    from atlas_oms.binance_api.server import Dialect

Book = dict[str, list[tuple[Decimal, Decimal]]]


class SpotStreams(WsStreams):
    """The connections and the fan-out of durable batches (one per dialect)."""

    def __init__(self, dialect: Dialect) -> None:
        super().__init__(dialect)
        self._sub_ids = 0
        #: User data (WS-API subscriptions, listenKey sockets) and market payloads: built when
        #: the node processes a batch, pushed once it is durable (durable_push.py).
        self.user = SpotUserStream(dialect.node, dialect.spot_symbols)
        self.user.hook(dialect.node, dialect.hub)
        self.market = DurableQueue("spot market streams")
        #: listenKeys of ``/api/v3/userDataStream`` (spot_listen.py) for ``/ws/<listenKey>``.
        self.listen_keys = ListenKeys()
        self._out: list[Delivery] = []
        #: Diff depth: symbol id -> (last book sent, its update id).
        self._diff = DiffBooks()
        self._tops: dict[str, tuple[Any, ...]] = {}
        dialect.node.subscribe(self.on_processed)
        dialect.hub.on_durable(self.market.release)

    async def close_all(self) -> None:
        self.listen_keys.close()
        await super().close_all()

    # ------------------------------------------------------------------ connections
    async def public(self, call: Call) -> web.StreamResponse:
        return await self.run(call, "public", "public")

    async def ws_api(self, call: Call) -> web.StreamResponse:
        return await self.run(call, "wsapi", "wsapi")

    def opened(self, conn: Conn, path: str, query: Any) -> None:
        if conn.kind != "public":
            return
        if path == "/stream" or path.startswith("/stream/"):
            conn.combined = True
            self.subscribe(conn, query.get("streams", "").split("/"))
        tail = path.rsplit("/", 1)[-1]
        if path.startswith("/ws/") and listen_key_shaped(tail):
            self._listen(conn, tail)
            return
        super().opened(conn, path, query)

    def _listen(self, conn: Conn, k: str) -> None:
        """``/ws/<listenKey>``: the account's user data, unwrapped (as Binance's listenKey
        stream sends it); an unknown, expired or revoked key: -1125 and closed."""
        lk = self.listen_keys.valid(k, self.dialect.service.keys)
        if lk is None:
            conn.send({"error": {"code": -1125, "msg": "This listenKey does not exist."}})
            conn.finish()
            return
        conn.listen = (k, lk.account, conn.send)
        self.user.attach(lk.account, conn.send)
        self.listen_keys.attach(k, conn.send, conn.finish)

    async def on_message(self, conn: Conn, call: Call, data: dict[str, Any]) -> None:
        if conn.kind == "wsapi":
            await self._ws_api(conn, call, data)
        else:
            self.control(conn, data)

    def on_close(self, conn: Conn) -> None:
        for sid in list(conn.subs):
            self._detach(conn, sid)
        if conn.listen is not None:
            k, account, send = conn.listen
            self.user.detach(account, send)
            self.listen_keys.detach(k, send)

    def _attach(self, conn: Conn, sid: int, account: str) -> None:
        """A WS-API user data subscription: the account's events wrapped with its id."""

        def send(payload: dict[str, Any]) -> None:
            conn.send({"subscriptionId": sid, "event": payload})

        conn.subs[sid] = account
        conn.senders[sid] = send
        self.user.attach(account, send)

    def _detach(self, conn: Conn, sid: int) -> bool:
        account = conn.subs.pop(sid, None)
        send = conn.senders.pop(sid, None)
        if account is None or send is None:
            return False
        self.user.detach(account, send)
        return True

    def subscribe(self, conn: Conn, streams: Iterable[str]) -> None:
        names = [n.strip() for n in streams if n.strip()]
        super().subscribe(conn, names)
        for name in names:
            symbol_id, _, kind = name.partition("@")
            if kind.startswith("depth") and not kind[5:6].isdigit():
                self._start_diff(symbol_id.upper())

    async def _ws_api(self, conn: Conn, call: Call, data: dict[str, Any]) -> None:
        rid = data.get("id")
        method = str(data.get("method"))
        params = data.get("params") or {}
        start = time.perf_counter()
        outcome = "ok"
        try:
            if method == "ping":
                result: Any = {}
            elif method == "time":
                result = {"serverTime": now_ms()}
            elif method == "userDataStream.subscribe.signature":
                account = self._signed(call, params)
                self._sub_ids += 1
                self._attach(conn, self._sub_ids, account)
                result = {"subscriptionId": self._sub_ids}
            elif method in WS_ORDER_METHODS:
                result = await self._order_call(call, method, params)
            elif method == "userDataStream.unsubscribe":
                sid = params.get("subscriptionId")
                for i in [int(sid)] if sid is not None else list(conn.subs):
                    if self._detach(conn, i):
                        conn.send(
                            {
                                "subscriptionId": i,
                                "event": {"e": "eventStreamTerminated", "E": now_ms()},
                            }
                        )
                result = {}
            else:
                raise BinanceError(
                    -1020, f"This operation is not supported: {method}.", 400, "UNSUPPORTED"
                )
        except Exception as exc:
            err = translate(exc)
            outcome = err.outcome
            conn.send({"id": rid, "status": err.status, "error": err.body()})
        else:
            conn.send({"id": rid, "status": 200, "result": result})
        metrics = self.dialect.service.metrics
        metrics.api_requests.labels(INTERFACE, f"WS {method}", outcome).inc()
        metrics.api_latency.labels(INTERFACE).observe(time.perf_counter() - start)

    async def _order_call(self, session: Call, method: str, params: dict[str, Any]) -> Any:
        """``order.place`` / ``order.cancel`` / ``order.status``: the REST handler of the same
        name on the signed params (the same checks, durability and answers)."""
        handler, trade = WS_ORDER_METHODS[method]
        call = Call(self.dialect, session.request, {k: wire_value(v) for k, v in params.items()})
        account = self._signed(call, params, trade=trade)
        call.account = account
        call.params.pop("apiKey", None)
        return await handler(call)

    def _signed(self, call: Call, params: dict[str, Any], trade: bool = False) -> str:
        """WS-API signature: HMAC-SHA256 of the params but ``signature``, sorted by name."""
        api_key = str(params.get("apiKey", ""))
        found = resolve(self.dialect.service.keys, api_key) if api_key else None
        if found is None:
            raise invalid_key()
        key, account = found
        call.key = key
        payload = "&".join(
            f"{k}={wire_value(params[k])}" for k in sorted(params) if k != "signature"
        )
        self.dialect.check_payload(api_key, payload, str(params.get("signature", "")))
        check_timestamp({k: wire_value(v) for k, v in params.items()})
        self.dialect.service.rate_limit(key)
        call.account = self.dialect.authorize(key, account, trade=trade)
        return call.account

    # ------------------------------------------------------------------ fan-out
    def on_processed(self, events: list[ev.EventBase]) -> None:
        """``node.subscribe``: build the market payloads of a processed batch (the book as that
        batch left it) and hold them until the batch is durable."""
        if any(conn.kind == "public" and conn.streams for conn in self.conns):
            self.market.hold(events, self._market)

    def _market(self, events: list[ev.EventBase]) -> list[Delivery]:
        self._out = []
        streams: set[str] = set()
        for conn in self.conns:
            if conn.kind == "public":
                streams |= conn.streams
        if not streams:
            return self._out
        symbols = self.dialect.spot_symbols
        traded: dict[str, list[ev.OrderFilled]] = {}
        for e in events:
            if isinstance(e, ev.OrderFilled) and e.liquidity_side is LiquiditySide.TAKER:
                inst = symbols.get(self._id_of(e.symbol))
                if inst is not None:
                    traded.setdefault(binance_id(inst), []).append(e)
        wanted = {s.partition("@")[0].upper() for s in streams}
        for symbol_id in sorted(wanted):
            inst = symbols.get(symbol_id)
            if inst is None:
                continue
            low = symbol_id.lower()
            for f in traded.get(symbol_id, ()):
                self._trade(low, symbol_id, f, streams)
            self._books(low, symbol_id, inst, streams, bool(traded.get(symbol_id)))
        return self._out

    def _id_of(self, symbol: str) -> str:
        return self.dialect.spot_symbols.id_of(symbol) or ""

    def _push(self, stream: str, payload: Any) -> None:
        """Hold ``payload`` for the subscribers of ``stream`` when its batch is durable."""
        self._out.append(functools.partial(self._publish, stream, payload))

    def _publish(self, stream: str, payload: Any) -> None:
        for conn in self.conns:
            if conn.kind == "public":
                conn.publish(stream, payload)

    def _trade(self, low: str, symbol_id: str, f: ev.OrderFilled, streams: set[str]) -> None:
        t = ms(f.ts_event)
        maker_buys = str(f.side) == "SELL"
        if f"{low}@trade" in streams:
            self._push(
                f"{low}@trade",
                {
                    "e": "trade",
                    "E": t,
                    "s": symbol_id,
                    "t": f.seq,
                    "p": num(f.last_px),
                    "q": num(f.last_qty),
                    "T": t,
                    "m": maker_buys,
                    "M": True,
                },
            )
        if f"{low}@aggTrade" in streams:
            self._push(
                f"{low}@aggTrade",
                {
                    "e": "aggTrade",
                    "E": t,
                    "s": symbol_id,
                    "a": f.seq,
                    "p": num(f.last_px),
                    "q": num(f.last_qty),
                    "f": f.seq,
                    "l": f.seq,
                    "T": t,
                    "m": maker_buys,
                    "M": True,
                },
            )
        for stream in streams:
            if stream.startswith(f"{low}@kline_"):
                interval = stream.rsplit("_", 1)[-1]
                every = INTERVALS_MS.get(interval)
                if every is not None:
                    self._push(stream, self._kline(symbol_id, interval, every, t))

    def _kline(self, symbol_id: str, interval: str, every: int, t: int) -> dict[str, Any]:
        from atlas_oms.binance_api.spot_market import klines_of

        inst = self.dialect.spot_symbols.instrument(symbol_id)
        start = t - t % every
        found = series_of(self.dialect, inst.symbol)
        fills = found.fills[found.at_or_after(start) :]  # the bar's trades
        row = klines_of(fills, every, start, None)[0]
        return {
            "e": "kline",
            "E": t,
            "s": symbol_id,
            "k": {
                "t": row[0],
                "T": row[6],
                "s": symbol_id,
                "i": interval,
                "f": fills[0].seq,
                "L": fills[-1].seq,
                "o": row[1],
                "c": row[4],
                "h": row[2],
                "l": row[3],
                "v": row[5],
                "n": row[8],
                "x": False,
                "q": row[7],
                "V": row[9],
                "Q": row[10],
                "B": "0",
            },
        }

    def _books(
        self, low: str, symbol_id: str, inst: Instrument, streams: set[str], traded: bool
    ) -> None:
        service = self.dialect.service
        node = self.dialect.node
        seq = node.seq
        mine = [s for s in streams if s.startswith(low + "@")]
        book: Book | None = None

        def read(levels: int) -> Book:
            return service.book(inst.symbol, levels) or {"bids": [], "asks": []}

        for stream in mine:
            kind = stream[len(low) + 1 :]
            if kind.startswith("depth") and kind[5:6].isdigit():
                levels = int(kind[5:].split("@")[0])
                part = read(levels)
                self._push(
                    stream,
                    {
                        "lastUpdateId": seq,
                        "bids": [[num(p), num(q)] for p, q in part["bids"]],
                        "asks": [[num(p), num(q)] for p, q in part["asks"]],
                    },
                )
        if any(
            s.startswith(low + "@depth") and not s[len(low) + 6 : len(low) + 7].isdigit()
            for s in mine
        ):
            book = read(1000)
            self._diff_push(low, symbol_id, book, seq)
        top = read(1)
        bid = top["bids"][0] if top["bids"] else (Decimal(0), Decimal(0))
        ask = top["asks"][0] if top["asks"] else (Decimal(0), Decimal(0))
        key = (*bid, *ask)
        changed = self._tops.get(symbol_id) != key
        self._tops[symbol_id] = key
        if changed and f"{low}@bookTicker" in streams:
            self._push(
                f"{low}@bookTicker",
                {
                    "u": seq,
                    "s": symbol_id,
                    "b": num(bid[0]),
                    "B": num(bid[1]),
                    "a": num(ask[0]),
                    "A": num(ask[1]),
                },
            )
        if (changed or traded) and (f"{low}@ticker" in streams or f"{low}@miniTicker" in streams):
            t = ticker_24h(self.dialect, inst)
            now = now_ms()
            if f"{low}@ticker" in streams:
                self._push(
                    f"{low}@ticker",
                    {
                        "e": "24hrTicker",
                        "E": now,
                        "s": symbol_id,
                        "p": t["priceChange"],
                        "P": t["priceChangePercent"],
                        "w": t["weightedAvgPrice"],
                        "x": t["prevClosePrice"],
                        "c": t["lastPrice"],
                        "Q": t["lastQty"],
                        "b": t["bidPrice"],
                        "B": t["bidQty"],
                        "a": t["askPrice"],
                        "A": t["askQty"],
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
                    },
                )
            if f"{low}@miniTicker" in streams:
                self._push(
                    f"{low}@miniTicker",
                    {
                        "e": "24hrMiniTicker",
                        "E": now,
                        "s": symbol_id,
                        "c": t["lastPrice"],
                        "o": t["openPrice"],
                        "h": t["highPrice"],
                        "l": t["lowPrice"],
                        "v": t["volume"],
                        "q": t["quoteVolume"],
                    },
                )

    def _start_diff(self, symbol_id: str) -> None:
        if symbol_id in self._diff:
            return
        inst = self.dialect.spot_symbols.get(symbol_id)
        if inst is None:
            return
        book = self.dialect.service.book(inst.symbol, 1000) or {"bids": [], "asks": []}
        self._diff.start(symbol_id, book, self.dialect.node.seq)

    def _diff_push(self, low: str, symbol_id: str, book: Book, seq: int) -> None:
        step = self._diff.step(symbol_id, book, seq, num, num)
        if step is None:
            return
        last_id, sides = step
        payload = {
            "e": "depthUpdate",
            "E": now_ms(),
            "s": symbol_id,
            "U": last_id + 1,
            "u": seq,
            "b": sides["bids"],
            "a": sides["asks"],
        }
        self._out.append(functools.partial(self._publish_diff, low, payload))

    def _publish_diff(self, low: str, payload: dict[str, Any]) -> None:
        for conn in self.conns:
            if conn.kind != "public":
                continue
            for stream in conn.streams:
                if (
                    stream.startswith(low + "@depth")
                    and not stream[len(low) + 6 : len(low) + 7].isdigit()
                ):
                    conn.publish(stream, payload)


def wire_value(value: Any) -> str:
    """A WS-API param as the client signed it (JSON true/false as ccxt's urlencode writes them)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


#: WS-API order methods: (the REST handler, needs the trading right).
WS_ORDER_METHODS: dict[str, tuple[Any, bool]] = {
    "order.place": (spot_trade.place, True),
    "order.cancel": (spot_trade.cancel, True),
    "order.status": (spot_trade.get_order, False),
}


def spot_ws_routes(dialect: Dialect) -> list[Route]:
    streams = SpotStreams(dialect)
    dialect.extras["spot_streams"] = streams
    from atlas_oms.binance_api.spot_listen import spot_listen_routes

    return [
        *spot_listen_routes(dialect),
        Route("WS", "/ws", 0, Security.NONE, streams.public),
        Route("WS", "/stream", 0, Security.NONE, streams.public),
        Route("WS", "/ws-api/v3", 0, Security.NONE, streams.ws_api),
    ]


__all__ = ["SpotStreams", "spot_ws_routes"]
