"""OKX v5 (spot and linear SWAP, one unified account) behind Atlas's venue ports.

One adapter serves one OKX account (venue name ``okx``): spot pairs (``BTC-USDT`` ↔
``BTC/USDT``) and linear perpetuals (``BTC-USDT-SWAP`` ↔ ``BTC/USDT:USDT``, sizes in contracts
of ``ctVal``: see :mod:`.parse`). REST goes through ccxt's implicit endpoint methods
(``privatePostTradeOrder``...) so the answer is OKX's own JSON; ccxt's unified layer (which
injects its broker ``clOrdId``/``tag`` when none is given, and rounds) is bypassed. Errors are
classified by :mod:`.errors` from the HTTP status and OKX's ``code``/``sCode``.

Atlas's client order id is OKX's ``clOrdId`` (≤ 32 letters and digits: Atlas's ``at<tag>x<n>``
fits). Cancel, amend and query go by ``clOrdId``. The private stream is ccxt.pro's (``login``
op, ``orders`` channel, ``instType ANY``); every raw push is translated here (fills ride on the
``orders`` pushes: ``tradeId``, ``fillSz``, ``fillPx``, ``fillFee``). ``/trade/fills`` keeps
3 days: a position older than that is adopted from the positions report by the gateway.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from decimal import Decimal
from typing import Any

import ccxt

from atlas_oms.core.ports import VenueQueryFailed
from atlas_oms.model.enums import PositionSide, TimeInForce
from atlas_oms.model.route_book import VenueBook
from atlas_oms.model.venue import (
    Acknowledged,
    AmendOrder,
    CancelOrder,
    Outcome,
    PlaceOrder,
    PriceTick,
    Refused,
    StreamAlive,
    StreamGap,
    Unknown,
    VenueAccountSettings,
    VenueBalance,
    VenueFact,
    VenueFill,
    VenueInstrument,
    VenueOrder,
    VenuePosition,
)
from atlas_oms.venues.binance.errors import Action, Failure
from atlas_oms.venues.book_ws import stream_books
from atlas_oms.venues.okx import errors
from atlas_oms.venues.okx import parse as p
from atlas_oms.venues.okx.books import OkxBooks
from atlas_oms.venues.okx.client import OkxHttpError, build_client, set_time_offset, venue_code
from atlas_oms.venues.rewatch import keep_watching

REST_URL = "https://www.okx.com"
WS_URL = "wss://ws.okx.com:8443/ws/v5"
#: ``/trade/fills`` pages hold at most 100 rows.
FILLS_PAGE = 100
INST_TYPES = ("SPOT", "SWAP")


def num(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text


class OkxAdapter:
    venue: str = "okx"

    def __init__(
        self,
        *,
        account_id: str,
        api_key: str,
        secret: str,
        passphrase: str,
        decode_client_id: Callable[[str], int | None],
        rest_url: str = REST_URL,
        ws_url: str = WS_URL,
        timeout_ms: int = 10_000,
        swap_margin_mode: str = "cross",
        heartbeat_s: float = 30.0,
        reconnect_min_s: float = 0.2,
        reconnect_max_s: float = 10.0,
        options: Mapping[str, Any] | None = None,
    ) -> None:
        self.account_id = account_id
        self.before_request: Callable[[int, bool], Awaitable[None]] | None = None
        self.on_response: Callable[[int, Mapping[str, str]], None] | None = None
        self.swap_margin_mode = swap_margin_mode
        self.heartbeat_s = heartbeat_s
        self.reconnect_min_s = reconnect_min_s
        self.reconnect_max_s = reconnect_max_s
        self.settings = VenueAccountSettings()
        self._ctx = p.Context(self.venue, account_id, decode_client_id)
        self._venue_symbols: dict[str, str] = {}
        self._ws_url = ws_url.rstrip("/")
        self._client = build_client(
            rest_url,
            ws_url,
            api_key=api_key,
            secret=secret,
            passphrase=passphrase,
            timeout_ms=timeout_ms,
            options=options,
        )
        self._client.atlas_before_request = self._before_request
        self._client.atlas_on_response = self._on_response
        self._client.atlas_on_message = self._on_ws_message
        self._client.atlas_on_connection = self._on_ws_connection
        self._facts: asyncio.Queue[VenueFact] | None = None
        self._prices: asyncio.Queue[PriceTick] | None = None
        self._trades_seen: dict[str, tuple[Any, Any]] = {}  # symbol -> (last, last_qty)
        self._stream_up = False
        self._last_ts = 0
        self._markets_loaded = False

    # ------------------------------------------------------------------ hooks and lifecycle
    async def _before_request(self, weight: int, is_order: bool) -> None:
        if self.before_request is not None:
            await self.before_request(weight, is_order)

    def _on_response(self, status: int, headers: Mapping[str, str]) -> None:
        if self.on_response is not None:
            self.on_response(status, headers)

    def set_clock_offset(self, offset_ns: int) -> None:
        set_time_offset(self._client, offset_ns)

    def rotate_credentials(
        self, api_key: str, secret: str, *, passphrase: str | None = None, **_: Any
    ) -> None:
        """Sign with a new key (and its passphrase: an OKX key has one; None keeps the old)
        from the next request on; the private stream logged in with the old key: drop it, so it
        reconnects and logs in anew (a gap, which the gateway reconciles)."""
        client = self._client
        client.apiKey = api_key
        client.secret = secret
        if passphrase is not None:
            client.password = passphrase
        ws = self._private_ws()
        self._stream_lost("KEY_ROTATED")
        if ws is not None:
            ws.on_error(ccxt.NetworkError("okx private stream: KEY_ROTATED"))

    async def start(self) -> None:
        # After a failed connection the gateway closes the adapter and starts it again: reopen
        # the ccxt client, which otherwise refuses every REST call once closed.
        self._client.open()
        await self.instruments()
        self.settings = await self.account_settings()

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self._client.close()

    async def account_settings(self) -> VenueAccountSettings:
        """OKX's ``posMode``: ``long_short_mode`` is hedge mode (SWAP legs apart)."""
        rows = await self._get("privateGetAccountConfig", {})
        mode = str((rows[0] if rows else {}).get("posMode", "net_mode"))
        return VenueAccountSettings(hedge_mode=mode == "long_short_mode")

    # ------------------------------------------------------------------ symbols
    def venue_symbol(self, symbol: str) -> str:
        return self._venue_symbols.get(symbol) or p.inst_id_of(symbol)

    def _is_swap(self, inst_id: str) -> bool:
        return inst_id.endswith("-SWAP")

    # ------------------------------------------------------------------ REST plumbing
    def _api(self, name: str) -> Callable[[Any], Awaitable[Any]]:
        method: Callable[[Any], Awaitable[Any]] = getattr(self._client, name)
        return method

    async def _write(
        self, action: Action, name: str, params: dict[str, Any]
    ) -> tuple[Any, Refused | Unknown | None]:
        try:
            raw = await self._api(name)(params)
        except OkxHttpError as e:
            return None, errors.classify_write(
                action, Failure.ANSWERED, status=e.status, code=e.code, msg=e.msg
            )
        except (TimeoutError, ccxt.RequestTimeout) as e:
            return None, errors.classify_write(action, Failure.TIMEOUT, msg=str(e))
        except ccxt.NetworkError as e:
            return None, errors.classify_write(action, Failure.DISCONNECTED, msg=str(e))
        except ccxt.BaseError as e:
            return None, errors.classify_write(action, Failure.NOT_SENT, msg=str(e))
        except Exception as e:
            return None, Unknown(reason=errors.SERVER_ERROR, message=f"{type(e).__name__}: {e}")
        code, msg = venue_code(raw)
        if code not in ("", "0"):
            return None, errors.classify_write(
                action, Failure.ANSWERED, status=200, code=code, msg=msg
            )
        return raw, None

    async def _get(self, name: str, params: dict[str, Any], *, not_found_ok: bool = False) -> Any:
        try:
            raw = await self._api(name)(params)
        except OkxHttpError as e:
            if not_found_ok and errors.is_not_found(e.code):
                return None
            raise errors.classify_read(
                Failure.ANSWERED,
                status=e.status,
                code=e.code,
                msg=e.msg,
                retry_after_s=e.retry_after_s,
            ) from e
        except (TimeoutError, ccxt.RequestTimeout) as e:
            raise errors.classify_read(Failure.TIMEOUT, msg=str(e)) from e
        except ccxt.NetworkError as e:
            raise errors.classify_read(Failure.DISCONNECTED, msg=str(e)) from e
        except ccxt.BaseError as e:
            raise errors.classify_read(Failure.NOT_SENT, msg=str(e)) from e
        return list(raw.get("data") or ()) if isinstance(raw, dict) else []

    # ------------------------------------------------------------------ commands
    def _place_params(self, order: PlaceOrder) -> dict[str, Any] | Refused:
        inst_id = self.venue_symbol(order.symbol)
        swap = self._is_swap(inst_id)
        params: dict[str, Any] = {
            "instId": inst_id,
            "tdMode": self.swap_margin_mode if swap else "cash",
            "side": order.side.value.lower(),
            "sz": num(self._ctx.sz(inst_id, order.qty)),
            "clOrdId": order.client_order_id,
        }
        if swap:
            side = order.position_side or PositionSide.BOTH
            params["posSide"] = {PositionSide.LONG: "long", PositionSide.SHORT: "short"}.get(
                side, "net"
            )
            if order.reduce_only and side is PositionSide.BOTH:
                params["reduceOnly"] = True
        elif order.reduce_only:
            return Refused(
                reason=errors.INVALID_REQUEST, code="", message="a spot order cannot be reduce-only"
            )
        if order.price is None and order.protection_price is None:
            if order.post_only:
                return Refused(
                    reason=errors.INVALID_REQUEST,
                    code="",
                    message="a post-only order needs a limit price",
                )
            params["ordType"] = "market"
            if not swap:
                params["tgtCcy"] = "base_ccy"  # a spot market buy's sz is in quote otherwise
            return params
        price = order.price if order.price is not None else order.protection_price
        assert price is not None
        params["px"] = num(price)
        tif = TimeInForce.IOC if order.price is None else order.tif
        if order.post_only:
            if tif is not TimeInForce.GTC:
                return Refused(
                    reason=errors.INVALID_REQUEST,
                    code="",
                    message=f"a post-only order rests on the book: it cannot be {tif}",
                )
            params["ordType"] = "post_only"
        else:
            params["ordType"] = {TimeInForce.IOC: "ioc", TimeInForce.FOK: "fok"}.get(tif, "limit")
        return params

    async def place(self, order: PlaceOrder) -> Outcome:
        """``POST /api/v5/trade/order`` under Atlas's ``clOrdId`` (ccxt injects its broker id only
        when none is given). The answer carries ``ordId`` and ``sCode`` only: the order's state
        comes from the stream (or the gateway's query)."""
        if order.tif in (TimeInForce.GTD, TimeInForce.DAY):
            return Refused(
                reason=errors.UNSUPPORTED_ORDER,
                code="",
                message=f"okx takes GTC, IOC and FOK orders; {order.tif} is not offered",
            )
        params = self._place_params(order)
        if isinstance(params, Refused):
            return params
        raw, failed = await self._write(Action.PLACE, "privatePostTradeOrder", params)
        if failed is not None:
            return failed
        item = (raw.get("data") or [{}])[0]
        return Acknowledged(venue_order_id=str(item.get("ordId") or "") or None)

    def _ids(self, symbol: str, client_order_id: str, venue_order_id: str | None) -> dict[str, Any]:
        params: dict[str, Any] = {"instId": self.venue_symbol(symbol)}
        if client_order_id:
            params["clOrdId"] = client_order_id
        elif venue_order_id:
            params["ordId"] = venue_order_id
        return params

    async def cancel(self, order: CancelOrder) -> Outcome:
        """By ``clOrdId``. ``51400``/``51401``/``51402`` (filled, canceled or unknown) is a refusal
        UNKNOWN_ORDER: the gateway queries the order to learn its state."""
        params = self._ids(order.symbol, order.client_order_id, order.venue_order_id)
        raw, failed = await self._write(Action.CANCEL, "privatePostTradeCancelOrder", params)
        if failed is not None:
            return failed
        item = (raw.get("data") or [{}])[0]
        return Acknowledged(venue_order_id=str(item.get("ordId") or "") or None)

    async def amend(self, order: AmendOrder) -> Outcome:
        """``amend-order``: ``newSz`` is the new total size (filled part included), ``newPx``
        the new price. The new state comes from the stream or a query."""
        params = self._ids(order.symbol, order.client_order_id, order.venue_order_id)
        params["newSz"] = num(self._ctx.sz(params["instId"], order.qty))
        if order.price is not None:
            params["newPx"] = num(order.price)
        raw, failed = await self._write(Action.AMEND, "privatePostTradeAmendOrder", params)
        if failed is not None:
            return failed
        item = (raw.get("data") or [{}])[0]
        return Acknowledged(venue_order_id=str(item.get("ordId") or "") or None)

    # ------------------------------------------------------------------ queries
    async def instruments(self) -> list[VenueInstrument]:
        rows: list[dict[str, Any]] = []
        for kind in INST_TYPES:
            rows += await self._get("publicGetPublicInstruments", {"instType": kind})
        found, ct_vals = p.parse_instruments(rows, self.venue)
        self._ctx.learn(found, ct_vals)
        for vi in found:
            self._venue_symbols[vi.instrument.symbol] = vi.venue_symbol
        if not self._markets_loaded:
            with contextlib.suppress(Exception):
                self._client.set_markets(self._client.parse_markets(rows))
                self._markets_loaded = True
        return found

    async def server_time(self) -> int:
        rows = await self._get("publicGetPublicTime", {})
        return p.ms_to_ns((rows[0] if rows else {}).get("ts"))

    async def open_orders(self) -> list[VenueOrder]:
        out: list[VenueOrder] = []
        params: dict[str, Any] = {"limit": "100"}
        while True:
            rows = await self._get("privateGetTradeOrdersPending", params)
            out += [p.parse_order(r, self._ctx) for r in rows]
            if len(rows) < 100:
                return out
            params = {"limit": "100", "after": rows[-1]["ordId"]}

    async def order(
        self, symbol: str, *, client_order_id: str | None = None, venue_order_id: str | None = None
    ) -> VenueOrder | None:
        if not client_order_id and not venue_order_id:
            raise ValueError("order() needs a client or a venue order id")
        params = self._ids(symbol, client_order_id or "", venue_order_id)
        rows = await self._get("privateGetTradeOrder", params, not_found_ok=True)
        if not rows:
            return None
        return p.parse_order(rows[0], self._ctx)

    async def fills(self, since_ts: int, symbol: str | None = None) -> list[VenueFill]:
        """``/trade/fills`` since ``since_ts`` (OKX keeps 3 days there), newest first, paged by
        ``after`` (the last row's ``billId``). Rows carry ``clOrdId``."""
        out: list[VenueFill] = []
        params: dict[str, Any] = {"begin": str(since_ts // 1_000_000), "limit": str(FILLS_PAGE)}
        if symbol:
            params["instId"] = self.venue_symbol(symbol)
        while True:
            rows = await self._get("privateGetTradeFills", params)
            out += [p.parse_fill(r, self._ctx) for r in rows]
            if len(rows) < FILLS_PAGE:
                break
            params = dict(params, after=str(rows[-1]["billId"]))
        out.sort(key=lambda f: (f.ts, f.trade_id))
        return out

    async def balances(self) -> list[VenueBalance]:
        return p.parse_balances(await self._get("privateGetAccountBalance", {}))

    async def positions(self) -> list[VenuePosition]:
        return p.parse_positions(
            await self._get("privateGetAccountPositions", {"instType": "SWAP"}), self._ctx
        )

    # ------------------------------------------------------------------ the private stream
    @staticmethod
    def _is_private(url: str) -> bool:
        return url.rstrip("/").endswith("/private") or "/private?" in url

    def _put(self, fact: VenueFact) -> None:
        if self._facts is not None:
            self._facts.put_nowait(fact)

    def _now_ns(self) -> int:
        return int(self._client.milliseconds()) * 1_000_000

    def _gap(self, reason: str) -> None:
        self._put(
            StreamGap(
                venue=self.venue,
                account_id=self.account_id,
                ts=self._now_ns(),
                reason=reason,
                since_ts=self._last_ts,
            )
        )

    def _stream_lost(self, reason: str) -> None:
        if self._stream_up:
            self._stream_up = False
            self._gap(reason)

    def _on_ws_connection(self, url: str, connected: bool) -> None:
        if self._is_private(url) and not connected:
            self._stream_lost("DISCONNECTED")

    def _on_ws_message(self, url: str, message: Any) -> None:
        if not isinstance(message, dict):
            return
        if not self._is_private(url):
            self._on_public(message)
            return
        if self._facts is None:
            return
        arg = message.get("arg") or {}
        if message.get("event") == "subscribe" and arg.get("channel") == "orders":
            self._stream_up = True
            self._gap("STARTED")
            return
        if message.get("event") in ("error", "notice"):
            # a refused login or subscription, or the venue ending the session (64008)
            self._stream_lost("STREAM_TERMINATED")
            return
        if arg.get("channel") == "orders":
            for row in message.get("data") or ():
                update = p.parse_order_push(row, self._ctx)
                self._last_ts = max(self._last_ts, update.ts)
                self._put(update)

    async def _keep_subscribed(self) -> None:
        await keep_watching(
            lambda: self._client.watch_orders(), self, lambda: self._stream_lost("DISCONNECTED")
        )

    def _private_ws(self) -> Any:
        for url, ws in (getattr(self._client, "clients", None) or {}).items():
            if self._is_private(url):
                return ws
        return None

    async def facts(self) -> AsyncIterator[VenueFact]:
        queue: asyncio.Queue[VenueFact] = asyncio.Queue()
        self._facts = queue
        self._stream_up = False
        if not self._markets_loaded:
            with contextlib.suppress(VenueQueryFailed):
                await self.instruments()
        watcher = asyncio.create_task(self._keep_subscribed())
        last_seen = None
        try:
            while True:
                try:
                    if queue.empty():
                        async with asyncio.timeout(self.heartbeat_s):
                            fact = await queue.get()
                    else:
                        fact = queue.get_nowait()
                except TimeoutError:
                    ws = self._private_ws()
                    seen = getattr(ws, "lastPong", None)
                    if self._stream_up and seen is not None and seen != last_seen:
                        last_seen = seen
                        yield StreamAlive(
                            venue=self.venue, account_id=self.account_id, ts=self._now_ns()
                        )
                    continue
                yield fact
        finally:
            self._facts = None
            watcher.cancel()
            with contextlib.suppress(BaseException):
                await watcher

    # ------------------------------------------------------------------ public market data
    def _on_public(self, message: dict[str, Any]) -> None:
        if self._prices is None:
            return
        if (message.get("arg") or {}).get("channel") != "tickers":
            return
        for row in message.get("data") or ():
            tick = p.parse_ticker(row, self._ctx)
            if tick is not None:
                self._prices.put_nowait(p.new_trade(tick, self._trades_seen))

    async def _keep_watching(self, symbol: str) -> None:
        await keep_watching(lambda: self._client.watch_ticker(symbol), self)

    async def prices(self, symbols: list[str]) -> AsyncIterator[PriceTick]:
        """The ``tickers`` channel of ``symbols`` (bid, ask, last), from the raw pushes."""
        queue: asyncio.Queue[PriceTick] = asyncio.Queue()
        self._prices = queue
        if not self._markets_loaded:
            with contextlib.suppress(VenueQueryFailed):
                await self.instruments()
        tasks = [asyncio.create_task(self._keep_watching(s)) for s in symbols]
        try:
            while True:
                yield await queue.get()
        finally:
            self._prices = None
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(BaseException):
                    await task

    async def books(self, symbols: list[str], depth: int) -> AsyncIterator[VenueBook]:
        """The ``books`` channel of ``symbols`` (``venues/okx/books.py``): the top ``depth``
        levels after each change, sizes in base units; a new session (and snapshot) after a
        reconnect, a ``seqId`` gap or a checksum mismatch."""
        if not self._markets_loaded:
            with contextlib.suppress(VenueQueryFailed):
                await self.instruments()
        inst_ids = [self.venue_symbol(s) for s in symbols]
        state: dict[str, OkxBooks] = {}

        async def opened(ws: Any) -> list[VenueBook]:
            state["books"] = OkxBooks(self._ctx, self.venue, depth)
            await ws.send_str(OkxBooks.subscribe(inst_ids))
            return []

        async for book in stream_books(
            f"{self._ws_url}/public",
            opened=opened,
            handle=lambda message: state["books"].handle(message),
            backoff=self,
            idle_s=20.0,
            ping="ping",
        ):
            yield book
