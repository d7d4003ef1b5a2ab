"""``atlas paper`` (issue 14 §1): the same strategy as ``atlas backtest``, in paper mode, on a
recorded feed or on a venue's public market data; what it applied it can record, and ``atlas
backtest --feed`` of the recording makes the same decisions, event for event."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from atlas_oms.backtest.data import load_bars
from atlas_oms.backtest.paper import bars_of, read_feed, write_feed
from atlas_oms.cli import main
from atlas_oms.fakes.binance import FakeBinance
from atlas_oms.runtime.node import Node
from atlas_oms.simulation.market import Bar, BookSnapshot, MarketEvent, TradePrint
from atlas_oms.store.codec import encode_event

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "examples" / "data" / "BTCUSDT-1m-sample.csv"
SMA = str(ROOT / "examples" / "strategies" / "sma_crossover.py") + ":SmaCrossover"
BREAKOUT = str(ROOT / "examples" / "strategies" / "breakout_intents.py") + ":BreakoutIntents"
FILES = ("summary.json", "report.html")
PER_ACCOUNT = ("trades.jsonl", "fills.jsonl", "equity.csv")
D1 = Decimal(1)
D = Decimal


#: The SMA example on book ticks with small windows, one account: the strategy options every
#: venue run and its backtest share.
BOOK_SMA = [
    "--strategy",
    SMA,
    "--param",
    "on=book",
    "--param",
    "fast=2",
    "--param",
    "slow=4",
    "--param",
    "qty=0.001",
    "--account",
    "demo=10000",
]


def _journal(path: Path) -> list[bytes]:
    node = Node(str(path))
    try:
        return [encode_event(e) for e in node.events()]
    finally:
        node.close()


def _config(tmp_path: Path) -> Path:
    config = tmp_path / "run.yaml"
    config.write_text(
        f"accounts:\n  sma: {{strategy: '{SMA}', capital: 10000}}\n"
        f"  breakout: {{strategy: '{BREAKOUT}', capital: 10000}}\n"
    )
    return config


def test_paper_on_a_recorded_feed_decides_as_backtest_of_the_same_feed(tmp_path: Path) -> None:
    feed = tmp_path / "feed.jsonl"
    write_feed(feed, load_bars(SAMPLE)[:1_200])
    config = _config(tmp_path)
    common = ["--config", str(config), "--quiet"]
    paper, back = tmp_path / "paper", tmp_path / "back"
    rc = main(
        [
            "paper",
            *common,
            "--feed",
            str(feed),
            "--speed",
            "0",
            "--out",
            str(paper),
            "--journal",
            str(paper / "run.journal"),
        ]
    )
    assert rc == 0
    rc = main(
        [
            "backtest",
            *common,
            "--feed",
            str(feed),
            "--out",
            str(back),
            "--journal",
            str(back / "run.journal"),
        ]
    )
    assert rc == 0
    for name in FILES:
        assert (paper / name).exists()
    for account in ("sma", "breakout"):
        for name in PER_ACCOUNT:
            a, b = paper / f"{account}.{name}", back / f"{account}.{name}"
            assert a.read_bytes() == b.read_bytes(), f"{account}.{name} differs"
    assert (paper / "sma.fills.jsonl").read_text().count("\n") > 10
    a, b = _journal(paper / "run.journal"), _journal(back / "run.journal")
    assert len(a) == len(b) > 1_000
    for i, (x, y) in enumerate(zip(a, b, strict=True)):
        assert x == y, f"event {i + 1} differs"
    ps = json.loads((paper / "summary.json").read_text())
    bs = json.loads((back / "summary.json").read_text())
    assert ps["accounts"] == bs["accounts"]


def test_paper_stops_after_until_events_and_writes_the_files(tmp_path: Path) -> None:
    feed = tmp_path / "feed.jsonl"
    write_feed(feed, load_bars(SAMPLE)[:300])
    out = tmp_path / "out"
    rc = main(
        [
            "paper",
            "--feed",
            str(feed),
            "--speed",
            "0",
            "--until-events",
            "100",
            "--strategy",
            SMA,
            "--account",
            "demo=10000",
            "--out",
            str(out),
            "--no-report",
            "--record",
            str(tmp_path / "again.jsonl"),
            "--quiet",
        ]
    )
    assert rc == 0
    assert (out / "summary.json").exists() and not (out / "report.html").exists()
    assert len(read_feed(tmp_path / "again.jsonl")) == 100  # what it applied, no more


def test_paper_needs_one_source(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["paper", "--strategy", SMA, "--account", "a=1", "--out", str(tmp_path)])
    assert rc == 2
    assert "--feed FILE or --venue" in capsys.readouterr().err


# ------------------------------------------------------------------------- the venue (fake)
@pytest.fixture
def fake() -> Iterator[FakeBinance]:
    venue = FakeBinance([])
    with venue.running_in_thread() as running:
        running.call(running.venue.house_quote, "spot", "BTCUSDT", "SELL", "61000", "5")
        running.call(running.venue.house_quote, "spot", "BTCUSDT", "BUY", "59000", "5")
        yield running


def _lines(path: Path) -> int:
    return path.read_text().count("\n") if path.exists() else 0


def test_paper_on_the_venues_market_data_fills_at_its_prices_and_stops_on_sigterm(
    tmp_path: Path, fake: FakeBinance
) -> None:
    out, record = tmp_path / "out", tmp_path / "feed.jsonl"
    cmd = [
        sys.executable,
        "-m",
        "atlas_oms.cli",
        "paper",
        "--venue",
        "binance",
        "--base-url",
        fake.http,
        "--symbol",
        "BTC/USDT",
        *BOOK_SMA,
        "--out",
        str(out),
        "--journal",
        str(out / "run.journal"),
        "--record",
        str(record),
        "--duration",
        "120",
    ]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ)
    )

    def quote(side: str, price: int) -> None:
        fake.call(fake.venue.house_quote, "spot", "BTCUSDT", side, str(price), "1")

    try:
        # Until the session streams the book: more bid at the best bid (a book ticker each time).
        deadline = time.monotonic() + 60
        while _lines(record) == 0:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "no market data reached the paper session"
            quote("BUY", 59000)
            time.sleep(0.2)
        # The mid goes up, down (no position: no sell), up (a buy at the ask), down (a sell at
        # the bid): bids rise, asks fall, one level at a time.
        steps = [("BUY", 59000 + 50 * i) for i in range(1, 11)]
        steps += [("SELL", 61000 - 50 * i) for i in range(1, 11)]
        steps += [("BUY", 59500 + 50 * i) for i in range(1, 9)]
        steps += [("SELL", 60500 - 50 * i) for i in range(1, 9)]
        for side, price in steps:
            quote(side, price)
            time.sleep(0.1)
        time.sleep(1.0)
    finally:
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, stderr
    for name in FILES:
        assert (out / name).exists(), stdout
    fills = [json.loads(x) for x in (out / "demo.fills.jsonl").read_text().splitlines()]
    assert [(f["side"], Decimal(f["price"])) for f in fills] == [
        ("BUY", Decimal(60500)),  # the venue's ask when the fast average crossed above
        ("SELL", Decimal(59900)),  # its bid when it crossed back below
    ]
    # The recording replays as a backtest with the same decisions.
    back = tmp_path / "back"
    rc = main(
        [
            "backtest",
            "--feed",
            str(record),
            *BOOK_SMA,
            "--out",
            str(back),
            "--journal",
            str(back / "run.journal"),
            "--quiet",
            "--no-report",
        ]
    )
    assert rc == 0
    assert (back / "demo.fills.jsonl").read_bytes() == (out / "demo.fills.jsonl").read_bytes()
    assert _journal(back / "run.journal") == _journal(out / "run.journal")


# ------------------------------------------------------------------------- bars from ticks
def _trades(n_bars: int) -> list[TradePrint]:
    """Four trade prints a minute along each sample bar's path (open, extremes, close)."""
    out: list[TradePrint] = []
    for bar in load_bars(SAMPLE)[:n_bars]:
        step = (bar.ts - bar.start_ns) // 4
        for i, price in enumerate((bar.open, bar.high, bar.low, bar.close)):
            out.append(
                TradePrint(symbol=bar.symbol, ts=bar.start_ns + i * step, price=price, qty=D1)
            )
    return out


def test_bars_of_builds_ohlcv_bars_from_trades_and_mids_and_yields_each_when_it_is_over() -> None:
    minute = 60_000_000_000
    t0 = 1_700_000_000 * 1_000_000_000 - (1_700_000_000 * 1_000_000_000) % minute

    def trade(s: int, price: int, qty: str = "1") -> TradePrint:
        return TradePrint(symbol="BTCUSDT", ts=t0 + s * 1_000_000_000, price=D(price), qty=D(qty))

    def book(s: int, bid: int, ask: int) -> BookSnapshot:
        return BookSnapshot(
            symbol="BTCUSDT", ts=t0 + s * 1_000_000_000, bids=((D(bid), D1),), asks=((D(ask), D1),)
        )

    ticks = [
        book(1, 99, 101),  # a mid, then trades: the bar is the trades'
        trade(2, 100),
        trade(10, 105, "2"),
        trade(30, 98),
        trade(59, 101),
        book(61, 109, 111),  # the next minute: no trade, its mids make the bar
        book(70, 111, 113),
        trade(125, 120),  # two minutes on: both bars are over
    ]

    async def source() -> AsyncIterator[MarketEvent]:
        for t in ticks:
            yield t

    async def main() -> list[MarketEvent]:
        return [e async for e in bars_of(source(), minute)]

    first, second = asyncio.run(main())
    assert isinstance(first, Bar) and isinstance(second, Bar)
    assert (first.start_ns, first.ts) == (t0, t0 + minute)
    assert (first.open, first.high, first.low, first.close, first.volume) == (
        D(100), D(105), D(98), D(101), D(5)
    )  # fmt: skip
    assert (second.open, second.high, second.low, second.close, second.volume) == (
        D(110), D(112), D(110), D(112), D(0)
    )  # fmt: skip


def test_paper_with_bars_runs_a_bar_strategy_on_ticks_and_its_recording_backtests_the_same(
    tmp_path: Path,
) -> None:
    feed = tmp_path / "trades.jsonl"
    write_feed(feed, _trades(400))
    paper, back, record = tmp_path / "paper", tmp_path / "back", tmp_path / "bars.jsonl"
    common = ["--strategy", SMA, "--account", "demo=10000", "--quiet", "--no-report"]
    rc = main(
        [
            "paper",
            *common,
            "--feed",
            str(feed),
            "--speed",
            "0",
            "--bars",
            "1m",
            "--out",
            str(paper),
            "--record",
            str(record),
        ]
    )
    assert rc == 0
    recorded = read_feed(record)
    assert len(recorded) == 399 and all(
        isinstance(e, Bar) for e in recorded
    )  # the last: unfinished
    bars = load_bars(SAMPLE)[:399]
    assert [(b.open, b.high, b.low, b.close) for b in recorded] == [
        (b.open, b.high, b.low, b.close) for b in bars
    ]
    fills = (paper / "demo.fills.jsonl").read_text()
    assert fills.count("\n") >= 2
    rc = main(["backtest", *common, "--feed", str(record), "--out", str(back)])
    assert rc == 0
    assert (back / "demo.fills.jsonl").read_text() == fills
