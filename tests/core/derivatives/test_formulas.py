"""Margin formulas against the worked examples the venues publish, and the properties they rest on.

Every published example names its source (title and address as stored by the search tool) and
quotes the figures; results are compared at the precision the venue prints. Where a venue's
example follows another convention (Bybit values maintenance margin at the entry value), a
function of that convention reproduces it and a second test shows what the Binance-convention
formula (the engine's) gives for the same inputs. ``docs/MARGIN.md`` has the formulas and the same
sources.

Sources used below:

- [B-LP] Binance FAQ "How to Calculate Liquidation Price of USDⓈ-M Futures Contracts",
  https://www.binance.com/en/support/faq/how-to-calculate-liquidation-price-of-usd%E2%93%A2-m-futures-contracts-b3c689c1f50a44cabb3a84e663b81d93
- [B-AVOID] Binance FAQ on avoiding liquidation (margin ratio, stop-loss, adding to a losing
  position), https://binance.com/en/support/faq/25edcd7fe0e544839d0847b8cbb2e400
  (reposted on Binance Square as "How to Reduce Your Chances of Getting Liquidated")
- [B-TIERS] Binance announcement "Updates to Leverage and Margin Tiers of Binance Futures
  Contracts (2021-03-18)", https://www.binance.com/tr/support/announcement/86cf9aa472574b8cb2e05bb751c2a9a6
- [B-API] Binance API "Notional and Leverage Brackets (USER_DATA)", GET /fapi/v1/leverageBracket,
  https://developers.binance.com/docs/zh-CN/derivatives/usds-margined-futures/account/rest-api/Notional-and-Leverage-Brackets
- [B-COINM] Binance FAQ "How to Calculate Liquidation Price of Coin-M Futures Contracts",
  https://www.binance.com/es-MX/support/faq/how-to-calculate-liquidation-price-of-coin-m-futures-contracts-ceccfcfb4e3a45e3b48b0b1bb1a8ae46
- [Y-LP] Bybit "Liquidation Price (USDT Contract)",
  https://testnet.bybit.com/en-US/help-center/s/article/Liquidation-Price-USDT-Contract
- [Y-LP-OLD] Bybit "Liquidation Price (USDT Contract)" (earlier version),
  https://help.bybit.com/hc/en-us/articles/900000181046-Liquidation-Price-USDT-Contract-
- [Y-BP] Bybit "Bankruptcy Price (USDT Contract)" (as listed in Bybit's help-centre search,
  https://www.cbybitapp.com/ro-RO/help-center/search-result/?page=22&pageSize=10&query=trade)
- [Y-IM] Bybit "Initial Margin (USDT Contract)",
  https://testnet.bybit.com/en/help-center/article/Initial-Margin-USDT-ContractUSDT_Perpetual_Contract
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from atlas_oms.core.derivatives.formulas import (
    Leg,
    bankruptcy_price,
    bybit_isolated_liquidation_price,
    isolated_bankruptcy_price,
    isolated_liquidation_price,
    liquidates_below,
    liquidation_price,
    maintenance_margin,
    margin_ratio,
    max_notional,
    tier_for,
    unrealized_pnl,
)
from atlas_oms.model.margin import (
    MarginTier,
    parse_brackets,
    single_tier,
    tiers_from_rows,
    validate_tiers,
)
from atlas_oms.store.reference import load_brackets

D = Decimal
DATA = Path(__file__).parent / "data" / "binance_leverage_brackets.json"
#: BTCUSDT as published in [B-TIERS] (position bands, leverage, maintenance rate), with the
#: maintenance amounts ("cum") that [B-LP]'s formula gives; [B-LP] quotes 1,300 for level 3.
BRACKETS = load_brackets(DATA)
BTCUSDT = BRACKETS["BTCUSDT"]
CENT = D("0.01")
ZERO = D(0)
#: Relative tolerance of the balance equations (Decimal works to 28 significant digits).
TOLERANCE = D("1e-18")
ONE_USDT = D(1)


def published(value: Decimal | None, precision: Decimal) -> Decimal:
    """A result rounded the way a venue prints it (half up, to ``precision``)."""
    assert value is not None
    return value.quantize(precision, rounding=ROUND_HALF_UP)


def margin_balance(
    legs: Sequence[Leg], wallet: Decimal, price: Decimal, other_upnl: Decimal = ZERO
) -> Decimal:
    """Wallet balance plus unrealized P&L of the legs at ``price`` (and of other symbols)."""
    return wallet + other_upnl + sum((unrealized_pnl(q, e, price) for q, e in legs), D(0))


def total_maintenance(
    tiers: Sequence[MarginTier], legs: Sequence[Leg], price: Decimal, other_maint: Decimal = ZERO
) -> Decimal:
    """Each leg's maintenance margin at ``price``, each in the tier of its own notional."""
    return other_maint + sum((maintenance_margin(tiers, abs(q) * price) for q, _ in legs), D(0))


# --------------------------------------------------------------------------------------------
# Binance USDⓈ-M: tiers, maintenance margin and maintenance amount
# --------------------------------------------------------------------------------------------


def test_binance_a_264000_usdt_btcusdt_position_has_a_maintenance_rate_of_1_percent() -> None:
    """[B-LP]: "if the position size of a USDT-margined BTCUSDT contract is 264,000 USDT, then the
    maintenance margin rate would be 1% (or 0.01)"."""
    assert tier_for(BTCUSDT, D(264_000)).maint_margin_rate == D("0.01")


def test_binance_a_500000_usdt_btcusdt_position_has_a_maintenance_amount_of_1300() -> None:
    """[B-LP]: "if the position size of a USDT-margined BTCUSDT contract is 500,000 USDT, then the
    maintenance amount would be 1,300 USDT"."""
    assert tier_for(BTCUSDT, D(500_000)).maint_amount == D(1300)


def test_binance_maintenance_amount_of_level_3_is_the_floor_times_the_rate_step_plus_level_2() -> (
    None
):
    """[B-LP]: "Maintenance Amount on Level 3 = 250,000 * (1% - 0.5%) + 50 USDT = 1,300 USDT";
    the loader's continuity check is that rule, so the published table passes it."""
    level2, level3 = BTCUSDT[1], BTCUSDT[2]
    assert level3.floor == D(250_000)
    assert level3.floor * (level3.maint_margin_rate - level2.maint_margin_rate) + (
        level2.maint_amount
    ) == D(1300)
    assert level3.maint_amount == D(1300)


def test_binance_maintenance_margin_is_notional_times_rate_minus_amount_in_the_tier() -> None:
    """[B-LP] "Maintenance Margin = Position Notional * Maintenance Margin Rate on the level of
    position notional - Maintenance Amount on the level of position notional": 500,000 USDT of
    BTCUSDT is in level 3 (1%, 1,300), so 500,000 * 1% - 1,300 = 3,700 USDT (our arithmetic:
    [B-LP] prints the rate and the amount, not this product)."""
    assert maintenance_margin(BTCUSDT, D(500_000)) == D(3700)
    # The amount makes the margin continuous: at a boundary both neighbours agree.
    assert maintenance_margin(BTCUSDT, D(250_000)) == D(250_000) * D("0.01") - D(1300)
    assert maintenance_margin(BTCUSDT, D(250_000)) == D(250_000) * D("0.005") - D(50)


def test_binance_coin_m_maintenance_margin_example_uses_the_same_formula() -> None:
    """[B-COINM]: 100 BTCUSD contracts (100 USD each) at a mark of 25,000: notional
    100 * 100 / 25,000 = 0.4 BTC, level 1, "Maintenance Margin = 100 * 100 / 25,000 * 0.4% - 0
    = 0.0016 BTC". (Inverse contract: only the maintenance formula is shared with USDⓈ-M.)"""
    notional = D(100) * D(100) / D(25_000)
    assert notional == D("0.4")
    assert maintenance_margin(single_tier(D("0.004"), D(125)), notional) == D("0.0016")


def test_binance_tier_table_gives_the_largest_position_at_each_leverage() -> None:
    """[B-TIERS], BTCUSDT 125x: 0 < Position <= 50,000 at 125x; <= 250,000 at 100x;
    <= 1,000,000 at 50x; <= 10,000,000 at 20x; ...; <= 500,000,000 at 1x."""
    expected = {
        125: 50_000,
        100: 250_000,
        50: 1_000_000,
        20: 10_000_000,
        10: 20_000_000,
        5: 50_000_000,
        4: 100_000_000,
        3: 200_000_000,
        2: 300_000_000,
        1: 500_000_000,
    }
    for leverage, cap in expected.items():
        assert max_notional(BTCUSDT, D(leverage)) == D(cap)
    assert max_notional(BTCUSDT, D(126)) == 0  # no tier allows more than 125x


def test_binance_initial_margin_rate_is_one_over_leverage() -> None:
    """[B-TIERS] "Initial Margin" column: 0.80% at 125x, 1.00% at 100x, 2.00% at 50x, 5.00% at 20x,
    10.00% at 10x, 20.00% at 5x, 25.00% at 4x, 33.30% at 3x, 50.00% at 2x, 100.00% at 1x
    (initial margin = notional / leverage). Compared at 0.1%: Binance prints 1/3 as 33.30%."""
    published_rates = ["0.80", "1.00", "2.00", "5.00", "10.00", "20.00", "25.00", "33.30", "50.00"]
    published_rates.append("100.00")
    for tier, rate in zip(BTCUSDT, published_rates, strict=True):
        assert published(D(100) / tier.max_leverage, D("0.1")) == published(D(rate), D("0.1"))


# --------------------------------------------------------------------------------------------
# Binance USDⓈ-M: liquidation price
# --------------------------------------------------------------------------------------------


def test_binance_a_1000_usdt_20x_long_on_500_usdt_wallet_liquidates_at_25100_40() -> None:
    """[B-AVOID]: "Assume you have a wallet balance of 500 USDT. You entered a long BTCUSDT position
    worth 1,000 USDT with 20x leverage at $50,000. In this example, your liquidation price will be
    $25,100.40." Cross margin: WB = 500, 0.02 BTC, level 1 (0.4%, cum 0)."""
    legs = [(D(1000) / D(50_000), D(50_000))]
    lp = liquidation_price(legs, wallet=D(500), tiers=BTCUSDT)
    assert published(lp, CENT) == D("25100.40")
    # [B-AVOID]: "When your margin ratio reaches 100%, some, if not all, of your positions will be
    # liquidated. The margin ratio is calculated as maintenance margin divided by margin balance."
    assert lp is not None
    ratio = margin_ratio(total_maintenance(BTCUSDT, legs, lp), margin_balance(legs, D(500), lp))
    assert ratio is not None and abs(ratio - 1) < D("1e-20")


def test_binance_adding_1000_usdt_at_45000_follows_the_formula_not_the_printed_35857_67() -> None:
    """[B-AVOID]: "BTCUSDT's price falls 10% to $45,000 ... entered another long BTCUSDT position
    worth 1000 USDT with 20x leverage at $45,000. Adjusting to your newest position, the
    liquidation price is now $35,857.67." One-way mode: the two fills are one BOTH position.

    Binance's figure does not follow from its own inputs: 0.02 BTC at 50,000 plus 1,000/45,000
    BTC at 45,000 on a 500 USDT wallet gives 35,668.99 with the published formula (level 1,
    0.4%); 0.042 BTC (lot-rounded) for 2,000 USDT gives 35,857.72, still not it. We assert what
    the formula gives, and that the margin ratio there is exactly 100%."""
    qty = D(1000) / D(50_000) + D(1000) / D(45_000)
    entry = D(2000) / qty
    lp = liquidation_price([(qty, entry)], wallet=D(500), tiers=BTCUSDT)
    assert published(lp, CENT) == D("35668.99")
    assert lp is not None
    ratio = margin_ratio(
        total_maintenance(BTCUSDT, [(qty, entry)], lp), margin_balance([(qty, entry)], D(500), lp)
    )
    assert ratio is not None and abs(ratio - 1) < D("1e-20")


def test_binance_liquidation_price_at_or_below_zero_is_none() -> None:
    """[B-LP]: "If the liquidation price is less than 0, the UI display would be '--'". A 1x
    isolated long (margin = notional) cannot be liquidated by price alone; nor go bankrupt."""
    assert isolated_liquidation_price(D(1), D(50_000), D(50_000), BTCUSDT) is None
    assert isolated_bankruptcy_price(D(1), D(50_000), D(50_000)) is None
    # A cross wallet far larger than the position: the same.
    assert liquidation_price([(D(2), D(50_000))], wallet=D(200_000), tiers=BTCUSDT) is None


def test_binance_recomputes_with_the_lower_tier_when_the_notional_at_lp_falls_below_the_floor() -> (
    None
):
    """[B-LP] note: "If your position (calculated at the liquidation price) and the current position
    (calculated at the opening price) are of different levels, then you must substitute ... the
    maintenance margin rate and the maintenance margin amount of the position level, to
    recalculate the liquidation price." Isolated long 6 BTC at 50,000 (300,000: level 3, 1%,
    1,300) with 61,150 USDT: level 3 would give 39,991.58, whose notional 239,949.49 is in level 2
    (0.5%, 50); level 2 gives exactly 40,000 (notional 240,000, level 2)."""
    qty, entry, margin = D(6), D(50_000), D(61_150)
    assert tier_for(BTCUSDT, qty * entry).bracket == 3
    level3 = BTCUSDT[2]
    at_level3 = (margin + level3.maint_amount - qty * entry) / (
        qty * level3.maint_margin_rate - qty
    )
    assert published(at_level3, CENT) == D("39991.58")
    assert tier_for(BTCUSDT, qty * at_level3).bracket == 2

    lp = isolated_liquidation_price(qty, entry, margin, BTCUSDT)
    assert lp == D(40_000)
    level2 = tier_for(BTCUSDT, qty * lp)
    assert level2.bracket == 2
    assert margin + (lp - entry) * qty == qty * lp * level2.maint_margin_rate - level2.maint_amount


def test_short_liquidation_recomputes_with_the_higher_tier_when_the_notional_grows_past_the_cap() -> (
    None
):
    """The same rule the other way: a short's notional grows towards its LP. Short 4 BTC at 60,000
    (240,000: level 2) with 21,300 USDT: level 2 gives 65,012.44 (260,049.75: level 3); level 3
    gives exactly 65,000 (260,000, level 3)."""
    lp = isolated_liquidation_price(D(-4), D(60_000), D(21_300), BTCUSDT)
    assert lp == D(65_000)
    assert tier_for(BTCUSDT, 4 * lp).bracket == 3


def test_a_nearly_fully_collateralised_long_in_a_high_tier_still_has_a_liquidation_price() -> None:
    """Regression: 300 BTC long at 50,000 (15,000,000: level 5, 5%, cum 266,300) with 14,800,000
    USDT isolated. With level 5 the formula crosses zero below 0 (-232.63), but at low prices the
    notional is in level 2 (0.5%, 50), where the margin balance 300*P - 200,000 meets the
    maintenance margin 1.5*P - 50 at P = 199,950 / 298.5 = 669.85 (notional 200,954.77)."""
    qty, entry, margin = D(300), D(50_000), D(14_800_000)
    lp = isolated_liquidation_price(qty, entry, margin, BTCUSDT)
    assert lp is not None
    assert published(lp, CENT) == D("669.85")
    assert tier_for(BTCUSDT, qty * lp).bracket == 2
    legs = [(qty, entry)]
    gap = margin_balance(legs, margin, lp) - total_maintenance(BTCUSDT, legs, lp)
    assert abs(gap) < D("1e-18") * qty * entry
    # Below it the position is under maintenance: it must not be reported as unliquidatable.
    assert margin_balance(legs, margin, D(669)) < total_maintenance(BTCUSDT, legs, D(669))


def test_binance_hedge_mode_long_and_short_of_one_symbol_share_one_liquidation_price() -> None:
    """[B-LP]: "Under the cross margin mode, the same ticker/symbol, both long and short position
    share the same liquidation price". No published numeric hedge example was found; this checks
    the published formula term by term (each side with its own tier):
        LP = (WB - TMM1 + UPNL1 + cumL + cumS - |L|*EPL + |S|*EPS)
             / (|L|*MMRL + |S|*MMRS - |L| + |S|)
    Long 3 BTC at 50,000 (150,000: level 2), short 1 BTC at 52,000 (52,000: level 2), cross wallet
    10,000, another symbol holding 500 maintenance with +1,200 unrealized."""
    legs = [(D(3), D(50_000)), (D(-1), D(52_000))]
    wb, tmm, upnl = D(10_000), D(500), D(1200)
    lp = liquidation_price(legs, wallet=wb, tiers=BTCUSDT, other_maint=tmm, other_upnl=upnl)
    assert lp is not None
    long_tier, short_tier = tier_for(BTCUSDT, 3 * lp), tier_for(BTCUSDT, 1 * lp)
    by_hand = (
        wb
        - tmm
        + upnl
        + long_tier.maint_amount
        + short_tier.maint_amount
        - 3 * D(50_000)
        + 1 * D(52_000)
    ) / (3 * long_tier.maint_margin_rate + 1 * short_tier.maint_margin_rate - 3 + 1)
    assert lp == by_hand
    assert liquidates_below(legs, BTCUSDT, lp)  # net long: liquidated as the price falls
    gap = margin_balance(legs, wb, lp, upnl) - total_maintenance(BTCUSDT, legs, lp, tmm)
    assert abs(gap) < D("1e-18") * D(200_000)


def test_a_net_long_hedge_with_a_large_gross_is_liquidated_as_the_price_rises() -> None:
    """Constructed (no published figure): long 50.5 and short 49.5 BTC at 50,000 (each side
    ~2.5M: level 4, 2.5%, cum 16,300), cross wallet 100,000. The net long gains 1 USDT per USDT of
    price but the two sides' maintenance grows by 100 * 2.5% = 2.5: the balance meets maintenance
    above, at 50,000 + (100,000 - 92,400) / 1.5 = 55,066.67."""
    legs = [(D("50.5"), D(50_000)), (D("-49.5"), D(50_000))]
    lp = liquidation_price(legs, wallet=D(100_000), tiers=BTCUSDT)
    assert published(lp, CENT) == D("55066.67")
    assert lp is not None and not liquidates_below(legs, BTCUSDT, lp)


def test_hedge_under_maintenance_at_every_price_has_no_liquidation_price() -> None:
    """Found by hypothesis: long 952.116 and short 944.412 BTC at 1 USDT, cross wallet 1 USDT.
    Net long 7.704; both sides pay 0.4% up to a 50,000 notional, 0.5% above: the balance minus
    maintenance peaks where the long's notional reaches 50,000 (P = 52.515), at about -0.51."""
    legs = [(D("952.116"), D(1)), (D("-944.412"), D(1))]
    peak = D(50_000) / D("952.116")
    assert margin_balance(legs, D(1), peak) < total_maintenance(BTCUSDT, legs, peak)
    assert liquidation_price(legs, wallet=D(1), tiers=BTCUSDT) is None


# --------------------------------------------------------------------------------------------
# Bybit USDT contracts (isolated): initial margin, bankruptcy and liquidation prices
# --------------------------------------------------------------------------------------------
#
# Bybit values the maintenance margin at the position value at ENTRY ("Position Value = Contract
# Size × Entry Price", "MM = Position Value × MMR - Maintenance Margin Deduction") and states
#     LP(long)  = Entry - (IM - MM) / Size - Extra Margin / Size
#     LP(short) = Entry + (IM - MM) / Size + Extra Margin / Size.
# That is the price at which the position margin less the (fixed) maintenance margin is lost,
# i.e. our bankruptcy price of the margin that exceeds MM: bankruptcy_price(wallet = IM + extra
# - MM_at_entry). Our liquidation_price follows Binance and values the maintenance margin at the
# liquidation price itself, which gives a slightly different price for the same inputs; both
# figures are asserted below.

BYBIT_MMR = D("0.005")
BYBIT_TIERS = single_tier(BYBIT_MMR, D(100))

#: (id, signed size, entry, leverage, margin added (+) or taken by fees (-), published LP,
#:  our Binance-convention LP, source)
BYBIT_ISOLATED_EXAMPLES = [
    # [Y-LP] Example 1: "Trader A placed a long entry of 1 BTC at 20,000 USDT with 50x leverage.
    # Assuming the Maintenance Margin Rate (MMR) is 0.5% and no extra margin is added: Initial
    # Margin = 1 × 20,000 USDT / 50 = 400 USDT; Maintenance Margin = 1 × 20,000 x 0.5% - 0 = 100
    # USDT; LP = 20,000 USDT - (400 - 100) = 19,700 USDT".
    ("Y-LP ex1 long 1 BTC @20000 50x", D(1), D(20_000), D(50), D(0), D(19_700), "19698.49"),
    # [Y-LP] Example 2 (short, extra margin) and Example 3 (funding fee): the stored venue page is
    # cut off after "Trader B initially placed a short en"; the figures are those of copies of the
    # article (e.g. https://wuyelx.com/4039.html, https://open-lib.com/8036.html): short 1 BTC at
    # 20,000, 50x, 3,000 USDT added -> 23,300; Example 1's long after a 200 USDT funding fee is
    # deducted from the position margin -> 19,900.
    ("Y-LP ex2 short +3000 margin", D(-1), D(20_000), D(50), D(3000), D(23_300), "23283.58"),
    ("Y-LP ex3 long -200 funding", D(1), D(20_000), D(50), D(-200), D(19_900), "19899.50"),
    # [Y-LP-OLD]: "Trader place a long entry of 1 BTC at 10,000 USDT with 50x leverage ...
    # Liquidation Price = 10,000 USDT * (1 - 2% + 0.5%) = 9,850 USDT"
    ("Y-LP-OLD long 1 BTC @10000 50x", D(1), D(10_000), D(50), D(0), D(9_850), "9849.25"),
    # [Y-LP-OLD]: "Trader place a short entry of 1 BTC at 8,000USDT with 40x leverage ...
    # Liquidation Price = 8,000 USDT * (1 + 2.5% - 0.5%) = 8160 USDT"
    ("Y-LP-OLD short 1 BTC @8000 40x", D(-1), D(8_000), D(40), D(0), D(8_160), "8159.20"),
]


def test_bybit_initial_margin_and_bankruptcy_price_of_a_50x_long() -> None:
    """[Y-IM]: "Trader place a long entry of 1 BTC at USDT 10,000 with 50x leverage. Initial
    Margin=(1x10,000)/50 =200 USDT". [Y-BP]: "traders hold a 1BTC Long position with an entry
    price at 10,000USDT, leverage is 50x. Bankruptcy Price= 10,000 × (1 - 2%) = 9,800 USDT"
    (Entry × (1 - 1/leverage) for a long: the isolated margin is gone)."""
    initial_margin = D(1) * D(10_000) / D(50)
    assert initial_margin == D(200)
    bp = isolated_bankruptcy_price(D(1), D(10_000), initial_margin)
    assert bp == D(9_800)
    assert margin_balance([(D(1), D(10_000))], initial_margin, bp) == 0


def test_bybit_short_bankruptcy_price_is_entry_times_one_plus_initial_margin_rate() -> None:
    """[Y-BP]: "For Sell/Short: Bankruptcy Price= Entry Price × (1 + Initial Margin Rate)" (no
    short figure is printed; 1 BTC at 10,000 at 50x gives 10,200)."""
    assert isolated_bankruptcy_price(D(-1), D(10_000), D(200)) == D(10_000) * (1 + D(1) / D(50))


@pytest.mark.parametrize(
    ("size", "entry", "leverage", "extra", "published_lp"),
    [case[1:6] for case in BYBIT_ISOLATED_EXAMPLES],
    ids=[case[0] for case in BYBIT_ISOLATED_EXAMPLES],
)
def test_bybit_isolated_liquidation_price_is_our_bankruptcy_price_of_margin_above_entry_mm(
    size: Decimal, entry: Decimal, leverage: Decimal, extra: Decimal, published_lp: Decimal
) -> None:
    """Bybit's LP = Entry ∓ (IM + extra - MM)/Size with MM at the entry value: reproduced exactly
    by bankruptcy_price with wallet = IM + extra - MM (a single tier of 0.5%, deduction 0)."""
    position_value = abs(size) * entry
    im = position_value / leverage
    mm = maintenance_margin(BYBIT_TIERS, position_value)
    assert isolated_bankruptcy_price(size, entry, im + extra - mm) == published_lp


@pytest.mark.parametrize(
    ("size", "entry", "leverage", "extra", "published_lp"),
    [case[1:6] for case in BYBIT_ISOLATED_EXAMPLES],
    ids=[case[0] for case in BYBIT_ISOLATED_EXAMPLES],
)
def test_bybit_convention_function_reproduces_every_published_bybit_liquidation_price(
    size: Decimal, entry: Decimal, leverage: Decimal, extra: Decimal, published_lp: Decimal
) -> None:
    """bybit_isolated_liquidation_price (maintenance at the entry value) gives Bybit's figures
    exactly; liquidation_price (Binance's convention, the engine's) differs by a few USDT (next
    test)."""
    im = abs(size) * entry / leverage
    lp = bybit_isolated_liquidation_price(size, entry, im + extra, BYBIT_TIERS)
    assert lp == published_lp


@pytest.mark.parametrize(
    ("size", "entry", "leverage", "extra", "ours"),
    [(*case[1:5], case[6]) for case in BYBIT_ISOLATED_EXAMPLES],
    ids=[case[0] for case in BYBIT_ISOLATED_EXAMPLES],
)
def test_liquidation_price_for_bybit_inputs_values_maintenance_at_the_liquidation_price(
    size: Decimal, entry: Decimal, leverage: Decimal, extra: Decimal, ours: str
) -> None:
    """What liquidation_price gives for those inputs (Binance's convention, the engine's): the
    balance equation solved with the maintenance margin at the liquidation price."""
    im = abs(size) * entry / leverage
    lp = isolated_liquidation_price(size, entry, im + extra, BYBIT_TIERS)
    assert published(lp, CENT) == D(ours)
    assert lp is not None
    gap = im + extra + (lp - entry) * size - abs(size) * lp * BYBIT_MMR
    assert abs(gap) <= TOLERANCE * abs(size) * entry


def test_bybit_cross_example_sustainable_loss_is_available_balance_plus_im_minus_mm() -> None:
    """[Y-LP-OLD] cross margin: "trader A holding a 2BTC Long position at 10,000 USDT. The current
    available balance is 2,000 USDT, current mark price = 10,500USDT, unrealized profit(Mark
    Price) is 1,000 USDT. Initial Margin = 2*10,000*1% = 200USDT; Maintenance Margin =
    2*10,000*0.5% = 100USDT; Total Sustainable Loss = Available Balance + Initial Margin -
    Maintenance Margin = 2,000 + 200 - 100 USDT = 2,100 USDT". (The stored page stops before the
    liquidation price itself.) Same mapping as isolated: bankruptcy price of AB + IM - MM."""
    legs = [(D(2), D(10_000))]
    assert unrealized_pnl(D(2), D(10_000), D(10_500)) == D(1000)
    im = D(2) * D(10_000) / D(100)
    mm = maintenance_margin(BYBIT_TIERS, D(2) * D(10_000))
    assert (im, mm) == (D(200), D(100))
    lp = bankruptcy_price(legs, wallet=D(2000) + im - mm)
    assert lp is not None
    assert (D(10_000) - lp) * 2 == D(2100)


# --------------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------------

sizes = st.decimals(min_value=D("0.001"), max_value=D(2000), places=3)
prices = st.decimals(min_value=D(1), max_value=D(200_000), places=2)
leverages = st.integers(min_value=1, max_value=125).map(D)
sides = st.sampled_from([D(1), D(-1)])
rates = st.decimals(min_value=D("0.001"), max_value=D("0.5"), places=4)


def table(choice: str, rate: Decimal) -> tuple[MarginTier, ...]:
    return BTCUSDT if choice == "btcusdt" else single_tier(rate, D(100))


def scale(legs: Sequence[Leg], wallet: Decimal, price: Decimal) -> Decimal:
    """Size of the terms in the balance equation, for a relative comparison."""
    return abs(wallet) + sum((abs(q) * (e + price) for q, e in legs), D(0)) + 1


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    side=sides,
    size=sizes,
    entry=prices,
    leverage=leverages,
    extra=st.decimals(min_value=D(0), max_value=D(100_000), places=2),
    choice=st.sampled_from(["btcusdt", "single"]),
    rate=rates,
)
def test_at_the_liquidation_price_margin_balance_equals_maintenance_margin(
    side: Decimal,
    size: Decimal,
    entry: Decimal,
    leverage: Decimal,
    extra: Decimal,
    choice: str,
    rate: Decimal,
) -> None:
    tiers = table(choice, rate)
    legs = [(side * size, entry)]
    margin = size * entry / leverage + extra
    lp = isolated_liquidation_price(side * size, entry, margin, tiers)
    if lp is None:
        # None only when no positive price meets maintenance: a long whose margin covers it.
        assert side > 0
        assert margin_balance(legs, margin, D("0.0001")) >= total_maintenance(
            tiers, legs, D("0.0001")
        )
        return
    gap = margin_balance(legs, margin, lp) - total_maintenance(tiers, legs, lp)
    assert abs(gap) <= TOLERANCE * scale(legs, margin, lp)
    # ... and in the tier of the notional at that price (the recomputed tier).
    tier = tier_for(tiers, size * lp)
    assert (
        margin
        + (lp - entry) * side * size
        - (size * lp * tier.maint_margin_rate)
        + (tier.maint_amount)
        == gap
    )


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    long_size=sizes,
    short_size=sizes,
    long_entry=prices,
    short_entry=prices,
    wallet=st.decimals(min_value=D(1), max_value=D(10_000_000), places=2),
    other_maint=st.decimals(min_value=D(0), max_value=D(10_000), places=2),
    other_upnl=st.decimals(min_value=D(-10_000), max_value=D(10_000), places=2),
)
def test_cross_and_hedge_liquidation_price_meets_the_balance_equation(
    long_size: Decimal,
    short_size: Decimal,
    long_entry: Decimal,
    short_entry: Decimal,
    wallet: Decimal,
    other_maint: Decimal,
    other_upnl: Decimal,
) -> None:
    legs = [(long_size, long_entry), (-short_size, short_entry)]
    # An account healthy at the long's entry (a hedge can be under maintenance at every price:
    # see test_hedge_under_maintenance_at_every_price_has_no_liquidation_price).
    assume(
        margin_balance(legs, wallet, long_entry, other_upnl)
        > total_maintenance(BTCUSDT, legs, long_entry, other_maint)
    )
    lp = liquidation_price(
        legs, wallet=wallet, tiers=BTCUSDT, other_maint=other_maint, other_upnl=other_upnl
    )
    assume(lp is not None)
    assert lp is not None
    gap = margin_balance(legs, wallet, lp, other_upnl) - total_maintenance(
        BTCUSDT, legs, lp, other_maint
    )
    assert abs(gap) <= TOLERANCE * scale(legs, wallet + abs(other_upnl) + other_maint, lp)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    side=sides,
    size=sizes,
    entry=prices,
    wallet=st.decimals(min_value=D(0), max_value=D(10_000_000), places=2),
    other_upnl=st.decimals(min_value=D(-10_000), max_value=D(10_000), places=2),
    hedge=st.none() | st.tuples(sizes, prices),
)
def test_at_the_bankruptcy_price_margin_balance_is_zero(
    side: Decimal,
    size: Decimal,
    entry: Decimal,
    wallet: Decimal,
    other_upnl: Decimal,
    hedge: tuple[Decimal, Decimal] | None,
) -> None:
    legs = [(side * size, entry)]
    if hedge is not None:
        legs.append((-side * hedge[0], hedge[1]))
    bp = bankruptcy_price(legs, wallet=wallet, other_upnl=other_upnl)
    net = sum((q for q, _ in legs), D(0))
    if bp is None:
        # The balance is linear in the price, B(P) = B(0) + net * P: no positive root when the
        # symbol is flat net, or when B(0) has the sign of net (a long covered down to zero, or a
        # short already bankrupt at every price).
        assert net * margin_balance(legs, wallet, D(0), other_upnl) >= 0
        return
    balance = margin_balance(legs, wallet, bp, other_upnl)
    assert abs(balance) <= TOLERANCE * scale(legs, wallet + abs(other_upnl), bp)


@settings(max_examples=400, deadline=None, derandomize=True)
@given(
    side=sides,
    size=sizes,
    entry=prices,
    leverage=leverages,
    extra=st.decimals(min_value=D(0), max_value=D(1_000_000), places=2),
    choice=st.sampled_from(["btcusdt", "single"]),
    rate=rates,
)
def test_liquidation_price_lies_between_entry_and_bankruptcy_price(
    side: Decimal,
    size: Decimal,
    entry: Decimal,
    leverage: Decimal,
    extra: Decimal,
    choice: str,
    rate: Decimal,
) -> None:
    tiers = table(choice, rate)
    margin = size * entry / leverage + extra
    # A position already under maintenance at entry is liquidated at once: not this property.
    assume(margin > maintenance_margin(tiers, size * entry))
    lp = isolated_liquidation_price(side * size, entry, margin, tiers)
    bp = isolated_bankruptcy_price(side * size, entry, margin)
    if side > 0:
        if bp is None:  # margin >= notional: neither price exists
            assert lp is None
        else:
            assert lp is not None
            assert bp < lp < entry
    else:
        assert bp is not None and lp is not None
        assert entry < lp < bp
    assert lp is None or liquidates_below([(side * size, entry)], tiers, lp) == (side > 0)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(size=sizes, entry=prices, leverage=leverages)
def test_liquidation_price_uses_the_tier_of_the_notional_at_that_price(
    size: Decimal, entry: Decimal, leverage: Decimal
) -> None:
    """For both sides: the maintenance balance equation holds with the tier of the notional at
    the returned LP, whatever the tier at entry."""
    for side in (D(1), D(-1)):
        margin = size * entry / leverage
        lp = isolated_liquidation_price(side * size, entry, margin, BTCUSDT)
        if lp is None:
            continue
        tier = tier_for(BTCUSDT, size * lp)
        balance = margin + (lp - entry) * side * size
        assert abs(balance - (size * lp * tier.maint_margin_rate - tier.maint_amount)) <= (
            TOLERANCE * scale([(size, entry)], margin, lp)
        )


def test_contracts_with_a_multiplier_price_like_the_same_quantity_of_the_base_asset() -> None:
    """20 contracts of 0.001 BTC are 0.02 BTC: the [B-AVOID] example again, 25,100.40."""
    in_contracts = liquidation_price(
        [(D(20), D(50_000))], wallet=D(500), tiers=BTCUSDT, multiplier=D("0.001")
    )
    in_btc = liquidation_price([(D("0.02"), D(50_000))], wallet=D(500), tiers=BTCUSDT)
    assert in_contracts == in_btc
    assert published(in_contracts, CENT) == D("25100.40")
    assert bankruptcy_price([(D(20), D(50_000))], wallet=D(500), multiplier=D("0.001")) == D(25_000)


def test_margin_ratio_is_none_once_the_margin_balance_is_gone() -> None:
    assert margin_ratio(D(100), D(0)) is None
    assert margin_ratio(D(100), D(-5)) is None
    assert margin_ratio(D(100), D(400)) == D("0.25")


def test_flat_legs_have_no_liquidation_or_bankruptcy_price() -> None:
    assert liquidation_price([], wallet=D(100), tiers=BTCUSDT) is None
    assert liquidation_price([(D(0), D(50_000))], wallet=D(100), tiers=BTCUSDT) is None
    # Equal long and short: the price of the symbol no longer moves the balance.
    assert bankruptcy_price([(D(1), D(50_000)), (D(-1), D(49_000))], wallet=D(100)) is None


# --------------------------------------------------------------------------------------------
# The bracket loader (Binance GET /fapi/v1/leverageBracket shape)
# --------------------------------------------------------------------------------------------


def btc_brackets_json(**changes: dict[str, object]) -> bytes:
    """The BTCUSDT fixture as bytes, with some brackets' fields replaced (by bracket number)."""
    raw = json.loads(DATA.read_text())
    btc = next(entry for entry in raw if entry["symbol"] == "BTCUSDT")
    for key, fields in changes.items():
        bracket = next(b for b in btc["brackets"] if b["bracket"] == int(key.removeprefix("b")))
        bracket.update(fields)
    return json.dumps(btc).encode()


def test_loader_reads_binance_brackets_for_every_symbol() -> None:
    assert set(BRACKETS) == {"BTCUSDT", "ETHUSDT"}
    assert [t.bracket for t in BTCUSDT] == list(range(1, 11))
    first, last = BTCUSDT[0], BTCUSDT[-1]
    assert (first.floor, first.cap, first.max_leverage) == (D(0), D(50_000), D(125))
    assert (last.floor, last.cap, last.maint_margin_rate, last.maint_amount) == (
        D(300_000_000),
        D(500_000_000),
        D("0.5"),
        D(100_016_300),
    )


def test_loader_reads_the_binance_api_documentation_example() -> None:
    """[B-API] response example: ETHUSDT, "notionalCoef": 1.50, bracket 1 with "initialLeverage":
    75, "notionalCap": 10000, "notionalFloor": 0, "maintMarginRatio": 0.0065, "cum": 0."""
    (eth,) = BRACKETS["ETHUSDT"]
    assert eth == MarginTier(
        bracket=1,
        floor=D(0),
        cap=D(10_000),
        maint_margin_rate=D("0.0065"),
        maint_amount=D(0),
        max_leverage=D(75),
    )


def test_loader_keeps_json_numbers_as_exact_decimals() -> None:
    rate = BTCUSDT[0].maint_margin_rate
    assert isinstance(rate, Decimal)
    assert rate == D("0.004")
    assert str(rate) == "0.004"  # not 0.004000000000000000083... from a binary float
    assert str(BTCUSDT[1].maint_margin_rate) == "0.005"


def test_loader_reads_numbers_beyond_float_precision_exactly() -> None:
    data = (
        b'{"symbol":"X","brackets":[{"bracket":1,"initialLeverage":75,'
        b'"notionalCap":10000,"notionalFloor":0,"maintMarginRatio":0.00650000000000000001,'
        b'"cum":0}]}'
    )
    assert parse_brackets(data)["X"][0].maint_margin_rate == D("0.00650000000000000001")


def test_loader_accepts_one_symbol_object_as_well_as_a_list() -> None:
    assert parse_brackets(btc_brackets_json()) == {"BTCUSDT": BTCUSDT}


def test_loader_rejects_a_gap_between_tiers() -> None:
    data = btc_brackets_json(b2={"notionalFloor": 60_000})
    with pytest.raises(ValueError, match=r"BTCUSDT: tier 2 starts at 60000, not where tier 1 ends"):
        parse_brackets(data)


def test_loader_rejects_a_maintenance_amount_that_makes_maintenance_margin_jump() -> None:
    """Level 3's amount must be 250,000 * (1% - 0.5%) + 50 = 1,300 ([B-LP]); 1,301 leaves a jump
    of one USDT at notional 250,000."""
    data = btc_brackets_json(b3={"cum": 1301.0})
    with pytest.raises(
        ValueError,
        match=r"BTCUSDT: tier 3: maintenance amount 1301\.0 leaves a jump at notional 250000 "
        r"\(1200\.000 below, 1199\.00 above\)",
    ):
        parse_brackets(data)


def test_loader_rejects_a_tier_allowing_more_leverage_than_the_one_below() -> None:
    data = btc_brackets_json(b2={"initialLeverage": 150})
    with pytest.raises(ValueError, match=r"BTCUSDT: tier 2: maximum leverage may not rise"):
        parse_brackets(data)


def test_tier_tables_must_start_at_zero_with_no_maintenance_amount() -> None:
    with pytest.raises(ValueError, match="the first tier must start at notional 0"):
        tiers_from_rows([(10, 100, "0.01", 0, 10)])
    with pytest.raises(ValueError, match="the first tier's maintenance amount must be 0"):
        tiers_from_rows([(0, 100, "0.01", 5, 10)])
    with pytest.raises(ValueError, match="needs at least one tier"):
        validate_tiers([])
