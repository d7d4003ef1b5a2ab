"""The service's consolidated market data (issue 16, MD-1): the settings' ``ATLAS_MD_*`` knobs as
a :class:`MarketDataConfig`, and :func:`attach_market_data`, which the app's lifespan calls once
the node and its venues exist (before the gateway's tasks are handed to the runtime, so the
venues' book streams start with them)."""

from __future__ import annotations

from typing import Any

from atlas_oms.runtime.market.arbitrage import ArbitrageConfig
from atlas_oms.runtime.market.config import MarketDataConfig
from atlas_oms.runtime.market.hub import MarketData
from atlas_oms.service.settings import ServiceSettings

__all__ = ["arbitrage_config", "attach_market_data", "market_data_config"]


def market_data_config(settings: ServiceSettings) -> MarketDataConfig:
    return MarketDataConfig(
        depth=settings.md_depth,
        stale_ms=settings.md_stale_ms,
        rates=dict(settings.md_rates),
        reference=dict(settings.md_reference),
        spread_levels_bps={k: tuple(v) for k, v in settings.md_spread_levels_bps.items()},
        windows_s=tuple(settings.md_windows_s),
        sim_every_ms=settings.md_sim_every_ms,
    )


def arbitrage_config(settings: ServiceSettings) -> ArbitrageConfig | None:
    """The arbitrage watcher's settings (None: ``ATLAS_MD_ARBITRAGE=false``)."""
    if not settings.md_arbitrage:
        return None
    return ArbitrageConfig(
        threshold_bps=settings.md_arbitrage_bps,
        strategy=settings.md_arbitrage_strategy,
        account=settings.md_arbitrage_account,
        auto=settings.md_arbitrage_auto,
        max_qty=dict(settings.md_arbitrage_max_qty),
    )


def attach_market_data(
    node: Any, settings: ServiceSettings, venues: Any, runtime: Any
) -> MarketData:
    """A :class:`MarketData` over ``node`` (and the venues' gateway and ``accounts.yaml`` when
    there are venues), its task added to ``runtime``; the node's router reads its snapshots
    (``node.route_books``, when the node has that attribute)."""
    md = MarketData(
        node,
        market_data_config(settings),
        accounts=venues.config if venues is not None else None,
        hysteresis_bps=settings.md_spread_hysteresis_bps,
        arbitrage=arbitrage_config(settings),
    )
    if venues is not None:
        md.attach_gateway(venues.gateway)
    runtime.add("market-data", md.run)
    if hasattr(node, "route_books"):
        node.route_books = md.route_book
    if hasattr(node, "market_data"):
        node.market_data = md  # VWAP weights and report volume off the built-in exchange
    return md
