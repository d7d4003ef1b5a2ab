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
    #: How long a terminal order (filled, canceled, rejected, expired, denied) stays in memory
    #: after its last change, in ns (default one hour; None: forever). Past it, a timer tick
    #: archives it (``OrdersArchived``): it leaves memory and stays in the journal, where history
    #: reads find it; a late venue report for it loads it back first. Its executions (and so the
    #: duplicate-execution check of its exec ids) leave and come back with it.
    order_retention_ns: int | None = 3_600_000_000_000
    #: How long a client order id stays an idempotency key after its order was submitted, in ns
    #: (default 24 hours, as brokers do; None: forever). Within it a resent id is a duplicate;
    #: after it (and once its order has left memory) the id names a new order. A live order's id
    #: is kept as long as the order is in memory.
    client_id_retention_ns: int | None = 86_400_000_000_000
