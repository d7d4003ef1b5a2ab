"""The cross-venue spread monitor (issue 16, MD-1).

For every ordered pair of venue instruments of a unified symbol, the spread of buying at one
(its best ask) and selling at the other (its best bid), prices normalized to the group's
reference quote: ``(bid - ask) / ask`` in basis points (positive: the books cross across venues).
When it crosses a configured level, up or down, the node journals it (``NoteVenueSpread`` ->
``VenueSpreadCrossed``).

:class:`SpreadCrossings` is the pure part: it remembers, per pair, which band the spread is in and
reports only crossings — a spread that stays above a level says nothing on later ticks, and one
that dithers around a level says nothing until it has moved ``hysteresis_bps`` past it on the way
back down. The first observation of a pair reports every level it is already at or above (the
desk learns the state at start).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from atlas_oms.model.events_market_data import NoteVenueSpread
from atlas_oms.runtime.market.consolidated import ConsolidatedBook, VenueBest

__all__ = ["Crossing", "SpreadCrossings", "SpreadMonitor", "spread_bps"]

BPS = Decimal(10_000)
CENT_BPS = Decimal("0.01")


def spread_bps(ask: Decimal, bid: Decimal) -> Decimal:
    """Buying at ``ask`` and selling at ``bid``: ``(bid - ask) / ask`` in bps, to 0.01 bps."""
    return ((bid - ask) * BPS / ask).quantize(CENT_BPS)


@dataclass(frozen=True, slots=True)
class Crossing:
    level_bps: Decimal
    direction: str  # UP | DOWN


class SpreadCrossings:
    """Level crossings of a spread, per key (pure, deterministic)."""

    def __init__(self, hysteresis_bps: Decimal = Decimal(1)) -> None:
        self.hysteresis_bps = hysteresis_bps
        #: key -> the levels the spread is at or above now
        self._above: dict[Any, set[Decimal]] = {}

    def observe(self, key: Any, spread: Decimal, levels: Sequence[Decimal]) -> list[Crossing]:
        """The crossings of ``levels`` since the last observation of ``key`` (ascending levels
        for ``UP``, descending for ``DOWN``: the order the spread passed them)."""
        above = self._above.setdefault(key, set())
        out: list[Crossing] = []
        for level in sorted(levels, reverse=True):
            if level in above and spread < level - self.hysteresis_bps:
                above.discard(level)
                out.append(Crossing(level, "DOWN"))
        for level in sorted(levels):
            if level not in above and spread >= level:
                above.add(level)
                out.append(Crossing(level, "UP"))
        return out

    def forget(self, key: Any) -> None:
        self._above.pop(key, None)


class SpreadMonitor:
    """Watches a consolidated book's groups; ``submit`` gets each ``NoteVenueSpread`` (the hub
    passes ``node.process``). ``now`` stamps the commands."""

    def __init__(
        self,
        book: ConsolidatedBook,
        submit: Callable[[NoteVenueSpread], Any],
        now: Callable[[], int],
        hysteresis_bps: Decimal = Decimal(1),
    ) -> None:
        self.book = book
        self.submit = submit
        self.now = now
        self.crossings = SpreadCrossings(hysteresis_bps)

    def check(self, symbol: str, unified: str) -> list[NoteVenueSpread]:
        """Check every pair of ``unified``'s group (``symbol`` names the group, its reference
        quote); submit and return the notes of the crossings. Stale books are left out."""
        levels = self.book.config.levels_for(unified)
        if not levels:
            return []
        bests = [b for b in self.book.best(symbol) if not b.stale]
        notes: list[NoteVenueSpread] = []
        for buy in bests:
            if buy.ask_normalized is None or buy.ask_normalized <= 0:
                continue
            for sell in bests:
                if sell is buy or sell.bid_normalized is None:
                    continue
                spread = spread_bps(buy.ask_normalized, sell.bid_normalized)
                key = (unified, buy.symbol, sell.symbol)
                for crossing in self.crossings.observe(key, spread, levels):
                    notes.append(_note(self.now(), unified, buy, sell, spread, crossing))
        for note in notes:
            self.submit(note)
        return notes


def _note(
    ts: int, unified: str, buy: VenueBest, sell: VenueBest, spread: Decimal, crossing: Crossing
) -> NoteVenueSpread:
    return NoteVenueSpread(
        ts=ts,
        symbol=unified,
        buy_venue=buy.venue,
        sell_venue=sell.venue,
        spread_bps=spread,
        level_bps=crossing.level_bps,
        direction="UP" if crossing.direction == "UP" else "DOWN",
        buy_symbol=buy.symbol,
        sell_symbol=sell.symbol,
        buy_price=buy.ask_normalized,
        sell_price=sell.bid_normalized,
    )
