"""Shared set-up of the backtest tests: the simulated venue (helper "fills"'s SimulatedVenue when
it is there, else a minimal stand-in with the same interface), instruments and bars."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

import pytest

from atlas_oms.model.enums import InstrumentKind, LiquiditySide, Side
from atlas_oms.model.instrument import Instrument
from atlas_oms.model.reports import Report, VenueAccepted, VenueCanceled, VenueFilled
from atlas_oms.model.requests import CancelAtVenue, ModifyAtVenue, SubmitToVenue
from atlas_oms.simulation.market import Bar, BookSnapshot, MarketEvent, TradePrint


class StubVenue:
    """A stand-in with SimulatedVenue's interface: market orders fill at the last tick, limits
    fill at their price when a tick reaches it. No fees."""

    synchronous = True

    def __init__(self, instruments: Mapping[str, Instrument], name: str = "paper", **_: Any):
        self.name = name
        self._instruments = instruments
        self.last: dict[str, Decimal] = {}
        self.resting: dict[int, SubmitToVenue] = {}
        self._n = 0

    def _fill(self, r: SubmitToVenue, px: Decimal, ts: int, liq: LiquiditySide) -> VenueFilled:
        self._n += 1
        return VenueFilled(
            order_id=r.order_id,
            ts=ts,
            exec_id=f"{self.name}-x{self._n}",
            trade_id=f"{self.name}-t{self._n}",
            last_qty=r.qty,
            last_px=px,
            liquidity_side=liq,
            fee=Decimal(0),
            fee_asset=self._instruments[r.symbol].quote,
            venue_order_id=f"{self.name}-{r.order_id}",
        )

    def handle(self, request: Any) -> list[Report]:
        if isinstance(request, SubmitToVenue):
            last = self.last.get(request.symbol)
            if request.price is None:
                assert last is not None
                return [self._fill(request, last, request.ts, LiquiditySide.TAKER)]
            if last is not None and _crosses(request, last):
                return [self._fill(request, request.price, request.ts, LiquiditySide.TAKER)]
            self.resting[request.order_id] = request
            return [
                VenueAccepted(
                    order_id=request.order_id,
                    ts=request.ts,
                    venue_order_id=f"{self.name}-{request.order_id}",
                )
            ]
        if isinstance(request, CancelAtVenue | ModifyAtVenue):
            r = self.resting.pop(request.order_id, None)
            return [
                VenueCanceled(
                    order_id=request.order_id,
                    ts=request.ts,
                    reason="CANCELED",
                    canceled_qty=r.qty if r else None,
                )
            ]
        raise TypeError(type(request).__name__)

    def restore(self, orders: Any) -> None:
        pass

    def on_market(self, event: MarketEvent) -> list[Report]:
        if isinstance(event, TradePrint):
            price = event.price
        elif isinstance(event, Bar):
            price = event.close
        elif isinstance(event, BookSnapshot) and event.bids and event.asks:
            price = (event.bids[0][0] + event.asks[0][0]) / 2
        else:
            return []
        self.last[event.symbol] = price
        if not self.resting:
            return []
        out: list[Report] = []
        for oid, r in list(self.resting.items()):
            if r.symbol == event.symbol and _crosses(r, price):
                del self.resting[oid]
                assert r.price is not None
                out.append(self._fill(r, r.price, event.ts, LiquiditySide.MAKER))
        return out


def _crosses(r: SubmitToVenue, price: Decimal) -> bool:
    assert r.price is not None
    return price <= r.price if r.side is Side.BUY else price >= r.price


def venue_class() -> Callable[..., Any]:
    try:
        from atlas_oms.simulation.venue import SimulatedVenue
    except ImportError:
        return StubVenue
    return SimulatedVenue  # type: ignore[no-any-return]


@pytest.fixture
def btc() -> Instrument:
    return spot("BTCUSDT")


def spot(symbol: str = "BTCUSDT", venue: str = "paper") -> Instrument:
    return Instrument(
        symbol=symbol,
        kind=InstrumentKind.SPOT,
        base=symbol[:-4],
        quote=symbol[-4:],
        tick_size=Decimal("0.01"),
        lot_size=Decimal("0.00001"),
        venue=venue,
    )


def bars(
    n: int, symbol: str = "BTCUSDT", start: int = 1_700_000_000_000_000_000, step: int = 60
) -> list[Bar]:
    """``n`` deterministic 1-minute bars (a zig-zag around 100)."""
    out = []
    step_ns = step * 1_000_000_000
    for i in range(n):
        base = Decimal(100) + Decimal((i * 7) % 13) - Decimal(6)
        close = base + Decimal("0.5") if i % 2 else base - Decimal("0.5")
        out.append(
            Bar(
                symbol=symbol,
                start_ns=start + i * step_ns,
                ts=start + (i + 1) * step_ns,
                open=base,
                high=max(base, close) + Decimal(1),
                low=min(base, close) - Decimal(1),
                close=close,
                volume=Decimal(10),
            )
        )
    return out
