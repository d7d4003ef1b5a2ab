"""The fake Binance's HTTP and WebSocket server (aiohttp, one port, 127.0.0.1).

Paths (what ``ccxt_urls`` points ccxt at):

- spot REST ``/api/v3/...``; USDⓈ-M REST ``/fapi/v1|v2|v3/...``;
- spot WebSocket API ``/ws-api/v3`` (``userDataStream.subscribe.signature``; events come as
  ``{"subscriptionId": N, "event": {...}}``);
- spot public streams ``/ws`` (``SUBSCRIBE`` protocol);
- USDⓈ-M streams under ``/fstream``: public ``/fstream/public/ws`` (bookTicker, trade),
  market ``/fstream/market/ws`` (aggTrade, markPrice, ticker), private
  ``/fstream/private/ws?listenKey=K`` (and the older ``/fstream/ws/K``).

Every REST answer carries ``X-MBX-USED-WEIGHT-1M`` (weight per IP); accepted orders carry
``X-MBX-ORDER-COUNT-10S`` and ``-1D`` (spot) or ``-1M`` (futures). Signed requests are checked for
real: ``X-MBX-APIKEY`` (-2015), HMAC-SHA256 over the query string concatenated with the body
(-1022), and the timestamp rule ``timestamp < serverTime + 1000`` and
``serverTime - timestamp <= recvWindow`` (-1021).

The server is built from mixins on ``ServerBase`` (``server_base.py``: lifecycle, limits
middleware, dispatch, auth, placing machinery): ``SpotRest`` (``rest_spot.py``), ``FuturesRest``
(``rest_futures.py``), ``SubAccountRest`` (``rest_subaccount.py``) and ``Streams`` (``streams.py``); ``FakeBinance`` composes them and holds
the route table.
"""

from __future__ import annotations

from decimal import Decimal

from atlas_oms.fakes.binance.config import AccountConfig, Faults, Limits
from atlas_oms.fakes.binance.rest_futures import FuturesRest
from atlas_oms.fakes.binance.rest_spot import SpotRest
from atlas_oms.fakes.binance.rest_subaccount import SubAccountRest
from atlas_oms.fakes.binance.server_base import Handler
from atlas_oms.fakes.binance.streams import Streams

__all__ = ["FakeBinance"]


class FakeBinance(SpotRest, FuturesRest, SubAccountRest, Streams):
    """A fake Binance (spot and USDⓈ-M) on 127.0.0.1.

    In the client's own event loop::

        fake = FakeBinance([AccountConfig("a", "KEY", "SECRET", spot={"USDT": Decimal(1000)})])
        await fake.start()
        ex = ccxt.pro.binance({"apiKey": "KEY", "secret": "SECRET",
                               "urls": {"api": fake.ccxt_urls()}, "options": {...}})
        ...
        await fake.stop()

    Or in a thread with its own loop (clients in other threads or processes):
    ``with FakeBinance(...).running_in_thread() as fake: fake.http, fake.ws, fake.call(...)``.
    The state (``fake.venue``), the fault knobs (``fake.faults``) and the limits
    (``fake.limits``) may be changed while it runs.
    """

    def __init__(
        self,
        accounts: list[AccountConfig] | None = None,
        limits: Limits | None = None,
        faults: Faults | None = None,
        bnb_price: Decimal = Decimal("600"),
        listen_key_ttl_ms: int = 60 * 60 * 1000,
    ) -> None:
        super().__init__(accounts, limits, faults, bnb_price, listen_key_ttl_ms)
        self.venue.user_listeners.append(self._on_user_event)
        self.venue.market_listeners.append(self._on_market_event)
        self._build_routes()

    def _build_routes(self) -> None:
        r = self._routes
        s = "/api/v3/"
        f = "/fapi/v1/"
        spot: list[tuple[str, str, int, Handler]] = [
            ("GET", "ping", 1, self._ping),
            ("GET", "time", 1, self._time),
            ("GET", "exchangeInfo", 20, self._spot_exchange_info),
            ("GET", "ticker/bookTicker", 4, self._spot_book_ticker),
            ("GET", "ticker/price", 4, self._spot_last_price),
            ("GET", "depth", 5, self._spot_depth),
            ("POST", "order", 1, self._spot_place),
            ("POST", "order/test", 1, self._spot_test_order),
            ("GET", "order", 4, self._spot_get_order),
            ("DELETE", "order", 1, self._spot_cancel),
            ("GET", "openOrders", 6, self._spot_open_orders),
            ("DELETE", "openOrders", 1, self._spot_cancel_all),
            ("GET", "allOrders", 20, self._spot_all_orders),
            ("GET", "myTrades", 20, self._spot_my_trades),
            ("GET", "account", 20, self._spot_account),
            ("PUT", "order/amend/keepPriority", 4, self._spot_amend),
            ("POST", "order/cancelReplace", 1, self._spot_cancel_replace),
        ]
        for method, path, weight, handler in spot:
            r[(method, s + path)] = (weight, handler)
        futures: list[tuple[str, str, int, Handler]] = [
            ("GET", f + "ping", 1, self._ping),
            ("GET", f + "time", 1, self._time),
            ("GET", f + "exchangeInfo", 1, self._futures_exchange_info),
            ("GET", f + "ticker/bookTicker", 5, self._futures_book_ticker),
            ("GET", f + "ticker/price", 2, self._futures_last_price),
            ("GET", f + "depth", 10, self._futures_depth),
            ("POST", f + "order", 0, self._futures_place),
            ("GET", f + "order", 1, self._futures_get_order),
            ("DELETE", f + "order", 1, self._futures_cancel),
            ("PUT", f + "order", 1, self._futures_modify),
            ("GET", f + "openOrders", 1, self._futures_open_orders),
            ("GET", f + "openOrder", 1, self._futures_open_order),
            ("DELETE", f + "allOpenOrders", 1, self._futures_cancel_all),
            ("GET", f + "allOrders", 5, self._futures_all_orders),
            ("GET", f + "userTrades", 5, self._futures_user_trades),
            ("GET", "/fapi/v2/account", 5, self._futures_account),
            ("GET", "/fapi/v3/account", 5, self._futures_account),
            ("GET", "/fapi/v2/balance", 5, self._futures_balance),
            ("GET", "/fapi/v3/balance", 5, self._futures_balance),
            ("GET", "/fapi/v2/positionRisk", 5, self._futures_position_risk),
            ("GET", "/fapi/v3/positionRisk", 5, self._futures_position_risk),
            ("GET", f + "leverageBracket", 1, self._futures_leverage_bracket),
            ("GET", f + "positionSide/dual", 30, self._futures_get_dual),
            ("POST", f + "positionSide/dual", 1, self._futures_set_dual),
            ("POST", f + "leverage", 1, self._futures_leverage),
            ("POST", f + "marginType", 1, self._futures_margin_type),
            ("GET", f + "symbolConfig", 5, self._futures_symbol_config),
            ("POST", f + "listenKey", 1, self._listen_key_new),
            ("PUT", f + "listenKey", 1, self._listen_key_keepalive),
            ("DELETE", f + "listenKey", 1, self._listen_key_delete),
        ]
        for method, path, weight, handler in futures:
            r[(method, path)] = (weight, handler)
        # Sub-account universal transfer (master key): rest_subaccount.py
        r[("POST", "/sapi/v1/sub-account/universalTransfer")] = (
            1,
            self._universal_transfer,
        )  # UID: 360
        r[("GET", "/sapi/v1/sub-account/universalTransfer")] = (1, self._universal_transfer_history)
