"""Paper beside live in one ``atlas serve`` (issue 14 §1): accounts.yaml names a live Binance spot
account and a ``mode: paper`` one; the paper account trades on the simulated venue
``paper-binance`` whose fills come from the (fake) venue's public market data; the live account
trades at the venue as before; a restart keeps the paper account's resting orders, which then
fill when the venue's market comes to them."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.service.serving import Served
from tests.service.test_serve_venues import KEY, MASTER, SECRET, order_of, tradable, wait_for

from atlas_oms.fakes.binance import AccountConfig, FakeBinance
from atlas_oms.runtime.paper import paper_symbol
from atlas_oms.venues.accounts import parse_accounts
from atlas_oms.venues.credentials import KeyStore

D = Decimal
LIVE = "binance_spot_main"
PAPER = "binance_spot_paper"
PAPER_BTC = paper_symbol("BTC/USDT", "paper-binance")


@pytest.fixture
def fake() -> Iterator[FakeBinance]:
    venue = FakeBinance(
        [
            AccountConfig(
                name="desk", api_key=KEY, secret=SECRET, spot={"USDT": D(100000), "BTC": D(1)}
            )
        ]
    )
    with venue.running_in_thread() as running:
        running.call(running.venue.house_quote, "spot", "BTCUSDT", "SELL", "60010", "5")
        running.call(running.venue.house_quote, "spot", "BTCUSDT", "BUY", "59990", "5")
        yield running


def accounts_yaml(fake: FakeBinance) -> str:
    return f"""
accounts:
  binance:
    main:
      type: main
      spot_enabled: true
    paper:
      type: main
      mode: paper
      spot_enabled: true
      paper_balances: {{USDT: 50000}}
account_routing:
  default: main
venues:
  binance:
    rest_url: "{fake.http}"
    ws_url: "{fake.ws}/ws"
    ws_api_url: "{fake.ws}/ws-api/v3"
    timeout_ms: 2000
"""


def test_accounts_yaml_paper_mode_resolves_to_a_paper_venue_without_a_key() -> None:
    config = parse_accounts(
        """
accounts:
  binance:
    main: {type: main, spot_enabled: true}
    paper: {type: main, mode: paper, spot_enabled: true, paper_balances: {USDT: 1000}}
account_routing: {default: main}
"""
    )
    assert [a.account_id for a in config.accounts] == [LIVE]  # only live ones get a session
    (paper,) = config.paper
    assert (paper.account_id, paper.venue, paper.real_venue) == (PAPER, "paper-binance", "binance")
    assert paper.paper_balances == {"USDT": D(1000)}
    assert (PAPER, None) in config.opening_order()
    only_paper = parse_accounts(
        "accounts:\n  binance:\n    paper: {type: main, mode: paper, spot_enabled: true}\n"
        "account_routing: {default: paper}\n"
    )
    assert only_paper.keyring(None, None) is not None  # no key source needed


def test_paper_balances_on_a_live_account_is_refused() -> None:
    from atlas_oms.venues.accounts import AccountsConfigError

    with pytest.raises(AccountsConfigError, match="paper_balances"):
        parse_accounts(
            "accounts:\n  binance:\n    main: {type: main, spot_enabled: true, "
            "paper_balances: {USDT: 1}}\naccount_routing: {default: main}\n"
        )


def _submit(served: Served, body: dict[str, Any]) -> dict[str, Any]:
    r = httpx.post(f"{served.url}/v1/orders", json=body, headers=served.keys()["trader"])
    assert r.status_code in (200, 201), r.text
    return r.json()  # type: ignore[no-any-return]


def test_a_paper_account_beside_a_live_one_fills_on_the_venues_market_data_and_survives_a_restart(
    tmp_path: Path, fake: FakeBinance
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    accounts = tmp_path / "accounts.yaml"
    accounts.write_text(accounts_yaml(fake))
    KeyStore(data / "venue-keys.json", base64.b64decode(MASTER)).set(LIVE, KEY, SECRET)
    env = {
        "ATLAS_ACCOUNTS_FILE": str(accounts),
        "ATLAS_MASTER_KEY": MASTER,
        "ATLAS_VENUE_STREAM_WAIT_S": "0.5",
        "ATLAS_VENUE_VISIBILITY_S": "2",
        "ATLAS_VENUE_PRICE_EVERY_S": "0.05",
    }
    served = Served(data, env=env).start()
    try:
        wait_for(lambda: tradable(served, LIVE), what="live spot tradable")
        trader = served.keys()["trader"]

        def listed() -> bool:
            r = httpx.get(f"{served.url}/v1/instruments", headers=trader).json()
            return any(i["symbol"] == PAPER_BTC and i["venue"] == "paper-binance" for i in r)

        wait_for(listed, what="the paper instrument")
        balances = httpx.get(
            f"{served.url}/v1/balances", params={"account_id": PAPER}, headers=trader
        ).json()
        assert {b["asset"]: D(b["total"]) for b in balances}["USDT"] == D(50000)

        # A paper market buy fills at the venue's ask (the book ticker), never at the venue.
        n = iter(range(1000))

        def market_buy() -> dict[str, Any] | None:
            # The venue streams its book ticker when the book changes: a little more bid.
            fake.call(fake.venue.house_quote, "spot", "BTCUSDT", "BUY", "59990", "0.001")
            body = {
                "account_id": PAPER,
                "symbol": PAPER_BTC,
                "side": "BUY",
                "order_type": "MARKET",
                "qty": "0.01",
                "client_order_id": f"paper-mkt-{next(n)}",
            }
            r = httpx.post(f"{served.url}/v1/orders", json=body, headers=served.keys()["trader"])
            if r.status_code == 422 and r.json()["reason"] == "NO_REFERENCE_PRICE":
                return None  # no tick from the venue yet
            assert r.status_code in (200, 201), r.text
            view = r.json()
            done = wait_for(
                lambda: (
                    order_of(served, view["order_id"], PAPER)["status"]
                    in ("FILLED", "REJECTED", "DENIED", "CANCELED")
                    and order_of(served, view["order_id"], PAPER)
                ),
                what="the paper market order's end",
            )
            return done if done["status"] == "FILLED" else None

        filled = wait_for(market_buy, what="a filled paper market order (data arrived)")
        assert D(filled["avg_px"]) == D(60010)
        venue_orders = fake.call(lambda: list(fake.venue.orders.values()))
        assert not any(
            getattr(o, "account", None) == "desk" for o in venue_orders
        )  # nothing of the paper account reached Binance

        # The live account trades at the venue on the same node.
        live = _submit(
            served,
            {
                "account_id": LIVE,
                "symbol": "BTC/USDT",
                "side": "BUY",
                "order_type": "LIMIT",
                "qty": "0.01",
                "price": "60010",
                "client_order_id": "live-1",
            },
        )
        done = wait_for(
            lambda: (o := order_of(served, live["order_id"], LIVE))["status"] == "FILLED" and o,
            what="the live order filled at the venue",
        )
        assert done["venue"] == "binance" and D(done["avg_px"]) == D(60010)

        # A resting paper bid below the market survives a restart...
        resting = _submit(
            served,
            {
                "account_id": PAPER,
                "symbol": PAPER_BTC,
                "side": "BUY",
                "order_type": "LIMIT",
                "qty": "0.02",
                "price": "59000",
            },
        )
        assert resting["status"] in ("ACCEPTED", "SUBMITTED"), resting
    finally:
        code, _, log = served.stop()
    assert code == 0, log[-3000:]
    served.start()
    try:
        wait_for(lambda: tradable(served, LIVE), what="live spot tradable after the restart")
        assert order_of(served, resting["order_id"], PAPER)["status"] == "ACCEPTED"
        # ... and fills when the venue's market comes down to it (the restored book).
        fake.call(fake.venue.house_quote, "spot", "BTCUSDT", "SELL", "58990", "10")
        done = wait_for(
            lambda: (o := order_of(served, resting["order_id"], PAPER))["status"] == "FILLED" and o,
            what="the restored paper order filled",
        )
        assert D(done["avg_px"]) == D(59000)
    finally:
        code, _, log = served.stop()
    assert code == 0, log[-3000:]
