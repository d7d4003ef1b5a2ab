"""The venue contract for order books (issue 16, ``core/ports.py::VenueBooks``): every venue
with :attr:`~.harness.Capability.BOOKS` streams its public book through the real adapter against
its fake, best level first on each side, within the asked depth, in base units, and follows an
order of the account resting and being canceled.

Generic over the harness: the venue's own liquidity comes from ``rest_liquidity`` and the
account's order goes through the adapter's own ``place``/``cancel``. Prices are a few percent
around :attr:`~.harness.Instrument.price` (a price every venue's filters take), sizes are the
instrument's quantity; a size in the book is the order's quantity times the instrument's
contract size (``multiplier``: 1 on spot).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from books_helpers import until

from atlas_oms.core.ports import VenueAdapter, VenueBooks
from atlas_oms.model.enums import Side
from atlas_oms.model.route_book import VenueBook
from atlas_oms.model.venue import Acknowledged, CancelOrder, PlaceOrder

from .harness import Capability, VenueHarness
from .world import ACCOUNT, cid, decode_client_id, run

D = Decimal
DEPTH = 3
#: How long a case waits for a book it expects (a bound against a hang, not the expected time).
WAIT_S = 10.0

pytestmark = pytest.mark.requires(Capability.BOOKS)


def _levels(harness: VenueHarness) -> int:
    """How many levels a side of the venue's book can show: an equities NBBO (Alpaca) is one."""
    return min(DEPTH, getattr(harness, "book_levels", DEPTH))


def _book_qty(harness: VenueHarness) -> Decimal:
    """The order quantity the case rests: at least the venue's round lot (Alpaca quotes round
    lots of 100 shares: an odd lot is not in the NBBO)."""
    return max(harness.instrument.qty, getattr(harness, "book_lot", harness.instrument.qty))


def _price(harness: VenueHarness, percent: int) -> Decimal:
    """``percent`` % off the instrument's price, at the price's own precision."""
    base = harness.instrument.price
    return (base * (100 + percent) / 100).quantize(base)


async def _started(harness: VenueHarness) -> VenueAdapter:
    await harness.start()
    adapter = harness.adapter(ACCOUNT, decode_client_id)
    assert isinstance(adapter, VenueBooks), f"{harness.name}: the adapter has no books()"
    await adapter.start()
    return adapter


async def _multiplier(adapter: VenueAdapter, symbol: str) -> Decimal:
    for vi in await adapter.instruments():
        if vi.instrument.symbol == symbol:
            return vi.instrument.multiplier
    raise AssertionError(f"{symbol} is not among the venue's instruments")


def _books(adapter: VenueAdapter, symbol: str) -> AsyncIterator[VenueBook]:
    assert isinstance(adapter, VenueBooks)
    return adapter.books([symbol], DEPTH).__aiter__()


def _quote_both_sides(harness: VenueHarness) -> None:
    qty = _book_qty(harness)
    for k in (3, 4, 5, 6):
        harness.rest_liquidity("BUY", qty, _price(harness, -k))
        harness.rest_liquidity("SELL", qty, _price(harness, k))


def test_a_book_has_both_sides_best_first_within_the_depth(harness: VenueHarness) -> None:
    async def main() -> None:
        adapter = await _started(harness)
        try:
            _quote_both_sides(harness)
            symbol = harness.instrument.symbol
            books = _books(adapter, symbol)
            levels = _levels(harness)
            book = await until(
                books, lambda b: len(b.bids) == levels and len(b.asks) == levels, WAIT_S
            )
            assert book.venue == harness.venue and book.symbol == symbol
            bids = [lv.price for lv in book.bids]
            asks = [lv.price for lv in book.asks]
            assert bids == sorted(bids, reverse=True) and len(set(bids)) == levels
            assert asks == sorted(asks) and len(set(asks)) == levels
            assert bids[0] < asks[0]
            assert bids[0] >= _price(harness, -3) and asks[0] <= _price(harness, 3)
            assert all(lv.qty > 0 for lv in book.bids + book.asks)
            assert book.ts > 0
        finally:
            await adapter.close()
            await harness.stop()

    run(main)


def test_a_resting_order_appears_at_its_price_with_its_size_in_base_units_and_its_cancel_removes_it(
    harness: VenueHarness,
) -> None:
    async def main() -> None:
        adapter = await _started(harness)
        try:
            _quote_both_sides(harness)
            inst = harness.instrument
            multiplier = await _multiplier(adapter, inst.symbol)
            books = _books(adapter, inst.symbol)
            await until(books, lambda b: bool(b.bids) and bool(b.asks), WAIT_S)
            # between the venue's best bid (-3 %) and its best ask: the new best bid
            price = _price(harness, -1)
            order_id = 1601
            placed = await adapter.place(
                PlaceOrder(
                    order_id=order_id,
                    client_order_id=cid(order_id),
                    symbol=inst.symbol,
                    side=Side.BUY,
                    qty=_book_qty(harness),
                    price=price,
                )
            )
            assert isinstance(placed, Acknowledged), placed
            rested = await until(books, lambda b: bool(b.bids) and b.bids[0].price == price, WAIT_S)
            # base units: the order's quantity times the contract size
            assert rested.bids[0].qty == _book_qty(harness) * multiplier
            assert len(rested.bids) <= DEPTH
            canceled = await adapter.cancel(
                CancelOrder(
                    order_id=order_id,
                    client_order_id=cid(order_id),
                    symbol=inst.symbol,
                    venue_order_id=placed.venue_order_id,
                )
            )
            assert isinstance(canceled, Acknowledged), canceled
            gone = await until(books, lambda b: all(lv.price != price for lv in b.bids), WAIT_S)
            assert gone.bids and gone.bids[0].price < price
        finally:
            await adapter.close()
            await harness.stop()

    run(main)
