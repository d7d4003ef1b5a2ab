"""Stress scenarios (seed 001 §15): run the same strategy under worse conditions.

- :func:`conservative`: every slippage term times ``k`` and fees at the worst commission tier.
- :func:`gap`: from ``at_ns`` on, every price of a market-data stream moves by ``pct`` percent
  (a gap at ``at_ns``: an overnight move, a news jump); rounded to ``tick`` when given.
- :func:`halt`: the stream loses its events in ``[start_ns, end_ns)``; pair it with
  :meth:`SimulatedVenue.halt <atlas_oms.simulation.venue.SimulatedVenue.halt>` so that orders are
  refused (INSTRUMENT_HALTED) meanwhile -- :func:`apply_halt` does both.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from decimal import ROUND_HALF_EVEN, Decimal

import msgspec

from atlas_oms.simulation.config import CommissionTier, FillConfig
from atlas_oms.simulation.market import Bar, BookSnapshot, MarketEvent, TradePrint
from atlas_oms.simulation.venue import SimulatedVenue

HUNDRED = Decimal(100)


def conservative(config: FillConfig, k: Decimal | int | str = 2) -> FillConfig:
    """``config`` with ``fixed_slippage_pct``, ``volume_slippage_factor``, ``spread_pct`` and
    ``market_impact_factor`` multiplied by ``k`` and one commission tier: the worst (highest)
    maker and taker rates of the table. Without a table the instruments' own fees apply."""
    k = Decimal(k)
    if k < 1:
        raise ValueError("a conservative scenario makes costs larger: k must be >= 1")
    tiers = config.commission_tiers
    worst: tuple[CommissionTier, ...] = ()
    if tiers:
        worst = (
            CommissionTier(
                min_volume_30d=Decimal(0),
                maker=max(t.maker for t in tiers),
                taker=max(t.taker for t in tiers),
            ),
        )
    return msgspec.structs.replace(
        config,
        fixed_slippage_pct=config.fixed_slippage_pct * k,
        volume_slippage_factor=config.volume_slippage_factor * k,
        spread_pct=config.spread_pct * k,
        market_impact_factor=config.market_impact_factor * k,
        commission_tiers=worst,
    )


def _move(price: Decimal, factor: Decimal, tick: Decimal | None) -> Decimal:
    moved = price * factor
    if tick is None:
        return moved
    return (moved / tick).to_integral_value(ROUND_HALF_EVEN) * tick


def shift(event: MarketEvent, pct: Decimal, tick: Decimal | None = None) -> MarketEvent:
    """``event`` with every price moved by ``pct`` percent (quantities unchanged)."""
    factor = 1 + Decimal(pct) / HUNDRED
    if type(event) is Bar:
        assert isinstance(event, Bar)
        return msgspec.structs.replace(
            event,
            open=_move(event.open, factor, tick),
            high=_move(event.high, factor, tick),
            low=_move(event.low, factor, tick),
            close=_move(event.close, factor, tick),
        )
    if type(event) is TradePrint:
        assert isinstance(event, TradePrint)
        return msgspec.structs.replace(event, price=_move(event.price, factor, tick))
    assert isinstance(event, BookSnapshot)
    return msgspec.structs.replace(
        event,
        bids=tuple((_move(p, factor, tick), s) for p, s in event.bids),
        asks=tuple((_move(p, factor, tick), s) for p, s in event.asks),
    )


def gap(
    events: Iterable[MarketEvent],
    at_ns: int,
    pct: Decimal | int | str,
    *,
    symbol: str | None = None,
    tick: Decimal | None = None,
) -> Iterator[MarketEvent]:
    """The stream with a gap: events of ``symbol`` (all when None) at or after ``at_ns`` have
    their prices moved by ``pct`` percent (negative: down)."""
    pct = Decimal(pct)
    for event in events:
        if event.ts >= at_ns and (symbol is None or event.symbol == symbol):
            yield shift(event, pct, tick)
        else:
            yield event


def halt(
    events: Iterable[MarketEvent], start_ns: int, end_ns: int, *, symbol: str | None = None
) -> Iterator[MarketEvent]:
    """The stream without the events of ``symbol`` (all when None) in ``[start_ns, end_ns)``."""
    for event in events:
        if start_ns <= event.ts < end_ns and (symbol is None or event.symbol == symbol):
            continue
        yield event


def apply_halt(
    venue: SimulatedVenue,
    events: Iterable[MarketEvent],
    start_ns: int,
    end_ns: int,
    *,
    symbol: str | None = None,
) -> Iterator[MarketEvent]:
    """Halt ``symbol`` at ``venue`` (orders refused) and drop its data over ``[start_ns, end_ns)``."""
    venue.halt(start_ns, end_ns, symbol)
    return halt(events, start_ns, end_ns, symbol=symbol)
