"""US-equities buying power (MRG-4): cash accounts pay with settled cash only (T+1), Reg T margin
accounts have 2:1 overnight buying power and may sell short, pattern day traders with at least
$25,000 of equity have 4:1 intraday. Formulas: docs/RISK.md, "US equities buying power".

Every refusal has its exact reason code, a sentence with the numbers, and changes nothing (the
state's fingerprint is the same); every scenario replays to the live digest.
"""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import pytest

from atlas_oms import CommandRefused, Engine, Instrument, ManualClock, Node, OrderStatus, Reason
from atlas_oms.core.equities.book import settlement_ts
from atlas_oms.core.equities.buying_power import BuyingPower, buying_power
from atlas_oms.core.state.snapshot import (
    decode_snapshot,
    encode_snapshot,
    export_state,
    restore_state,
)
from atlas_oms.model import events as ev
from atlas_oms.model import reports as rep
from atlas_oms.model.risk import EquityAccountType

S = OrderStatus
SEC = 1_000_000_000
HOUR = 3600 * SEC
DAY = 24 * HOUR
#: Monday 2026-01-05 15:00 UTC = 10:00 in New York: the regular session.
MONDAY = 1_767_625_200 * SEC
FRIDAY = MONDAY + 4 * DAY
NEXT_MONDAY = MONDAY + 7 * DAY
#: Friday's sales settle at 00:00 New York time on Monday 2026-01-12 (05:00 UTC, EST).
SETTLES = 1_768_194_000 * SEC
AAPL = "AAPL"
MSFT = "MSFT"  # with a 0.1% fee


@pytest.fixture
def node() -> Node:
    n = Node.in_memory(clock=ManualClock(MONDAY))
    n.add_instrument(Instrument.equity(AAPL))
    n.add_instrument(Instrument.equity(MSFT, maker_fee="0.001", taker_fee="0.001"))
    n.open_account("mm", equity_type="MARGIN")
    n.deposit("mm", "USD", 100_000_000)
    n.deposit("mm", AAPL, 1_000_000)
    n.open_account("cashy")  # a cash account: the default
    n.deposit("cashy", "USD", 1_000)
    n.deposit("cashy", AAPL, 100)
    n.open_account("margy", equity_type=EquityAccountType.MARGIN)
    n.deposit("margy", "USD", 10_000)
    n.open_account("pdt", equity_type="MARGIN", pattern_day_trader=True)
    n.deposit("pdt", "USD", 30_000)
    n.open_account("small_pdt", equity_type="MARGIN", pattern_day_trader=True)
    n.deposit("small_pdt", "USD", 20_000)
    n.update_prices(AAPL, last="100")
    n.update_prices(MSFT, last="100")
    return n


@pytest.fixture(autouse=True)
def _replays_to_the_live_digest(node: Node, kit: Any) -> Any:
    yield
    assert kit.replay_digest(node.events()) == node.digest()
    kit.check_invariants(node.engine)


def at(node: Node, ts: int) -> None:
    assert isinstance(node.clock, ManualClock)
    node.clock.set(ts)


def bp(node: Node, account: str, ts: int | None = None) -> BuyingPower:
    return buying_power(node.engine.state, account, "USD", node.clock.now() if ts is None else ts)


def denial(node: Node, order_id: int) -> str:
    return next(
        e.message for e in node.events() if isinstance(e, ev.OrderDenied) and e.order_id == order_id
    )


def denied(node: Node, kit: Any, reason: Reason, *order: Any, **kw: Any) -> str:
    """Submit an order that must be denied with ``reason`` and change nothing; return why."""
    before = kit.fingerprint(node.engine)
    view = node.submit(*order, **kw)
    assert view.status is S.DENIED, view
    assert view.reason == reason, denial(node, view.order_id)
    assert kit.fingerprint(node.engine, skip_orders=[view.order_id]) == before
    return denial(node, view.order_id)


def refused_modify(
    node: Node, kit: Any, reason: Reason, account: str, order_id: int, **kw: Any
) -> str:
    before = kit.fingerprint(node.engine)
    with pytest.raises(CommandRefused) as info:
        node.modify(account, order_id, **kw)
    assert info.value.reason == reason, info.value
    assert kit.fingerprint(node.engine) == before
    return str(info.value)


# ---------------------------------------------------------------------------------- settlement
def test_a_sale_settles_at_new_york_midnight_of_the_next_business_day() -> None:
    assert settlement_ts(FRIDAY) == SETTLES  # Friday -> Monday, over the weekend
    assert settlement_ts(MONDAY) == MONDAY - 10 * HOUR + DAY  # Mon 15:00Z -> Tue 05:00Z
    # Friday 19:30 New York (post-market) is Saturday 00:30 UTC: still Friday's trade date.
    assert settlement_ts(FRIDAY + 9 * HOUR + 30 * 60 * SEC) == SETTLES
    # Summer time: Friday 2026-07-10 -> Monday 2026-07-13 00:00 EDT = 04:00 UTC.
    assert settlement_ts(1_783_695_600 * SEC) == 1_783_915_200 * SEC


def test_cash_account_proceeds_settle_t_plus_1_over_the_weekend(node: Node, kit: Any) -> None:
    at(node, FRIDAY)
    node.buy("mm", AAPL, 1_000, "100")
    node.sell("mm", AAPL, 1_000, "101")
    sale = node.sell("cashy", AAPL, 100, "100")
    assert sale.status is S.FILLED
    assert node.balance("cashy", "USD").total == D(11_000)
    power = bp(node, "cashy")
    assert (power.unsettled, power.buying_power, power.settles_ts) == (D(10_000), D(1_000), SETTLES)

    why = denied(
        node, kit, Reason.INSUFFICIENT_BUYING_POWER, "cashy", AAPL, "BUY", "LIMIT", 50, "101"
    )
    assert why == (
        "BUY 50 AAPL needs 5050 USD but account cashy's buying power is 1000 USD of settled free "
        "cash (11000 free, of which 10000 is sale proceeds settling T+1, the last on 2026-01-12): "
        "a cash account pays only with settled cash"
    )
    assert node.buy("cashy", AAPL, 9, "101").status is S.FILLED  # 909 of settled cash

    # Settlement happens by time: Sunday night in New York is still before it, Monday 00:00 is it.
    assert bp(node, "cashy", SETTLES - 1).unsettled == D(10_000)
    assert bp(node, "cashy", SETTLES).unsettled == 0
    assert bp(node, "cashy", SETTLES).buying_power == D(10_091)

    at(node, NEXT_MONDAY)
    assert node.buy("cashy", AAPL, 50, "101").status is S.FILLED


def test_margin_account_may_buy_with_unsettled_proceeds(node: Node) -> None:
    at(node, FRIDAY)
    node.deposit("margy", AAPL, 100)
    node.buy("mm", AAPL, 1_000, "100")
    node.sell("mm", AAPL, 1_000, "101")
    assert node.sell("margy", AAPL, 100, "100").status is S.FILLED
    assert node.engine.state.equities.unsettled == {}  # margin accounts do not track settlement
    assert node.buy("margy", AAPL, 50, "101").status is S.FILLED


def test_unsettled_proceeds_are_pruned_once_settled(node: Node) -> None:
    at(node, FRIDAY)
    node.buy("mm", AAPL, 1_000, "100")
    node.sell("cashy", AAPL, 60, "100")
    at(node, NEXT_MONDAY)
    node.sell("cashy", AAPL, 40, "100")
    key = ("cashy", "USD")
    assert node.engine.state.equities.unsettled == {key: {SETTLES + DAY: D(4_000)}}


def test_a_busted_sale_takes_its_unsettled_proceeds_back(node: Node) -> None:
    at(node, FRIDAY)
    node.buy("mm", AAPL, 1_000, "100")
    sale = node.sell("cashy", AAPL, 100, "100")
    exec_id = node.fills("cashy")[0].exec_id
    node.feed(
        rep.VenueFillCorrected(
            ts=FRIDAY + SEC,
            order_id=sale.order_id,
            exec_id=exec_id,
            last_qty=D(100),
            last_px=D(99),
            fee=D(0),
        )
    )
    assert bp(node, "cashy").unsettled == D(9_900)
    node.feed(rep.VenueFillBusted(ts=FRIDAY + 2 * SEC, order_id=sale.order_id, exec_id=exec_id))
    assert node.engine.state.equities.unsettled == {}
    assert bp(node, "cashy").buying_power == D(1_000)


def test_a_sale_busted_after_settlement_just_leaves_the_settled_cash(node: Node) -> None:
    at(node, FRIDAY)
    node.buy("mm", AAPL, 1_000, "100")
    sale = node.sell("cashy", AAPL, 100, "100")
    at(node, NEXT_MONDAY)
    node.feed(
        rep.VenueFillBusted(
            ts=NEXT_MONDAY, order_id=sale.order_id, exec_id=node.fills("cashy")[0].exec_id
        )
    )
    power = bp(node, "cashy")
    assert (power.cash, power.unsettled, power.buying_power) == (D(1_000), 0, D(1_000))


# ---------------------------------------------------------------------------------- short sales
def test_a_cash_account_may_not_sell_short(node: Node, kit: Any) -> None:
    why = denied(
        node, kit, Reason.SHORT_SALE_NOT_ALLOWED, "cashy", AAPL, "SELL", "LIMIT", 150, "100"
    )
    assert why == (
        "SELL 150 AAPL needs 150 AAPL but account cashy has 100 to sell (100 held): "
        "a cash account may not sell short"
    )
    assert node.sell("cashy", AAPL, 100, "102").status is S.ACCEPTED  # rests, shares locked
    why = denied(node, kit, Reason.SHORT_SALE_NOT_ALLOWED, "cashy", AAPL, "SELL", "MARKET", 1)
    assert "has 0 to sell (100 held, 100 already offered)" in why


def test_a_margin_account_may_sell_short_with_50_percent_initial_margin(
    node: Node, kit: Any
) -> None:
    node.buy("mm", AAPL, 10_000, "100")
    short = node.sell("margy", AAPL, 100, "100")
    assert short.status is S.FILLED
    assert node.balance("margy", AAPL).total == D(-100)
    assert node.balance("margy", "USD").total == D(20_000)
    power = bp(node, "margy")
    # equity = 20,000 cash - 10,000 short value; requirement 50% of 10,000.
    assert (power.equity, power.short_value, power.requirement) == (D(10_000), D(10_000), D(5_000))
    assert power.buying_power == D(10_000)
    why = denied(
        node, kit, Reason.INSUFFICIENT_BUYING_POWER, "margy", AAPL, "SELL", "LIMIT", 101, "100"
    )
    assert why.startswith("SELL 101 AAPL needs 10100 USD of buying power")
    assert node.sell("margy", AAPL, 100, "100").status is S.FILLED


# ---------------------------------------------------------------------------------- Reg T 2:1
def test_reg_t_margin_buys_up_to_twice_the_excess_equity(node: Node, kit: Any) -> None:
    node.sell("mm", AAPL, 10_000, "100")
    power = bp(node, "margy")
    assert (power.ratio, power.intraday, power.buying_power) == (2, True, D(20_000))
    why = denied(
        node, kit, Reason.INSUFFICIENT_BUYING_POWER, "margy", AAPL, "BUY", "LIMIT", 201, "100"
    )
    assert why == (
        "BUY 201 AAPL needs 20100 USD of buying power (50% margin on 20100 of exposure) but "
        "account margy has 20000 USD: 2:1 Reg T, 2 × (equity 10000 - 50% × exposure 0)"
    )
    bought = node.buy("margy", AAPL, 200, "100")
    assert bought.status is S.FILLED
    cash = node.balance("margy", "USD")
    assert (cash.total, cash.locked) == (D(-10_000), 0)  # a margin loan; nothing is locked
    power = bp(node, "margy")
    assert (power.equity, power.requirement, power.buying_power) == (D(10_000), D(10_000), 0)
    denied(node, kit, Reason.INSUFFICIENT_BUYING_POWER, "margy", AAPL, "BUY", "MARKET", 1)
    # Selling shares held lowers the requirement: always allowed, even without buying power.
    node.buy("mm", AAPL, 10_000, "99")
    assert node.sell("margy", AAPL, 50, "99").status is S.FILLED


def test_open_orders_count_against_margin_buying_power(node: Node, kit: Any) -> None:
    resting = node.buy("margy", AAPL, 50, "80")
    assert resting.status is S.ACCEPTED
    assert node.balance("margy", "USD").locked == 0
    assert bp(node, "margy").buying_power == D(16_000)  # 2 × (10,000 - 50% × 4,000)
    denied(node, kit, Reason.INSUFFICIENT_BUYING_POWER, "margy", AAPL, "BUY", "LIMIT", 201, "80")
    assert node.buy("margy", AAPL, 200, "80").status is S.ACCEPTED
    assert bp(node, "margy").buying_power == 0
    node.cancel("margy", resting.order_id)
    assert bp(node, "margy").buying_power == D(4_000)


def test_a_resting_sell_of_shares_held_does_not_use_buying_power(node: Node) -> None:
    node.deposit("margy", AAPL, 100)
    before = bp(node, "margy")
    assert node.sell("margy", AAPL, 100, "110").status is S.ACCEPTED
    assert bp(node, "margy") == before


def test_a_protective_stop_on_shares_held_does_not_use_buying_power(node: Node) -> None:
    node.deposit("margy", AAPL, 100)
    before = bp(node, "margy")
    stop = node.submit("margy", AAPL, "SELL", "STOP_MARKET", 100, trigger_price="90")
    assert stop.status is S.ACCEPTED
    assert bp(node, "margy") == before


def test_the_fee_is_paid_out_of_excess_equity(node: Node, kit: Any) -> None:
    node.sell("mm", MSFT, 10_000, "100")
    why = denied(
        node, kit, Reason.INSUFFICIENT_BUYING_POWER, "margy", MSFT, "BUY", "LIMIT", 200, "100"
    )
    assert "needs 20040 USD of buying power (50% margin on 20000 of exposure + fee 20)" in why
    assert node.buy("margy", MSFT, 199, "100").status is S.FILLED


def test_a_margin_market_order_needs_a_price(node: Node, kit: Any) -> None:
    node.add_instrument(Instrument.equity("NEW"))
    denied(node, kit, Reason.NO_REFERENCE_PRICE, "margy", "NEW", "SELL", "MARKET", 1)


# ---------------------------------------------------------------------------------- pattern day trader
def test_a_pattern_day_trader_has_4_to_1_intraday(node: Node, kit: Any) -> None:
    power = bp(node, "pdt")
    assert (power.ratio, power.rate, power.buying_power) == (4, D("0.25"), D(120_000))
    why = denied(
        node, kit, Reason.INSUFFICIENT_BUYING_POWER, "pdt", AAPL, "BUY", "LIMIT", 1_201, "100"
    )
    assert why == (
        "BUY 1201 AAPL needs 120100 USD of buying power (25% margin on 120100 of exposure) but "
        "account pdt has 120000 USD: 4:1 intraday, 4 × (equity 30000 - 25% × exposure 0)"
    )
    assert node.buy("pdt", AAPL, 1_200, "100").status is S.ACCEPTED
    assert bp(node, "pdt").buying_power == 0


def test_a_pattern_day_trader_has_2_to_1_overnight(node: Node, kit: Any) -> None:
    at(node, MONDAY + 7 * HOUR)  # 17:00 New York: post-market, extended hours
    power = bp(node, "pdt")
    assert (power.intraday, power.ratio, power.buying_power) == (False, 2, D(60_000))
    why = denied(
        node,
        kit,
        Reason.INSUFFICIENT_BUYING_POWER,
        "pdt",
        AAPL,
        "BUY",
        "LIMIT",
        700,
        "99",
        extended_hours=True,
    )
    assert "2:1 Reg T" in why
    assert why.endswith("4:1 day-trading buying power applies only in the regular session")
    assert node.buy("pdt", AAPL, 600, "99", extended_hours=True).status is S.ACCEPTED
    at(node, MONDAY + DAY)  # Tuesday 10:00 New York: 4:1 again
    assert node.buy("pdt", AAPL, 600, "99").status is S.ACCEPTED


def test_a_pattern_day_trader_below_25000_gets_only_2_to_1(node: Node, kit: Any) -> None:
    power = bp(node, "small_pdt")
    assert (power.intraday, power.ratio, power.buying_power) == (True, 2, D(40_000))
    why = denied(
        node, kit, Reason.INSUFFICIENT_BUYING_POWER, "small_pdt", AAPL, "BUY", "LIMIT", 401, "99.9"
    )
    assert why.endswith(
        "pattern day trader equity 20000 USD is below the 25000 minimum for 4:1 intraday "
        "buying power"
    )
    assert node.buy("small_pdt", AAPL, 400, "99.9").status is S.ACCEPTED


def test_pdt_equity_counts_positions_at_the_last_price(node: Node) -> None:
    node.deposit("small_pdt", AAPL, 60)  # 6,000 at 100: equity 26,000
    assert bp(node, "small_pdt").ratio == 4
    node.update_prices(AAPL, last="50")  # equity 23,000
    assert bp(node, "small_pdt").ratio == 2


# ---------------------------------------------------------------------------------- modify
def test_a_margin_modify_that_adds_exposure_is_checked(node: Node, kit: Any) -> None:
    order = node.buy("margy", AAPL, 100, "80")  # 8,000: excess 6,000, buying power 12,000
    why = refused_modify(
        node, kit, Reason.INSUFFICIENT_BUYING_POWER, "margy", order.order_id, qty=251
    )
    assert "needs 12080 USD of buying power" in why
    assert node.modify("margy", order.order_id, qty=250).qty == 250
    assert node.modify("margy", order.order_id, price="70").price == D(70)  # smaller: allowed


def test_a_cash_modify_may_spend_only_settled_cash(node: Node, kit: Any) -> None:
    at(node, FRIDAY)
    node.buy("mm", AAPL, 1_000, "100")
    node.sell("cashy", AAPL, 100, "100")  # 10,000 unsettled
    order = node.buy("cashy", AAPL, 5, "90")  # 450 locked, 550 settled free left
    why = refused_modify(
        node, kit, Reason.INSUFFICIENT_BUYING_POWER, "cashy", order.order_id, qty=12
    )
    assert "needs 630 USD but account cashy's buying power is 550 USD" in why
    assert node.modify("cashy", order.order_id, qty=11).qty == 11


def test_a_cash_modify_of_a_sell_may_not_sell_short(node: Node, kit: Any) -> None:
    order = node.sell("cashy", AAPL, 60, "120")
    refused_modify(node, kit, Reason.SHORT_SALE_NOT_ALLOWED, "cashy", order.order_id, qty=101)
    assert node.modify("cashy", order.order_id, qty=100).qty == 100


# ---------------------------------------------------------------------------------- replay
def test_a_snapshot_keeps_unsettled_proceeds_and_rebuilds_the_open_orders(node: Node) -> None:
    at(node, FRIDAY)
    node.buy("mm", AAPL, 1_000, "100")
    node.sell("cashy", AAPL, 100, "100")
    node.buy("margy", AAPL, 50, "80")
    restored = Engine()
    restore_state(restored.state, decode_snapshot(encode_snapshot(export_state(node.engine.state))))
    assert restored.digest() == node.digest()
    for account in ("cashy", "margy"):
        assert buying_power(restored.state, account, "USD", FRIDAY) == bp(node, account)
