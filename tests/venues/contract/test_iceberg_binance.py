"""A native iceberg end to end on Binance: ``Node.submit(..., display_qty=)`` through the
gateway and the real spot adapter to the fake Binance, which rests it showing only
``icebergQty``; its fills (visible part, then the refill) come back and Atlas agrees with the
venue. On USDⓈ-M (no icebergs) the core refuses it before anything is sent."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from atlas_oms.model.enums import Side

from .binance import BinanceSpotHarness, BinanceUsdmHarness
from .world import ACCOUNT, S, assert_agrees, cid, run, running, wait_until

D = Decimal


def test_a_binance_spot_iceberg_rests_partly_visible_and_fills_through_its_refill(
    tmp_path: Path,
) -> None:
    harness = BinanceSpotHarness()

    async def main() -> None:
        async with running(harness, tmp_path / "j.db") as world:
            await world.start()
            inst = world.n.instrument("BTC/USDT")
            assert inst is not None and inst.iceberg_allowed and inst.native_iceberg
            order_id = world.submit("BUY", display_qty=D("0.002"))
            await world.until_status(order_id, S.ACCEPTED)
            assert world.n.order(order_id).display_qty == D("0.002")
            fake = harness.f.venue  # type: ignore[attr-defined]
            (venue_order,) = [o for o in fake.orders.values() if o.client_id == cid(order_id)]
            assert venue_order.iceberg_qty == D("0.002")
            book = fake.books[("spot", "BTCUSDT")]
            assert book.depth(Side.BUY) == [(D(50000), D("0.002"))]  # only the visible part
            # A taker for 0.003: the visible 0.002, then 0.001 of the refill.
            harness.rest_liquidity("SELL", D("0.003"), D("50000"))
            await wait_until(
                lambda: world.n.order(order_id).cum_qty == D("0.003"),
                what="0.003 filled over the visible part and the refill",
            )
            assert world.status(order_id) is S.PARTIALLY_FILLED
            assert len(world.n.order_fills(order_id)) == 2
            await assert_agrees(world)

    run(main)


def test_a_binance_usdm_iceberg_is_refused_by_the_core(tmp_path: Path) -> None:
    harness = BinanceUsdmHarness()

    async def main() -> None:
        async with running(harness, tmp_path / "j.db") as world:
            await world.start()
            inst = harness.instrument
            view = world.n.submit(
                ACCOUNT, inst.symbol, "BUY", "LIMIT", inst.qty, inst.price, display_qty="0.002"
            )
            assert view.status is S.DENIED and view.reason == "ICEBERG_NOT_SUPPORTED"

    run(main)
