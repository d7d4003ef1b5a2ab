"""Failover through a real ``atlas serve`` and its REST API (issue 15 §2, §4): one desk on the
Binance and Bybit fakes (accounts.yaml with a ``failover:`` rule); Binance goes down -> a new BTC
order of the Binance account is answered as sent to Bybit (BTC/USDT@bybit, rerouted, the reason)
and fills there, the audit trail has the ``RouteSwitched``; an order asking for no failover is
refused ``VENUE_NOT_TRADABLE``; Binance returns -> the resting order that filled while it was down
is booked once, the route is ``RESTORED`` and new orders go to Binance again."""

from __future__ import annotations

import asyncio
import base64
import threading
from collections.abc import Callable, Coroutine, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from tests.runtime.test_failover_venues import (
    BINANCE,
    BN_KEY,
    BN_SECRET,
    BY_KEY,
    BY_SECRET,
    BYBIT,
    accounts_yaml,
    fakes,
)
from tests.service.serving import REQUEST_TIMEOUT_S, Served
from tests.service.test_serve_venues import wait_for

from atlas_oms.fakes.binance import FakeBinance
from atlas_oms.fakes.bybit import FakeBybit
from atlas_oms.venues.credentials import KeyStore

D = Decimal
MASTER = base64.b64encode(b"m" * 32).decode()
T = TypeVar("T")


class Loop:
    """The fakes' own event loop in a thread (the test talks to them through it)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=15)

    def call(self, fn: Callable[..., T], *args: Any) -> T:
        async def go() -> T:
            return fn(*args)

        return self.run(go())

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)


@pytest.fixture
def venues() -> Iterator[tuple[Loop, FakeBinance, FakeBybit]]:
    loop = Loop()
    binance, bybit = fakes()
    loop.run(binance.start())
    loop.run(bybit.start())
    loop.call(binance.venue.house_quote, "spot", "BTCUSDT", "SELL", "60010", "5")
    loop.call(bybit.venue.house_quote, "spot", "BTCUSDT", "Sell", D("60020"), D("5"))
    try:
        yield loop, binance, bybit
    finally:
        loop.run(binance.stop())
        loop.run(bybit.stop())
        loop.close()


def order(served: Served, body: dict[str, Any]) -> httpx.Response:
    base = {"symbol": "BTC/USDT", "side": "BUY", "order_type": "LIMIT", "qty": "0.01"}
    return httpx.post(
        f"{served.url}/v1/orders", json=base | body, headers=served.keys()["trader"], timeout=10
    )


def view(served: Served, order_id: int, account: str) -> dict[str, Any]:
    r = httpx.get(
        f"{served.url}/v1/orders/{order_id}",
        params={"account_id": account},
        headers=served.keys()["admin"],
        timeout=REQUEST_TIMEOUT_S,
    )
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def tradable(served: Served, venue: str, account: str) -> bool:
    r = httpx.get(
        f"{served.url}/health/{venue}/{account}",
        headers=served.keys()["admin"],
        timeout=REQUEST_TIMEOUT_S,
    )
    return r.status_code == 200 and bool(r.json()["tradable"])


def switched(served: Served) -> list[dict[str, Any]]:
    r = httpx.get(
        f"{served.url}/v1/audit/{BINANCE}",
        headers=served.keys()["admin"],
        timeout=REQUEST_TIMEOUT_S,
    )
    assert r.status_code == 200, r.text
    return [rec["detail"] for rec in r.json() if rec["event"] == "RouteSwitched"]


def test_binance_down_reroutes_rest_orders_to_bybit_and_back_through_atlas_serve(
    tmp_path: Path, venues: tuple[Loop, FakeBinance, FakeBybit]
) -> None:
    loop, binance, bybit = venues
    data = tmp_path / "data"
    data.mkdir()
    accounts = tmp_path / "accounts.yaml"
    accounts.write_text(accounts_yaml(binance, bybit))
    store = KeyStore(data / "venue-keys.json", base64.b64decode(MASTER))
    store.set(BINANCE, BN_KEY, BN_SECRET)
    store.set(BYBIT, BY_KEY, BY_SECRET)
    env = {
        "ATLAS_ACCOUNTS_FILE": str(accounts),
        "ATLAS_MASTER_KEY": MASTER,
        "ATLAS_VENUE_STREAM_WAIT_S": "0.5",
        "ATLAS_VENUE_VISIBILITY_S": "2",
    }
    served = Served(data, env=env).start()
    try:
        wait_for(lambda: tradable(served, "binance", BINANCE), what="binance tradable")
        wait_for(lambda: tradable(served, "bybit", BYBIT), what="bybit tradable")
        r = order(served, {"account_id": BINANCE, "price": "59000"})
        assert r.status_code == 201, r.text
        assert r.json()["routing"]["rerouted"] is False
        resting = r.json()["order_id"]
        wait_for(lambda: view(served, resting, BINANCE)["status"] == "ACCEPTED", what="resting")

        # Binance goes down; the resting order fills there meanwhile.
        port = binance.port
        loop.run(binance.stop())
        (mine,) = loop.call(
            lambda: [o for o in binance.venue.orders.values() if o.account == "desk" and o.is_open]
        )
        loop.call(binance.venue.fill, mine, "0.01")
        wait_for(lambda: not tradable(served, "binance", BINANCE), what="binance down")
        (down,) = wait_for(lambda: switched(served), what="RouteSwitched in the audit trail")
        assert down["reason"] not in ("", "RESTORED"), down

        # A new BTC order of the Binance account goes to Bybit, the same unified symbol.
        r = order(served, {"account_id": BINANCE, "price": "60020"})
        assert r.status_code == 201, r.text
        body = r.json()
        assert (body["account_id"], body["symbol"]) == (BYBIT, "BTC/USDT@bybit")
        routing = body["routing"]
        assert (routing["venue"], routing["account_id"], routing["rerouted"]) == (
            "bybit",
            BYBIT,
            True,
        )
        assert (routing["asked_account_id"], routing["reason"]) == (BINANCE, down["reason"])
        moved = body["order_id"]
        filled = wait_for(
            lambda: (v := view(served, moved, BYBIT))["status"] == "FILLED" and v,
            what="filled at Bybit",
        )
        assert filled["routing"]["rerouted"] is True
        assert loop.call(lambda: [o.symbol for o in bybit.venue.orders.values() if not o.house])
        # No failover asked: refused, typed.
        r = order(served, {"account_id": BINANCE, "price": "59000", "route": "strict"})
        assert r.status_code == 422, r.text
        assert r.json()["reason"] == "VENUE_NOT_TRADABLE"

        # Binance returns: the fill while down is booked once; the route is restored.
        loop.run(binance.start(port=port))
        wait_for(lambda: tradable(served, "binance", BINANCE), timeout=60, what="binance back")
        done = wait_for(
            lambda: (v := view(served, resting, BINANCE))["status"] == "FILLED" and v,
            what="the fill while down booked",
        )
        assert D(done["cum_qty"]) == D("0.01")
        fills = httpx.get(
            f"{served.url}/v1/fills",
            params={"account_id": BINANCE},
            headers=served.keys()["admin"],
            timeout=REQUEST_TIMEOUT_S,
        ).json()
        assert len([f for f in fills if f["order_id"] == resting]) == 1
        records = wait_for(lambda: len(s := switched(served)) == 2 and s, what="RESTORED")
        assert records[1]["reason"] == "RESTORED"
        r = order(served, {"account_id": BINANCE, "price": "59000"})
        assert r.status_code == 201, r.text
        assert (r.json()["account_id"], r.json()["routing"]["rerouted"]) == (BINANCE, False)
    finally:
        served.stop()
