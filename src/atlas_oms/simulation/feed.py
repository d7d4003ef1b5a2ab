"""The recorded-feed file format: market events one JSON object a line, and the instruments kept
beside the feed (``FEED.instruments.json``).

``atlas paper --record`` writes it, ``atlas paper --feed`` / ``atlas backtest --feed`` play it,
and ``atlas serve``'s paper accounts may trade on it (``feed:`` in ``accounts.yaml``,
:mod:`atlas_oms.runtime.paper_replay`). Numbers are written as strings and read back as
``Decimal``. :mod:`atlas_oms.backtest.paper` re-exports these functions.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import msgspec

from atlas_oms.model.instrument import Instrument
from atlas_oms.simulation.market import Bar, BookSnapshot, MarketEvent, TradePrint

__all__ = [
    "FeedError",
    "feed_line",
    "instruments_path",
    "read_feed",
    "read_instruments",
    "write_feed",
    "write_instruments",
]

_KINDS: dict[str, type[Any]] = {"bar": Bar, "trade": TradePrint, "book": BookSnapshot}
_NAMES = {v: k for k, v in _KINDS.items()}


class FeedError(ValueError):
    """A recorded feed (or its instruments file) cannot be read: the sentence names the file and
    the line."""

    reason = "FEED_INVALID"


def feed_line(event: MarketEvent) -> str:
    """One market event as a line of a recorded feed (``{"type": "bar", ...}``; numbers as
    strings), newline included."""
    row = msgspec.to_builtins(event)
    row["type"] = _NAMES[type(event)]
    return json.dumps(row, sort_keys=True) + "\n"


def write_feed(path: str | Path, events: Iterable[MarketEvent]) -> int:
    """Record market events, one JSON object a line (:func:`feed_line`); return how many."""
    n = 0
    with Path(path).open("w") as fh:
        for e in events:
            fh.write(feed_line(e))
            n += 1
    return n


def read_feed(path: str | Path) -> list[MarketEvent]:
    """A feed written by :func:`write_feed` (numbers back to ``Decimal`` from their text).
    :class:`FeedError` (a ``ValueError``) names the first line that is not a market event."""
    out: list[MarketEvent] = []
    with Path(path).open() as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                cls = _KINDS[row.pop("type")]
                out.append(msgspec.convert(row, cls, strict=False))
            except (ValueError, KeyError, TypeError, AttributeError, msgspec.ValidationError) as e:
                raise FeedError(f"{path}:{lineno}: not a market event: {e}") from None
    return out


def instruments_path(feed: str | Path) -> Path:
    """Where a recorded feed's instruments are kept: ``FEED.instruments.json`` beside it (a
    venue's instruments: tick, lot, fees and limits; a backtest of the feed lists the same)."""
    return Path(f"{feed}.instruments.json")


def write_instruments(feed: str | Path, instruments: Iterable[Instrument]) -> Path:
    """Keep ``instruments`` beside the recorded ``feed`` (:func:`instruments_path`)."""
    path = instruments_path(feed)
    path.write_bytes(msgspec.json.encode(list(instruments)))
    return path


def read_instruments(feed: str | Path) -> list[Instrument]:
    """The instruments kept beside ``feed`` (none when there is no such file)."""
    path = instruments_path(feed)
    if not path.exists():
        return []
    try:
        return msgspec.json.decode(path.read_bytes(), type=list[Instrument])
    except msgspec.DecodeError as exc:
        raise FeedError(f"{path}: not a list of instruments: {exc}") from None
