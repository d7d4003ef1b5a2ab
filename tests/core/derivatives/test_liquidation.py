"""The liquidation loop of the derivatives venue (core/derivatives/liquidation.py), through the library API.

On a mark price that brings a position (isolated) or an account (cross) to a 100% margin ratio:
freeze, cancel its orders, IOC at the bankruptcy price into the book, the insurance fund takes the
better fills' surplus or pays for worse ones, ADL closes what is left against opposite positions
ranked by P&L% x effective leverage. Every step is an event and a replay reaches the same state.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from atlas_oms import Instrument, Node
from atlas_oms.core.derivatives.index import refresh_liq_index
from atlas_oms.model import events as ev
from atlas_oms.model.margin import MarginMode, tiers_from_rows
from atlas_oms.model.reasons import Reason
from atlas_oms.runtime.node import CommandRefused
from atlas_oms.store.opener import open_journal

D = Decimal
S = "BTC/USDT:USDT"
#: Binance-like BTCUSDT tiers (floor, cap, maintenance rate, maintenance amount, max leverage).
TIERS = tiers_from_rows(
    [
        (0, 50_000, "0.004", 0, 125),
        (50_000, 250_000, "0.005", 50, 100),
        (250_000, 1_000_000, "0.01", 1_300, 50),
        (1_000_000, None, "0.025", 16_300, 20),
    ]
)


def venue(*accounts: str, deposit: str = "1000", fee: str = "0") -> Node:
    node = Node.in_memory()
    node.add_instrument(
        Instrument.perpetual(
            S,
            tick_size="0.1",
            lot_size="0.001",
            margin_tiers=TIERS,
            maker_fee=fee,
            taker_fee=fee,
        )
    )
    for account in accounts:
        node.open_account(account)
        node.deposit(account, "USDT", deposit)
    node.open_account("mm")
    node.deposit("mm", "USDT", "10000000")
    node.update_prices(S, last="10000", mark="10000")
    return node


def open_pair(node: Node, long: str, short: str, qty: str, price: str = "10000") -> None:
    node.submit(short, S, "SELL", "LIMIT", qty, price=price)
    node.submit(long, S, "BUY", "LIMIT", qty, price=price)


def kinds(events: list[ev.EventBase]) -> list[str]:
    return [type(e).__name__ for e in events]


def total_value(node: Node, price: str = "10000") -> Decimal:
    """Balances + fund + unrealized P&L at one price + fees charged: conserved by every step."""
    engine = node.engine
    total = sum((b.total for (_, a), b in engine.state.balances.items() if a == "USDT"), D(0))
    total += node.insurance_fund("USDT")
    total += sum((p.unrealized_pnl(D(price)) for p in engine.state.positions.values()), D(0))
    total += sum((p.fees for p in engine.state.positions.values()), D(0))
    return total


def test_an_isolated_long_is_liquidated_through_the_book_and_loses_exactly_its_margin() -> None:
    node = venue("alice", "bob")
    node.set_margin_mode("alice", S, "ISOLATED")
    node.set_leverage("alice", S, 20)
    node.set_leverage("bob", S, 20)
    open_pair(node, "alice", "bob", "1")
    pos = node.position("alice", S)
    assert pos is not None and pos.margin == D(500)
    # Binance isolated: LP = (500 - 10000) / (1 * 0.004 - 1) ; BP = 10000 - 500 / 1
    assert pos.liquidation_price is not None
    assert pos.liquidation_price.quantize(D("0.01")) == D("9538.15")
    assert pos.bankruptcy_price == D(9500)
    node.submit("mm", S, "BUY", "LIMIT", "1", price="9600")

    assert kinds(node.update_prices(S, mark="9540")) == ["PricesUpdated"]  # above the LP
    out = node.update_prices(S, mark="9538")
    names = kinds(out)
    assert names[:4] == ["PricesUpdated", "LiquidationStarted", "LiquidationStep", "OrderSubmitted"]
    step = next(e for e in out if isinstance(e, ev.LiquidationStep))
    assert (step.stage, step.bankruptcy_price, step.price) == ("BOOK", D(9500), D(9500))
    transfer = next(e for e in out if isinstance(e, ev.LiquidationFundTransfer))
    assert transfer.amount == D(100)  # filled at 9600, 100 better than bankruptcy: to the fund
    assert names[-1] == "LiquidationFinished"

    after = node.position("alice", S)
    assert after is not None and after.qty == 0
    assert node.balance("alice", "USDT").total == D(500)  # 1000 deposited - 500 margin lost
    assert node.insurance_fund("USDT") == D(100)
    assert total_value(node) == D(1000) * 2 + D(10_000_000)


def test_liquidation_orders_pay_no_trading_fee_and_the_maker_pays_its_own() -> None:
    node = venue("alice", "bob", fee="0.0004")
    node.set_margin_mode("alice", S, "ISOLATED")
    node.set_leverage("alice", S, 20)
    node.set_leverage("bob", S, 20)
    open_pair(node, "alice", "bob", "1")
    node.submit("mm", S, "BUY", "LIMIT", "1", price="9600")
    out = node.update_prices(S, mark="9500")
    fills = [e for e in out if isinstance(e, ev.OrderFilled)]
    taker = next(f for f in fills if f.account_id == "alice")
    maker = next(f for f in fills if f.account_id == "mm")
    assert taker.fee == 0 and maker.fee == D("3.84")
    # Alice paid the opening taker fee (4) and then lost exactly her isolated margin.
    assert node.balance("alice", "USDT").total == D(1000) - D(4) - D(500)
    assert total_value(node) == D(1000) * 2 + D(10_000_000)


def test_the_insurance_fund_pays_for_fills_worse_than_the_bankruptcy_price() -> None:
    node = venue("alice", "bob")
    node.deposit_insurance_fund("USDT", "50", actor="ops", reason="seed")
    node.set_margin_mode("alice", S, "ISOLATED")
    node.set_leverage("alice", S, 20)
    node.set_leverage("bob", S, 20)
    open_pair(node, "alice", "bob", "1")
    node.submit("mm", S, "BUY", "LIMIT", "1", price="9460")  # 40 below bankruptcy
    out = node.update_prices(S, mark="9400")
    steps = [e for e in out if isinstance(e, ev.LiquidationStep)]
    assert [s.stage for s in steps] == ["BOOK", "FUND"]
    assert steps[1].price == D(9450)  # 9500 - 50 / 1: the worst price the fund can pay for
    transfers = [e for e in out if isinstance(e, ev.LiquidationFundTransfer)]
    assert [t.amount for t in transfers] == [D(-40)]
    assert node.insurance_fund("USDT") == D(10)
    assert node.balance("alice", "USDT").total == D(500)  # still exactly her margin lost
    assert total_value(node) == D(2000) + D(10_000_000) + D(50)


def test_what_neither_the_book_nor_the_fund_takes_is_auto_deleveraged_highest_rank_first() -> None:
    node = venue("alice", "bob", "carol", "dave", deposit="100000")
    node.set_margin_mode("alice", S, "ISOLATED")
    node.set_margin_mode("carol", S, "ISOLATED")  # isolated 10x: a high effective leverage
    node.set_leverage("alice", S, 50)
    for name, lev in (("bob", 2), ("carol", 10), ("dave", 10)):
        node.set_leverage(name, S, lev)
    # Alice is long 3 against three shorts opened at different prices and leverage.
    open_pair(node, "alice", "bob", "1", "10000")
    open_pair(node, "alice", "carol", "1", "10000")
    node.update_prices(S, last="10100", mark="10100")
    open_pair(node, "alice", "dave", "1", "10100")  # dave is short from higher: more profit
    out = node.update_prices(S, mark="9500")
    adl = [e for e in out if isinstance(e, ev.PositionAutoDeleveraged) and not e.liquidated]
    # Ranked by P&L% x effective leverage (notional over margin balance): carol's isolated 10x
    # first, then dave (short from higher) before bob (cross: the whole wallet backs them).
    assert [a.account_id for a in adl] == ["carol", "dave", "bob"]
    mine = [e for e in out if isinstance(e, ev.PositionAutoDeleveraged) and e.liquidated]
    assert [(a.rank, a.qty) for a in mine] == [(a.rank, a.qty) for a in adl]
    assert {a.account_id for a in mine} == {"alice"}
    assert all(a.price == adl[0].price for a in adl)
    bankruptcy = next(e for e in out if isinstance(e, ev.LiquidationStep)).bankruptcy_price
    assert adl[0].price == bankruptcy
    for name in ("alice", "bob", "carol", "dave"):
        pos = node.position(name, S)
        assert pos is not None and pos.qty == 0
    # Alice ends with her deposit less her isolated margin. Her average entry (30100 / 3) repeats,
    # so the bankruptcy price is kept to 12 decimals in her favour: she keeps dust below 1e-11.
    alice_margin = D(10000) / 50 * 2 + D(10100) / 50
    left = node.balance("alice", "USDT").total - (D(100000) - alice_margin)
    assert D(0) <= left < D("1e-11")
    assert total_value(node) == D(400000) + D(10_000_000)


def test_a_cross_account_is_liquidated_as_a_whole_and_its_orders_are_cancelled_first() -> None:
    node = venue("alice", "bob")
    node.set_leverage("alice", S, 10)
    node.set_leverage("bob", S, 10)
    open_pair(node, "alice", "bob", "0.5")
    resting = node.submit("alice", S, "BUY", "LIMIT", "0.01", price="9000")
    pos = node.position("alice", S)
    assert pos is not None and pos.margin_mode == "CROSS"
    # Cross: the whole wallet backs the position (less the open order's reserved margin does
    # not count: Binance's wallet balance includes it). LP = (WB - 0.5*10000) / (0.5*0.004 - 0.5)
    wallet = node.balance("alice", "USDT").total
    assert pos.liquidation_price == (wallet - D(5000)) / (D("0.5") * D("0.004") - D("0.5"))
    node.submit("mm", S, "BUY", "LIMIT", "1", price="8100")
    out = node.update_prices(S, mark="8030")
    assert kinds(out)[:3] == ["PricesUpdated", "LiquidationStarted", "OrderPendingCancel"]
    cancel = next(e for e in out if isinstance(e, ev.OrderCanceled))
    assert cancel.order_id == resting.order_id and cancel.reason == Reason.LIQUIDATION
    assert node.balance("alice", "USDT").total == 0  # a cross liquidation takes the wallet
    assert node.balance("alice", "USDT").locked == 0
    assert total_value(node) == D(2000) + D(10_000_000)


def test_cross_liquidation_price_depends_on_the_other_positions() -> None:
    node = Node.in_memory()
    eth = "ETH/USDT:USDT"
    node.add_instrument(
        Instrument.perpetual(S, tick_size="0.1", lot_size="0.001", margin_tiers=TIERS)
    )
    node.add_instrument(Instrument.perpetual(eth, tick_size="0.01", lot_size="0.01"))
    for name in ("alice", "bob"):
        node.open_account(name)
        node.deposit(name, "USDT", "5000")
        node.set_leverage(name, S, 10)
        node.set_leverage(name, eth, 10)
    node.update_prices(S, last="10000", mark="10000")
    node.update_prices(eth, last="1000", mark="1000")
    open_pair(node, "alice", "bob", "1")
    node.submit("bob", eth, "SELL", "LIMIT", "10", price="1000")
    node.submit("alice", eth, "BUY", "LIMIT", "10", price="1000")
    before = node.position("alice", S)
    node.update_prices(eth, mark="900")  # alice loses 1000 on ETH: her BTC LP rises by 1000
    after = node.position("alice", S)
    assert before is not None and after is not None
    assert before.liquidation_price is not None and after.liquidation_price is not None
    # d(LP) = (d(TMM1) - d(UPNL1)) / (qty * (mmr - 1)): ETH's loss of 1000 raises it, ETH's
    # maintenance margin falling by 5 (10 * 100 * 0.005) lowers it.
    moved = after.liquidation_price - before.liquidation_price
    assert moved.quantize(D("1e-12")) == ((D(1000) - D(5)) / D("0.996")).quantize(D("1e-12"))


def test_a_liquidation_waiting_on_the_venue_freezes_the_account_and_its_order_cannot_be_cancelled(
    rec: object,
) -> None:
    from atlas_oms.model import commands as c

    engine = rec.engine  # type: ignore[attr-defined]
    perp = "ETH/USDT:USDT"
    rec.handle(c.SetLeverage(ts=rec.next_ts(), account_id="carol", symbol=perp, leverage=D(10)))  # type: ignore[attr-defined]
    rec.handle(
        c.SetMarginMode(ts=rec.next_ts(), account_id="carol", symbol=perp, mode=MarginMode.ISOLATED)
    )  # type: ignore[attr-defined]
    oid = rec.limit("carol", "BUY", "10", "2000", symbol=perp)  # type: ignore[attr-defined]
    rec.accept(oid)  # type: ignore[attr-defined]
    rec.fill(oid, "10", "2000", "e1")  # type: ignore[attr-defined]
    engine.take_requests()
    out = rec.handle(c.UpdatePrices(ts=rec.next_ts(), symbol=perp, mark=D(1700)))  # type: ignore[attr-defined]
    started = next(e for e in out if isinstance(e, ev.LiquidationStarted))
    step = next(e for e in out if isinstance(e, ev.LiquidationStep))
    assert started.account_id == "carol" and step.stage == "BOOK"
    sent = engine.take_requests()
    assert [type(r).__name__ for r in sent] == ["SubmitToVenue"]
    assert sent[0].liquidation and sent[0].tif == "IOC" and sent[0].price == D(1800)
    # Frozen: no new order on that instrument, and the liquidation order is the venue's.
    denied = rec.submit(  # type: ignore[attr-defined]
        account_id="carol", symbol=perp, side="BUY", order_type="LIMIT", qty=D(1), price=D(1700)
    )[1][0]
    assert isinstance(denied, ev.OrderDenied) and denied.reason == Reason.LIQUIDATION_IN_PROGRESS
    refused = rec.handle(
        c.CancelOrder(ts=rec.next_ts(), account_id="carol", order_id=step.order_id)
    )  # type: ignore[attr-defined]
    assert isinstance(refused[0], ev.OrderCancelRejected)
    assert refused[0].reason == Reason.LIQUIDATION_IN_PROGRESS
    # The venue fills it at 1810 (10 better than bankruptcy for 10 contracts): 100 to the fund.
    out = rec.fill(step.order_id, "10", "1810", "e2")  # type: ignore[attr-defined]
    assert [type(e).__name__ for e in out][-2:] == [
        "LiquidationFundTransfer",
        "LiquidationFinished",
    ]
    assert engine.state.liq.fund["USDT"] == D(100)
    assert not engine.state.liq.frozen
    assert rec.replay_digest() == engine.digest()  # type: ignore[attr-defined]


def test_replay_and_snapshot_rebuild_the_same_liquidations_fund_and_index(
    tmp_path: object, kit: Any
) -> None:
    path = str(tmp_path) + "/j.sqlite"  # type: ignore[operator]
    node = Node.open(path, snapshot_every=0)
    node.add_instrument(
        Instrument.perpetual(S, tick_size="0.1", lot_size="0.001", margin_tiers=TIERS)
    )
    for name in ("alice", "bob", "carol", "mm"):
        node.open_account(name)
        node.deposit(name, "USDT", "1000000" if name == "mm" else "1000")
        node.set_leverage(name, S, 20)
    node.set_margin_mode("carol", S, "ISOLATED")
    node.update_prices(S, last="10000", mark="10000")
    open_pair(node, "alice", "bob", "1")
    open_pair(node, "carol", "mm", "0.5")
    node.submit("mm", S, "BUY", "LIMIT", "0.3", price="9550")
    node.snapshot()
    node.update_prices(S, mark="9300")
    node.set_funding_rate(S, "0.0001")
    digest = node.digest()
    fund = node.insurance_fund("USDT")
    node.close()
    again = Node.open(path)
    assert again.digest() == digest and again.insurance_fund("USDT") == fund
    assert len(again.liquidations()) == len([e for e in again.liquidations()])
    # The index is rebuilt from the state: the same positions are found at the same prices.
    refresh_liq_index(kit.context_of(again.engine))
    node2 = Node(open_journal(path, readonly=True))  # one writer: a second open reads
    refresh_liq_index(kit.context_of(node2.engine))
    assert again.engine.state.liq_index.entries == node2.engine.state.liq_index.entries
    again.close()
    node2.close()


def test_funding_longs_pay_shorts_at_mark_on_each_interval_and_money_is_conserved() -> None:
    node = venue("alice", "bob", "carol", deposit="5000")
    for name in ("alice", "bob", "carol"):
        node.set_leverage(name, S, 10)
    node.set_margin_mode("carol", S, "ISOLATED")
    open_pair(node, "alice", "bob", "1")
    open_pair(node, "carol", "bob", "0.5")
    start = node.clock.now()  # type: ignore[attr-defined]
    node.set_funding_rate(S, "0.0001")
    node.update_prices(S, mark="10200")
    hour = 3_600_000_000_000
    next_boundary = start - start % (8 * hour) + 8 * hour
    assert not [
        e for e in node.advance_time(next_boundary - start - 1) if isinstance(e, ev.FundingSettled)
    ]
    out = [e for e in node.advance_time(1) if isinstance(e, ev.FundingSettled)]
    assert len(out) == 3  # one per open position
    payments = {(e.account_id, e.qty): e.amount for e in out}
    assert payments == {
        ("alice", D(1)): D("-1.02"),  # 1 * 10200 * 0.0001
        ("bob", D("-1.5")): D("1.53"),
        ("carol", D("0.5")): D("-0.51"),
    }
    carol = node.position("carol", S)
    assert carol is not None and carol.margin == D(500) - D("0.51")  # isolated: its own margin
    assert carol.funding == D("-0.51")
    assert total_value(node) == D(15000) + D(10_000_000)
    # Only once per boundary.
    assert not [e for e in node.advance_time(hour) if isinstance(e, ev.FundingSettled)]


@pytest.mark.parametrize(
    ("action", "reason"),
    [
        (lambda n: n.set_leverage("alice", S, 0), Reason.INVALID_LEVERAGE),
        (lambda n: n.set_leverage("alice", S, 126), Reason.LEVERAGE_TOO_HIGH),
        (lambda n: n.remove_margin("alice", S, "-5"), Reason.INVALID_AMOUNT),
        (lambda n: n.remove_margin("alice", S, "1000"), Reason.MARGIN_REMOVAL_TOO_LARGE),
        (lambda n: n.add_margin("alice", S, "0"), Reason.INVALID_AMOUNT),
        (lambda n: n.add_margin("alice", S, "1000"), Reason.INSUFFICIENT_BALANCE),
        (lambda n: n.add_margin("bob", S, "10"), Reason.NOT_ISOLATED),
        (lambda n: n.add_margin("carol", S, "10", None), Reason.NO_POSITION),
        (lambda n: n.set_margin_mode("alice", S, "CROSS"), Reason.MARGIN_MODE_LOCKED),
        (lambda n: n.set_funding_rate(S, "1.5"), Reason.INVALID_FUNDING_RATE),
        (lambda n: n.set_leverage("bob", S, 60), Reason.LEVERAGE_TOO_HIGH),  # 301k > 250k
        (
            lambda n: n.deposit_insurance_fund("USDT", "-1", actor="ops"),
            Reason.INSUFFICIENT_BALANCE,
        ),
    ],
)
def test_bad_margin_commands_are_refused_with_their_reason_and_change_nothing(
    action: object, reason: Reason
) -> None:
    node = venue("alice", "bob", "carol", deposit="1000")
    node.deposit("bob", "USDT", "20000")
    node.set_margin_mode("alice", S, "ISOLATED")
    node.set_margin_mode("carol", S, "ISOLATED")
    node.set_leverage("alice", S, 20)
    node.set_leverage("bob", S, 20)
    open_pair(node, "alice", "bob", "0.1")
    resting = node.submit("bob", S, "SELL", "LIMIT", "30", price="10000")  # 300k open notional
    assert resting.status == "ACCEPTED"
    state = [
        node.positions(),
        node.balances(),
        dict(node.engine.state.leverage),
        node.insurance_fund("USDT"),
    ]
    with pytest.raises(CommandRefused) as err:
        action(node)  # type: ignore[operator]
    assert err.value.reason == reason
    after = [
        node.positions(),
        node.balances(),
        dict(node.engine.state.leverage),
        node.insurance_fund("USDT"),
    ]
    assert after == state


def test_isolated_margin_can_be_added_and_removed_down_to_the_initial_margin() -> None:
    node = venue("alice", "bob")
    node.set_margin_mode("alice", S, "ISOLATED")
    node.set_leverage("alice", S, 20)
    node.set_leverage("bob", S, 20)
    open_pair(node, "alice", "bob", "0.1")  # margin 50
    before = node.position("alice", S)
    node.add_margin("alice", S, "100")
    after = node.position("alice", S)
    assert before is not None and after is not None
    assert after.margin == D(150) and node.balance("alice", "USDT").free == D(850)
    assert after.liquidation_price < before.liquidation_price  # type: ignore[operator]
    node.remove_margin("alice", S, "100")
    with pytest.raises(CommandRefused) as err:
        node.remove_margin("alice", S, "0.01")  # only the initial margin is left
    assert err.value.reason == Reason.MARGIN_REMOVAL_TOO_LARGE


def test_pre_trade_margin_port_refuses_too_much_leverage_and_too_little_collateral() -> None:
    node = venue("alice", "bob", deposit="1000")
    node.set_leverage("alice", S, 100)
    # Tier 2 (50k-250k) allows 100x; tier 3 (250k+) only 50x.
    denied = node.submit("alice", S, "BUY", "LIMIT", "26", price="10000")
    assert denied.status == "DENIED" and denied.reason == Reason.LEVERAGE_TOO_HIGH
    short = node.submit("alice", S, "BUY", "LIMIT", "2", price="10000")  # 200 margin, 1000 free
    assert short.status == "ACCEPTED"
    denied = node.submit("alice", S, "BUY", "LIMIT", "9", price="10000")  # 900 more > 800 free
    assert denied.status == "DENIED" and denied.reason == Reason.INSUFFICIENT_MARGIN
    node.set_leverage("bob", S, 100)
    node.submit("bob", S, "SELL", "LIMIT", "1", price="10000")
    locked = node.balance("alice", "USDT").locked
    reduce = node.submit("alice", S, "SELL", "LIMIT", "1", price="10100", reduce_only=True)
    assert reduce.status == "ACCEPTED"
    assert node.balance("alice", "USDT").locked == locked  # reduce-only needs no margin


def test_a_price_crash_cascade_conserves_every_balance_plus_the_fund_to_the_cent() -> None:
    """Six accounts go long at high leverage against shorts; the book is thin below; the fund
    is small. A crash liquidates all six: some fill in the book (surplus to the fund), some are
    paid for by the fund, the rest ADL the shorts. Nothing is created or lost."""
    longs = [f"long{i}" for i in range(6)]
    shorts = ["short0", "short1"]
    node = venue(*longs, *shorts, deposit="2000", fee="0.0004")
    node.deposit_insurance_fund("USDT", "30", actor="ops")
    for i, name in enumerate(longs):
        node.set_leverage(name, S, 10 + 5 * i)
        if i % 2:
            node.set_margin_mode(name, S, "ISOLATED")
    node.set_leverage("short0", S, 5)
    node.set_leverage("short1", S, 5)
    node.deposit("short0", "USDT", "20000")
    node.deposit("short1", "USDT", "20000")
    for i, name in enumerate(longs):
        open_pair(node, name, shorts[i % 2], "1")
    deposits = D(2000) * 8 + D(40000) + D(10_000_000) + D(30)
    assert total_value(node) == deposits
    # Thin bids below: the first liquidations fill, later ones find nothing.
    for px in ("9400", "9000", "8600"):
        node.submit("mm", S, "BUY", "LIMIT", "0.7", price=px)
    out = node.update_prices(S, last="8000", mark="8000")
    started = [e for e in out if isinstance(e, ev.LiquidationStarted)]
    finished = [e for e in out if isinstance(e, ev.LiquidationFinished)]
    assert {e.account_id for e in started} == set(longs) and len(finished) == 6
    assert all(e.shortfall == 0 for e in finished)
    stages = {s.stage for s in out if isinstance(s, ev.LiquidationStep)}
    assert {"BOOK", "ADL"} <= stages
    assert any(isinstance(e, ev.LiquidationFundTransfer) and e.amount > 0 for e in out)
    assert any(isinstance(e, ev.PositionAutoDeleveraged) for e in out)
    for name in longs:
        pos = node.position(name, S)
        assert pos is not None and pos.qty == 0
    assert node.insurance_fund("USDT") >= 0
    assert total_value(node, "8000").quantize(D("0.01")) == deposits
    assert total_value(node, "8000") == deposits  # exactly, in fact
    net = sum((p.qty for p in node.engine.state.positions.values()), D(0))
    assert net == 0


# ---------------------------------------------------------------------------------------------
# The index by liquidation price finds exactly the positions a full scan would
# ---------------------------------------------------------------------------------------------
from hypothesis import event, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from atlas_oms.core.derivatives import formulas as fm  # noqa: E402

TRADER = st.tuples(
    st.sampled_from(["LONG", "SHORT"]),
    st.integers(1, 40),  # qty in 0.1 BTC
    st.integers(1, 100),  # leverage
    st.booleans(),  # isolated?
    st.integers(0, 3),  # extra isolated margin, in 100s
)


def _under_water(node: Node, mark: Decimal) -> set[str]:
    """Accounts a full scan finds at or past maintenance at ``mark`` (no index involved)."""
    engine = node.engine
    out = set()
    for account_id in engine.state.accounts:
        if account_id == "mm":
            continue
        pos = engine.state.positions.get((account_id, S, _BOTH))
        if pos is None or not pos.qty:
            continue
        entry = pos.cost / abs(pos.qty)
        upnl = fm.unrealized_pnl(pos.qty, entry, mark)
        maint = fm.maintenance_margin(TIERS, pos.qty * mark)
        if engine.state.liq.mode(account_id, S).value == "ISOLATED":
            balance = pos.margin + upnl
        else:
            balance = engine.state.balances[(account_id, "USDT")].total + upnl
        if balance <= maint:
            out.add(account_id)
    return out


from atlas_oms.model.enums import PositionMode, PositionSide  # noqa: E402

_BOTH = PositionSide.BOTH


@settings(max_examples=40, deadline=None)
@given(traders=st.lists(TRADER, min_size=1, max_size=8), move=st.integers(-60, 60))
def test_a_mark_liquidates_exactly_the_accounts_a_full_scan_finds_under_water(
    traders: list[tuple[str, int, int, bool, int]], move: int
) -> None:
    node = venue(*[f"t{i}" for i in range(len(traders))], deposit="2000")
    node.set_leverage("mm", S, 1)
    for i, (side, tenths, lev, isolated, extra) in enumerate(traders):
        name = f"t{i}"
        if isolated:
            node.set_margin_mode(name, S, "ISOLATED")
        node.set_leverage(name, S, lev)
        qty = str(D(tenths) / 10)
        if side == "LONG":
            node.submit("mm", S, "SELL", "LIMIT", qty, price="10000")
            got = node.submit(name, S, "BUY", "LIMIT", qty, price="10000")
        else:
            node.submit("mm", S, "BUY", "LIMIT", qty, price="10000")
            got = node.submit(name, S, "SELL", "LIMIT", qty, price="10000")
        if got.status == "DENIED":  # not enough margin at that leverage: cancel mm's order
            node.cancel("mm", node.orders("mm", open_only=True)[0].order_id)
        elif isolated and extra and node.balance(name, "USDT").free >= extra * 100:
            node.add_margin(name, S, str(extra * 100))
    mark = D(10000) * (1 + D(move) / 100)
    expected = _under_water(node, mark)
    out = node.update_prices(S, mark=str(mark))
    started = {e.account_id for e in out if isinstance(e, ev.LiquidationStarted)}
    assert started == expected
    event(f"liquidated: {min(len(started), 3)}")  # hypothesis statistics: the cases are mixed
    assert all(e.shortfall == 0 for e in out if isinstance(e, ev.LiquidationFinished))
    for account_id in started:
        pos = node.position(account_id, S)
        assert pos is not None and pos.qty == 0
    assert sum((p.qty for p in node.engine.state.positions.values()), D(0)) == 0


def test_hedge_mode_cross_legs_share_one_liquidation_price_from_both_sides() -> None:
    """Binance's formula with a long and a short of one symbol in one cross account: both legs
    move with the price, each with its own tier."""
    node = Node.in_memory()
    node.add_instrument(
        Instrument.perpetual(S, tick_size="0.1", lot_size="0.001", margin_tiers=TIERS)
    )
    node.open_account("hedger", position_mode=PositionMode.HEDGE)
    node.open_account("mm")
    node.deposit("hedger", "USDT", "3000")
    node.deposit("mm", "USDT", "1000000")
    node.set_leverage("hedger", S, 20)
    node.update_prices(S, last="10000", mark="10000")
    node.submit("mm", S, "SELL", "LIMIT", "3", price="10000")
    node.submit("hedger", S, "BUY", "LIMIT", "3", price="10000", position_side="LONG")
    node.submit("mm", S, "BUY", "LIMIT", "1", price="10000")
    node.submit("hedger", S, "SELL", "LIMIT", "1", price="10000", position_side="SHORT")
    long = node.position("hedger", S, PositionSide.LONG)
    short = node.position("hedger", S, PositionSide.SHORT)
    assert long is not None and short is not None
    wallet = node.balance("hedger", "USDT").total
    expected = fm.liquidation_price(
        [(D(3), D(10000)), (D(-1), D(10000))], wallet=wallet, tiers=TIERS
    )
    assert long.liquidation_price == short.liquidation_price == expected
    # (WB + cum - 3*10000 + 1*10000) / (3*0.004 + 1*0.004 - 3 + 1), both legs in tier 1
    assert expected == (wallet - D(20000)) / (D("0.016") - 2)
    out = node.update_prices(S, mark=str((expected + D("0.1")).quantize(D("0.1"))))
    assert not [e for e in out if isinstance(e, ev.LiquidationStarted)]
    out = node.update_prices(S, mark=str((expected - D("0.1")).quantize(D("0.1"))))
    started = [e for e in out if isinstance(e, ev.LiquidationStarted)]
    assert [s.positions for s in started] == [[(S, PositionSide.LONG), (S, PositionSide.SHORT)]]
    steps = [e.stage for e in out if isinstance(e, ev.LiquidationStep)]
    assert steps[0] == "NET"  # its own long and short close against each other first
    assert not [e for e in out if isinstance(e, ev.RiskAlert)]  # no ADL shortfall
    assert node.balance("hedger", "USDT").total == 0
    assert all(p.qty == 0 for p in node.positions("hedger", include_flat=True))


def test_an_isolated_hedge_leg_may_be_deleveraged_against_the_same_accounts_other_leg() -> None:
    node = Node.in_memory()
    node.add_instrument(
        Instrument.perpetual(S, tick_size="0.1", lot_size="0.001", margin_tiers=TIERS)
    )
    node.open_account("hedger", position_mode=PositionMode.HEDGE)
    node.open_account("mm")
    node.deposit("hedger", "USDT", "3000")
    node.deposit("mm", "USDT", "1000000")
    node.set_margin_mode("hedger", S, "ISOLATED")
    node.set_leverage("hedger", S, 20)
    node.update_prices(S, last="10000", mark="10000")
    node.submit("mm", S, "SELL", "LIMIT", "1", price="10000")
    node.submit("hedger", S, "BUY", "LIMIT", "1", price="10000", position_side="LONG")
    node.submit("mm", S, "BUY", "LIMIT", "1", price="10000")
    node.submit("hedger", S, "SELL", "LIMIT", "1", price="10000", position_side="SHORT")
    # mm is flat: the only short against the hedger's long is the hedger's own short.
    out = node.update_prices(S, mark="9500")
    adl = [e for e in out if isinstance(e, ev.PositionAutoDeleveraged)]
    assert [(a.account_id, a.position_side, a.liquidated) for a in adl] == [
        ("hedger", PositionSide.LONG, True),
        ("hedger", PositionSide.SHORT, False),
    ]
    assert not [e for e in out if isinstance(e, ev.RiskAlert)]
    assert total_value(node, "9500") == D(3000) + D(1_000_000)


def test_a_dated_future_is_cash_settled_at_expiry_and_stops_trading() -> None:
    fut = "BTC/USDT:USDT-261225"
    expiry = 1_000_000_000_000
    node = Node.in_memory()
    node.add_instrument(Instrument.future(fut, tick_size="0.1", lot_size="0.001", expiry_ts=expiry))
    for name in ("alice", "bob"):
        node.open_account(name)
        node.deposit(name, "USDT", "5000")
        node.set_leverage(name, fut, 5)
    node.update_prices(fut, last="10000", mark="10000")
    node.submit("bob", fut, "SELL", "LIMIT", "1", price="10000")
    node.submit("alice", fut, "BUY", "LIMIT", "1", price="10000")
    resting = node.submit("alice", fut, "BUY", "LIMIT", "0.1", price="9000")
    with pytest.raises(CommandRefused) as err:
        node.settle_future(fut, "10500", actor="ops")
    assert err.value.reason == Reason.NOT_EXPIRED
    with pytest.raises(CommandRefused) as err:
        node.set_funding_rate(fut, "0.0001")
    assert err.value.reason == Reason.NOT_A_PERPETUAL
    node.clock.set(expiry)  # type: ignore[attr-defined]
    out = node.settle_future(fut, "10500", actor="ops")
    assert [type(e).__name__ for e in out] == [
        "OrderPendingCancel",
        "FutureSettled",
        "OrderCanceled",
    ]
    assert node.order(resting.order_id).status == "CANCELED"
    alice, bob = node.position("alice", fut), node.position("bob", fut)
    assert alice is not None and bob is not None and alice.qty == bob.qty == 0
    assert alice.realized_pnl == D(500) and bob.realized_pnl == D(-500)
    assert node.balance("alice", "USDT").total == D(5500)
    assert node.balance("alice", "USDT").locked == 0
    assert node.submit("alice", fut, "BUY", "LIMIT", "1", price="10000").reason == (
        Reason.INSTRUMENT_NOT_TRADABLE
    )
    with pytest.raises(CommandRefused) as err:
        node.settle_future(fut, "10500", actor="ops")
    assert err.value.reason == Reason.FUTURE_SETTLED
