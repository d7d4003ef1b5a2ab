"""A paper account of ``atlas serve`` on a recorded feed (issue 14 §1: "or against a recorded
feed"): accounts.yaml names ``feed:``; the feed's events go through the same MarketCore as a live
venue's ticks, fill the paper account's orders at the recorded prices, loop without time going
back, and a feed that cannot be used is a typed configuration error."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

import pytest

from atlas_oms.model.instrument import Instrument
from atlas_oms.runtime.clock import ManualClock
from atlas_oms.runtime.node import Node
from atlas_oms.runtime.paper import PaperFeed, attach_paper, paper_symbol
from atlas_oms.runtime.paper_replay import load_feeds, playback, restamp, run_recorded
from atlas_oms.simulation.config import FillConfig
from atlas_oms.simulation.feed import write_feed, write_instruments
from atlas_oms.simulation.market import Bar, BookSnapshot, MarketEvent, TradePrint
from atlas_oms.simulation.venue import SimulatedVenue
from atlas_oms.store.memory import MemoryJournal
from atlas_oms.venues.accounts import AccountsConfig, AccountsConfigError, parse_accounts

D = Decimal
S = 1_000_000_000
VENUE = "paper-binance"
REAL = Instrument.spot("BTC/USDT", tick_size="0.01", lot_size="0.00001", venue="binance")
SYM = paper_symbol("BTC/USDT", VENUE)
T0 = 1_700_000_000 * S  # the recording's time: long before the node's


def trade(ts: int, price: str, qty: str = "5") -> TradePrint:
    return TradePrint(symbol="BTC/USDT", ts=ts, price=D(price), qty=D(qty))


def book(ts: int, bid: str, ask: str) -> BookSnapshot:
    return BookSnapshot(symbol="BTC/USDT", ts=ts, bids=((D(bid), D(3)),), asks=((D(ask), D(3)),))


def recorded_feed(folder: Path, events: list[MarketEvent], *, instruments: bool = True) -> Path:
    path = folder / "feed.jsonl"
    write_feed(path, events)
    if instruments:
        write_instruments(path, [REAL])
    return path


def accounts(folder: Path, extra: str = "feed_speed: 0, feed_loop: false") -> AccountsConfig:
    text = (
        "accounts:\n  binance:\n"
        f"    paper: {{type: main, mode: paper, spot_enabled: true, feed: feed.jsonl, {extra}}}\n"
        "account_routing: {default: paper}\n"
    )
    return parse_accounts(text, source=str(folder / "accounts.yaml"), base=folder)


def paper_node(clock: ManualClock) -> tuple[Node, PaperFeed]:
    node = Node(MemoryJournal(), clock=clock)
    venue = attach_paper(node, SimulatedVenue(name=VENUE, config=FillConfig()))
    node.open_account("paper")
    node.deposit("paper", "USDT", 100_000)
    return node, PaperFeed(node, venue, every_s=0.0, now=lambda: 0.0)


class Sleeps:
    """asyncio.sleep for a replay on a ManualClock: moves the clock, stops after ``limit``."""

    def __init__(self, clock: ManualClock, limit: int | None = None) -> None:
        self.clock, self.limit, self.delays = clock, limit, list[float]()

    async def __call__(self, seconds: float) -> None:
        if self.limit is not None and len(self.delays) >= self.limit:
            raise asyncio.CancelledError
        self.delays.append(seconds)
        self.clock.advance(round(seconds * S))


def test_a_recorded_feed_fills_a_paper_limit_order_at_the_recorded_price(tmp_path: Path) -> None:
    recorded_feed(
        tmp_path,
        [
            book(T0, "59990", "60010"),
            trade(T0 + 1 * S, "60000"),
            trade(T0 + 2 * S, "59500"),
            trade(T0 + 3 * S, "59000", qty="2"),  # down to the order's price, enough volume
            book(T0 + 4 * S, "58990", "59010"),
        ],
    )
    (recorded,) = load_feeds(accounts(tmp_path)).values()
    assert (recorded.speed, recorded.loop, len(recorded.events)) == (0.0, False, 5)
    clock = ManualClock(5 * S)
    node, feed = paper_node(clock)
    feed.list_instruments(recorded.instruments)
    assert node.instrument(SYM) is not None and node.instrument(SYM).venue == VENUE  # type: ignore[union-attr]
    order = node.submit("paper", SYM, "BUY", "LIMIT", "0.5", "59000")
    assert order.status == "ACCEPTED"

    asyncio.run(run_recorded(feed, recorded, sleep=Sleeps(clock)))

    done = node.order(order.order_id)
    assert done is not None and done.status == "FILLED" and done.avg_px == D(59000)
    fill = next(f for f in node.fills() if f.order_id == order.order_id)
    assert 5 * S <= fill.ts_event < T0  # stamped on the node's clock, never the recording's 2023
    assert node.last_price(SYM) == D(59000)  # the core follows the feed while the order lives
    # A market order after the feed ended fills on the venue's last market (the last book).
    bought = node.submit("paper", SYM, "BUY", "MARKET", "0.1")
    assert bought.status == "FILLED" and bought.avg_px == D(59010)


def test_a_loop_pass_keeps_time_monotonic_and_the_prices_go_on(tmp_path: Path) -> None:
    recorded_feed(tmp_path, [trade(T0, "100"), trade(T0 + S, "101"), trade(T0 + 3 * S, "102")])
    (recorded,) = load_feeds(accounts(tmp_path, "feed_speed: 2")).values()
    assert (recorded.speed, recorded.loop) == (2.0, True)
    clock = ManualClock(10 * S)
    _, feed = paper_node(clock)
    seen: list[MarketEvent] = []
    on_event = feed.on_event

    def spy(event: MarketEvent) -> None:
        seen.append(event)
        on_event(event)

    feed.on_event = spy  # type: ignore[method-assign]
    sleeps = Sleeps(clock, limit=8)
    with pytest.raises(asyncio.CancelledError):
        asyncio.run(run_recorded(feed, recorded, sleep=sleeps))

    # The recording's gaps at speed 2; a pass restarts one average gap (3 s / 2) after the last.
    assert sleeps.delays == [0.0, 0.5, 1.0, 0.75, 0.5, 1.0, 0.75, 0.5]
    prices = [e.price for e in seen if isinstance(e, TradePrint)]
    assert prices == [D(p) for p in (100, 101, 102, 100, 101, 102, 100, 101)]
    stamps = [e.ts for e in seen]
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)  # forward, across passes
    assert stamps[0] == 10 * S and stamps[3] - stamps[2] == int(0.75 * S)
    assert feed.node.last_price(SYM) == D(101)  # the reference price followed the loop


def test_playback_and_restamp() -> None:
    one = [trade(T0, "1"), trade(T0, "2")]  # one instant: a pass every second
    pairs = list(zip(range(5), playback(one, speed=1.0), strict=False))
    assert [d for _, (d, _) in pairs] == [0.0, 0.0, 1.0, 0.0, 1.0]
    assert [d for d, _ in playback([trade(T0, "1"), trade(T0 - S, "2")], loop=False)] == [0, 0]
    bar = Bar(symbol="X", start_ns=T0 - 60 * S, ts=T0, open=D(1), high=D(2), low=D(1), close=D(2))
    moved = restamp(bar, 5 * S)
    assert isinstance(moved, Bar) and (moved.start_ns, moved.ts) == (-55 * S, 5 * S)


def _refusal(tmp_path: Path, extra: str = "feed_speed: 0") -> str:
    with pytest.raises(AccountsConfigError) as err:
        load_feeds(accounts(tmp_path, extra))
    assert err.value.reason == "ACCOUNTS_CONFIG_INVALID"
    return str(err.value)


def test_a_feed_that_cannot_be_used_is_a_configuration_error(tmp_path: Path) -> None:
    assert "no such file" in _refusal(tmp_path)  # missing: refused when the file is read
    feed = recorded_feed(tmp_path, [trade(T0, "1")], instruments=False)
    assert "feed.jsonl.instruments.json is missing" in _refusal(tmp_path)
    write_instruments(feed, [REAL])
    with feed.open("a") as fh:
        fh.write('{"type": "trade", "symbol": "BTC/USDT"}\n')
    message = _refusal(tmp_path)
    assert (
        "accounts.binance.paper.feed" in message and "feed.jsonl:2: not a market event" in message
    )
    write_feed(feed, [trade(T0, "1"), TradePrint(symbol="ETH/USDT", ts=T0, price=D(1), qty=D(1))])
    assert "does not list ETH/USDT" in _refusal(tmp_path)
    write_feed(feed, [])
    assert "no market event" in _refusal(tmp_path)
    write_feed(feed, [trade(T0, "1")])
    assert "must be zero or more" in _refusal(tmp_path, "feed_speed: -1")


def test_feed_settings_belong_to_paper_accounts_sharing_one_market(tmp_path: Path) -> None:
    recorded_feed(tmp_path, [trade(T0, "1")])

    def refused(text: str) -> str:
        with pytest.raises(AccountsConfigError) as err:
            parse_accounts(text, base=tmp_path)
        return str(err.value)

    live = "accounts:\n  binance:\n    main: {type: main, spot_enabled: true, %s}\n"
    live += "account_routing: {default: main}\n"
    assert "applies to paper accounts only" in refused(live % "feed: feed.jsonl")
    assert "with a feed only" in refused(live % "feed_loop: false")
    two = (
        "accounts:\n  binance:\n"
        "    a: {type: main, mode: paper, spot_enabled: true, feed: feed.jsonl}\n"
        "    b: {type: main, mode: paper, spot_enabled: true}\n"
        "account_routing: {default: a}\n"
    )
    assert "share one market" in refused(two)
    (acc,) = accounts(tmp_path, "feed_speed: 1").paper
    assert acc.feed == tmp_path / "feed.jsonl" and acc.feed_loop is True
