"""The venue's own margin figures from its position report (issue 15 §2): each derivatives
adapter reads them from its fake's wire answer (the venue's real field names), and each fake
computes them by the venue's published formula (its own code, not Atlas's):

- Binance USDⓈ-M ``GET /fapi/v3/positionRisk``: ``liquidationPrice``, ``markPrice``,
  ``maintMargin``, ``positionInitialMargin`` / ``isolatedWallet`` (Binance FAQ "How to Calculate
  Liquidation Price of USDⓈ-M Futures Contracts").
- Bybit v5 ``GET /v5/position/list``: ``liqPrice``, ``markPrice``, ``positionMM``, ``positionIM``
  (Bybit help centre "Liquidation Price (USDT Contract)").
- OKX v5 ``GET /api/v5/account/positions``: ``liqPx``, ``markPx``, ``mmr``, ``imr`` / ``margin``,
  ``mgnRatio`` (OKX help centre 6997123251341, margin ratio).

Atlas's own estimate (``estimate_liquidation_price``, the venue's convention) agrees with each
fake's figure, which shows the conventions are the same on both sides of the wire."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

from contract.binance import BinanceUsdmHarness
from contract.bybit import BybitLinearHarness
from contract.okx import OkxSwapHarness

from atlas_oms.core.derivatives.conventions import estimate_liquidation_price
from atlas_oms.fakes.okx.venue import Position as OkxPosition
from atlas_oms.model.enums import PositionSide
from atlas_oms.model.margin import single_tier
from atlas_oms.model.venue import VenuePosition

D = Decimal


def _decode(cid: str) -> int | None:
    return None


def _run(harness: Any, body: Callable[[Any], Awaitable[None]]) -> None:
    async def main() -> None:
        await harness.start()
        try:
            await body(harness)
        finally:
            await harness.stop()

    asyncio.run(main())


async def _positions(harness: Any) -> list[VenuePosition]:
    adapter = harness.adapter("acc", _decode)
    try:
        await adapter.instruments()  # unified symbols, OKX contracts to base units
        return list(await adapter.positions())
    finally:
        await adapter.close()


def test_binance_usdm_position_risk_carries_the_venues_liquidation_price_and_margins() -> None:
    """Binance FAQ [B-AVOID] (https://binance.com/en/support/faq/25edcd7fe0e544839d0847b8cbb2e400):
    a 500 USDT wallet, a 1,000 USDT BTCUSDT long at 50,000 (0.02 BTC) → liquidation 25,100.40.
    The fake prints it from Binance's formula; the adapter reads it; Atlas's Binance estimate is
    the same price."""

    async def body(h: BinanceUsdmHarness) -> None:
        acct = h._acct()
        acct.wallet["USDT"] = D(500)
        h.seed_old_position(D("0.02"), D(50_000), 60)
        h.f.venue.mark_prices["BTCUSDT"] = D(48_000)
        (pos,) = await _positions(h)
        assert pos.symbol == "BTC/USDT:USDT" and pos.qty == D("0.02")
        assert pos.liquidation_price == D("25100.40160643")
        assert pos.mark_price == D(48_000)
        assert pos.maintenance_margin == D("0.02") * 48_000 * D("0.004")  # 3.84 at the mark
        assert pos.initial_margin == D("0.02") * 48_000 / 20  # 20x, the fake's default
        ours = estimate_liquidation_price(
            "binanceusdm", D("0.02"), D(50_000), D(500), single_tier(D("0.004"), D(125))
        )
        assert ours is not None and abs(ours - pos.liquidation_price) < D("0.00000001")

    _run(BinanceUsdmHarness(), body)


def test_binance_isolated_position_is_margined_by_its_own_wallet() -> None:
    """Binance FAQ [B-LP] (https://www.binance.com/en/support/faq/b3c689c1f50a44cabb3a84e663b81d93):
    "In Isolated margin mode, WB is isolatedWalletBalance". 0.02 BTC long at 50,000, 20x:
    wallet 50 → (50 − 1,000) / (0.02 × 0.004 − 0.02) = 47,690.76."""

    async def body(h: BinanceUsdmHarness) -> None:
        h._acct().margin_type["BTCUSDT"] = "isolated"
        h.seed_old_position(D("0.02"), D(50_000), 60)
        (pos,) = await _positions(h)
        assert pos.margin_mode == "isolated" and pos.initial_margin == D(50)
        assert pos.liquidation_price is not None
        assert pos.liquidation_price.quantize(D("0.01")) == D("47690.76")
        ours = estimate_liquidation_price(
            "binanceusdm", D("0.02"), D(50_000), D(50), single_tier(D("0.004"), D(125))
        )
        assert ours is not None and abs(ours - pos.liquidation_price) < D("0.00000001")

    _run(BinanceUsdmHarness(), body)


def test_binance_reports_no_liquidation_price_as_none_not_zero() -> None:
    """Binance prints ``liquidationPrice`` "0" for a position no price move alone liquidates
    (FAQ: "If the liquidation price is less than 0, the UI display would be '--'")."""

    async def body(h: BinanceUsdmHarness) -> None:
        h.seed_old_position(D("0.02"), D(50_000), 60)  # 100,000 USDT wallet: cannot liquidate
        (pos,) = await _positions(h)
        assert pos.liquidation_price is None and pos.maintenance_margin == D("4")

    _run(BinanceUsdmHarness(), body)


def test_bybit_linear_position_list_carries_the_venues_liquidation_price_and_margins() -> None:
    """Bybit help centre "Liquidation Price (USDT Contract)"
    (https://testnet.bybit.com/en-US/help-center/s/article/Liquidation-Price-USDT-Contract):
    isolated long, ``LP = entry − (IM − MM)``, MM at the *entry* value. 1 BTC at 20,000 at the
    fake's 10x and 0.5 %: IM 2,000, MM 100 → 18,100; Atlas's Bybit estimate agrees."""

    async def body(h: BybitLinearHarness) -> None:
        acct = h._acct()
        acct.isolated.add("BTCUSDT")
        h.seed_old_position(D(1), D(20_000), 60)
        h.f.venue.mark_prices["BTCUSDT"] = D(19_500)
        (pos,) = await _positions(h)
        assert pos.margin_mode == "isolated" and pos.qty == D(1)
        assert pos.liquidation_price == D(18_100)
        assert pos.mark_price == D(19_500)
        assert pos.maintenance_margin == D(100) and pos.initial_margin == D(2_000)
        assert pos.unrealized_pnl == D(-500)
        ours = estimate_liquidation_price(
            "bybitlinear", D(1), D(20_000), D(2_000), single_tier(D("0.005"), D(100))
        )
        assert ours == pos.liquidation_price

    _run(BybitLinearHarness(), body)


def test_bybit_cross_liquidation_is_the_sustainable_loss_of_the_account() -> None:
    """Bybit "Liquidation Price (USDT Contract)", earlier version
    (https://help.bybit.com/hc/en-us/articles/900000181046-Liquidation-Price-USDT-Contract-):
    cross, "Total Sustainable Loss = Available Balance + Initial Margin − Maintenance Margin".
    A short of 2 BTC at 10,000 with a 4,000 USDT wallet at 10x: IM 2,000, available 2,000, MM 100
    → loss 3,900 → 10,000 + 3,900 / 2 = 11,950."""

    async def body(h: BybitLinearHarness) -> None:
        acct = h._acct()
        acct.wallet["USDT"] = D(4_000)
        h.seed_old_position(D(-2), D(10_000), 60)
        (pos,) = await _positions(h)
        assert pos.margin_mode == "cross" and pos.qty == D(-2)
        assert pos.liquidation_price == D(11_950)

    _run(BybitLinearHarness(), body)


def test_okx_swap_positions_carry_the_venues_liquidation_price_margins_and_ratio() -> None:
    """OKX help centre 6997123251341 (margin ratio = margin balance / (maintenance margin +
    fees)): isolated long of 100 contracts (ctVal 0.01 = 1 BTC) at 20,000, 10x → margin 2,000;
    MMR 0.4 %, taker 0.05 %: ``liqPx = (2,000 − 20,000) / (0.0045 − 1)`` = 18,081.4 (OKX prints
    a tick). The adapter reads ``mmr`` (an amount), ``margin`` and ``mgnRatio``; Atlas's OKX
    estimate is the same price."""

    async def body(h: OkxSwapHarness) -> None:
        acct = h._acct()
        acct.isolated.add("BTC-USDT-SWAP")
        acct.positions[("BTC-USDT-SWAP", "net")] = OkxPosition(D(100), D(20_000), 1)
        h.f.venue.last["BTC-USDT-SWAP"] = D(19_000)
        (pos,) = await _positions(h)
        assert pos.margin_mode == "isolated" and pos.qty == D(1)
        assert pos.position_side is PositionSide.BOTH
        assert pos.liquidation_price == D("18081.4")
        assert pos.mark_price == D(19_000)
        assert pos.maintenance_margin == D(19_000) * D("0.004")  # at the mark: 76
        assert pos.initial_margin == D(2_000)
        # (2,000 − 1,000) / (76 + 9.5)
        assert pos.margin_ratio == (D(1_000) / D("85.5")).quantize(D("0.0001"))
        ours = estimate_liquidation_price(
            "okx",
            D(1),
            D(20_000),
            D(2_000),
            single_tier(D("0.004"), D(100)),
            taker_fee_rate=D("0.0005"),
        )
        assert ours is not None and ours.quantize(D("0.1")) == pos.liquidation_price

    _run(OkxSwapHarness(), body)
