"""The engine's policy: every parameter named and defaulted in one place."""

from __future__ import annotations

from decimal import Decimal

import msgspec


class EngineConfig(msgspec.Struct, frozen=True, kw_only=True):
    """Engine policy, every parameter named and defaulted here."""

    #: A market order may not execute more than this percentage away from its reference price.
    market_protection_pct: Decimal = Decimal(5)
    #: Highest leverage on a derivative without a margin tier table (its single default tier).
    max_leverage: Decimal = Decimal(125)
    #: Maintenance margin rate of that default tier.
    default_maint_margin_rate: Decimal = Decimal("0.005")
    #: Venues whose derivatives Atlas liquidates itself (it is their exchange); elsewhere the
    #: venue liquidates and Atlas only shows the figures.
    liquidation_venues: frozenset[str] = frozenset({"sim"})
