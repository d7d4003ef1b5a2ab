"""The documented answer of ``GET /v1/arbitrage`` (service/routes_arbitrage.py)."""

from __future__ import annotations

from typing import Any

import msgspec

__all__ = ["ArbitrageEventsDoc"]


class ArbitrageEventsDoc(msgspec.Struct, kw_only=True):
    """Recent arbitrage events, newest first: each the journal event's fields (exact decimals as
    strings) with ``type`` (``ArbitrageDetected``, ``ArbitragePairPlaced``,
    ``ArbitragePairUnwound``, ``ArbitragePairDone``) and ``symbol`` (unified)."""

    symbol: str | None
    events: list[dict[str, Any]]
