"""What the consolidated market data is configured with (``ServiceSettings`` ``ATLAS_MD_*``, see
``service/settings.py::market_data_config``; a library user builds it directly)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from atlas_oms.model.route_book import QuoteRate

ONE = Decimal(1)


@dataclass(frozen=True, slots=True)
class FeeTier:
    """An account's maker and taker fee rates at one venue (fractions: ``0.0004`` = 4 bps)."""

    maker: Decimal
    taker: Decimal


@dataclass(frozen=True)
class MarketDataConfig:
    """``depth``: levels kept per venue book; ``stale_ms``: books older than this are stale
    (0: never); ``rates``: ``"KRW/USDT"`` -> one KRW is worth that many USDT (the inverse pair
    is derived); ``reference``: base asset -> the quote currency its group is normalized to
    (default: the quote of the symbol asked about); ``spread_levels_bps``: unified symbol (or
    ``*``) -> the spread levels the monitor reports crossings of; ``windows_s``: the rolling
    VWAP/TWAP windows; ``fees``: Atlas account id -> venue -> its fee tier (``accounts.yaml``
    ``fees:``); ``sim_every_ms``: the built-in exchange's book is rebuilt at most this often."""

    depth: int = 10
    stale_ms: int = 0
    rates: Mapping[str, Decimal] = field(default_factory=dict)
    reference: Mapping[str, str] = field(default_factory=dict)
    spread_levels_bps: Mapping[str, tuple[Decimal, ...]] = field(default_factory=dict)
    windows_s: tuple[int, ...] = (60, 300)
    fees: Mapping[str, Mapping[str, FeeTier]] = field(default_factory=dict)
    sim_every_ms: int = 50

    def rate(self, quote: str, reference: str) -> Decimal | None:
        """What one unit of ``quote`` is worth in ``reference`` (None: no conversion known)."""
        if quote == reference:
            return ONE
        direct = self.rates.get(f"{quote}/{reference}")
        if direct is not None:
            return direct
        inverse = self.rates.get(f"{reference}/{quote}")
        if inverse is not None and inverse != 0:
            return ONE / inverse
        return None

    def quote_rate(self, quote: str, reference: str) -> QuoteRate | None:
        rate = self.rate(quote, reference)
        return None if rate is None else QuoteRate(quote, rate)

    def levels_for(self, symbol: str) -> tuple[Decimal, ...]:
        levels = self.spread_levels_bps.get(symbol)
        if levels is None:
            levels = self.spread_levels_bps.get("*", ())
        return levels

    @property
    def stale_ns(self) -> int:
        return self.stale_ms * 1_000_000
