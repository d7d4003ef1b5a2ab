"""Each venue's margin convention for Atlas's pre-trade liquidation estimate (issue 15 §2).

Sources:
- [B-AVOID] Binance, https://binance.com/en/support/faq/25edcd7fe0e544839d0847b8cbb2e400
  ("wallet balance of 500 USDT ... long BTCUSDT position worth 1,000 USDT with 20x leverage at
  $50,000 ... your liquidation price will be $25,100.40").
- [Y-LP] Bybit, https://testnet.bybit.com/en-US/help-center/s/article/Liquidation-Price-USDT-Contract
  ("long entry of 1 BTC at 20,000 USDT with 50x leverage ... MMR is 0.5% ... 19,700 USDT").
- [O-MR] OKX, https://www.okx.com/help-center/6997123251341 (isolated margin mode: "Margin ratio
  = ... / (maintenance margin + fees)"; "Est. liquidation price = (liability + interest) *
  (1 + maintenance margin ratio) * (1 + taker fee rate) / position assets"). OKX publishes the
  formula, not a worked figure for a USDT swap that we could find: the OKX test checks that at the
  estimate the margin ratio is exactly 100% with the fee included, and that the fee moves the
  price toward the entry by the amount the formula says.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from atlas_oms.core.derivatives.conventions import (
    estimate_liquidation_price,
    okx_isolated_liquidation_price,
    venue_family,
)
from atlas_oms.model.margin import MarginTier

D = Decimal
CENT = D("0.01")


def _tier(rate: str, amount: str = "0") -> list[MarginTier]:
    return [
        MarginTier(
            bracket=1,
            floor=D(0),
            cap=None,
            maint_margin_rate=D(rate),
            maint_amount=D(amount),
            max_leverage=D(125),
        )
    ]


def test_binance_values_maintenance_at_the_liquidation_price_b_avoid() -> None:
    lp = estimate_liquidation_price("binanceusdm", D("0.02"), D(50_000), D(500), _tier("0.004"))
    assert lp is not None and lp.quantize(CENT, ROUND_HALF_UP) == D("25100.40")


def test_bybit_values_maintenance_at_the_entry_value_y_lp() -> None:
    im = D(20_000) / 50
    lp = estimate_liquidation_price("bybit", D(1), D(20_000), im, _tier("0.005"))
    assert lp == D(19_700)
    # the same position by Binance's convention is a few ticks lower
    binance = estimate_liquidation_price("binanceusdm", D(1), D(20_000), im, _tier("0.005"))
    assert binance is not None and binance.quantize(CENT) == D("19698.49")


def test_okx_includes_the_taker_fee_in_the_liquidation_price_o_mr() -> None:
    qty, entry, margin, mmr, taker = D(1), D(20_000), D(400), D("0.004"), D("0.0005")
    lp = estimate_liquidation_price("okx", qty, entry, margin, _tier(mmr), taker_fee_rate=taker)
    assert lp is not None
    # at that price: margin balance (margin + upl) = maintenance margin + fee to close
    balance = margin + qty * (lp - entry)
    assert abs(balance - qty * lp * (mmr + taker)) < D("1e-18")
    without_fee = okx_isolated_liquidation_price(qty, entry, margin, mmr, ZERO)
    assert without_fee is not None and without_fee < lp  # the fee brings it closer to entry
    assert lp.quantize(CENT) == D("19688.60")  # (400 - 20,000) / (0.0045 - 1)
    short = okx_isolated_liquidation_price(-qty, entry, margin, mmr, taker)
    assert short is not None and short.quantize(CENT) == D(
        "20308.61"
    )  # (400 + 20,000) / (0.0045 + 1)


def test_other_venues_use_atlas_engine_convention() -> None:
    assert venue_family("BinanceUSDM") == "binance" and venue_family("sim") == "sim"
    sim = estimate_liquidation_price("sim", D("0.02"), D(50_000), D(500), _tier("0.004"))
    assert sim is not None and sim.quantize(CENT) == D("25100.40")


ZERO = D(0)
