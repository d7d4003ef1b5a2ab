"""REST read of arbitrage (issue 16 §2): ``GET /v1/arbitrage?symbol=&limit=``.

The most recent ``limit`` (default 50, at most 1000) arbitrage events of the journal, newest
first: ``ArbitrageDetected`` (the watcher's NEW / CHANGED / ENDED opportunities, with the size
available and the expected profit) and the paired orders' ``ArbitragePairPlaced``,
``ArbitragePairUnwound``, ``ArbitragePairDone``. ``symbol`` (a unified symbol, or an Atlas symbol
whose unified symbol is used) keeps one symbol's. Each entry is the event's fields with ``type``.
Any authenticated key may read them (market data and the desk's own pairs).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import msgspec
from fastapi import FastAPI, Query, Request
from fastapi.responses import Response

from atlas_oms.model.events import Event
from atlas_oms.model.events_sor import (
    ArbitrageDetected,
    ArbitragePairDone,
    ArbitragePairPlaced,
    ArbitragePairUnwound,
)
from atlas_oms.model.route_book import unified_symbol
from atlas_oms.service.app import JSON, Key, service_of
from atlas_oms.service.journal_reads import read_committed

__all__ = ["arbitrage_events", "register"]

_KINDS = (ArbitrageDetected, ArbitragePairPlaced, ArbitragePairUnwound, ArbitragePairDone)


def arbitrage_events(
    events: Iterator[Event], symbol: str | None = None, limit: int = 50
) -> list[dict[str, Any]]:
    """The last ``limit`` arbitrage events of ``events`` (of unified ``symbol``), newest first."""
    unified = unified_symbol(symbol) if symbol else None
    pair_symbol: dict[str, str] = {}  # pair id -> unified symbol (from its placement)
    kept: deque[dict[str, Any]] = deque(maxlen=limit)
    for event in events:
        if not isinstance(event, _KINDS):
            continue
        if isinstance(event, ArbitrageDetected):
            of = event.symbol
        elif isinstance(event, ArbitragePairPlaced):
            of = pair_symbol[event.pair_id] = unified_symbol(event.buy_symbol)
        else:
            of = pair_symbol.get(event.pair_id, "")
        if unified is not None and of != unified:
            continue
        row = msgspec.to_builtins(event, builtin_types=(Decimal,))
        kept.append({"type": type(event).__name__, "symbol": of, **row})
    return list(reversed(kept))


def register(app: FastAPI) -> None:
    @app.get("/v1/arbitrage", tags=["market data"])
    async def arbitrage(
        request: Request,
        key: Key,
        symbol: str | None = None,
        limit: int = Query(50, ge=1, le=1000),
    ) -> Response:
        """Recent arbitrage opportunities and paired arbitrage orders, newest first."""
        service = service_of(request)
        rows = await read_committed(service, lambda events: arbitrage_events(events, symbol, limit))
        return JSON({"symbol": unified_symbol(symbol) if symbol else None, "events": rows})
