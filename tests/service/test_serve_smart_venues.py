"""SMART through a real ``atlas serve`` in front of two venues (issue 16 "done when"): the Binance
and Bybit spot fakes (one event loop in a thread of the test; real ccxt clients, sockets and
signatures in the server), accounts.yaml with a routing strategy over both venues' accounts.
``POST /v1/orders`` with ``venue: "SMART"`` splits the order across them by the consolidated book
(fed by the venues' own book streams); the answer says where and why; both venues filled what
the route sent them."""

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
from tests.venue_fakes import FakesThread, serving, spot_fakes

from atlas_oms.venues.credentials import KeyStore

D = Decimal
T = TypeVar("T")
MASTER = base64.b64encode(b"q" * 32).decode()
BINANCE, BYBIT = "binance_spot_main", "bybit_spot_main"
KEYS = {
    BINANCE: ("binancesmartkey" + "0" * 49, "binancesmartsecret" + "0" * 46),
    BYBIT: ("bybitsmartkey0000001", "bybitsmartsecret000000000000001"),
}


class TwoFakes(FakesThread):
    def __init__(self) -> None:
        super().__init__()
        self.binance, self.bybit = spot_fakes(KEYS[BINANCE], KEYS[BYBIT])
        self.all = (self.binance, self.bybit)

    def seed(self) -> None:
        self.binance.venue.house_quote("spot", "BTCUSDT", "SELL", "60000", "0.1")
        self.binance.venue.house_quote("spot", "BTCUSDT", "SELL", "60050", "1")
        self.bybit.venue.house_quote("spot", "BTCUSDT", "Sell", D("60010"), D("0.1"))
        self.bybit.venue.house_quote("spot", "BTCUSDT", "Sell", D("60060"), D("1"))


@pytest.fixture
def fakes() -> Iterator[TwoFakes]:
    with serving(TwoFakes()) as running:
        yield running


def write_config(f: TwoFakes, data: Path) -> dict[str, str]:
    data.mkdir(parents=True, exist_ok=True)
    accounts = data.parent / "accounts.yaml"
    accounts.write_text(
        f"""
accounts:
  binance:
    main: {{type: main, spot_enabled: true}}
  bybit:
    main: {{type: main, spot_enabled: true}}
account_routing:
  default: main
  strategies: {{sor: [main]}}
venues:
  binance:
    rest_url: "{f.binance.http}"
    ws_url: "{f.binance.ws}/ws"
    ws_api_url: "{f.binance.ws}/ws-api/v3"
    timeout_ms: 2000
    symbol_suffix: "@binance"
  bybit: {{rest_url: "{f.bybit.http}", ws_url: "{f.bybit.ws}", timeout_ms: 2000,
           symbol_suffix: "@bybit"}}
"""
    )
    store = KeyStore(data / "venue-keys.json", base64.b64decode(MASTER))
    for account, (key, secret) in KEYS.items():
        store.set(account, key, secret)
    return {
        "ATLAS_ACCOUNTS_FILE": str(accounts),
        "ATLAS_MASTER_KEY": MASTER,
        "ATLAS_VENUE_STREAM_WAIT_S": "0.5",
        "ATLAS_VENUE_VISIBILITY_S": "2",
        # The fakes push a book only when it changes: a quiet book must not go stale.
        "ATLAS_MD_STALE_MS": "0",
    }


def wait_for(check: Callable[[], Any], timeout: float = WAIT_S, what: str = "") -> Any:
    return venue_fakes.wait_for(check, timeout, what, every=0.1)


def test_a_smart_order_through_rest_splits_across_two_venues(
    fakes: TwoFakes, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    served = Served(data, env=write_config(fakes, data)).start()
    try:
        trader = served.keys()["trader"]
        admin = served.keys()["admin"]

        def get(path: str, key: dict[str, str], **params: Any) -> Any:
            return httpx.get(
                served.url + path, headers=key, params=params, timeout=REQUEST_TIMEOUT_S
            )

        for venue, account in (("binance", BINANCE), ("bybit", BYBIT)):
            wait_for(
                lambda v=venue, a=account: get(f"/health/{v}/{a}", admin).status_code == 200,
                what=f"{venue} tradable",
            )

        def asks() -> dict[str, str]:
            r = get("/v1/books/BTC/USDT/consolidated", trader)
            if r.status_code != 200:
                return {}
            return {lv["venue"]: lv["price"] for lv in r.json()["asks"]}

        wait_for(lambda: {"binance", "bybit"} <= set(asks()), what="both venues' books")
        smart = {
            "account_id": BINANCE,
            "symbol": "BTC/USDT@binance",
            "side": "BUY",
            "qty": "0.2",
            "price": "60020",
            "venue": "SMART",
            "strategy": "sor",
            "client_order_id": "smart-wire-1",
        }
        r = httpx.post(
            served.url + "/v1/orders", json=smart, headers=trader, timeout=REQUEST_TIMEOUT_S
        )
        assert r.status_code == 201, r.text
        body = r.json()
        decision = body["routing"]["decision"]
        assert [(a["venue"], a["account_id"], D(a["qty"])) for a in decision["allocations"]] == [
            ("binance", BINANCE, D("0.1")),
            ("bybit", BYBIT, D("0.1")),
        ]
        seen = {(s["venue"], s["account_id"]): s for s in decision["seen"]}
        assert D(seen[("binance", BINANCE)]["best_ask"]) == D("60000")
        assert D(seen[("bybit", BYBIT)]["best_ask"]) == D("60010")
        view = wait_for(
            lambda: (v := get("/v1/algos/smart-wire-1", trader).json())["status"] == "DONE" and v,
            what="the SMART order done",
        )
        assert D(view["cum_qty"]) == D("0.2") and D(view["avg_px"]) == D("60005")
        assert sorted((c["symbol"], D(c["cum_qty"])) for c in view["children"]) == [
            ("BTC/USDT@binance", D("0.1")),
            ("BTC/USDT@bybit", D("0.1")),
        ]
        at_binance = fakes.call(
            lambda: [o.executed for o in fakes.binance.venue.orders.values() if o.account == "desk"]
        )
        at_bybit = fakes.call(
            lambda: [o.cum_qty for o in fakes.bybit.venue.orders.values() if not o.house]
        )
        assert at_binance == [D("0.1")] and at_bybit == [D("0.1")]
    finally:
        served.ensure_stopped()
