"""alpaca-py's clients, set up for Atlas.

- ``TradingClient`` (sync, ``requests``) with **no blind retries**: alpaca-py 0.44 retries 429
  and 504 three times, 3 s apart, on every method (``common/rest.py``), and a 504 may come after
  the order was accepted (reference/venues.md §0.5). ``TradingClient.__init__`` does not take
  ``retry_attempts``/``retry_exception_codes`` at all (only ``RESTClient`` does, and it ignores
  0 and ``[]``: ``if retry_attempts and …``), so the retry count and codes are set off after
  construction (:func:`build_trading_client`, pinned by
  tests/venues/alpaca/test_alpaca_quirks.py).
- Its ``requests.Session`` has no timeout at all: :class:`_Session` adds one (a held reply
  becomes a timeout, hence Unknown) and keeps each answer's status and headers
  (``X-RateLimit-*``) for the gateway's limiter (:data:`ANSWERS`).
- Calls run in a worker thread (``asyncio.to_thread``): the event loop never blocks.
- ``TradingStream`` (``websockets.legacy``, JSON in text or binary frames) is subclassed as
  :class:`AtlasTradingStream` to see each (re)connection and loss.
- ``StockHistoricalDataClient`` (market data, ``data.alpaca.markets``, the same key headers) is
  subclassed as :class:`AtlasStockDataClient`: raw answers, no retries, the same timeout, and
  JSON numbers read as ``Decimal`` (market data prices are JSON numbers; alpaca-py would read
  them as floats).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from decimal import Decimal
from typing import Any

import requests
from alpaca.common.exceptions import APIError
from alpaca.data.enums import DataFeed
from alpaca.data.historical.stock import StockHistoricalDataClient
from alpaca.data.requests import StockLatestQuoteRequest, StockSnapshotRequest
from alpaca.trading.client import TradingClient
from alpaca.trading.stream import TradingStream

PAPER_URL = "https://paper-api.alpaca.markets"
LIVE_URL = "https://api.alpaca.markets"
PAPER_STREAM = "wss://paper-api.alpaca.markets/stream"
LIVE_STREAM = "wss://api.alpaca.markets/stream"
DATA_URL = "https://data.alpaca.markets"


#: The answers (status, headers) of the requests made in this context: ``asyncio.to_thread``
#: copies the context into the worker thread, so the caller reads them back in its loop (the
#: gateway's limiter is not thread-safe).
ANSWERS: ContextVar[list[tuple[int, dict[str, str]]] | None] = ContextVar(
    "alpaca_answers", default=None
)


class _Session(requests.Session):
    def __init__(self, timeout_s: float) -> None:
        super().__init__()
        self.timeout_s = timeout_s

    def request(self, method: Any, url: Any, *args: Any, **kw: Any) -> Any:
        kw.setdefault("timeout", self.timeout_s)
        response = super().request(method, url, *args, **kw)
        answers = ANSWERS.get()
        if answers is not None:
            answers.append((response.status_code, dict(response.headers)))
        return response


class AtlasTradingClient(TradingClient):
    """``TradingClient`` with raw answers, no blind retries and a timeout."""

    def __init__(
        self, api_key: str, secret: str, *, paper: bool, base_url: str | None, timeout_s: float
    ) -> None:
        super().__init__(api_key, secret, paper=paper, raw_data=True, url_override=base_url)
        self._retry = 0
        self._retry_codes = []
        self._session = _Session(timeout_s)

    @property
    def retries(self) -> int:
        return self._retry

    @property
    def base_url(self) -> str:
        return str(self._base_url)

    def close(self) -> None:
        self._session.close()

    def set_credentials(self, api_key: str, secret: str) -> None:
        """Send this key's headers from the next request on (a rotated key)."""
        self._api_key, self._secret_key = api_key, secret


def build_trading_client(
    api_key: str,
    secret: str,
    *,
    paper: bool,
    base_url: str | None,
    timeout_s: float,
) -> AtlasTradingClient:
    return AtlasTradingClient(api_key, secret, paper=paper, base_url=base_url, timeout_s=timeout_s)


class AtlasStockDataClient(StockHistoricalDataClient):
    """``StockHistoricalDataClient`` with raw answers, no retries, a timeout and exact numbers."""

    def __init__(self, api_key: str, secret: str, *, url: str | None, timeout_s: float) -> None:
        super().__init__(api_key, secret, raw_data=True, url_override=url or DATA_URL)
        self._retry = 0
        self._retry_codes = []
        self._session = _Session(timeout_s)

    def _one_request(self, method: str, url: str, opts: dict[str, Any], retry: int) -> Any:
        # RESTClient._one_request without the retry, with Decimal numbers (never floats)
        response = self._session.request(method, url, **opts)
        try:
            response.raise_for_status()
        except requests.HTTPError as e:
            raise APIError(response.text, e) from e
        return json.loads(response.text, parse_float=Decimal) if response.text else None

    def snapshots(self, symbols: list[str], feed: str | None = None) -> dict[str, Any]:
        """``GET /v2/stocks/snapshots?symbols=…``: each symbol's latest trade and quote."""
        request = StockSnapshotRequest(
            symbol_or_symbols=symbols, feed=DataFeed(feed) if feed else None
        )
        return dict(self.get_stock_snapshot(request) or {})

    def latest_quotes(self, symbols: list[str], feed: str | None = None) -> dict[str, Any]:
        """``GET /v2/stocks/quotes/latest?symbols=…``: each symbol's latest NBBO quote."""
        request = StockLatestQuoteRequest(
            symbol_or_symbols=symbols, feed=DataFeed(feed) if feed else None
        )
        return dict(self.get_stock_latest_quote(request) or {})

    def close(self) -> None:
        self._session.close()

    def set_credentials(self, api_key: str, secret: str) -> None:
        self._api_key, self._secret_key = api_key, secret


class AtlasTradingStream(TradingStream):
    """``TradingStream`` that calls ``on_up()`` once subscribed and ``on_down()`` when the
    connection is closed (by either side)."""

    def __init__(
        self,
        api_key: str,
        secret: str,
        *,
        paper: bool,
        url: str | None,
        on_up: Callable[[], None],
        on_down: Callable[[], None],
        reconnect_min_s: float,
        reconnect_max_s: float,
    ) -> None:
        super().__init__(
            api_key,
            secret,
            paper=paper,
            raw_data=True,
            url_override=url or (PAPER_STREAM if paper else LIVE_STREAM),
        )
        self._reconnect_min_backoff = reconnect_min_s
        self._reconnect_max_backoff = reconnect_max_s
        self._atlas_up = on_up
        self._atlas_down = on_down

    async def _start_ws(self) -> None:
        # TradingStream._start_ws, then the news that the subscription is live
        await self._connect()
        await self._auth()
        await self._subscribe_trade_updates()
        self._atlas_up()

    async def run_forever(self) -> None:
        """Connect, subscribe, consume and reconnect until cancelled or stopped."""
        await self._run_forever()

    def set_credentials(self, api_key: str, secret: str) -> None:
        """Authenticate the next connection with this key (a rotated key)."""
        self._api_key, self._secret_key = api_key, secret

    def drop(self) -> None:
        """Close the connection (as the venue would): it reconnects."""
        ws = self._ws
        if ws is not None:
            asyncio.get_running_loop().create_task(ws.close())

    async def close(self) -> None:
        was_open = self._ws is not None
        await super().close()
        if was_open:
            self._atlas_down()

    def is_open(self) -> bool:
        ws = self._ws
        return ws is not None and bool(getattr(ws, "open", False))

    def on_trade_update(self, handler: Callable[[Any], Awaitable[None]]) -> None:
        self._trade_updates_handler = handler  # type: ignore[assignment]
