"""REST views of the consolidated market data: GET /v1/books/{symbol}/consolidated (levels with
venue, normalized and fee-adjusted prices; per-venue best and age) and GET
/v1/market/{symbol}/stats (VWAP/TWAP per venue and window)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from atlas_oms import Instrument, ManualClock, Node
from atlas_oms.model.route_book import BookLevel, VenueBook
from atlas_oms.service.app import create_app
from atlas_oms.service.keys import KeyStore
from atlas_oms.service.settings import ServiceSettings

S = 1_000_000_000


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Any]:
    keys = KeyStore(tmp_path / "keys.json")
    tokens = {
        "t": keys.issue(("trader",), ("t",)).token,
        "other": keys.issue(("trader",), ("other",)).token,
    }
    clock = ManualClock(10 * S)
    node = Node.open(str(tmp_path / "atlas.db"), clock=clock)
    node.add_instrument(
        Instrument.spot("BTC/USDT", tick_size="0.01", lot_size="0.001", taker_fee="0.001")
    )
    for a in ("t", "other"):
        node.open_account(a)
        node.deposit(a, "USDT", 100_000)
        node.deposit(a, "BTC", 10)
    node.submit("other", "BTC/USDT", "SELL", "LIMIT", "1", "101")
    node.submit("other", "BTC/USDT", "BUY", "LIMIT", "2", "99")
    settings = ServiceSettings(
        data_dir=tmp_path,
        rate_limit_per_s=1000,
        market_maker=False,
        md_rates={"KRW/USDT": D("0.0005")},
        md_stale_ms=5_000,
    )
    app = create_app(settings, node=node, keys=keys)
    with TestClient(app) as client:

        def call(who: str, path: str, **params: Any) -> Any:
            return client.get(path, headers={"X-API-Key": tokens[who]}, params=params)

        call.md = app.state.service.market_data  # type: ignore[attr-defined]
        call.node = node  # type: ignore[attr-defined]
        yield call
    node.close()


def test_the_consolidated_book_merges_the_built_in_exchange_and_venues(api: Any) -> None:
    api.md.apply(
        VenueBook(
            venue="upbit",
            symbol="BTC/KRW@upbit",
            bids=(BookLevel(D("199000"), D("0.5")),),
            asks=(BookLevel(D("200800"), D("0.3")),),
            ts=8 * S,
        )
    )
    reply = api("t", "/v1/books/BTC/USDT/consolidated", depth=5, account_id="t")
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert (body["symbol"], body["quote"], body["account_id"]) == ("BTC/USDT", "USDT", "t")
    asks = [
        (a["venue"], D(a["price"]), D(a["normalized_price"]), D(a["qty"])) for a in body["asks"]
    ]
    assert asks == [
        ("upbit", D("200800"), D("100.4"), D("0.3")),
        ("sim", D("101"), D("101"), D("1")),
    ]
    sim_ask = body["asks"][1]
    assert D(sim_ask["fee_adjusted_price"]) == D("101") * D("1.001")
    assert [b["venue"] for b in body["bids"]] == ["upbit", "sim"]
    venues = {v["venue"]: v for v in body["venues"]}
    assert venues["upbit"]["age_ms"] == 2_000 and not venues["upbit"]["stale"]
    assert D(venues["sim"]["bid"]) == D("99") and venues["sim"]["age_ms"] == 0


def test_consolidated_book_access_and_unknown_symbols(api: Any) -> None:
    assert api("t", "/v1/books/BTC/USDT/consolidated", account_id="other").status_code == 404
    reply = api("t", "/v1/books/ETH/USDT/consolidated")
    assert reply.status_code == 404 and reply.json()["reason"] == "NO_BOOK"


def test_market_stats_show_vwap_and_twap_per_venue_and_window(api: Any) -> None:
    api.node.clock.set(20 * S)
    api.node.submit("t", "BTC/USDT", "BUY", "LIMIT", "1", "101")  # takes the 101 ask
    api.md.stats.add("BTC/USDT@bybit", 25 * S, D("103"), D("1"), "bybit")
    api.node.clock.set(30 * S)
    body = api("t", "/v1/market/BTC/USDT/stats").json()
    assert body["windows_s"] == [60, 300]
    venues = {v["venue"]: v for v in body["venues"]}
    sim = venues["sim"]["windows"][0]
    assert (sim["window_s"], D(sim["vwap"]), D(sim["volume"]), sim["trades"]) == (
        60,
        D("101"),
        D("1"),
        1,
    )
    (consolidated,) = body["consolidated"]
    assert D(consolidated["windows"][0]["vwap"]) == D("102")


def test_the_blotter_has_a_consolidated_book_panel() -> None:
    from atlas_oms.service.blotter import STATIC

    page = (STATIC / "index.html").read_text()
    script = (STATIC / "blotter.js").read_text()
    assert 'id="cbook"' in page and 'id="cbook-venues"' in page and 'id="cbook-form"' in page
    assert "/consolidated?" in script and 'channel: "consolidated"' in script
