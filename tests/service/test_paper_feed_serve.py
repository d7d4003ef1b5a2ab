"""``atlas serve`` with a paper account on a recorded feed (issue 14 §1: "or against a recorded
feed"): accounts.yaml names ``feed:`` (relative to its folder); the paper venue lists the feed's
instruments (``FEED.instruments.json``) and replays it in a loop, so a market order over REST fills
at the feed's price with no venue adapter, no key and no network (the venue's URLs point at a port
nothing listens on). A feed file that is missing stops the start with exit code 78."""

from __future__ import annotations

import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from tests.service.serving import Served, free_port
from tests.service.test_serve_venues import order_of, wait_for

from atlas_oms.model.instrument import Instrument
from atlas_oms.runtime.paper import paper_symbol
from atlas_oms.simulation.feed import write_feed, write_instruments
from atlas_oms.simulation.market import BookSnapshot, TradePrint

D = Decimal
S = 1_000_000_000
PAPER = "binance_spot_paper"
PAPER_BTC = paper_symbol("BTC/USDT", "paper-binance")
NOWHERE = f"http://127.0.0.1:{free_port()}"  # nothing listens: any venue call would fail

ACCOUNTS = f"""
accounts:
  binance:
    paper:
      type: main
      mode: paper
      spot_enabled: true
      paper_balances: {{USDT: 50000}}
      feed: feeds/btc.jsonl
      feed_speed: 1
account_routing:
  default: paper
venues:
  binance:
    rest_url: "{NOWHERE}"
    ws_url: "ws://127.0.0.1:1/ws"
    timeout_ms: 500
"""


def record(folder: Path) -> Path:
    """A recorded feed of BTC/USDT (a book and a trade every 50 ms) with its instruments."""
    folder.mkdir(parents=True, exist_ok=True)
    feed = folder / "btc.jsonl"
    t0 = 1_700_000_000 * S
    events: list[Any] = []
    for i in range(4):
        ts = t0 + i * S // 20
        bids, asks = ((D(59990), D(2)),), ((D(60010), D(2)),)
        events.append(BookSnapshot(symbol="BTC/USDT", ts=ts, bids=bids, asks=asks))
        events.append(TradePrint(symbol="BTC/USDT", ts=ts, price=D(60000), qty=D("0.5")))
    write_feed(feed, events)
    inst = Instrument.spot("BTC/USDT", tick_size="0.01", lot_size="0.00001", venue="binance")
    write_instruments(feed, [inst])
    return feed


def test_a_paper_account_on_a_recorded_feed_fills_a_market_order_without_a_network(
    tmp_path: Path,
) -> None:
    record(tmp_path / "feeds")
    (tmp_path / "accounts.yaml").write_text(ACCOUNTS)
    data = tmp_path / "data"
    env = {
        "ATLAS_ACCOUNTS_FILE": str(tmp_path / "accounts.yaml"),
        "ATLAS_VENUE_PRICE_EVERY_S": "0.05",
    }
    served = Served(data, env=env).start()
    try:
        trader = served.keys()["trader"]

        def listed() -> bool:
            r = httpx.get(f"{served.url}/v1/instruments", headers=trader).json()
            return any(i["symbol"] == PAPER_BTC and i["venue"] == "paper-binance" for i in r)

        wait_for(listed, what="the feed's instrument listed on the paper venue")
        n = iter(range(1000))

        def market_buy() -> dict[str, Any] | None:
            body = {
                "account_id": PAPER,
                "symbol": PAPER_BTC,
                "side": "BUY",
                "order_type": "MARKET",
                "qty": "0.01",
                "client_order_id": f"feed-mkt-{next(n)}",
            }
            r = httpx.post(f"{served.url}/v1/orders", json=body, headers=trader)
            if r.status_code == 422 and r.json()["reason"] == "NO_REFERENCE_PRICE":
                return None  # the feed's first prices are not there yet
            assert r.status_code in (200, 201), r.text
            done = wait_for(
                lambda: (
                    (o := order_of(served, r.json()["order_id"], PAPER))["status"]
                    in ("FILLED", "REJECTED", "DENIED", "CANCELED")
                    and o
                ),
                what="the paper market order's end",
            )
            assert done["status"] == "FILLED", done
            return done  # type: ignore[no-any-return]

        filled = wait_for(market_buy, what="a filled paper market order")
        assert D(filled["avg_px"]) == D(60010) and filled["venue"] == "paper-binance"  # the ask
        # The paper venue said what it replays (file, events, speed, loop).
        wait_for(lambda: "paper venue paper-binance replays" in served.stderr(), what="the log")
    finally:
        code, _, log = served.stop()
    assert code == 0, log[-3000:]
    assert "paper market data of paper-binance failed" not in log  # no adapter was ever used


def test_a_missing_feed_file_stops_the_start_with_78(tmp_path: Path) -> None:
    (tmp_path / "accounts.yaml").write_text(ACCOUNTS)  # feeds/btc.jsonl does not exist
    run = subprocess.run(
        [sys.executable, "-m", "atlas_oms.cli", "serve", "--data-dir", str(tmp_path / "d")],
        env={
            **os.environ,
            "ATLAS_ACCOUNTS_FILE": str(tmp_path / "accounts.yaml"),
            "ATLAS_PORT": "1",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 78, run.stderr[-2000:]
    last = run.stderr.strip().splitlines()[-1]
    assert "accounts.binance.paper.feed" in last and "no such file" in last
    assert str(tmp_path / "feeds" / "btc.jsonl") in last
    assert "Traceback" not in run.stderr
