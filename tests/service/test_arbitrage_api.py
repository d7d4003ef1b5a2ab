"""The arbitrage watcher in the service (issue 16 §2): on by default, it journals an
``ArbitrageDetected`` when a venue's bid beats the built-in exchange's ask by more than both taker
fees and ``ATLAS_MD_ARBITRAGE_BPS``; ``GET /v1/arbitrage`` shows it (newest first, by symbol);
auto-execution is off by default (no order), and ``ATLAS_MD_ARBITRAGE=false`` turns detection
off."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from atlas_oms import Instrument, ManualClock, Node
from atlas_oms.model import events as ev
from atlas_oms.model.route_book import BookLevel, VenueBook
from atlas_oms.service.app import create_app
from atlas_oms.service.keys import KeyStore
from atlas_oms.service.settings import ServiceSettings

S = 1_000_000_000


def make_api(tmp_path: Path, **settings: Any) -> Iterator[Any]:
    keys = KeyStore(tmp_path / "keys.json")
    token = keys.issue(("trader",), ("t",)).token
    node = Node.open(str(tmp_path / "atlas.db"), clock=ManualClock(10 * S))
    node.add_instrument(
        Instrument.spot("BTC/USDT", tick_size="0.01", lot_size="0.001", taker_fee="0.001")
    )
    node.add_instrument(
        Instrument(
            symbol="BTC/USDT@bybit",
            kind="SPOT",
            base="BTC",
            quote="USDT",
            tick_size=D("0.01"),
            lot_size=D("0.001"),
            venue="bybit",
            taker_fee=D("0.001"),
        )
    )
    for a in ("t", "other"):
        node.open_account(a)
        node.deposit(a, "USDT", 100_000)
        node.deposit(a, "BTC", 10)
    node.submit("other", "BTC/USDT", "SELL", "LIMIT", "1", "101")
    config = ServiceSettings(
        data_dir=tmp_path, rate_limit_per_s=1000, market_maker=False, **settings
    )
    app = create_app(config, node=node, keys=keys)
    with TestClient(app) as client:

        def call(path: str, **params: Any) -> Any:
            return client.get(path, headers={"X-API-Key": token}, params=params)

        call.md = app.state.service.market_data  # type: ignore[attr-defined]
        call.node = node  # type: ignore[attr-defined]
        yield call
    node.close()


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Any]:
    yield from make_api(tmp_path)


def bybit_bid(price: str, qty: str, update_id: int) -> VenueBook:
    return VenueBook(
        venue="bybit",
        symbol="BTC/USDT@bybit",
        bids=(BookLevel(D(price), D(qty)),),
        ts=10 * S,
        update_id=update_id,
    )


def test_a_crossed_book_is_journaled_once_and_read_through_the_api(api: Any) -> None:
    api.md.apply(bybit_bid("102", "0.5", 1))
    api.md.apply(bybit_bid("102", "0.5", 2))  # same opportunity: nothing new
    found = [e for e in api.node.journal.read() if isinstance(e, ev.ArbitrageDetected)]
    assert [(e.status, e.opportunity.qty) for e in found] == [("NEW", D("0.5"))]
    o = found[0].opportunity
    assert (o.buy_symbol, o.sell_symbol, o.buy_px, o.sell_px) == (
        "BTC/USDT",
        "BTC/USDT@bybit",
        D("101"),
        D("102"),
    )
    api.md.apply(bybit_bid("100", "0.5", 3))  # no longer crossed
    answer = api("/v1/arbitrage", symbol="BTC/USDT@bybit")
    assert answer.status_code == 200
    body = answer.json()
    assert body["symbol"] == "BTC/USDT"
    assert [(e["type"], e["status"]) for e in body["events"]] == [
        ("ArbitrageDetected", "ENDED"),
        ("ArbitrageDetected", "NEW"),
    ]
    new = body["events"][1]
    assert D(new["opportunity"]["qty"]) == D("0.5") and new["opportunity"]["sell_venue"] == "bybit"
    assert api("/v1/arbitrage", limit=1).json()["events"][0]["status"] == "ENDED"
    assert api("/v1/arbitrage", symbol="ETH/USDT").json()["events"] == []
    # Auto-execution is off by default: no order but the market maker's.
    orders = [e for e in api.node.journal.read() if isinstance(e, ev.OrderSubmitted)]
    assert {e.intent.account_id for e in orders} == {"other"}


def test_detection_can_be_turned_off(tmp_path: Path) -> None:
    for api in make_api(tmp_path, md_arbitrage=False):
        assert api.md.arbitrage is None
        api.md.apply(bybit_bid("102", "0.5", 1))
        assert api("/v1/arbitrage").json()["events"] == []


def test_the_threshold_is_a_setting(tmp_path: Path) -> None:
    # edge after fees: 102 x 0.999 - 101 x 1.001 = 0.797 = 78.9 bps of the ask
    for api in make_api(tmp_path, md_arbitrage_bps=D("80")):
        api.md.apply(bybit_bid("102", "0.5", 1))
        assert api("/v1/arbitrage").json()["events"] == []
        api.md.apply(bybit_bid("102.10", "0.5", 2))
        assert [e["status"] for e in api("/v1/arbitrage").json()["events"]] == ["NEW"]
