"""The running node's US-market duties (runtime/us_markets.py): the NYSE calendar handed to the
core for this year and the next (once; again at the new year), the close's equity recorded at
the real close (16:00, 13:00 on an early close) for margin accounts, the corporate-action feed
file read at start and when it changes, and the task that wakes at each close."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from atlas_oms import Instrument, ManualClock, Node
from atlas_oms.model import events as ev
from atlas_oms.runtime.us_markets import FeedWatcher, run_us_markets, us_market_step

NY = ZoneInfo("America/New_York")


def ny(y: int, m: int, d: int, hh: int, mm: int = 0) -> int:
    return int(dt.datetime(y, m, d, hh, mm, tzinfo=NY).timestamp()) * 1_000_000_000


def names(events: list[ev.EventBase]) -> list[str]:
    return [type(e).__name__ for e in events]


@pytest.fixture
def node() -> Node:
    n = Node.in_memory(clock=ManualClock(ny(2026, 11, 25, 10)))
    n.add_instrument(Instrument.equity("AAPL"))
    n.open_account("margy", equity_type="MARGIN")
    n.deposit("margy", "USD", 30_000)
    n.deposit("margy", "AAPL", 10)
    n.update_prices("AAPL", last="100")
    return n


def at(node: Node, ts: int) -> list[ev.EventBase]:
    assert isinstance(node.clock, ManualClock)
    node.clock.set(ts)
    return us_market_step(node)


def test_the_calendar_of_this_year_and_the_next_is_handed_over_once(node: Node) -> None:
    (cal,) = at(node, ny(2026, 11, 25, 10))
    assert isinstance(cal, ev.SessionCalendarSet)
    assert (cal.session, cal.first_day, cal.last_day, cal.actor) == (
        "XNYS",
        "2026-01-01",
        "2027-12-31",
        "calendar",
    )
    days = {d: close for d, close, _ in cal.exceptions}
    assert days["2026-07-03"] is None and days["2026-11-27"] == 13 * 60  # holiday, early close
    assert at(node, ny(2026, 11, 25, 11)) == []  # nothing twice (nor after a restart)
    events = at(node, ny(2027, 1, 2, 10))  # the new year: 2027 and 2028
    assert [(e.first_day, e.last_day) for e in events if isinstance(e, ev.SessionCalendarSet)] == [
        ("2027-01-01", "2028-12-31")
    ]


def test_nothing_is_sent_without_us_equities() -> None:
    bare = Node.in_memory(clock=ManualClock(ny(2026, 11, 25, 17)))
    bare.add_instrument(Instrument.spot("BTC/USDT", tick_size="0.01", lot_size="0.001"))
    bare.open_account("m", equity_type="MARGIN")
    assert us_market_step(bare) == []


def test_close_equity_is_recorded_once_at_the_real_close(node: Node) -> None:
    at(node, ny(2026, 11, 25, 10))
    assert at(node, ny(2026, 11, 25, 15, 59)) == []
    (rec,) = at(node, ny(2026, 11, 25, 16))
    assert isinstance(rec, ev.CloseEquityRecorded)
    assert rec.day == "2026-11-25" and [(a, c) for a, c, _ in rec.equities] == [("margy", "USD")]
    assert at(node, ny(2026, 11, 25, 18)) == []
    assert at(node, ny(2026, 11, 26, 16, 30)) == []  # Thanksgiving: no session, no close
    assert at(node, ny(2026, 11, 27, 12, 59)) == []
    (early,) = at(node, ny(2026, 11, 27, 13))  # the early close
    assert isinstance(early, ev.CloseEquityRecorded) and early.day == "2026-11-27"


def test_cash_accounts_alone_record_no_close_equity() -> None:
    n = Node.in_memory(clock=ManualClock(ny(2026, 11, 25, 17)))
    n.add_instrument(Instrument.equity("AAPL"))
    n.open_account("cashy")
    assert names(us_market_step(n)) == ["SessionCalendarSet"]


def test_the_task_wakes_at_the_close(node: Node) -> None:
    wakes: list[int] = []

    async def sleep(seconds: float) -> None:
        assert isinstance(node.clock, ManualClock)
        node.clock.set(node.clock.now() + int(seconds * 1e9))
        wakes.append(node.clock.now())
        if len(wakes) >= 3:
            raise asyncio.CancelledError

    node.clock.set(ny(2026, 11, 25, 15, 59))  # type: ignore[attr-defined]
    with pytest.raises(asyncio.CancelledError):
        asyncio.run(run_us_markets(node, every_s=3600, sleep=sleep))
    assert wakes[0] == ny(2026, 11, 25, 16)  # not an hour later
    recorded = [e for e in node.events() if isinstance(e, ev.CloseEquityRecorded)]
    assert [e.ts_event for e in recorded] == [ny(2026, 11, 25, 16)]


def test_the_feed_file_is_applied_at_start_and_when_it_changes(node: Node, tmp_path: Path) -> None:
    feed = tmp_path / "actions.csv"
    feed.write_text("action_id,symbol,kind,ratio,amount\nsplit-1,AAPL,SPLIT,2,\n")
    watcher = FeedWatcher(feed)
    events = watcher.step(node)
    (applied,) = [e for e in events if isinstance(e, ev.CorporateActionApplied)]
    assert (applied.action_id, applied.actor) == ("split-1", "feed:actions.csv")
    assert node.engine.state.balance("margy", "AAPL").total == 20
    assert watcher.step(node) == []  # unchanged
    feed.write_text(
        "action_id,symbol,kind,ratio,amount\nsplit-1,AAPL,SPLIT,2,\ndiv-1,AAPL,DIVIDEND,,0.5\n"
    )
    events = watcher.step(node)
    assert [e.action_id for e in events if isinstance(e, ev.CorporateActionApplied)] == ["div-1"]
    assert FeedWatcher(feed).step(node) == []  # a restart applies nothing twice
