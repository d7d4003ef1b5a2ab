"""Orders through their whole life on the built-in exchange, as a user of the library sees them."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from atlas_oms import (
    CommandRefused,
    Engine,
    Instrument,
    ManualClock,
    Node,
    OrderStatus,
    OrderType,
    PositionMode,
    Reason,
)
from atlas_oms.model import events as ev

S = OrderStatus
BTC = "BTC/USDT"
PERP = "BTC/USDT:USDT"
SEC = 1_000_000_000


@pytest.fixture
def node() -> Node:
    n = Node.in_memory(clock=ManualClock(1_767_225_600 * SEC))  # 2026-01-01 00:00 UTC
    n.add_instrument(
        Instrument.spot(
            BTC, tick_size="0.01", lot_size="0.001", maker_fee="0.001", taker_fee="0.002"
        )
    )
    n.add_instrument(Instrument.perpetual(PERP, tick_size="0.1", lot_size="0.001"))
    for account in ("mm", "alice", "bob"):
        n.open_account(account)
        n.deposit(account, "USDT", 1_000_000)
        n.deposit(account, "BTC", 100)
    n.update_prices(BTC, last="100")
    n.update_prices(PERP, last="100", mark="100")
    return n


def test_limit_orders_rest_and_a_market_order_walks_the_book(node: Node) -> None:
    a = node.sell("mm", BTC, "1", "100")
    b = node.sell("mm", BTC, "2", "101")
    assert a.status is S.ACCEPTED and b.status is S.ACCEPTED
    taker = node.buy("alice", BTC, "2")
    assert taker.status is S.FILLED
    assert taker.avg_px == D("100.5")
    assert node.order(a.order_id).status is S.FILLED
    maker_b = node.order(b.order_id)
    assert maker_b.status is S.PARTIALLY_FILLED
    assert maker_b.cum_qty + maker_b.leaves_qty == maker_b.qty


def test_taker_and_maker_fees_are_charged_in_quote(node: Node) -> None:
    node.sell("mm", BTC, "1", "100")
    node.buy("alice", BTC, "1")
    alice = node.balance("alice", "USDT")
    mm = node.balance("mm", "USDT")
    assert alice.total == D(1_000_000) - D(100) - D("0.2")
    assert mm.total == D(1_000_000) + D(100) - D("0.1")
    assert node.balance("alice", "BTC").total == D(101)


def test_resting_buy_reserves_quote_and_cancel_releases_it(node: Node) -> None:
    order = node.buy("alice", BTC, "2", "90")
    assert node.balance("alice", "USDT").locked == D(2) * D(90) * D("1.002")
    canceled = node.cancel("alice", order.order_id)
    assert canceled.status is S.CANCELED
    assert node.balance("alice", "USDT").locked == 0


def test_order_needing_more_than_the_free_balance_is_denied(node: Node) -> None:
    order = node.buy("alice", BTC, "20000", "99")
    assert order.status is S.DENIED
    assert order.reason == Reason.INSUFFICIENT_BALANCE
    assert node.balance("alice", "USDT").locked == 0


def test_partial_fill_then_rest_keeps_quantities_consistent(node: Node) -> None:
    node.sell("mm", BTC, "1", "100")
    order = node.buy("alice", BTC, "3", "100")
    assert order.status is S.PARTIALLY_FILLED
    assert (order.cum_qty, order.leaves_qty) == (D(1), D(2))
    assert node.book(BTC)["bids"] == [(D(100), D(2))]


def test_modify_price_and_quantity_of_a_resting_order(node: Node) -> None:
    order = node.buy("alice", BTC, "1", "95")
    changed = node.modify("alice", order.order_id, qty="2", price="96")
    assert changed.status is S.ACCEPTED
    assert (changed.qty, changed.price) == (D(2), D(96))
    assert node.book(BTC)["bids"] == [(D(96), D(2))]
    assert node.balance("alice", "USDT").locked == D(2) * D(96) * D("1.002")


def test_modify_to_a_crossing_price_trades(node: Node) -> None:
    node.sell("mm", BTC, "1", "100")
    order = node.buy("alice", BTC, "1", "95")
    changed = node.modify("alice", order.order_id, price="100")
    assert changed.status is S.FILLED


def test_quantity_reduced_to_filled_quantity_completes_the_order(node: Node) -> None:
    node.sell("mm", BTC, "1", "100")
    order = node.buy("alice", BTC, "3", "100")
    done = node.modify("alice", order.order_id, qty="1")
    assert done.status is S.FILLED
    assert done.qty == done.cum_qty == D(1)
    assert done.leaves_qty == 0
    assert node.book(BTC)["bids"] == []


def test_only_live_orders_modify_or_cancel(node: Node) -> None:
    node.sell("mm", BTC, "1", "100")
    order = node.buy("alice", BTC, "1")
    with pytest.raises(CommandRefused) as cancel:
        node.cancel("alice", order.order_id)
    assert cancel.value.reason == Reason.ORDER_NOT_LIVE
    with pytest.raises(CommandRefused) as modify:
        node.modify("alice", order.order_id, qty="2")
    assert modify.value.reason == Reason.ORDER_NOT_LIVE


def test_ioc_remainder_is_canceled(node: Node) -> None:
    node.sell("mm", BTC, "1", "100")
    order = node.buy("alice", BTC, "3", "100", tif="IOC")
    assert order.status is S.CANCELED
    assert order.cum_qty == 1 and order.leaves_qty == 0
    assert order.reason == Reason.IOC_REMAINDER
    assert node.balance("alice", "USDT").locked == 0


def test_fok_that_cannot_fill_does_nothing(node: Node) -> None:
    node.sell("mm", BTC, "1", "100")
    order = node.buy("alice", BTC, "3", "100", tif="FOK")
    assert order.status is S.CANCELED and order.cum_qty == 0
    assert order.reason == Reason.FOK_NOT_FILLABLE
    assert node.book(BTC)["asks"] == [(D(100), D(1))]


def test_post_only_that_would_take_is_rejected(node: Node) -> None:
    node.sell("mm", BTC, "1", "100")
    order = node.buy("alice", BTC, "1", "100", post_only=True)
    assert order.status is S.REJECTED and order.reason == Reason.POST_ONLY_WOULD_TAKE
    resting = node.buy("alice", BTC, "1", "99", post_only=True)
    assert resting.status is S.ACCEPTED


def test_self_trade_is_prevented(node: Node) -> None:
    node.sell("alice", BTC, "1", "100")
    order = node.buy("alice", BTC, "1", "100")
    assert order.status is S.CANCELED and order.reason == Reason.SELF_TRADE_PREVENTED
    assert node.fills() == []


def test_same_client_order_id_returns_the_existing_order(node: Node) -> None:
    first = node.buy("alice", BTC, "1", "90", client_order_id="c-1")
    again = node.buy("alice", BTC, "1", "90", client_order_id="c-1")
    assert again.duplicate and again.order_id == first.order_id and again.qty == D(1)
    with pytest.raises(CommandRefused) as refused:  # the same id with other terms
        node.buy("alice", BTC, "5", "91", client_order_id="c-1")
    assert refused.value.reason == "DUPLICATE_CLIENT_ORDER_ID"
    assert len(node.orders("alice")) == 1
    other = node.buy("bob", BTC, "1", "90", client_order_id="c-1")  # keys are per account
    assert other.order_id != first.order_id


def test_cancel_by_client_order_id(node: Node) -> None:
    node.buy("alice", BTC, "1", "90", client_order_id="mine")
    assert node.cancel("alice", client_order_id="mine").status is S.CANCELED


def test_stop_market_is_held_until_last_price_reaches_the_trigger(node: Node) -> None:
    node.buy("mm", BTC, "5", "94")
    stop = node.submit("alice", BTC, "SELL", "STOP_MARKET", "1", trigger_price="95")
    assert stop.status is S.ACCEPTED and stop.venue_order_id is None
    assert node.book(BTC)["asks"] == []
    node.update_prices(BTC, last="96")
    assert node.order(stop.order_id).status is S.ACCEPTED
    node.update_prices(BTC, last="95")
    fired = node.order(stop.order_id)
    assert fired.status is S.FILLED and fired.avg_px == D(94)


def test_stop_limit_rests_at_its_limit_after_the_trigger(node: Node) -> None:
    stop = node.submit("alice", BTC, "BUY", "STOP_LIMIT", "1", price="106", trigger_price="105")
    node.update_prices(BTC, last="105.5")
    fired = node.order(stop.order_id)
    assert fired.status is S.TRIGGERED
    assert node.book(BTC)["bids"] == [(D(106), D(1))]


def test_take_profit_fires_in_the_other_direction(node: Node) -> None:
    node.buy("mm", BTC, "5", "109")
    tp = node.submit("alice", BTC, "SELL", "TAKE_PROFIT_MARKET", "1", trigger_price="110")
    node.update_prices(BTC, last="90")
    assert node.order(tp.order_id).status is S.ACCEPTED
    node.update_prices(BTC, last="110")
    assert node.order(tp.order_id).status is S.FILLED


def test_stop_fires_on_a_trade_on_the_built_in_exchange(node: Node) -> None:
    node.buy("mm", BTC, "5", "94")
    node.buy("mm", BTC, "5", "93")
    stop = node.submit("alice", BTC, "SELL", "STOP_MARKET", "1", trigger_price="94")
    node.sell("bob", BTC, "1", "94")  # trades at 94: the last price reaches the trigger
    assert node.order(stop.order_id).status is S.FILLED


def test_mark_price_trigger_ignores_last_trades(node: Node) -> None:
    node.set_leverage("alice", PERP, 10)
    stop = node.submit(
        "alice", PERP, "SELL", "STOP_MARKET", "1", trigger_price="95", trigger_type="MARK"
    )
    node.update_prices(PERP, last="90")
    assert node.order(stop.order_id).status is S.ACCEPTED
    node.update_prices(PERP, mark="94.9")
    assert node.order(stop.order_id).status is not S.ACCEPTED


def test_trailing_stop_tightens_and_never_loosens(node: Node) -> None:
    trail = node.submit("alice", BTC, "SELL", "TRAILING_STOP_MARKET", "1", trailing_offset="5")
    assert trail.trigger_price == D(95)
    node.update_prices(BTC, last="110")
    assert node.order(trail.order_id).trigger_price == D(105)
    node.update_prices(BTC, last="107")
    assert node.order(trail.order_id).trigger_price == D(105)  # never loosens
    node.buy("mm", BTC, "1", "104")
    node.update_prices(BTC, last="105")
    done = node.order(trail.order_id)
    assert done.status is S.FILLED and done.avg_px == D(104)


def test_trailing_stop_percent_offset(node: Node) -> None:
    trail = node.submit(
        "alice",
        BTC,
        "BUY",
        "TRAILING_STOP_LIMIT",
        "1",
        trailing_offset="10",
        trailing_offset_type="PERCENT",
        limit_offset="1",
    )
    assert trail.trigger_price == D(110)
    node.update_prices(BTC, last="80")
    assert node.order(trail.order_id).trigger_price == D(88)
    node.update_prices(BTC, last="88")
    fired = node.order(trail.order_id)
    assert fired.status is S.TRIGGERED and fired.price == D(89)


def test_cancel_of_a_held_stop_needs_no_venue(node: Node) -> None:
    stop = node.submit("alice", BTC, "SELL", "STOP_MARKET", "1", trigger_price="90")
    assert node.cancel("alice", stop.order_id).status is S.CANCELED
    node.update_prices(BTC, last="80")
    assert node.order(stop.order_id).status is S.CANCELED


def test_modify_trigger_of_a_held_stop(node: Node) -> None:
    stop = node.submit("alice", BTC, "SELL", "STOP_MARKET", "1", trigger_price="90")
    moved = node.modify("alice", stop.order_id, trigger_price="95")
    assert moved.trigger_price == D(95) and moved.status is S.ACCEPTED
    node.update_prices(BTC, last="94")
    assert node.order(stop.order_id).status is not S.ACCEPTED


def test_gtd_and_day_orders_expire(node: Node) -> None:
    now = node.clock.now()
    gtd = node.buy("alice", BTC, "1", "90", tif="GTD", expire_ts=now + 60 * SEC)
    day = node.buy("alice", BTC, "1", "91", tif="DAY")
    node.advance_time(61 * SEC)
    assert node.order(gtd.order_id).status is S.EXPIRED
    assert node.order(day.order_id).status is S.ACCEPTED
    node.advance_time(86_400 * SEC)
    assert node.order(day.order_id).status is S.EXPIRED
    assert node.book(BTC)["bids"] == []
    assert node.balance("alice", "USDT").locked == 0


def test_positions_keep_lots_and_realize_fifo_pnl(node: Node) -> None:
    node.sell("mm", BTC, "1", "100")
    node.buy("alice", BTC, "1")
    node.sell("mm", BTC, "1", "110")
    node.buy("alice", BTC, "1", "110")
    pos = node.position("alice", BTC)
    assert pos is not None and pos.qty == D(2)
    assert [(lot.qty, lot.price) for lot in pos.lots] == [(D(1), D(100)), (D(1), D(110))]
    assert pos.avg_entry_px == D(105)
    node.buy("mm", BTC, "1", "120")
    node.sell("alice", BTC, "1")
    pos = node.position("alice", BTC)
    assert pos is not None
    assert pos.realized_pnl == D(20)  # FIFO: the lot bought at 100 closed at 120
    assert [(lot.qty, lot.price) for lot in pos.lots] == [(D(1), D(110))]


def test_perpetual_locks_margin_and_settles_pnl(node: Node) -> None:
    node.set_leverage("alice", PERP, 10)
    node.set_leverage("mm", PERP, 10)
    node.sell("mm", PERP, "2", "100")
    node.buy("alice", PERP, "2")
    pos = node.position("alice", PERP)
    assert pos is not None and pos.qty == D(2) and pos.margin == D(20)
    assert node.balance("alice", "USDT").locked == D(20)
    node.buy("mm", PERP, "2", "110")
    node.sell("alice", PERP, "2")
    assert node.balance("alice", "USDT").locked == 0
    assert node.balance("alice", "USDT").total == D(1_000_000) + D(20)


def test_hedge_mode_keeps_long_and_short_apart(node: Node) -> None:
    node.open_account("hedger", position_mode=PositionMode.HEDGE)
    node.deposit("hedger", "USDT", 10_000)
    denied = node.buy("hedger", PERP, "1", "100")
    assert denied.reason == Reason.POSITION_SIDE_REQUIRED
    node.sell("mm", PERP, "1", "100")
    node.buy("hedger", PERP, "1", position_side="LONG")
    node.buy("mm", PERP, "1", "100")
    node.sell("hedger", PERP, "1", position_side="SHORT")
    long_ = node.position("hedger", PERP, "LONG")  # type: ignore[arg-type]
    short = node.position("hedger", PERP, "SHORT")  # type: ignore[arg-type]
    assert long_ is not None and short is not None
    assert (long_.qty, short.qty) == (D(1), D(-1))


def test_reduce_only_refuses_to_increase(node: Node) -> None:
    denied = node.sell("alice", PERP, "1", "100", reduce_only=True)
    assert denied.status is S.DENIED and denied.reason == Reason.REDUCE_ONLY_WOULD_INCREASE


def test_market_order_without_any_reference_price_is_denied() -> None:
    n = Node.in_memory()
    n.add_instrument(Instrument.spot("ETH/USDT", tick_size="0.01", lot_size="0.001"))
    n.open_account("a")
    n.deposit("a", "USDT", 1000)
    order = n.buy("a", "ETH/USDT", "1")
    assert order.status is S.DENIED and order.reason == Reason.NO_REFERENCE_PRICE


def test_market_order_is_protected_from_trading_far_from_the_reference(node: Node) -> None:
    node.sell("mm", BTC, "1", "100")
    node.sell("mm", BTC, "1", "200")
    order = node.buy("alice", BTC, "2")
    assert order.cum_qty == 1 and order.status is S.CANCELED
    assert order.reason == Reason.MARKET_NO_LIQUIDITY


def test_every_event_is_journaled_in_sequence(node: Node) -> None:
    node.sell("mm", BTC, "1", "100")
    node.buy("alice", BTC, "1")
    events = list(node.events())
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    kinds = [type(e) for e in events[-3:]]
    # An order that fills on arrival is acknowledged by its fills, as exchanges answer it.
    assert kinds == [ev.OrderSubmitted, ev.OrderFilled, ev.OrderFilled]
    taker = node.order(events[-1].order_id)  # type: ignore[attr-defined]
    assert taker.venue_order_id == f"sim-{taker.order_id}"


def test_sub_accounts_need_an_existing_parent(node: Node) -> None:
    node.open_account("mm-2", parent_id="mm")
    with pytest.raises(CommandRefused) as refused:
        node.open_account("orphan", parent_id="nobody")
    assert refused.value.reason == Reason.UNKNOWN_PARENT_ACCOUNT


def test_order_types_enum_is_complete() -> None:
    assert {t.value for t in OrderType} >= {
        "MARKET",
        "LIMIT",
        "STOP_MARKET",
        "STOP_LIMIT",
        "TAKE_PROFIT_MARKET",
        "TAKE_PROFIT_LIMIT",
        "TRAILING_STOP_MARKET",
        "TRAILING_STOP_LIMIT",
    }


def test_post_only_modify_that_would_take_is_refused_and_the_order_stays(node: Node) -> None:
    node.sell("mm", BTC, "1", "100")
    order = node.buy("alice", BTC, "1", "99", post_only=True)
    with pytest.raises(CommandRefused) as refused:
        node.modify("alice", order.order_id, price="100")
    assert refused.value.reason == Reason.POST_ONLY_WOULD_TAKE
    kept = node.order(order.order_id)
    assert kept.status is S.ACCEPTED and kept.price == D(99)
    assert node.book(BTC)["bids"] == [(D(99), D(1))]


def test_a_command_built_with_plain_strings_means_what_it_says(node: Node) -> None:
    from atlas_oms.model.commands import SubmitOrder

    cmd = SubmitOrder(
        account_id="alice",
        symbol=BTC,
        side="SELL",
        order_type="LIMIT",  # type: ignore[arg-type]
        qty=D(1),
        price=D(150),
        tif="GTC",
    )  # type: ignore[arg-type]
    order = node.submit_command(cmd)
    assert order.status is S.ACCEPTED and order.side == "SELL"
    assert node.balance("alice", "BTC").locked == D(1)


def test_a_command_with_an_unknown_side_is_denied(node: Node) -> None:
    from atlas_oms.model.commands import SubmitOrder

    cmd = SubmitOrder(
        account_id="alice",
        symbol=BTC,
        side="SIDEWAYS",
        order_type="LIMIT",  # type: ignore[arg-type]
        qty=D(1),
        price=D(150),
    )
    with pytest.raises(CommandRefused) as refused:
        node.submit_command(cmd)
    assert refused.value.reason == Reason.INVALID_FIELD
    replayed = Engine()
    replayed.apply_all(node.events())  # the refusal reads back from the journal
    assert replayed.digest() == node.digest()
