"""Alpaca (US equities; venue ``alpaca``) behind Atlas's venue ports, through alpaca-py.

One adapter serves one Alpaca account (paper or live URLs, or any ``base_url``/``stream_url``
such as the loopback fake). REST goes through alpaca-py's ``TradingClient`` with ``raw_data``
(Alpaca's own JSON, exact decimals; its models turn numbers into floats) in a worker thread,
with its blind retries off and a timeout (:mod:`.client`). Errors are classified by
:mod:`.errors` from the HTTP status and body, never from the exception class.

- **Client order id always set**: Atlas's own (``at<tag>x<order id>``); a replacement leg gets
  ``<that>r<ms>`` (Alpaca ids are unique), read back as the same Atlas order (:mod:`.parse`).
- **Amend** is ``PATCH /v2/orders/{id}`` (a new order id; the old leg ends ``replaced``). The
  new leg is sized to the *leaves* (Alpaca-API#165: a PATCH on a partially filled order reused
  the original qty) and reported with the earlier legs' fills added, so Atlas sees one order.
- **Extended hours** (``PlaceOrder.extended_hours``) only on limit DAY orders (Alpaca's rule);
  **fractional** quantities only for ``fractionable`` assets, on DAY orders.
- **Stream**: alpaca-py's ``TradingStream`` (``trade_updates``), run as a task in the caller's
  loop; each subscription yields a :class:`StreamGap` ``STARTED``, each loss ``DISCONNECTED``.
  It does not backfill: the gateway reconciles on each gap.
- **Fills** come from ``GET /v2/account/activities/FILL`` (not wrapped by alpaca-py 0.44's
  ``TradingClient``: called through its ``get``); the trade id is ``<order id>:<cum qty>`` on
  both the stream and this query, so the two sources dedupe.
- Equities are held like spot assets: :meth:`balances` lists cash (USD) and each position's
  shares; :meth:`positions` is empty (no derivatives).
- **Prices** come from the market data API (``data_url``, default ``data.alpaca.markets``,
  the same key): ``GET /v2/stocks/snapshots`` polled every :attr:`price_poll_s` (best bid/ask
  with sizes, last trade), numbers read exactly (:class:`.client.AtlasStockDataClient`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from functools import partial
from typing import Any, TypeVar

import aiohttp
import requests
from alpaca.common.exceptions import APIError

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
from atlas_oms.venues.alpaca import books as alpaca_books
from atlas_oms.venues.alpaca import errors
from atlas_oms.venues.alpaca import parse as p
from atlas_oms.venues.alpaca.client import (
    ANSWERS,
    AtlasStockDataClient,
    AtlasTradingStream,
    build_trading_client,
)
from atlas_oms.venues.alpaca.errors import Action, Failure
from atlas_oms.venues.book_ws import Delays, decode, stream_books

log = logging.getLogger("atlas.venues.alpaca")

T = TypeVar("T")
ZERO = Decimal(0)
MEMORY = 50_000
FILLS_PAGE = 100
OPEN_PAGE = 500

_TIF = {
    TimeInForce.GTC: "gtc",
    TimeInForce.DAY: "day",
    TimeInForce.IOC: "ioc",
    TimeInForce.FOK: "fok",
}


def num(value: Decimal) -> str:
    return (
        format(value.normalize(), "f") if value == value.to_integral_value() else format(value, "f")
    )


def _http_failure(e: BaseException) -> tuple[Failure, int, str]:
    if isinstance(e, APIError):
        response = e.response
        status = int(response.status_code) if response is not None else 0
        return Failure.ANSWERED, status, str(e)
    if isinstance(e, requests.Timeout):
        return Failure.TIMEOUT, 0, f"{type(e).__name__}: {e}"
    if isinstance(e, requests.ConnectionError):
        return Failure.DISCONNECTED, 0, f"{type(e).__name__}: {e}"
    if isinstance(e, (ValueError, TypeError)):
        return Failure.NOT_SENT, 0, f"{type(e).__name__}: {e}"
    return Failure.DISCONNECTED, 0, f"{type(e).__name__}: {e}"


def _retry_after(e: BaseException) -> float | None:
    if not isinstance(e, APIError) or e.response is None:
        return None
    reset = e.response.headers.get("X-RateLimit-Reset")
    if not reset:
        return None
    with contextlib.suppress(ValueError):
        return max(0.0, float(reset) - time.time())
    return None


def limiter_headers(status: int, headers: Mapping[str, str]) -> Mapping[str, str]:
    """Alpaca answers a 429 with ``X-RateLimit-Reset`` (epoch seconds), not ``Retry-After``:
    give the limiter the wait in its words."""
    if status != 429 or any(k.lower() == "retry-after" for k in headers):
        return headers
    reset = next((v for k, v in headers.items() if k.lower() == "x-ratelimit-reset"), None)
    if reset is None:
        return headers
    try:
        wait = max(1.0, float(reset) - time.time())
    except ValueError:
        return headers
    return {**headers, "Retry-After": str(int(wait + 0.999))}


class AlpacaAdapter:
    venue = "alpaca"
    #: How often :meth:`prices` reads the snapshots (seconds).
    price_poll_s: float = 1.0
    #: The longest wait after a market data 429 (until its ``X-RateLimit-Reset``).
    max_price_pause_s: float = 60.0

    def __init__(
        self,
        *,
        account_id: str,
        api_key: str,
        secret: str,
        decode_client_id: Callable[[str], int | None],
        paper: bool = True,
        base_url: str | None = None,
        stream_url: str | None = None,
        timeout_ms: int = 10_000,
        heartbeat_s: float = 30.0,
        reconnect_min_s: float = 1.0,
        reconnect_max_s: float = 30.0,
        session: str | None = "XNYS",
        data_url: str | None = None,
        data_feed: str | None = None,
        data_stream_url: str | None = None,
    ) -> None:
        self.account_id = account_id
        self.before_request: Callable[[int, bool], Awaitable[None]] | None = None
        self.on_response: Callable[[int, Mapping[str, str]], None] | None = None
        self.heartbeat_s = heartbeat_s
        self.session = session
        self._ctx = p.Context(self.venue, account_id, decode_client_id)
        self._key, self._secret, self._paper = api_key, secret, paper
        self._stream_url = stream_url
        self._reconnect = (reconnect_min_s, reconnect_max_s)
        self._client = build_trading_client(
            api_key,
            secret,
            paper=paper,
            base_url=base_url,
            timeout_s=timeout_ms / 1000,
        )
        #: market data (``data_feed``: ``iex``, ``sip``…; none: the subscription's default)
        self._data = AtlasStockDataClient(
            api_key, secret, url=data_url, timeout_s=timeout_ms / 1000
        )
        self._data_feed = data_feed
        #: the real-time data stream's base (``/{feed}`` is appended): the data server's own
        #: host when ``data_url`` is given (the fake serves both), else Alpaca's
        self._data_stream_url = data_stream_url or (
            data_url.replace("http", "ws", 1).rstrip("/") + "/v2"
            if data_url
            else alpaca_books.STREAM_URL
        )
        #: venue order id -> what earlier legs of the same Atlas order filled
        self._carried: OrderedDict[str, Decimal] = OrderedDict()
        #: venue order id -> the order as last seen (for fills rows' client ids)
        self._seen: OrderedDict[str, VenueOrder] = OrderedDict()
        self._facts: asyncio.Queue[VenueFact] | None = None
        self._stream: AtlasTradingStream | None = None
        self._stream_up = False
        self._last_ts = 0
        self._offset_ns = 0

    # ------------------------------------------------------------------ lifecycle
    def _on_response(self, status: int, headers: Mapping[str, str]) -> None:
        if self.on_response is not None:
            self.on_response(status, headers)

    def set_clock_offset(self, offset_ns: int) -> None:
        """Alpaca signs nothing with a time (static key headers): kept for timestamps only."""
        self._offset_ns = offset_ns

    def rotate_credentials(self, api_key: str, secret: str, **_: Any) -> None:
        """Send the new key's headers from the next request on; the stream authenticated with
        the old key: it gets the new one and is dropped, so it reconnects and authenticates
        anew (a gap, which the gateway reconciles)."""
        self._key, self._secret = api_key, secret
        self._client.set_credentials(api_key, secret)
        self._data.set_credentials(api_key, secret)
        stream = self._stream
        if stream is not None:
            stream.set_credentials(api_key, secret)
            self._down()
            stream.drop()

    async def start(self) -> None:
        await self.instruments()

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            self._client.close()
        with contextlib.suppress(Exception):
            self._data.close()

    async def account_settings(self) -> VenueAccountSettings:
        return VenueAccountSettings()

    # ------------------------------------------------------------------ plumbing
    async def _call(self, weight: int, is_order: bool, fn: Callable[[], T]) -> T:
        if self.before_request is not None:
            await self.before_request(weight, is_order)
        answers: list[tuple[int, dict[str, str]]] = []
        token = ANSWERS.set(answers)
        try:
            return await asyncio.to_thread(fn)
        finally:
            ANSWERS.reset(token)
            for status, headers in answers:
                self._on_response(status, limiter_headers(status, headers))

    async def _write(
        self, action: Action, fn: Callable[[], Any]
    ) -> tuple[Any, Refused | Unknown | None]:
        try:
            return await self._call(1, True, fn), None
        except Exception as e:
            failure, status, text = _http_failure(e)
            return None, errors.classify_write(action, failure, status=status, text=text)

    async def _read(self, fn: Callable[[], Any], *, not_found_ok: bool = False) -> Any:
        try:
            return await self._call(1, False, fn)
        except Exception as e:
            failure, status, text = _http_failure(e)
            if not_found_ok and failure is Failure.ANSWERED and errors.is_not_found(status):
                return None
            raise errors.classify_read(
                failure, status=status, text=text, retry_after_s=_retry_after(e)
            ) from e

    def _remember(self, order: VenueOrder) -> None:
        self._seen[order.venue_order_id] = order
        self._seen.move_to_end(order.venue_order_id)
        while len(self._seen) > MEMORY:
            self._seen.popitem(last=False)

    def _carry(self, venue_order_id: str, qty: Decimal) -> None:
        self._carried[venue_order_id] = qty
        while len(self._carried) > MEMORY:
            self._carried.popitem(last=False)

    async def _carried_of(self, raw: dict[str, Any]) -> Decimal:
        """What the legs this order replaced filled (walks ``replaces`` once per leg)."""
        oid = str(raw.get("id") or "")
        if oid in self._carried:
            return self._carried[oid]
        prior = raw.get("replaces")
        if not prior:
            return ZERO
        old = await self._read(lambda: self._client.get_order_by_id(str(prior)), not_found_ok=True)
        carried = ZERO
        if isinstance(old, dict):
            carried = await self._carried_of(old) + p.dec(old.get("filled_qty"))
        self._carry(oid, carried)
        return carried

    async def _order_of(self, raw: dict[str, Any], *, follow: bool = True) -> VenueOrder:
        """An order answer as a :class:`VenueOrder`; a ``replaced`` leg is followed to the leg
        that works now (``replaced_by``), so a query by the Atlas client id finds the order."""
        hops = 0
        while follow and raw.get("status") == "replaced" and raw.get("replaced_by") and hops < 20:
            newer_id = str(raw["replaced_by"])
            newer = await self._read(
                partial(self._client.get_order_by_id, newer_id), not_found_ok=True
            )
            if not isinstance(newer, dict):
                break
            raw, hops = newer, hops + 1
        order = p.parse_order(raw, self._ctx, await self._carried_of(raw))
        self._remember(order)
        return order

    # ------------------------------------------------------------------ commands
    def _order_body(self, order: PlaceOrder) -> dict[str, Any] | Refused:
        if order.reduce_only or order.position_side not in (None, PositionSide.BOTH):
            return Refused(
                reason=errors.INVALID_REQUEST,
                code="",
                message="equity orders have no reduce-only flag and no position side",
            )
        tif = _TIF.get(order.tif)
        if tif is None:
            return Refused(
                reason=errors.UNSUPPORTED_ORDER,
                code="",
                message=f"alpaca takes DAY, GTC, IOC and FOK orders; {order.tif} is not offered",
            )
        if order.post_only:
            return Refused(
                reason=errors.UNSUPPORTED_ORDER,
                code="",
                message="alpaca has no post-only orders",
            )
        body: dict[str, Any] = {
            "symbol": order.symbol,
            "qty": num(order.qty),
            "side": order.side.value.lower(),
            "client_order_id": order.client_order_id,
        }
        price = order.price if order.price is not None else order.protection_price
        if price is None:
            body["type"] = "market"
            body["time_in_force"] = tif
        else:
            body["type"] = "limit"
            body["limit_price"] = num(price)
            # a protection-bounded market order: a limit IOC at the bound
            body["time_in_force"] = "ioc" if order.price is None else tif
        if order.qty != order.qty.to_integral_value() and body["time_in_force"] != "day":
            return Refused(
                reason=errors.UNSUPPORTED_ORDER,
                code="",
                message="alpaca takes fractional quantities on DAY orders only",
            )
        if order.extended_hours:
            if body["type"] != "limit" or body["time_in_force"] != "day":
                return Refused(
                    reason=errors.UNSUPPORTED_ORDER,
                    code="",
                    message="alpaca trades extended hours with limit DAY orders only",
                )
            body["extended_hours"] = True
        return body

    async def place(self, order: PlaceOrder) -> Outcome:
        """``POST /v2/orders`` under Atlas's client order id, sent once (never retried)."""
        body = self._order_body(order)
        if isinstance(body, Refused):
            return body
        raw, failed = await self._write(Action.PLACE, lambda: self._client.post("/orders", body))
        if failed is not None:
            return failed
        placed = p.parse_order(raw, self._ctx)
        self._remember(placed)
        return Acknowledged(venue_order_id=placed.venue_order_id, order=placed)

    async def _venue_id(self, client_order_id: str, venue_order_id: str | None) -> str | None:
        """The id of the leg that works now (Alpaca cancels and replaces by venue id)."""
        if venue_order_id:
            seen = self._seen.get(venue_order_id)
            if seen is None or seen.state.is_open:
                return venue_order_id
        try:
            found = await self.order("", client_order_id=client_order_id)
        except VenueQueryFailed:
            return venue_order_id
        return found.venue_order_id if found is not None else None

    async def cancel(self, order: CancelOrder) -> Outcome:
        """``DELETE /v2/orders/{id}`` (204, no body): acknowledged; the stream (or a query)
        brings the ``canceled`` state. Unknown or no longer open (404, 422 "already in …
        state") is a refusal with reason UNKNOWN_ORDER: the gateway queries the order."""
        venue_id = await self._venue_id(order.client_order_id, order.venue_order_id)
        if venue_id is None:
            return Refused(
                reason=errors.UNKNOWN_ORDER,
                code="40410000",
                message=f"order {order.client_order_id} not found",
            )
        _, failed = await self._write(
            Action.CANCEL, lambda: self._client.delete(f"/orders/{venue_id}")
        )
        if failed is not None:
            return failed
        return Acknowledged(venue_order_id=venue_id)

    async def amend(self, order: AmendOrder) -> Outcome:
        """``PATCH /v2/orders/{id}`` with ``qty`` = the leaves (what should work now), the new
        price and a new leg client id; the answer is the new leg, reported as the whole order
        (earlier legs' fills added)."""
        if order.leaves_qty <= 0:
            return Refused(
                reason=errors.INVALID_REQUEST,
                code="",
                message="nothing left to work: cancel the order instead",
            )
        venue_id = await self._venue_id(order.client_order_id, order.venue_order_id)
        if venue_id is None:
            return Refused(
                reason=errors.UNKNOWN_ORDER,
                code="40410000",
                message=f"order {order.client_order_id} not found",
            )
        body: dict[str, Any] = {
            "qty": num(order.leaves_qty),
            "client_order_id": p.leg_client_id(order.client_order_id, int(time.time() * 1000)),
        }
        if order.price is not None:
            body["limit_price"] = num(order.price)
        raw, failed = await self._write(
            Action.AMEND, lambda: self._client.patch(f"/orders/{venue_id}", body)
        )
        if failed is not None:
            return failed
        new_id = str(raw.get("id"))
        carried = self._carried.get(new_id)
        if carried is None:  # not learnt from the stream yet: Atlas's own count
            carried = order.qty - order.leaves_qty
            self._carry(new_id, carried)
        amended = p.parse_order(raw, self._ctx, carried)
        self._remember(amended)
        return Acknowledged(venue_order_id=amended.venue_order_id, order=amended)

    # ------------------------------------------------------------------ queries
    async def instruments(self) -> list[VenueInstrument]:
        rows = await self._read(
            lambda: self._client.get("/assets", {"status": "active", "asset_class": "us_equity"})
        )
        out = []
        for row in rows or ():
            vi = p.parse_asset(row, self.venue, self.session)
            if vi is not None:
                out.append(vi)
        return out

    async def server_time(self) -> int:
        raw = await self._read(lambda: self._client.get("/clock"))
        return p.ts_ns((raw or {}).get("timestamp"))

    async def open_orders(self) -> list[VenueOrder]:
        rows = await self._read(
            lambda: self._client.get(
                "/orders", {"status": "open", "limit": OPEN_PAGE, "direction": "asc"}
            )
        )
        return [await self._order_of(row, follow=False) for row in rows or ()]

    async def order(
        self, symbol: str, *, client_order_id: str | None = None, venue_order_id: str | None = None
    ) -> VenueOrder | None:
        if venue_order_id:
            raw = await self._read(
                lambda: self._client.get_order_by_id(venue_order_id), not_found_ok=True
            )
        elif client_order_id:
            raw = await self._read(
                lambda: self._client.get_order_by_client_id(client_order_id), not_found_ok=True
            )
        else:
            raise ValueError("order() needs a client or a venue order id")
        if not isinstance(raw, dict):
            return None
        return await self._order_of(raw)

    async def fills(self, since_ts: int, symbol: str | None = None) -> list[VenueFill]:
        """``GET /v2/account/activities/FILL?after=…&direction=asc``, paged by ``page_token``
        (the last row's id)."""
        after = datetime.fromtimestamp(since_ts / 1e9, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        params: dict[str, Any] = {"after": after, "direction": "asc", "page_size": FILLS_PAGE}
        out: list[VenueFill] = []
        while True:
            page = dict(params)
            rows = list(
                await self._read(partial(self._client.get, "/account/activities/FILL", page)) or ()
            )
            for row in rows:
                if symbol and row.get("symbol") != symbol:
                    continue
                order = await self._order_for_fill(str(row.get("order_id") or ""))
                out.append(p.parse_activity(row, self._ctx, order))
            if len(rows) < FILLS_PAGE:
                return out
            params["page_token"] = rows[-1]["id"]

    async def _order_for_fill(self, venue_order_id: str) -> VenueOrder | None:
        if not venue_order_id:
            return None
        known = self._seen.get(venue_order_id)
        if known is not None:
            return known
        raw = await self._read(
            lambda: self._client.get_order_by_id(venue_order_id), not_found_ok=True
        )
        if not isinstance(raw, dict):
            return None
        return await self._order_of(raw, follow=False)

    async def balances(self) -> list[VenueBalance]:
        account = await self._read(self._client.get_account)
        positions = await self._read(self._client.get_all_positions)
        return p.parse_balances(account or {}, list(positions or ()))

    async def positions(self) -> list[VenuePosition]:
        return []

    # ------------------------------------------------------------------ the private stream
    def _now_ns(self) -> int:
        return time.time_ns() + self._offset_ns

    def _put(self, fact: VenueFact) -> None:
        if self._facts is not None:
            self._facts.put_nowait(fact)

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

    def _up(self) -> None:
        self._stream_up = True
        self._gap("STARTED")

    def _down(self) -> None:
        if self._stream_up:
            self._stream_up = False
            self._gap("DISCONNECTED")

    async def _on_trade_update(self, msg: Any) -> None:
        data = msg.get("data") if isinstance(msg, dict) else None
        if not isinstance(data, dict):
            return
        raw = data.get("order") or {}
        if data.get("event") == "replaced" or raw.get("status") == "replaced":
            # the old leg: its fills so far are carried by the replacement
            if raw.get("replaced_by"):
                old_carried = self._carried.get(str(raw.get("id")), ZERO)
                self._carry(str(raw["replaced_by"]), old_carried + p.dec(raw.get("filled_qty")))
            return
        try:
            # a replacement leg's first event may come before the PATCH answer: its earlier
            # legs' fills are read from the venue (final: a replaced leg fills no more)
            carried = await self._carried_of(raw)
        except VenueQueryFailed:
            self._gap("DISCONNECTED")  # this update is lost: the gateway reconciles
            return
        update = p.parse_trade_update(data, self._ctx, carried)
        if update is None:
            return
        self._remember(update.order)
        self._last_ts = max(self._last_ts, update.ts)
        self._put(update)

    async def facts(self) -> AsyncIterator[VenueFact]:
        queue: asyncio.Queue[VenueFact] = asyncio.Queue()
        self._facts = queue
        self._stream_up = False
        stream = AtlasTradingStream(
            self._key,
            self._secret,
            paper=self._paper,
            url=self._stream_url,
            on_up=self._up,
            on_down=self._down,
            reconnect_min_s=self._reconnect[0],
            reconnect_max_s=self._reconnect[1],
        )
        stream.on_trade_update(self._on_trade_update)
        self._stream = stream
        runner = asyncio.create_task(stream.run_forever())
        try:
            while True:
                # No StreamAlive: ``trade_updates`` has no heartbeat message, and a pong only
                # shows the socket is up (a half-open stream answers pings). websockets closes
                # a connection whose pongs stop (``ping_timeout``): a gap; a quiet stream is
                # left to the gateway's silent-stream reconciliation.
                yield await queue.get()
        finally:
            self._facts = None
            self._stream = None
            with contextlib.suppress(BaseException):
                await _stop_runner(stream, runner)
            with contextlib.suppress(BaseException):
                await stream.close()

    def drop_stream(self) -> None:
        """Close the stream's connection (it reconnects: a gap)."""
        if self._stream is not None:
            self._stream.drop()

    # ------------------------------------------------------------------ market data
    async def prices(self, symbols: list[str]) -> AsyncIterator[PriceTick]:
        """Best bid and ask (with sizes) and the last trade of ``symbols`` from the market data
        API's ``GET /v2/stocks/snapshots`` (one request for all), polled every
        :attr:`price_poll_s` in a worker thread (the gateway sends only changes on). It has its
        own rate limit (not the trading API's): a 429 waits until its ``X-RateLimit-Reset``;
        any other failed poll is skipped (the next one tries again)."""
        wanted = list(dict.fromkeys(symbols))
        seen: dict[str, Any] = {}  # symbol -> the latest trade counted (its volume once)
        while wanted:
            wait = self.price_poll_s
            try:
                snaps = await asyncio.to_thread(self._data.snapshots, wanted, self._data_feed)
            except Exception as e:
                snaps = {}
                if isinstance(e, APIError) and e.status_code == 429:
                    reset = _retry_after(e)
                    wait = min(max(wait, reset or 0.0), self.max_price_pause_s)
            now = self._now_ns()
            for symbol in wanted:
                snap = snaps.get(symbol)
                tick = p.parse_snapshot(symbol, snap, now, seen) if isinstance(snap, dict) else None
                if tick is not None:
                    yield tick
            await asyncio.sleep(wait)
        await asyncio.Event().wait()  # nothing to read: run until cancelled

    async def books(self, symbols: list[str], depth: int) -> AsyncIterator[VenueBook]:
        """The NBBO of ``symbols`` as one-level books (``venues/alpaca/books.py``): the data
        stream's ``quotes`` (``{data_stream_url}/{feed}``, ``iex`` unless ``data_feed`` names
        another), each session starting from ``GET /v2/stocks/quotes/latest`` once subscribed;
        sizes in shares. ``depth`` beyond 1 gets one level (equities have no depth here)."""
        wanted = list(dict.fromkeys(symbols))
        url = f"{self._data_stream_url.rstrip('/')}/{self._data_feed or 'iex'}"

        async def opened(ws: Any) -> list[VenueBook]:
            await ws.send_str(alpaca_books.auth(self._key, self._secret))
            await ws.send_str(alpaca_books.subscribe(wanted))
            async with asyncio.timeout(10):
                while True:  # connected, authenticated, then the subscription
                    msg = await ws.receive()
                    if msg.type not in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                        raise ConnectionError(f"alpaca data stream closed: {msg.type}")
                    items = alpaca_books.check(decode(msg.data))
                    if any(m.get("T") == "subscription" for m in items):
                        break
            quotes = await asyncio.to_thread(self._data.latest_quotes, wanted, self._data_feed)
            out = []
            for symbol in wanted:
                book = alpaca_books.book_of_quote(symbol, quotes.get(symbol), self.venue)
                if book is not None:
                    out.append(book)
            return out

        def handle(message: Any) -> list[VenueBook]:
            out = []
            for m in alpaca_books.check(message):
                if m.get("T") == "q" and m.get("S") in wanted:
                    book = alpaca_books.book_of_quote(str(m["S"]), m, self.venue)
                    if book is not None:
                        out.append(book)
            return out

        async for book in stream_books(
            url,
            opened=opened,
            handle=handle,
            backoff=Delays(*self._reconnect),
            idle_s=30.0,
            ping=None,
        ):
            yield book


async def _stop_runner(stream: AtlasTradingStream, runner: asyncio.Task[None]) -> None:
    """Stop alpaca-py's stream loop: ask it to stop (its ``_consume`` checks every 5 s), then
    cancel it until it ends. One cancellation is not enough: the loop's
    ``asyncio.wait_for(ws.recv(), 5)`` can swallow it on Python 3.11 when the receive completes
    at the same moment, and the loop then runs on (a stream that never stopped held the gateway's
    stop forever)."""
    await stream.stop_ws()
    for _ in range(100):
        if runner.done():
            return
        runner.cancel()
        await asyncio.wait({runner}, timeout=0.1)
    log.error("the Alpaca trade_updates stream loop did not stop within 10 s")
