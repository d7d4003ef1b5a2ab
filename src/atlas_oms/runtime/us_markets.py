"""US markets in the running node (issue 15 §3): the calendar handed to the core, the close's
equity record for the pattern-day-trader rule, and the corporate-action feed file.

:func:`us_market_step` is what a served node (the ``us-markets`` task, :func:`run_us_markets`)
and a library user (``Node.us_market_step()``) run from time to time; it decides from the
journal what is missing and sends only that, so a restart, a second call or a replay adds
nothing twice:

* **Calendar**: when the node lists an instrument following a session (``XNYS``: Alpaca's
  equities, an instruments file's ``Instrument.equity``), the NYSE's holidays and early closes
  of this year and the next (``runtime/calendars.py``) go to the core as ``SetSessionCalendar``
  unless the journal holds exactly those days already; on January 1 the next year is added.
  (Session opens and closes themselves are the core's deadlines: the clock task ticks at each
  queued order's release and each DAY order's expiry, ``core/deadlines.py``.)
* **Close equity**: at the regular close of each session day (16:00 New York, 13:00 on an early
  close) ``RecordCloseEquity``, once a day, when the node has US equities and at least one
  MARGIN account (the core records every margin account's equity in each equity currency: the
  pattern-day-trader rule applies to margin accounts only, and a crypto account is a CASH
  account unless opened otherwise). A node started after the close records at start (that
  day's figures are then the equity at start, not at 16:00: logged as such by the event's ts).
* **Feed file** (``ATLAS_CORPORATE_FEED``, ``runtime/corporate_feed.py``): read at start and
  again whenever it changes; each action whose id the journal has not applied is sent with
  actor ``feed:<file name>`` (an action the core refuses is journaled ``CommandRejected``
  and is not sent again until the file changes).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from atlas_oms.core.equities.book import trade_day
from atlas_oms.core.equities.calendar import (
    HOLIDAY,
    close_minute,
    day_number,
    day_text,
    local_ts,
)
from atlas_oms.model import commands as c
from atlas_oms.model import events as ev
from atlas_oms.model.risk import EquityAccountType
from atlas_oms.runtime.calendars import nyse_calendar_command
from atlas_oms.runtime.corporate_feed import FeedError, load_feed

if TYPE_CHECKING:
    from atlas_oms.core.state.state import State
    from atlas_oms.runtime.node import Node

log = logging.getLogger("atlas.us_markets")
SESSION = "XNYS"
CALENDAR_ACTOR = "calendar"
NS = 1_000_000_000


def trades_us_equities(state: State) -> bool:
    return any(i.session == SESSION for i in state.instruments.values())


def calendar_update(state: State, now: int) -> c.SetSessionCalendar | None:
    """This year's and next year's NYSE calendar (New York dates), unless the journal has
    exactly those holidays and early closes already."""
    year = dt.date.fromisoformat(day_text(trade_day(now))).year
    first, last = dt.date(year, 1, 1), dt.date(year + 1, 12, 31)
    command = nyse_calendar_command(first, last, ts=now, actor=CALENDAR_ACTOR)
    days = state.equities.us.calendars.get(SESSION)
    if days is not None:
        lo, hi = day_number(first.isoformat()), day_number(last.isoformat())
        held = {d: v for d, v in days.items() if lo <= d <= hi}
        wanted = {
            day_number(x.day): HOLIDAY if x.close_min is None else x.close_min
            for x in command.exceptions
        }
        if held == wanted:
            return None
    return command


def close_ts(state: State, now: int) -> int | None:
    """The real close of ``now``'s New York day (None: no session that day)."""
    day = trade_day(now)
    close = close_minute(state.equities.us, SESSION, day)
    return None if close is None else local_ts(day, close)


def close_equity_due(state: State, now: int) -> bool:
    """Whether today's close has passed and its equity is not recorded yet (margin accounts)."""
    margin = [a for a in state.accounts.values() if a.equity_type is EquityAccountType.MARGIN]
    if not margin:
        return False
    close = close_ts(state, now)
    if close is None or now < close:
        return False
    today = trade_day(now)
    return not any(day == today for day, _ in state.equities.us.close_equity.values())


def us_market_step(node: Node, now: int | None = None) -> list[ev.EventBase]:
    """Send what the journal lacks: the calendar, then today's close equity once it is due."""
    state = node.engine.state
    if not trades_us_equities(state):
        return []
    now = node.clock.now() if now is None else now
    out: list[ev.EventBase] = []
    update = calendar_update(state, now)
    if update is not None:
        out += node.process(update)
    if close_equity_due(state, now):
        out += node.process(c.RecordCloseEquity(ts=now))
    return out


def next_close(state: State, now: int) -> int | None:
    """The next real close after ``now`` (within a week)."""
    day = trade_day(now)
    for d in range(day, day + 8):
        close = close_minute(state.equities.us, SESSION, d)
        if close is not None and local_ts(d, close) > now:
            return local_ts(d, close)
    return None


class FeedWatcher:
    """The corporate-action feed file: read at start and when it changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._seen: tuple[float, int] | None = None

    def step(self, node: Node) -> list[ev.EventBase]:
        try:
            st = self.path.stat()
        except OSError as exc:
            if self._seen != (0.0, -1):
                log.error("corporate-action feed %s unreadable: %s", self.path, exc)
                self._seen = (0.0, -1)
            return []
        stamp = (st.st_mtime, st.st_size)
        if stamp == self._seen:
            return []
        self._seen = stamp
        actor = f"feed:{self.path.name}"
        try:
            actions = load_feed(self.path, ts=node.clock.now(), actor=actor)
        except (FeedError, OSError, KeyError) as exc:
            log.error("corporate-action feed %s refused: %s", self.path, exc)
            return []
        out: list[ev.EventBase] = []
        applied = node.engine.state.equities.us.actions
        for action in actions:
            if action.action_id in applied:
                continue
            events = node.process(action)
            for e in events:
                if isinstance(e, ev.CommandRejected):
                    log.error("corporate action %s refused: %s", action.action_id, e.message)
            out += events
        return out


async def run_us_markets(
    node: Node,
    *,
    paused: Callable[[], bool] = lambda: False,
    feed: Path | None = None,
    every_s: float = 30.0,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
) -> None:
    """The served node's US-market task: :func:`us_market_step` and the feed file every
    ``every_s`` and exactly at each session's close."""
    watcher = FeedWatcher(feed) if feed is not None else None
    while True:
        if not paused():
            us_market_step(node)
            if watcher is not None:
                watcher.step(node)
        now = node.clock.now()
        wake = now + int(every_s * NS)
        close = next_close(node.engine.state, now)
        if close is not None and trades_us_equities(node.engine.state):
            wake = min(wake, close)
        await sleep(max(0.0, (wake - now) / NS))
