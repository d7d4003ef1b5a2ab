"""One desk on five venues (issue 15's "done when"): ONE real ``atlas serve`` in front of the
fakes of Binance, Bybit, OKX, Upbit and Alpaca (each on 127.0.0.1, real client libraries and
real signatures inside Atlas), configured by one accounts.yaml whose keys are in the encrypted
key file (OKX's with its passphrase). Through REST the desk buys BTC on Binance, Bybit and OKX
(spot and perpetual), KRW-BTC on Upbit and AAPL on Alpaca; every venue account is healthy and
agrees with its venue. Then OKX goes down: its health goes bad while the other venues keep
trading; a resting OKX order fills at the venue while Atlas cannot see it; OKX comes back and
the fill is booked once.

BTC/USDT is one symbol on three venues: Bybit's and OKX's instruments carry a suffix in Atlas
(``symbol_suffix: "@bybit"`` in accounts.yaml: ``BTC/USDT@bybit``), since Atlas keeps one
instrument per symbol. Bybit's and OKX's spot and futures accounts are separate venue accounts
(their own keys): a unified account's wallet is shared by its markets."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from tests import venue_fakes
from tests.service.serving import REQUEST_TIMEOUT_S, WAIT_S, Served
from tests.venue_fakes import FakesThread, serving

from atlas_oms.fakes.alpaca import Account as AlpacaAccount
from atlas_oms.fakes.alpaca import FakeAlpaca
from atlas_oms.fakes.alpaca.venue import HouseQuote
from atlas_oms.fakes.binance import AccountConfig as BinanceAccount
from atlas_oms.fakes.binance import FakeBinance
from atlas_oms.fakes.bybit import AccountConfig as BybitAccount
from atlas_oms.fakes.bybit import FakeBybit
from atlas_oms.fakes.okx import Account as OkxAccount
from atlas_oms.fakes.okx import FakeOkx
from atlas_oms.fakes.upbit import Account as UpbitAccount
from atlas_oms.fakes.upbit import FakeUpbit
from atlas_oms.venues.credentials import KeyStore

D = Decimal
T = TypeVar("T")
MASTER = base64.b64encode(b"d" * 32).decode()
KEYS = {  # Atlas account -> (key, secret, passphrase)
    "binance_spot_main": ("binancedeskkey" + "0" * 50, "binancedesksecret" + "0" * 47, None),
    "binance_futures_main": ("binancedeskkey" + "0" * 50, "binancedesksecret" + "0" * 47, None),
    "bybit_spot_main": ("bybitspotkey000000001", "bybitspotsecret0000000000000001", None),
    "bybit_futures_main": ("bybitlinkey0000000001", "bybitlinsecret00000000000000001", None),
    "okx_spot_main": ("okx-spot-key-0001", "OKXSPOTSECRET00000001", "Spot-Pass-1"),
    "okx_futures_main": ("okx-swap-key-0001", "OKXSWAPSECRET00000001", "Swap-Pass-1"),
    "upbit_spot_main": ("upbitdeskaccesskey00000001", "upbitdesksecret000000000000000001", None),
    "alpaca_spot_main": ("PKDESK00000000000001", "alpacadesksecret0000000000000000001", None),
}
#: (venue, Atlas account) of every venue account of the desk.
SESSIONS = [
    ("binance", "binance_spot_main"),
    ("binanceusdm", "binance_futures_main"),
    ("bybit", "bybit_spot_main"),
    ("bybitlinear", "bybit_futures_main"),
    ("okx", "okx_spot_main"),
    ("okx", "okx_futures_main"),
    ("upbit", "upbit_spot_main"),
    ("alpaca", "alpaca_spot_main"),
]


class Fakes(FakesThread):
    """The five fakes, served by one event loop in a thread of the test process."""

    def __init__(self) -> None:
        super().__init__()
        k = KEYS
        self.binance = FakeBinance(
            [
                BinanceAccount(
                    name="desk",
                    api_key=k["binance_spot_main"][0],
                    secret=k["binance_spot_main"][1],
                    spot={"USDT": D(100000), "BTC": D(1)},
                    futures={"USDT": D(50000)},
                )
            ]
        )
        self.bybit = FakeBybit(
            [
                BybitAccount(
                    name="spot",
                    api_key=k["bybit_spot_main"][0],
                    secret=k["bybit_spot_main"][1],
                    wallet={"USDT": D(100000), "BTC": D(1)},
                ),
                BybitAccount(
                    name="linear",
                    api_key=k["bybit_futures_main"][0],
                    secret=k["bybit_futures_main"][1],
                    wallet={"USDT": D(50000)},
                ),
            ]
        )
        okx_spot, okx_swap = k["okx_spot_main"], k["okx_futures_main"]
        self.okx = FakeOkx(
            [
                OkxAccount(
                    name="spot",
                    api_key=okx_spot[0],
                    secret=okx_spot[1],
                    passphrase=str(okx_spot[2]),
                    cash={"USDT": D(100000), "BTC": D(1)},
                ),
                OkxAccount(
                    name="swap",
                    api_key=okx_swap[0],
                    secret=okx_swap[1],
                    passphrase=str(okx_swap[2]),
                    cash={"USDT": D(50000)},
                ),
            ]
        )
        self.upbit = FakeUpbit(
            [
                UpbitAccount(
                    name="desk",
                    access_key=k["upbit_spot_main"][0],
                    secret=k["upbit_spot_main"][1],
                    balances={"KRW": [D(100_000_000), D(0)]},
                )
            ]
        )
        self.alpaca = FakeAlpaca(
            [
                AlpacaAccount(
                    name="desk",
                    api_key=k["alpaca_spot_main"][0],
                    secret=k["alpaca_spot_main"][1],
                    cash=D(100000),
                )
            ],
            last_price=D("150"),
        )
        self.all = (self.binance, self.bybit, self.okx, self.upbit, self.alpaca)

    def seed(self) -> None:
        v = self
        for market in ("spot", "usdm"):
            v.binance.venue.house_quote(market, "BTCUSDT", "SELL", "60010", "5")
            v.binance.venue.house_quote(market, "BTCUSDT", "BUY", "59990", "5")
        for category in ("spot", "linear"):
            v.bybit.venue.house_quote(category, "BTCUSDT", "Sell", D("60020"), D("5"))
            v.bybit.venue.house_quote(category, "BTCUSDT", "Buy", D("59980"), D("5"))
        for inst in ("BTC-USDT", "BTC-USDT-SWAP"):
            size = D(5) if inst == "BTC-USDT" else D(500)  # SWAP: contracts of 0.01 BTC
            v.okx.venue.house_quote(inst, "sell", D("60030"), size)
            v.okx.venue.house_quote(inst, "buy", D("59970"), size)
        v.upbit.venue.house[("KRW-BTC", "ask", D("90010000"))] = D("5")
        v.upbit.venue.house[("KRW-BTC", "bid", D("89990000"))] = D("5")
        v.alpaca.venue.house["AAPL"] = [
            HouseQuote("sell", D(1000), D("150.05")),
            HouseQuote("buy", D(1000), D("149.95")),
        ]


@pytest.fixture
def fakes() -> Iterator[Fakes]:
    with serving(Fakes()) as running:
        yield running


def write_config(f: Fakes, data: Path) -> dict[str, str]:
    """accounts.yaml naming the five exchanges (pointed at the fakes) and the encrypted keys."""
    data.mkdir(parents=True, exist_ok=True)
    accounts = data.parent / "accounts.yaml"
    accounts.write_text(
        f"""
accounts:
  binance:
    main: {{type: main, spot_enabled: true, futures_enabled: true}}
  bybit:
    main: {{type: main, spot_enabled: true, futures_enabled: true}}
  okx:
    main: {{type: main, spot_enabled: true, futures_enabled: true}}
  upbit:
    main: {{type: main, spot_enabled: true}}
  alpaca:
    main: {{type: main, spot_enabled: true}}
account_routing:
  default: main
venues:
  binance:
    rest_url: "{f.binance.http}"
    ws_url: "{f.binance.ws}/ws"
    ws_api_url: "{f.binance.ws}/ws-api/v3"
    timeout_ms: 2000
  binanceusdm:
    rest_url: "{f.binance.http}"
    ws_url: "{f.binance.ws}/fstream/ws"
    timeout_ms: 2000
  bybit: {{rest_url: "{f.bybit.http}", ws_url: "{f.bybit.ws}", timeout_ms: 2000,
           symbol_suffix: "@bybit"}}
  bybitlinear: {{rest_url: "{f.bybit.http}", ws_url: "{f.bybit.ws}", timeout_ms: 2000,
                 symbol_suffix: "@bybit"}}
  okx: {{rest_url: "{f.okx.http}", ws_url: "{f.okx.ws}", timeout_ms: 2000,
         symbol_suffix: "@okx"}}
  upbit: {{rest_url: "{f.upbit.http}", ws_url: "{f.upbit.ws}", timeout_ms: 2000}}
  alpaca: {{rest_url: "{f.alpaca.http}", ws_url: "{f.alpaca.stream_url}", timeout_ms: 2000,
           data_url: "{f.alpaca.http}"}}
"""
    )
    store = KeyStore(data / "venue-keys.json", base64.b64decode(MASTER))
    for account, (key, secret, passphrase) in KEYS.items():
        store.set(account, key, secret, passphrase)
    return {
        "ATLAS_ACCOUNTS_FILE": str(accounts),
        "ATLAS_MASTER_KEY": MASTER,
        "ATLAS_VENUE_STREAM_WAIT_S": "0.5",
        "ATLAS_VENUE_VISIBILITY_S": "2",
        "ATLAS_VENUE_PRICE_EVERY_S": "0.1",
    }


def wait_for(check: Callable[[], Any], timeout: float = WAIT_S, what: str = "") -> Any:
    return venue_fakes.wait_for(check, timeout, what, every=0.05)


class Desk:
    def __init__(self, served: Served) -> None:
        self.url = served.url
        self.admin = served.keys()["admin"]
        self.trader = served.keys()["trader"]

    def health(self, venue: str, account: str) -> dict[str, Any]:
        r = httpx.get(
            f"{self.url}/health/{venue}/{account}", headers=self.admin, timeout=REQUEST_TIMEOUT_S
        )
        body: dict[str, Any] = r.json()
        assert r.status_code == (200 if body["tradable"] else 503), r.text
        return body

    def submit(self, account: str, symbol: str, side: str, qty: str, price: str) -> int:
        body = {
            "account_id": account,
            "symbol": symbol,
            "side": side,
            "order_type": "LIMIT",
            "qty": qty,
            "price": price,
        }
        r = httpx.post(f"{self.url}/v1/orders", json=body, headers=self.trader, timeout=10)
        assert r.status_code in (200, 201), r.text
        return int(r.json()["order_id"])

    def order(self, account: str, order_id: int) -> dict[str, Any]:
        r = httpx.get(
            f"{self.url}/v1/orders/{order_id}",
            params={"account_id": account},
            headers=self.admin,
            timeout=REQUEST_TIMEOUT_S,
        )
        assert r.status_code == 200, r.text
        return r.json()  # type: ignore[no-any-return]

    def filled(self, account: str, order_id: int, timeout: float = WAIT_S) -> dict[str, Any]:
        return wait_for(  # type: ignore[no-any-return]
            lambda: (o := self.order(account, order_id))["status"] == "FILLED" and o,
            timeout,
            what=f"order {order_id} of {account} filled",
        )

    def balances(self, account: str) -> dict[str, Decimal]:
        r = httpx.get(
            f"{self.url}/v1/balances",
            params={"account_id": account},
            headers=self.admin,
            timeout=REQUEST_TIMEOUT_S,
        )
        assert r.status_code == 200, r.text
        return {b["asset"]: D(b["total"]) for b in r.json() if D(b["total"])}

    def positions(self, account: str) -> dict[str, Decimal]:
        r = httpx.get(
            f"{self.url}/v1/positions",
            params={"account_id": account},
            headers=self.admin,
            timeout=REQUEST_TIMEOUT_S,
        )
        assert r.status_code == 200, r.text
        return {p["symbol"]: D(p["qty"]) for p in r.json() if D(p["qty"])}

    def reconcile(self, venue: str, account: str) -> list[Any]:
        r = httpx.post(
            f"{self.url}/v1/venues/{venue}/{account}/reconcile", headers=self.admin, timeout=WAIT_S
        )
        assert r.status_code == 200, r.text
        return r.json()["differences"]  # type: ignore[no-any-return]

    def last_price(self, symbol: str) -> Decimal | None:
        r = httpx.get(f"{self.url}/v1/venues/quotes/{symbol}", headers=self.trader)
        if r.status_code != 200:
            return None
        body = r.json()
        value = body.get("last") or body.get("mark")
        return D(value) if value is not None else None


def test_one_desk_trades_five_venues_and_survives_one_going_down(
    tmp_path: Path, fakes: Fakes
) -> None:
    data = tmp_path / "data"
    served = Served(data, env=write_config(fakes, data)).start()
    try:
        desk = Desk(served)
        for venue, account in SESSIONS:
            wait_for(lambda v=venue, a=account: desk.health(v, a)["tradable"], what=account)
        symbols = {
            i["symbol"]: i["venue"]
            for i in httpx.get(f"{served.url}/v1/instruments", headers=desk.trader).json()
        }
        for symbol, venue in (
            ("BTC/USDT", "binance"),
            ("BTC/USDT:USDT", "binanceusdm"),
            ("BTC/USDT@bybit", "bybit"),
            ("BTC/USDT:USDT@bybit", "bybitlinear"),
            ("BTC/USDT@okx", "okx"),
            ("BTC/USDT:USDT@okx", "okx"),
            ("BTC/KRW", "upbit"),
            ("AAPL", "alpaca"),
        ):
            assert symbols.get(symbol) == venue, (symbol, symbols.get(symbol))

        # The desk trades at any hour: an operator opens AAPL (XNYS hours otherwise; the
        # sessions are tested elsewhere).
        r = httpx.put(
            f"{served.url}/v1/instruments/AAPL/market-status",
            json={"status": "OPEN", "reason": "the desk test runs at any hour"},
            headers=desk.admin,
        )
        assert r.status_code == 200, r.text

        # Buy on every venue: each crosses the house's ask and fills.
        trades = [
            ("binance_spot_main", "BTC/USDT", "0.01", "60010"),
            ("binance_futures_main", "BTC/USDT:USDT", "0.01", "60010"),
            ("bybit_spot_main", "BTC/USDT@bybit", "0.01", "60020"),
            ("bybit_futures_main", "BTC/USDT:USDT@bybit", "0.01", "60020"),
            ("okx_spot_main", "BTC/USDT@okx", "0.01", "60030"),
            ("okx_futures_main", "BTC/USDT:USDT@okx", "0.01", "60030"),
            ("upbit_spot_main", "BTC/KRW", "0.01", "90010000"),
            ("alpaca_spot_main", "AAPL", "10", "150.05"),
        ]
        placed = [(a, desk.submit(a, s, "BUY", q, p), q) for a, s, q, p in trades]
        for account, order_id, qty in placed:
            assert D(desk.filled(account, order_id)["cum_qty"]) == D(qty)

        # Positions and balances per account, as each venue has them.
        for account, symbol in (
            ("binance_futures_main", "BTC/USDT:USDT"),
            ("bybit_futures_main", "BTC/USDT:USDT@bybit"),
            ("okx_futures_main", "BTC/USDT:USDT@okx"),
        ):
            wait_for(
                lambda a=account, s=symbol: desk.positions(a).get(s) == D("0.01"),
                what=f"{account} long 0.01",
            )
        assert D("1.0099") <= desk.balances("bybit_spot_main")["BTC"] <= D("1.01")
        assert D("1.0099") <= desk.balances("okx_spot_main")["BTC"] <= D("1.01")
        assert D("0.0099") <= desk.balances("upbit_spot_main")["BTC"] <= D("0.01")
        assert desk.balances("alpaca_spot_main")["AAPL"] == D(10)
        for venue, account in SESSIONS:
            assert desk.reconcile(venue, account) == [], account
            assert desk.health(venue, account)["status"] == "ok"
        # Marks and last prices of the venues' data reach the node (Bybit, Upbit, Alpaca too).
        for symbol in ("BTC/USDT", "BTC/USDT@bybit", "BTC/USDT:USDT@bybit", "BTC/KRW"):
            wait_for(lambda s=symbol: desk.last_price(s), what=f"a price of {symbol}")
        # AAPL's last trade from Alpaca's market data API (the fake: its last execution)
        assert wait_for(lambda: desk.last_price("AAPL"), what="AAPL's last price") == D("150.05")

        # A resting order at OKX, then OKX goes down.
        resting = desk.submit("okx_spot_main", "BTC/USDT@okx", "BUY", "0.02", "59000")
        wait_for(lambda: desk.order("okx_spot_main", resting)["status"] == "ACCEPTED")
        fakes.run(fakes.okx.stop())
        wait_for(
            lambda: not desk.health("okx", "okx_spot_main")["tradable"], what="okx not tradable"
        )
        assert desk.health("okx", "okx_spot_main")["status"] == "not_tradable"
        # The others keep trading.
        for account, symbol, price in (
            ("binance_spot_main", "BTC/USDT", "59990"),
            ("bybit_spot_main", "BTC/USDT@bybit", "59980"),
            ("upbit_spot_main", "BTC/KRW", "89990000"),
        ):
            assert desk.health(account.split("_")[0], account)["tradable"], account
            sold = desk.submit(account, symbol, "SELL", "0.005", price)
            assert D(desk.filled(account, sold)["cum_qty"]) == D("0.005")

        # While OKX is down (to Atlas), the resting order fills at the venue.
        def fill_at_venue() -> None:
            (order,) = [o for o in fakes.okx.venue.orders.values() if o.is_open]
            fakes.okx.venue.fill(order, order.leaves)

        fakes.call(fill_at_venue)
        assert desk.order("okx_spot_main", resting)["status"] == "ACCEPTED"
        # OKX returns (same port, same state): reconciled, the fill booked once.
        fakes.run(fakes.okx.start(port=fakes.okx.port))
        wait_for(lambda: desk.health("okx", "okx_spot_main")["tradable"], what="okx back")
        order = desk.filled("okx_spot_main", resting)
        assert D(order["cum_qty"]) == D("0.02")
        assert desk.reconcile("okx", "okx_spot_main") == []
        r = httpx.get(
            f"{served.url}/v1/fills",
            params={"account_id": "okx_spot_main"},
            headers=desk.admin,
        )
        assert r.status_code == 200, r.text
        rows = [f for f in r.json() if int(f["order_id"]) == resting]
        assert [D(f["last_qty"]) for f in rows] == [D("0.02")], rows  # booked once
        assert D("1.0299") <= desk.balances("okx_spot_main")["BTC"] <= D("1.03")
    finally:
        served.stop()
