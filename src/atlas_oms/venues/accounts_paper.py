"""The checks of paper accounts' recorded feeds in ``accounts.yaml``. Part of
:mod:`atlas_oms.venues.accounts`."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from atlas_oms.venues.accounts import AccountEntry, VenueAccountConfig


def _feed_of(
    entry: AccountEntry,
    where: tuple[str, ...],
    base: Path,
    problem: Callable[[Iterable[str], str], None],
) -> Path | None:
    """A paper account's ``feed`` resolved against ``base`` (it must be a file), its settings
    checked."""
    if entry.feed is None:
        for key in ("feed_speed", "feed_loop"):
            if getattr(entry, key) is not None:
                problem((*where, key), "applies to a paper account with a feed only (feed:)")
        return None
    if entry.mode != "paper":
        problem((*where, "feed"), "applies to paper accounts only (mode: paper)")
        return None
    speed = entry.feed_speed
    if speed is not None and not (math.isfinite(speed) and speed >= 0):
        problem((*where, "feed_speed"), f"must be zero or more, not {speed}")
    path = base / entry.feed
    if not path.is_file():
        problem((*where, "feed"), f"no such file: {path}")
        return None
    return path


def _same_feed(
    paper: Sequence[VenueAccountConfig],
    ids: Mapping[str, tuple[str, ...]],
    problem: Callable[[Iterable[str], str], None],
) -> None:
    """The paper accounts of one real venue share its paper venue, so one source of market data:
    the same feed (or none), speed and loop."""
    first: dict[str, VenueAccountConfig] = {}
    for acc in paper:
        other = first.setdefault(acc.venue, acc)
        if (acc.feed, acc.feed_speed, acc.feed_loop) != (
            other.feed,
            other.feed_speed,
            other.feed_loop,
        ):
            problem(
                (*ids[acc.account_id], "feed"),
                f"the paper accounts of {acc.venue} share one market: {other.account_id} "
                f"{'replays ' + str(other.feed) if other.feed else 'follows the real venue'} "
                "(feed, feed_speed and feed_loop must be the same)",
            )
