"""A small routing world for the router tests: instruments of one unified symbol on several
venues, funded accounts, and helpers to build route books."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec

from atlas_oms.core.engine import Engine
from atlas_oms.core.state.state import State
from atlas_oms.model import commands as c
from atlas_oms.model.instrument import Instrument
from atlas_oms.model.route_book import BookLevel, QuoteRate, RouteBook, VenueBook

D = Decimal


def inst(
    symbol: str,
    *,
    venue: str = "sim",
    quote: str = "USDT",
    tick: str = "0.01",
    lot: str = "0.001",
    taker: str = "0.001",
    **rules: Any,
) -> Instrument:
    base = Instrument.spot(f"BTC/{quote}", tick_size=tick, lot_size=lot, taker_fee=taker, **rules)
    return msgspec.structs.replace(base, symbol=symbol, venue=venue)


def world(
    instruments: list[Instrument],
    accounts: dict[str, dict[str, str]] | None = None,
    extra: list[Any] = (),  # type: ignore[assignment]
) -> State:
    """An engine state with ``instruments`` and ``accounts`` ({account: {asset: amount}}; default
    one account ``a`` with plenty of USDT, KRW and BTC)."""
    e = Engine()
    for i in instruments:
        e.handle(c.AddInstrument(ts=1, instrument=i))
    accounts = accounts or {"a": {"USDT": "10000000", "KRW": "100000000000", "BTC": "1000"}}
    for acc, bal in accounts.items():
        e.handle(c.OpenAccount(ts=1, account_id=acc))
        for asset, amount in bal.items():
            e.handle(c.AdjustBalance(ts=1, account_id=acc, asset=asset, amount=D(amount)))
    for msg in extra:
        e.handle(msg)
    return e.state


def vbook(
    venue: str,
    symbol: str,
    asks: list[tuple[str, str]] = (),  # type: ignore[assignment]
    bids: list[tuple[str, str]] = (),  # type: ignore[assignment]
    ts: int = 100,
) -> VenueBook:
    return VenueBook(
        venue=venue,
        symbol=symbol,
        asks=tuple(BookLevel(D(p), D(q)) for p, q in asks),
        bids=tuple(BookLevel(D(p), D(q)) for p, q in bids),
        ts=ts,
    )


def rbook(*books: VenueBook, ts: int = 100, **kw: Any) -> RouteBook:
    rates = tuple(QuoteRate(q, D(r)) for q, r in kw.pop("rates", {}).items())
    return RouteBook(symbol="BTC/USDT", quote="USDT", ts=ts, books=books, rates=rates, **kw)
