"""Positions at external venues: the venue's own margin figures (journaled on reconciliation)
next to Atlas's estimate, and Atlas's pre-trade estimate by the venue's convention (issue 15 §2).

Sources (docs/MARGIN.md "Sources"):
- [B-AVOID] Binance FAQ https://binance.com/en/support/faq/25edcd7fe0e544839d0847b8cbb2e400:
  "wallet balance of 500 USDT ... long BTCUSDT position worth 1,000 USDT with 20x leverage at
  $50,000 ... your liquidation price will be $25,100.40".
- [Y-LP] Bybit help centre "Liquidation Price (USDT Contract)",
  https://testnet.bybit.com/en-US/help-center/s/article/Liquidation-Price-USDT-Contract:
  "long entry of 1 BTC at 20,000 USDT with 50x leverage ... MMR is 0.5% ... LP = 20,000 USDT −
  (400 − 100) = 19,700 USDT".
- [O-MR] OKX help centre https://www.okx.com/help-center/6997123251341: margin ratio = margin
  balance / (maintenance margin + fees); no worked USDT-swap figure published (the expected
  price below is the formula's, computed by hand).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from atlas_oms import Instrument, ManualClock, Node
from atlas_oms.model import commands as c
from atlas_oms.model import events as ev
from atlas_oms.model.enums import OrderType, Side
from atlas_oms.model.margin import MarginMode, single_tier
from atlas_oms.model.venue import ReconcileVenue, SetVenueStatus, VenuePosition

D = Decimal
CENT = D("0.01")
BINANCE, BYBIT, OKX = "BTC/USDT:USDT", "ETH/USDT:USDT", "SOL/USDT:USDT"
SIM = "XRP/USDT:USDT"
VENUES = {BINANCE: "binanceusdm", BYBIT: "bybitlinear", OKX: "okx"}


class _Stub:
    synchronous = False

    def __init__(self, name: str) -> None:
        self.name = name

    def handle(self, request: Any) -> list[Any]:
        return []


def world(wallet: int = 100_000) -> Node:
    node = Node.in_memory(clock=ManualClock(1_000), venues=[_Stub(v) for v in VENUES.values()])
    for symbol, venue in VENUES.items():
        taker = "0.0005" if venue == "okx" else "0"
        node.add_instrument(
            Instrument.perpetual(
                symbol, tick_size="0.1", lot_size="0.001", venue=venue, taker_fee=taker
            )
        )
    node.add_instrument(Instrument.perpetual(SIM, tick_size="0.1", lot_size="0.001"))
    rates = {BINANCE: "0.004", BYBIT: "0.005", OKX: "0.004", SIM: "0.004"}
    for symbol, rate in rates.items():
        node.set_margin_tiers(symbol, single_tier(D(rate), D(125)), actor="test")
    node.open_account("fut")
    node.deposit("fut", "USDT", wallet)
    for venue in VENUES.values():
        node.process(SetVenueStatus(venue=venue, account_id="fut", tradable=True, reason="READY"))
    return node


def reconcile(node: Node, venue: str, *positions: VenuePosition) -> list[Any]:
    return node.process(
        ReconcileVenue(
            ts=2_000, venue=venue, account_id="fut", reason="PERIODIC", positions=positions
        )
    )


def order(symbol: str, qty: str, price: str, side: Side = Side.BUY, **kw: Any) -> c.SubmitOrder:
    return c.SubmitOrder(
        ts=3_000,
        account_id="fut",
        symbol=symbol,
        side=side,
        order_type=OrderType.LIMIT,
        qty=D(qty),
        price=D(price),
        **kw,
    )


# ---------------------------------------------------------------------- the venue's figures
def test_reconciliation_journals_the_venues_figures_and_a_replay_shows_the_same() -> None:
    """[Y-LP]: Bybit reports 1 BTC long at 20,000, 50x isolated, its liquidation price 19,700
    (IM 400, MM 100); Atlas shows it with its own estimate by Bybit's convention, also 19,700."""
    node = world()
    reported = VenuePosition(
        symbol=BYBIT,
        qty=D(1),
        entry_price=D(20_000),
        leverage=D(50),
        margin_mode="isolated",
        liquidation_price=D(19_700),
        mark_price=D(19_950),
        maintenance_margin=D(100),
        initial_margin=D(400),
    )
    events = reconcile(node, "bybitlinear", reported)
    report = next(e for e in events if isinstance(e, ev.VenueReconciled))
    assert report.position_figures == (reported,)
    (view,) = node.venue_positions("fut")
    assert (view.venue, view.symbol, view.convention) == ("bybitlinear", BYBIT, "bybit")
    assert view.venue_liquidation_price == D(19_700) and view.venue_maint_margin == D(100)
    assert view.venue_initial_margin == D(400) and view.venue_mark_price == D(19_950)
    assert view.estimate_liquidation_price == D(19_700)  # Bybit's formula on Bybit's inputs
    assert view.atlas_qty == D(1)  # Atlas booked the venue's position
    replayed = Node(node.journal)
    assert replayed.venue_positions("fut") == node.venue_positions("fut")
    assert replayed.digest() == node.digest()


def test_a_report_without_figures_journals_none_and_old_reports_decode() -> None:
    node = world()
    events = reconcile(
        node, "binanceusdm", VenuePosition(symbol=BINANCE, qty=D(1), entry_price=D(100))
    )
    report = next(e for e in events if isinstance(e, ev.VenueReconciled))
    assert report.position_figures == ()
    assert node.venue_positions("fut") == []
    from atlas_oms.store.codec import decode_event, encode_event

    assert decode_event(encode_event(report)) == report


def test_binance_figures_next_to_atlas_cross_estimate_b_avoid() -> None:
    """[B-AVOID]: 500 USDT wallet, 0.02 BTC long at 50,000 cross → 25,100.40 by Binance; Atlas's
    figure of the same booked position (cross, Binance's formula) is the same price."""
    node = world(wallet=500)
    reconcile(
        node,
        "binanceusdm",
        VenuePosition(
            symbol=BINANCE,
            qty=D("0.02"),
            entry_price=D(50_000),
            margin_mode="cross",
            liquidation_price=D("25100.40160643"),
        ),
    )
    (view,) = node.venue_positions("fut", "binanceusdm")
    assert view.convention == "binance" and view.estimate_liquidation_price is None  # cross
    assert view.atlas_liquidation_price is not None
    assert view.atlas_liquidation_price.quantize(CENT, ROUND_HALF_UP) == D("25100.40")
    assert view.venue_liquidation_price is not None
    assert view.venue_liquidation_price.quantize(CENT, ROUND_HALF_UP) == D("25100.40")


def test_atlas_figure_of_an_isolated_position_at_bybit_follows_bybit_y_lp() -> None:
    """[Y-LP]: Atlas's own liquidation price of the isolated Bybit position (margin = notional
    at entry / 50x = 400) is Bybit's 19,700, where Binance's convention would give 19,698.49."""
    node = world()
    node.set_leverage("fut", BYBIT, 50)
    node.set_margin_mode("fut", BYBIT, MarginMode.ISOLATED)
    reconcile(node, "bybitlinear", VenuePosition(symbol=BYBIT, qty=D(1), entry_price=D(20_000)))
    (pos,) = node.positions("fut")
    assert pos.margin == D(400) and pos.liquidation_price == D(19_700)


# ---------------------------------------------------------------------- before a fill
def test_pre_trade_estimate_at_binance_b_avoid() -> None:
    """[B-AVOID]: a 1,000 USDT long (0.02 BTC at 50,000, 20x) on a 500 USDT wallet, cross:
    the estimate before the fill is 25,100.40."""
    node = world(wallet=500)
    node.set_leverage("fut", BINANCE, 20)
    est = node.margin_estimate(order(BINANCE, "0.02", "50000"))
    assert est is not None and est.convention == "binance" and est.qty_after == D("0.02")
    assert est.order_margin == D(50) and est.margin == D(500)
    assert est.liquidation_price is not None
    assert est.liquidation_price.quantize(CENT, ROUND_HALF_UP) == D("25100.40")


def test_pre_trade_estimate_at_bybit_values_maintenance_at_entry_y_lp() -> None:
    """[Y-LP]: 1 BTC long at 20,000, 50x isolated, MMR 0.5 % → 19,700 before the fill."""
    node = world()
    node.set_leverage("fut", BYBIT, 50)
    node.set_margin_mode("fut", BYBIT, MarginMode.ISOLATED)
    est = node.margin_estimate(order(BYBIT, "1", "20000"))
    assert est is not None and est.convention == "bybit"
    assert est.order_margin == D(400) and est.margin == D(400)
    assert est.liquidation_price == D(19_700)


def test_pre_trade_estimate_at_okx_includes_the_taker_fee_o_mr() -> None:
    """[O-MR]: 1 long at 20,000, 10x isolated (margin 2,000), MMR 0.4 %, taker 0.05 %: the
    price where margin + P&L = MM + fee to close, (2,000 − 20,000) / (0.0045 − 1) = 18,081.37;
    without the fee it would be 18,072.29."""
    node = world()
    node.set_leverage("fut", OKX, 10)
    node.set_margin_mode("fut", OKX, MarginMode.ISOLATED)
    est = node.margin_estimate(order(OKX, "1", "20000"))
    assert est is not None and est.convention == "okx" and est.margin == D(2_000)
    assert est.liquidation_price is not None
    assert est.liquidation_price.quantize(CENT) == D("18081.37")
    lp = est.liquidation_price
    assert abs(D(2_000) + (lp - 20_000) - lp * D("0.0045")) < D("1e-20")


def test_pre_trade_estimate_adds_to_a_position_and_reduce_only_never_grows_it() -> None:
    node = world()
    node.set_leverage("fut", BYBIT, 50)
    node.set_margin_mode("fut", BYBIT, MarginMode.ISOLATED)
    reconcile(node, "bybitlinear", VenuePosition(symbol=BYBIT, qty=D(1), entry_price=D(20_000)))
    est = node.margin_estimate(order(BYBIT, "1", "22000"))
    assert est is not None and est.qty_after == D(2) and est.entry_after == D(21_000)
    assert est.margin == D(400) + D(440)
    # Bybit: 21,000 − (840 − 42000 × 0.005) / 2 = 20,685
    assert est.liquidation_price == D(20_685)
    closing = node.margin_estimate(order(BYBIT, "5", "22000", Side.SELL, reduce_only=True))
    assert closing is not None and closing.qty_after == 0 and closing.liquidation_price is None
    adding = node.margin_estimate(order(BYBIT, "1", "22000", reduce_only=True))
    assert adding is not None and adding.qty_after == D(1) and adding.order_margin == 0


def test_atlas_own_exchange_uses_its_engine_convention() -> None:
    node = world(wallet=500)
    node.set_leverage("fut", SIM, 20)
    est = node.margin_estimate(order(SIM, "0.02", "50000"))
    assert est is not None and est.venue == "sim" and est.convention == "binance"
    assert est.liquidation_price is not None
    assert est.liquidation_price.quantize(CENT, ROUND_HALF_UP) == D("25100.40")
