"""``atlas serve`` in front of Binance (the fake Binance on 127.0.0.1, real ccxt clients inside
Atlas, real signatures): a desk account configured in accounts.yaml, its keys encrypted at rest,
trades spot and USDⓈ-M through Atlas's REST API and CLI; after reconciliation Atlas's positions
and balances are the venue's; a kill -9 between journaling an order and sending it, or between
sending it and the venue's answer, leaves exactly one order at the venue and the right state in
Atlas after the restart."""

from __future__ import annotations

import base64
import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.service.serving import REQUEST_TIMEOUT_S, WAIT_S, Served

from atlas_oms.fakes.binance import AccountConfig, FakeBinance
from atlas_oms.venues.credentials import KeyStore

D = Decimal
KEY = "deskkey00000000000000000000000000000000000000000000000000000001"
SECRET = "desksecret0000000000000000000000000000000000000000000000000001"
MASTER = base64.b64encode(b"m" * 32).decode()
SPOT_ACCOUNT = "binance_spot_main"
USDM_ACCOUNT = "binance_futures_main"


def wait_for(check: Callable[[], Any], timeout: float = WAIT_S, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what or check}: last {last!r}")


@pytest.fixture
def fake() -> Iterator[FakeBinance]:
    venue = FakeBinance(
        [
            AccountConfig(
                name="desk",
                api_key=KEY,
                secret=SECRET,
                spot={"USDT": D("100000"), "BTC": D("1")},
                futures={"USDT": D("50000")},
            )
        ]
    )
    with venue.running_in_thread() as running:
        for market in ("spot", "usdm"):
            running.call(running.venue.house_quote, market, "BTCUSDT", "SELL", "60010", "5")
            running.call(running.venue.house_quote, market, "BTCUSDT", "BUY", "59990", "5")
        yield running


def write_config(fake: FakeBinance, data: Path) -> dict[str, str]:
    """accounts.yaml (seed 002's shape, pointed at the fake) and the encrypted venue keys; the
    environment ``atlas serve`` needs."""
    data.mkdir(parents=True, exist_ok=True)
    accounts = data.parent / "accounts.yaml"
    accounts.write_text(
        f"""
accounts:
  binance:
    main:
      type: main
      spot_enabled: true
      futures_enabled: true
account_routing:
  default: main
venues:
  binance:
    rest_url: "{fake.http}"
    ws_url: "{fake.ws}/ws"
    ws_api_url: "{fake.ws}/ws-api/v3"
    timeout_ms: 2000
  binanceusdm:
    rest_url: "{fake.http}"
    ws_url: "{fake.ws}/fstream/ws"
    timeout_ms: 2000
"""
    )
    store = KeyStore(data / "venue-keys.json", base64.b64decode(MASTER))
    store.set(SPOT_ACCOUNT, KEY, SECRET)
    store.set(USDM_ACCOUNT, KEY, SECRET)
    return {
        "ATLAS_ACCOUNTS_FILE": str(accounts),
        "ATLAS_MASTER_KEY": MASTER,
        "ATLAS_VENUE_STREAM_WAIT_S": "0.5",
        "ATLAS_VENUE_VISIBILITY_S": "2",
    }


def tradable(served: Served, account: str, venue: str = "binance") -> bool:
    r = httpx.get(
        f"{served.url}/health/{venue}/{account}",
        headers=served.keys()["admin"],
        timeout=REQUEST_TIMEOUT_S,
    )
    return r.status_code == 200 and r.json()["tradable"]


def atlas_balances(served: Served, account: str) -> dict[str, Decimal]:
    r = httpx.get(
        f"{served.url}/v1/balances",
        params={"account_id": account},
        headers=served.keys()["admin"],
        timeout=REQUEST_TIMEOUT_S,
    )
    assert r.status_code == 200, r.text
    return {b["asset"]: D(b["total"]) for b in r.json() if D(b["total"])}


def venue_spot_balances(fake: FakeBinance) -> dict[str, Decimal]:
    def read() -> dict[str, Decimal]:
        acct = fake.venue.accounts["desk"]
        return {a: free + locked for a, (free, locked) in acct.spot.items() if free + locked}

    return fake.call(read)


def order_of(served: Served, order_id: int, account: str = SPOT_ACCOUNT) -> dict[str, Any]:
    r = httpx.get(
        f"{served.url}/v1/orders/{order_id}",
        params={"account_id": account},
        headers=served.keys()["admin"],
        timeout=REQUEST_TIMEOUT_S,
    )
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def submit(served: Served, body: dict[str, Any], timeout: float = 10) -> httpx.Response:
    return httpx.post(
        f"{served.url}/v1/orders", json=body, headers=served.keys()["trader"], timeout=timeout
    )


def test_a_desk_trades_spot_and_usdm_on_binance_through_rest_and_agrees_with_the_venue(
    tmp_path: Path, fake: FakeBinance
) -> None:
    data = tmp_path / "data"
    served = Served(data, env=write_config(fake, data)).start()
    try:
        wait_for(lambda: tradable(served, SPOT_ACCOUNT), what="spot tradable")
        wait_for(lambda: tradable(served, USDM_ACCOUNT, "binanceusdm"), what="usdm tradable")
        instruments = httpx.get(
            f"{served.url}/v1/instruments", headers=served.keys()["trader"]
        ).json()
        btc = next(i for i in instruments if i["symbol"] == "BTC/USDT")
        assert (btc["venue"], btc["venue_symbol"]) == ("binance", "BTCUSDT")
        # accounts.yaml's routing: the default account, per market; an unknown strategy refused.
        trader = served.keys()["trader"]
        for symbol, account in (("BTC/USDT", SPOT_ACCOUNT), ("BTC/USDT:USDT", USDM_ACCOUNT)):
            routed = httpx.get(
                f"{served.url}/v1/venues/route", params={"symbol": symbol}, headers=trader
            )
            assert routed.json()["account_id"] == account, routed.text
        unknown = httpx.get(
            f"{served.url}/v1/venues/route",
            params={"symbol": "BTC/USDT", "strategy": "nope"},
            headers=trader,
        )
        assert (unknown.status_code, unknown.json()["reason"]) == (422, "UNKNOWN_STRATEGY")
        # The first reconciliation took the venue's balances.
        assert atlas_balances(served, SPOT_ACCOUNT) == venue_spot_balances(fake)

        # Atlas's own risk checks come first: a quantity off the venue's lot is refused here.
        r = submit(
            served,
            {
                "account_id": SPOT_ACCOUNT,
                "symbol": "BTC/USDT",
                "side": "BUY",
                "order_type": "LIMIT",
                "qty": "0.000001",
                "price": "60010",
            },
        )
        assert r.status_code == 422, r.text

        r = submit(
            served,
            {
                "account_id": SPOT_ACCOUNT,
                "symbol": "BTC/USDT",
                "side": "BUY",
                "order_type": "LIMIT",
                "qty": "0.01",
                "price": "60010",
                "client_order_id": "desk-1",
            },
        )
        assert r.status_code in (200, 201), r.text
        order_id = r.json()["order_id"]
        order = wait_for(
            lambda: (o := order_of(served, order_id))["status"] == "FILLED" and o,
            what="spot order filled",
        )
        assert D(order["cum_qty"]) == D("0.01")

        # Market data: the venue's book ticker reaches Atlas whenever the book moves (a live
        # market: the house adds a little to its bid while we wait).
        def moving_quote() -> Any:
            fake.call(fake.venue.house_quote, "spot", "BTCUSDT", "BUY", "59990", "0.001")
            return (
                q := httpx.get(f"{served.url}/v1/venues/quotes/BTC/USDT", headers=trader)
            ).status_code == 200 and q.json()

        quote = wait_for(moving_quote, what="a quote")
        assert (D(quote["bid"]), D(quote["ask"])) == (D("59990"), D("60010"))
        # The book of a venue instrument is its top of book as the venue streamed it.
        book = httpx.get(f"{served.url}/v1/book/BTC/USDT", headers=trader).json()
        ((bid, bid_qty),), ((ask, ask_qty),) = book["bids"], book["asks"]
        assert (D(bid), D(ask)) == (D("59990"), D("60010"))
        assert D(bid_qty) > 0 and D(ask_qty) > 0

        # Leverage on a venue instrument: the venue first, then Atlas; a refusal changes nothing.
        trader = served.keys()["trader"]
        url = f"{served.url}/v1/accounts/{USDM_ACCOUNT}/leverage"
        r = httpx.put(url, json={"symbol": "BTC/USDT:USDT", "leverage": "10"}, headers=trader)
        assert r.status_code == 200, r.text
        assert fake.call(lambda: fake.venue.accounts["desk"].leverage["BTCUSDT"]) == 10
        r = httpx.put(url, json={"symbol": "BTC/USDT:USDT", "leverage": "200"}, headers=trader)
        assert r.status_code == 422, r.text
        assert fake.call(lambda: fake.venue.accounts["desk"].leverage["BTCUSDT"]) == 10

        r = submit(
            served,
            {
                "account_id": USDM_ACCOUNT,
                "symbol": "BTC/USDT:USDT",
                "side": "SELL",
                "order_type": "LIMIT",
                "qty": "0.010",
                "price": "59990",
            },
        )
        assert r.status_code in (200, 201), r.text
        futures_id = r.json()["order_id"]
        wait_for(
            lambda: order_of(served, futures_id, USDM_ACCOUNT)["status"] == "FILLED",
            what="usdm filled",
        )

        # Reconcile on demand: Atlas agrees with the venue (no differences).
        admin = served.keys()["admin"]
        for venue, account in (("binance", SPOT_ACCOUNT), ("binanceusdm", USDM_ACCOUNT)):
            report = httpx.post(
                f"{served.url}/v1/venues/{venue}/{account}/reconcile", headers=admin, timeout=10
            )
            assert report.status_code == 200, report.text
            assert report.json()["differences"] == [], report.json()
        assert atlas_balances(served, SPOT_ACCOUNT) == venue_spot_balances(fake)
        positions = httpx.get(
            f"{served.url}/v1/positions", params={"account_id": USDM_ACCOUNT}, headers=admin
        ).json()
        (position,) = [p for p in positions if D(p["qty"])]
        venue_position = fake.call(
            lambda: fake.venue.accounts["desk"].positions[("BTCUSDT", "BOTH")].amt
        )
        assert D(position["qty"]) == venue_position == D("-0.010")

        # The CLI: status and reconcile against the running server.
        cli = [sys.executable, "-m", "atlas_oms.cli", "venues"]
        env = {**os.environ, "ATLAS_URL": served.url, "ATLAS_KEY": admin["X-API-Key"]}
        status = subprocess.run(
            [*cli, "status"], env=env, capture_output=True, text=True, timeout=30
        )
        assert status.returncode == 0, status.stderr
        assert f"binance/{SPOT_ACCOUNT}" in status.stdout and "READY" in status.stdout
        rec = subprocess.run(
            [*cli, "reconcile", "binance", SPOT_ACCOUNT],
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert rec.returncode == 0, rec.stdout + rec.stderr
        assert "Atlas agrees with the venue" in rec.stdout

        metrics = httpx.get(f"{served.url}/metrics").text
        assert f'atlas_venue_tradable{{account_id="{SPOT_ACCOUNT}",venue="binance"}} 1.0' in (
            metrics
        )
        # No key material anywhere in the log.
        log = served.stderr()
        assert KEY not in log and SECRET not in log
    finally:
        served.ensure_stopped()


@pytest.mark.parametrize("failpoint", ["gateway.before_send", "gateway.after_send"])
def test_kill_9_around_sending_an_order_leaves_exactly_one_order_at_the_venue(
    tmp_path: Path, fake: FakeBinance, failpoint: str
) -> None:
    """``gateway.before_send``: the order is journaled, nothing was sent; ``after_send``: the
    venue took it and answered, nothing of the answer was journaled. Either way the restarted
    node ends with one order at the venue, under the client order id Atlas gave it, and knows
    its state."""
    data = tmp_path / "data"
    env = write_config(fake, data)
    crashing = Served(data, env={**env, "ATLAS_FAILPOINTS": failpoint}).start()
    try:
        wait_for(lambda: tradable(crashing, SPOT_ACCOUNT), what="tradable")
        # The answer (the order journaled, pending at the venue) may or may not come out before
        # the sender reaches the failpoint: the process dies either way.
        with contextlib.suppress(httpx.HTTPError):
            submit(
                crashing,
                {
                    "account_id": SPOT_ACCOUNT,
                    "symbol": "BTC/USDT",
                    "side": "BUY",
                    "order_type": "LIMIT",
                    "qty": "0.01",
                    "price": "59000",
                    "client_order_id": "crash-1",
                },
            )
        assert crashing.proc is not None
        assert crashing.proc.wait(timeout=10) == -9
    finally:
        crashing.ensure_stopped()
    served = Served(data, env=env).start()
    try:
        wait_for(lambda: tradable(served, SPOT_ACCOUNT), what="tradable after restart")
        orders = httpx.get(
            f"{served.url}/v1/orders",
            params={"account_id": SPOT_ACCOUNT},
            headers=served.keys()["admin"],
        ).json()["orders"]
        (order,) = [o for o in orders if o["client_order_id"] == "crash-1"]
        settled = wait_for(
            lambda: (o := order_of(served, order["order_id"]))["status"] == "ACCEPTED" and o,
            what="the order accepted at the venue",
        )
        (at_venue,) = fake.call(
            lambda: [o for o in fake.venue.orders.values() if o.price == D("59000")]
        )
        assert at_venue.status == "NEW"
        assert str(at_venue.order_id) == settled["venue_order_id"]
    finally:
        served.ensure_stopped()


def test_kill_9_while_the_venue_holds_the_answer_leaves_exactly_one_order(
    tmp_path: Path, fake: FakeBinance
) -> None:
    """A real kill -9 from outside while the venue has committed the order and holds its
    reply: after the restart the order is found by its client order id and is not sent twice."""
    data = tmp_path / "data"
    env = write_config(fake, data)
    served = Served(data, env=env).start()
    try:
        wait_for(lambda: tradable(served, SPOT_ACCOUNT), what="tradable")

        def hold_next_reply() -> None:
            fake.faults.delay_places = 1
            fake.faults.delay_s = 30.0

        fake.call(hold_next_reply)
        # Atlas answers once the order is journaled (pending at the venue); the venue then
        # commits it and holds its reply.
        r = submit(
            served,
            {
                "account_id": SPOT_ACCOUNT,
                "symbol": "BTC/USDT",
                "side": "SELL",
                "order_type": "LIMIT",
                "qty": "0.01",
                "price": "61000",
                "client_order_id": "held-1",
            },
        )
        assert r.status_code == 201, r.text
        assert r.json()["status"] == "SUBMITTED"
        wait_for(
            lambda: fake.call(
                lambda: any(o.price == D("61000") for o in fake.venue.orders.values())
            ),
            what="the venue committed the order",
        )
        served.kill()
    finally:
        served.ensure_stopped()
    fake.call(lambda: setattr(fake.faults, "delay_places", 0))
    restarted = Served(data, env=env).start()
    try:
        wait_for(lambda: tradable(restarted, SPOT_ACCOUNT), what="tradable after restart")
        orders = httpx.get(
            f"{restarted.url}/v1/orders",
            params={"account_id": SPOT_ACCOUNT},
            headers=restarted.keys()["admin"],
        ).json()["orders"]
        (order,) = [o for o in orders if o["client_order_id"] == "held-1"]
        settled = wait_for(
            lambda: (o := order_of(restarted, order["order_id"]))["status"] == "ACCEPTED" and o,
            what="the order found at the venue",
        )
        at_venue = fake.call(
            lambda: [o for o in fake.venue.orders.values() if o.price == D("61000")]
        )
        assert len(at_venue) == 1
        assert str(at_venue[0].order_id) == settled["venue_order_id"]
    finally:
        restarted.ensure_stopped()


def test_a_wrong_accounts_file_or_a_missing_key_stops_the_start_with_78_and_one_sentence(
    tmp_path: Path,
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "accounts:\n  binance:\n    main: {type: boss}\naccount_routing: {default: main}\n"
    )
    good = tmp_path / "accounts.yaml"
    good.write_text(
        "accounts:\n  binance:\n    main: {type: main, spot_enabled: true}\n"
        "account_routing: {default: main}\n"
    )
    cases = [
        (bad, {"ATLAS_MASTER_KEY": MASTER}, "bad.yaml"),
        (good, {}, "master key"),  # no master key at all
        (good, {"ATLAS_MASTER_KEY": MASTER}, SPOT_ACCOUNT),  # no key stored for the account
    ]
    for accounts, env, named in cases:
        run = subprocess.run(
            [
                *(sys.executable, "-m", "atlas_oms.cli", "serve"),
                *("--data-dir", str(tmp_path / "d"), "--accounts-file", str(accounts)),
                *("--port", "0"),
            ],
            env={
                **{k: v for k, v in os.environ.items() if not k.startswith("ATLAS_")},
                **env,
            },
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert run.returncode == 78, (named, run.returncode, run.stderr[-2000:])
        last = run.stderr.strip().splitlines()[-1]
        assert last.startswith("atlas serve: ") and named in last, last
        assert "Traceback" not in run.stderr
