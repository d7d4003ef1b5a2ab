"""A serve paper account on a recorded feed instead of the real venue (issue 14 §1: "or against
a recorded feed").

In ``accounts.yaml`` a paper account may name ``feed: path/to/feed.jsonl`` (relative to the
accounts file's folder; the format ``atlas paper --record`` writes, :mod:`atlas_oms.simulation.feed`),
with ``feed_speed`` (1: real time by the recording's gaps, default; 2: twice as fast; 0: as fast as
the loop goes) and ``feed_loop`` (default true). The paper venue then has no adapter and opens no
connection:

- **Instruments** come from ``FEED.instruments.json`` (written by ``--record``); a feed without it
  is a configuration error, as are a feed that cannot be read (file, line), an empty one and an
  event whose symbol the instruments file does not list: :func:`load_feeds` raises
  :class:`~atlas_oms.venues.accounts.AccountsConfigError` before anything starts (``atlas serve``
  exits 78).
- **Time.** Each event is stamped with the node's clock when it is played (never earlier than the
  one before), as a live venue's tick carries the venue's current time: the node's clock is the
  wall clock and a fill, a latency or a 24 h volume window is measured on it whatever the speed.
  The recording's timestamps only pace the playback (:func:`playback`). So a loop restart cannot
  take time back: the first event of the next pass comes one average gap of the recording (the
  recording's span over its number of gaps; 1 s for a feed of one instant) after the last one, and
  the prices go on from the recording's first (a jump if the recording's ends differ).
- **Per event**, :meth:`PaperFeed.on_event <atlas_oms.runtime.paper.PaperFeed.on_event>`: the
  recorded symbol becomes the paper one (``BTC/USDT@paper-binance``), the event goes through
  :class:`~atlas_oms.runtime.market_driver.MarketCore` (venue fills, core prices while it holds
  orders, trades or derivative positions there) and its price to the core's reference prices,
  throttled as a live feed's.
- Without a loop the playback stops at the feed's end; the venue keeps its last market (a market
  order still fills at the last book or trade).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

from atlas_oms.model.instrument import Instrument
from atlas_oms.runtime.paper import PaperFeed
from atlas_oms.simulation.feed import FeedError, instruments_path, read_feed, read_instruments
from atlas_oms.simulation.market import Bar, MarketEvent
from atlas_oms.venues.accounts import AccountsConfig, AccountsConfigError, ConfigProblem

__all__ = ["RecordedFeed", "load_feeds", "playback", "restamp", "run_recorded"]

log = logging.getLogger("atlas.paper")
_SECOND_NS = 1_000_000_000


@dataclass(frozen=True)
class RecordedFeed:
    """A paper venue's recorded market: its events (the recording's symbols and times), the
    instruments they trade, and how to play them."""

    path: Path
    events: Sequence[MarketEvent]
    instruments: Sequence[Instrument]
    speed: float = 1.0
    loop: bool = True


def load_feeds(config: AccountsConfig, source: str = "accounts.yaml") -> dict[str, RecordedFeed]:
    """The recorded feed of every paper venue whose accounts name one (paper venue name ->
    feed), read and checked; :class:`AccountsConfigError` (``source`` names the accounts file)
    when one cannot be used."""
    out: dict[str, RecordedFeed] = {}
    for acc in config.paper:
        if acc.feed is None or acc.venue in out:
            continue
        key = f"accounts.{acc.exchange}.{acc.name}.feed"

        def wrong(message: str, key: str = key) -> AccountsConfigError:
            return AccountsConfigError(source, [ConfigProblem(key, message)])

        try:
            events = read_feed(acc.feed)
            instruments = read_instruments(acc.feed)
        except FeedError as exc:
            raise wrong(str(exc)) from None
        except OSError as exc:
            raise wrong(f"{acc.feed}: {exc.strerror or exc}") from None
        if not events:
            raise wrong(f"{acc.feed}: no market event in the feed")
        if not instruments:
            raise wrong(
                f"{instruments_path(acc.feed)} is missing: a recorded feed's instruments (tick, "
                "lot, fees) are kept beside it (atlas paper --record writes them)"
            )
        listed = {i.symbol for i in instruments}
        unknown = sorted({e.symbol for e in events} - listed)
        if unknown:
            raise wrong(
                f"{instruments_path(acc.feed)} does not list {', '.join(unknown)}, "
                "which the feed trades"
            )
        out[acc.venue] = RecordedFeed(
            acc.feed, events, instruments, speed=acc.feed_speed, loop=acc.feed_loop
        )
    return out


def playback(
    events: Sequence[MarketEvent], *, speed: float = 1.0, loop: bool = True
) -> Iterator[tuple[float, MarketEvent]]:
    """``events`` as (seconds to wait before it, event): the recording's gaps divided by
    ``speed`` (0: no wait; a gap backwards: none), again and again while ``loop``, a pass
    starting one average gap after the last event of the one before."""
    if not events:
        return
    span = events[-1].ts - events[0].ts
    wrap = span // (len(events) - 1) if len(events) > 1 and span > 0 else _SECOND_NS
    previous: int | None = None
    while True:
        for event in events:
            gap = 0 if previous is None else event.ts - previous
            previous = event.ts
            yield (gap / _SECOND_NS / speed if speed > 0 and gap > 0 else 0.0), event
        if not loop:
            return
        previous = events[0].ts - wrap


def restamp(event: MarketEvent, ts: int) -> MarketEvent:
    """``event`` at ``ts`` (a bar keeps its length)."""
    if isinstance(event, Bar):
        return msgspec.structs.replace(event, ts=ts, start_ns=ts - (event.ts - event.start_ns))
    return msgspec.structs.replace(event, ts=ts)


async def run_recorded(
    feed: PaperFeed,
    recorded: RecordedFeed,
    *,
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
) -> None:
    """List the feed's instruments on ``feed``'s paper venue, then play the feed into it (see
    the module) until it ends (no loop) or the task is cancelled."""
    changed = feed.list_instruments(recorded.instruments)
    log.info(
        "paper venue %s replays %s (%d events, %d instruments listed, speed %s, loop %s)",
        feed.venue.name,
        recorded.path,
        len(recorded.events),
        changed,
        recorded.speed,
        recorded.loop,
    )
    clock = feed.node.clock
    last = 0
    for delay_s, event in playback(recorded.events, speed=recorded.speed, loop=recorded.loop):
        await sleep(delay_s)  # 0: still lets the service's other tasks run
        last = max(clock.now(), last)
        feed.on_event(restamp(event, last))
        feed.flush()
    await sleep(feed.throttle.every_s)  # the last prices the throttle held back
    feed.flush()
