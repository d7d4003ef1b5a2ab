"""US markets in the core (issue 15 §3): the NYSE calendar handed over as data (holidays, early
closes, DAY orders ending at the real close, T+1 over holidays), corporate actions (POS-5) and
pattern-day-trader counting. Every scenario replays to the live digest and survives a snapshot."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from atlas_oms import Engine, Instrument, ManualClock, Node, OrderStatus, Reason
from atlas_oms.core.equities.book import settlement_ts
from atlas_oms.core.equities.calendar import closed_days
from atlas_oms.core.equities.day_trades import pdt_status
from atlas_oms.core.state.snapshot import (
    decode_snapshot,
    encode_snapshot,
    export_state,
    restore_state,
)
from atlas_oms.model import commands as c
from atlas_oms.model import events as ev
from atlas_oms.runtime.calendars import nyse_calendar_command

S = OrderStatus
NY = ZoneInfo("America/New_York")
AAPL = "AAPL"


def ny(y: int, m: int, d: int, hh: int, mm: int = 0) -> int:
    """ns since the epoch of a New York wall-clock time."""
    return int(dt.datetime(y, m, d, hh, mm, tzinfo=NY).timestamp()) * 1_000_000_000


def utc(ts: int) -> str:
    return dt.datetime.fromtimestamp(ts / 1e9, dt.UTC).strftime("%Y-%m-%d %H:%M")


@pytest.fixture
def node() -> Node:
    n = Node.in_memory(clock=ManualClock(ny(2026, 1, 5, 10)))
    n.process(nyse_calendar_command(dt.date(2026, 1, 1), dt.date(2027, 12, 31), ts=n.clock.now()))
    n.add_instrument(Instrument.equity(AAPL))
    n.open_account("mm", equity_type="MARGIN")
    n.deposit("mm", "USD", 100_000_000)
    n.deposit("mm", AAPL, 1_000_000)
    n.open_account("margy", equity_type="MARGIN")
    n.deposit("margy", "USD", 10_000)
    n.open_account("cashy")
    n.deposit("cashy", "USD", 10_000)
    n.update_prices(AAPL, last="100")
    return n


@pytest.fixture(autouse=True)
def _replays_and_restores(node: Node, kit: Any) -> Any:
    yield
    assert kit.replay_digest(node.events()) == node.digest()
    restored = Engine()
    restore_state(restored.state, decode_snapshot(encode_snapshot(export_state(node.engine.state))))
    assert restored.state.equities.us == node.engine.state.equities.us
    assert restored.digest() == node.digest()


def at(node: Node, ts: int) -> None:
    assert isinstance(node.clock, ManualClock)
    node.clock.set(ts)


def trade(node: Node, account: str, side: str, qty: int, px: str) -> None:
    """``account`` trades ``qty`` at ``px`` against the market maker's resting order."""
    other = "SELL" if side == "BUY" else "BUY"
    node.submit("mm", AAPL, other, "LIMIT", qty, px)
    view = node.submit(account, AAPL, side, "LIMIT", qty, px)
    assert node.order(view.order_id).status is S.FILLED, view


# ------------------------------------------------------------------------------- calendar
def test_a_holiday_is_closed_all_day_and_an_early_close_ends_the_session_at_13(
    node: Node,
) -> None:
    # Outside a session an order is accepted and queued for the next one it may trade in
    # (tests/core/equities/test_session_queue.py): the release instant shows the session.
    at(node, ny(2026, 4, 3, 5))  # Good Friday: no pre-market either
    view = node.submit("margy", AAPL, "BUY", "LIMIT", 1, "99", extended_hours=True)
    assert view.session_release == ny(2026, 4, 6, 4)  # Monday's pre-market
    at(node, ny(2026, 11, 26, 10))  # Thanksgiving, 10:00: a regular hour of a weekday
    view = node.submit("margy", AAPL, "BUY", "LIMIT", 1, "100", extended_hours=True)
    assert view.status is S.ACCEPTED and view.session_release == ny(2026, 11, 27, 4)
    at(node, ny(2026, 11, 27, 12, 59))  # the day after: open until 13:00
    view = node.submit("margy", AAPL, "BUY", "LIMIT", 1, "99")
    assert view.status is S.ACCEPTED and view.session_release is None
    at(node, ny(2026, 11, 27, 13, 0))  # after-hours from 13:00: extended-hours limits only
    view = node.submit("margy", AAPL, "BUY", "LIMIT", 1, "99")
    assert view.session_release == ny(2026, 11, 30, 9, 30)  # others wait for Monday's open
    view = node.submit("margy", AAPL, "BUY", "LIMIT", 1, "99", extended_hours=True)
    assert view.status is S.ACCEPTED and view.session_release is None
    at(node, ny(2026, 11, 27, 17, 0))  # after-hours ends four hours after the early close
    view = node.submit("margy", AAPL, "BUY", "LIMIT", 1, "99", extended_hours=True)
    assert view.session_release == ny(2026, 11, 30, 4)
    view = node.submit("margy", AAPL, "BUY", "LIMIT", 1, "99", tif="IOC")
    assert view.reason == Reason.MARKET_CLOSED  # IOC and FOK are still refused


def test_day_orders_expire_at_the_real_close(node: Node) -> None:
    at(node, ny(2026, 6, 1, 10))  # summer: 16:00 EDT = 20:00 UTC (not the fixed 21:00 UTC)
    assert (
        expiry(node, node.submit("margy", AAPL, "BUY", "LIMIT", 1, "99", tif="DAY"))
        == "2026-06-01 20:00"
    )
    at(node, ny(2026, 11, 27, 10))  # early close
    day = node.submit("margy", AAPL, "BUY", "LIMIT", 1, "99", tif="DAY")
    assert expiry(node, day) == "2026-11-27 18:00"  # 13:00 EST
    at(node, ny(2026, 11, 27, 13, 1))  # the 13:00 expiry happens on the timer tick after it
    node.process(c.AdvanceTime(ts=node.clock.now()))
    assert node.order(day.order_id).status is S.EXPIRED
    at(node, ny(2026, 11, 30, 8))  # pre-market, extended hours: that day's regular close
    pre = node.submit("margy", AAPL, "BUY", "LIMIT", 1, "99", tif="DAY", extended_hours=True)
    assert expiry(node, pre) == "2026-11-30 21:00"
    at(node, ny(2026, 12, 1, 10))  # a regular winter day: 16:00 EST
    assert (
        expiry(node, node.submit("margy", AAPL, "BUY", "LIMIT", 1, "99", tif="DAY"))
        == "2026-12-01 21:00"
    )
    at(node, ny(2026, 12, 24, 14))  # after Christmas Eve's 13:00 close, extended hours
    late = node.submit("margy", AAPL, "BUY", "LIMIT", 1, "99", tif="DAY", extended_hours=True)
    assert expiry(node, late) == "2026-12-24 22:00"  # end of after-hours, 17:00 EST


def expiry(node: Node, view: Any) -> str:
    ts = node.engine.state.orders[view.order_id].expire_ts
    assert ts is not None, view
    return utc(ts)


def test_t_plus_1_settlement_skips_holidays() -> None:
    node = Node.in_memory(clock=ManualClock(ny(2026, 11, 25, 10)))
    node.process(nyse_calendar_command(dt.date(2026, 1, 1), dt.date(2026, 12, 31)))
    holidays = closed_days(node.engine.state.equities.us, "XNYS")
    # A sale on Wednesday Nov 25 settles on Friday Nov 27: Thanksgiving is skipped.
    assert settlement_ts(ny(2026, 11, 25, 10), closed=holidays) == ny(2026, 11, 27, 0)
    assert settlement_ts(ny(2026, 11, 25, 10)) == ny(2026, 11, 26, 0)  # without a calendar
    # Thursday Jul 2 -> Monday Jul 6 (Friday Jul 3 is Independence Day observed).
    assert settlement_ts(ny(2026, 7, 2, 10), closed=holidays) == ny(2026, 7, 6, 0)


def test_a_cash_accounts_sale_before_thanksgiving_is_unsettled_on_the_holiday(
    node: Node,
) -> None:
    at(node, ny(2026, 11, 25, 10))
    trade(node, "cashy", "BUY", 10, "100")
    trade(node, "cashy", "SELL", 10, "100")
    entries = node.engine.state.equities.unsettled[("cashy", "USD")]
    assert list(entries) == [ny(2026, 11, 27, 0)]


def test_a_bad_calendar_is_refused() -> None:
    node = Node.in_memory(clock=ManualClock(ny(2026, 11, 2, 10)))
    bad = c.SetSessionCalendar(
        actor="ops",
        first_day="2026-01-01",
        last_day="2026-12-31",
        exceptions=(c.SessionException(day="2027-01-01"),),
    )
    (event,) = node.process(bad)
    assert isinstance(event, ev.CommandRejected) and event.reason == Reason.INVALID_CALENDAR


# ------------------------------------------------------------------------- corporate actions
def corporate(node: Node, kind: str, action_id: str, **kw: Any) -> list[ev.EventBase]:
    return node.process(
        c.ApplyCorporateAction(
            ts=node.clock.now(), actor="ops", symbol=AAPL, kind=kind, action_id=action_id, **kw
        )
    )


def test_a_split_multiplies_holdings_divides_cost_and_adjusts_open_orders(node: Node) -> None:
    trade(node, "margy", "BUY", 60, "100")
    trade(node, "margy", "BUY", 40, "110")
    sell = node.submit("margy", AAPL, "SELL", "LIMIT", 50, "120.01")
    buy = node.submit("margy", AAPL, "BUY", "LIMIT", 10, "90.01")
    stop = node.submit("margy", AAPL, "SELL", "STOP_MARKET", 30, trigger_price="80.01")
    events = corporate(node, "SPLIT", "AAPL-2026-11-02-2:1", ratio=D(2))
    applied = next(e for e in events if isinstance(e, ev.CorporateActionApplied))
    assert ("margy", D(100), D(200), D(0)) in applied.holdings
    pos = node.position("margy", AAPL)
    assert pos is not None and pos.qty == 200
    assert [(lot.qty, lot.price) for lot in pos.lots] == [(120, 50), (80, 55)]
    assert pos.avg_entry_px == D(10400) / 200  # the cost basis is unchanged: 10,400
    assert node.balance("margy", AAPL).total == 200
    assert node.balance("mm", AAPL).total == (1_000_000 - 100) * 2
    assert node.engine.state.last[AAPL] == 55  # the last trade, 110, before the split
    # Open orders: quantity x 2, prices / 2 to the tick (a buy rounds down, a sell up).
    assert (node.order(sell.order_id).qty, node.order(sell.order_id).price) == (100, D("60.01"))
    assert (node.order(buy.order_id).qty, node.order(buy.order_id).price) == (20, D("45.00"))
    held = node.order(stop.order_id)
    assert (held.qty, held.trigger_price) == (60, D("40.01"))
    assert [node.order(o.order_id).status for o in (sell, buy)] == [S.ACCEPTED] * 2
    # The same action twice is refused.
    (again,) = corporate(node, "SPLIT", "AAPL-2026-11-02-2:1", ratio=D(2))
    assert isinstance(again, ev.CommandRejected)
    assert again.reason == Reason.INVALID_CORPORATE_ACTION


def test_a_partly_filled_order_keeps_its_fills_and_splits_its_leaves(node: Node) -> None:
    node.submit("mm", AAPL, "SELL", "LIMIT", 4, "100")
    part = node.submit("margy", AAPL, "BUY", "LIMIT", 10, "100")
    assert node.order(part.order_id).cum_qty == 4
    corporate(node, "SPLIT", "s1", ratio=D(3))
    after = node.order(part.order_id)
    assert (after.cum_qty, after.qty, after.price) == (4, 4 + 6 * 3, D("33.33"))


def test_a_reverse_split_and_a_bonus_and_a_dividend(node: Node) -> None:
    trade(node, "margy", "BUY", 100, "10")
    corporate(node, "SPLIT", "rev", ratio=D("0.1"))  # 1-for-10
    pos = node.position("margy", AAPL)
    assert pos is not None and pos.qty == 10 and pos.avg_entry_px == 100
    corporate(node, "BONUS", "bonus", ratio=D("0.5"))  # 1 new share per 2 held
    pos = node.position("margy", AAPL)
    assert pos is not None and pos.qty == 15
    assert pos.lots[-1].price == 0 and pos.lots[-1].qty == 5
    assert pos.avg_entry_px == D(1000) / 15  # zero-cost shares lower the average cost
    usd = node.balance("margy", "USD").total
    corporate(node, "DIVIDEND", "div", amount=D("0.24"))
    pos = node.position("margy", AAPL)
    assert pos is not None and pos.qty == 15 and pos.realized_pnl == D("3.60")
    assert node.balance("margy", "USD").total == usd + D("3.60")


def test_a_corporate_action_on_an_unknown_symbol_or_without_a_ratio_is_refused(
    node: Node,
) -> None:
    (e,) = corporate(node, "SPLIT", "x")
    assert isinstance(e, ev.CommandRejected) and e.reason == Reason.INVALID_CORPORATE_ACTION
    (e,) = corporate(node, "MERGER", "y", ratio=D(1))
    assert isinstance(e, ev.CommandRejected) and e.reason == Reason.INVALID_CORPORATE_ACTION


# ------------------------------------------------------------------------ pattern day trader
def test_the_fourth_day_trade_in_five_business_days_is_refused_under_25k(node: Node) -> None:
    at(node, ny(2026, 11, 24, 10))  # Tuesday
    trade(node, "margy", "BUY", 10, "100")
    trade(node, "margy", "SELL", 10, "100")  # day trade 1
    at(node, ny(2026, 11, 25, 10))  # Wednesday
    trade(node, "margy", "BUY", 10, "100")
    trade(node, "margy", "BUY", 10, "100")
    trade(node, "margy", "SELL", 5, "100")  # day trade 2 (two buys, partial sells: one)
    trade(node, "margy", "SELL", 15, "100")
    trade(node, "margy", "BUY", 10, "100")
    trade(node, "margy", "SELL", 10, "100")  # day trade 3
    status = pdt_status(node.engine.state, "margy", node.clock.now())
    assert (status.day_trades, status.flagged) == (3, False)
    # Monday Nov 30: the window of 5 business days is Nov 23, 24, 25, 27, 30 (26th: Thanksgiving).
    at(node, ny(2026, 11, 30, 10))
    trade(node, "margy", "BUY", 10, "100")  # opening is fine
    view = node.submit("margy", AAPL, "SELL", "LIMIT", 10, "100")
    assert view.status is S.DENIED and view.reason == Reason.PATTERN_DAY_TRADER, view
    # Holding overnight is not a day trade: Tuesday Dec 1 it may sell; the window has rolled
    # past Nov 24 (Nov 24 .. Dec 1 holds 25, 27, 30, 1 and 24 is out? no: 24, 25, 27, 30, 1).
    at(node, ny(2026, 12, 1, 10))
    node.submit("mm", AAPL, "BUY", "LIMIT", 10, "100")
    assert node.submit("margy", AAPL, "SELL", "LIMIT", 10, "100").status is S.FILLED
    assert pdt_status(node.engine.state, "margy", node.clock.now()).day_trades == 3


def test_prior_close_equity_of_25k_allows_day_trading(node: Node) -> None:
    node.deposit("margy", "USD", 20_000)  # 30,000
    at(node, ny(2026, 11, 24, 16))
    (rec,) = node.process(c.RecordCloseEquity(ts=node.clock.now()))
    assert isinstance(rec, ev.CloseEquityRecorded) and ("margy", "USD", D(30_000)) in rec.equities
    at(node, ny(2026, 11, 25, 10))
    for _ in range(4):
        trade(node, "margy", "BUY", 10, "100")
        trade(node, "margy", "SELL", 10, "100")
    status = pdt_status(node.engine.state, "margy", node.clock.now())
    assert (status.day_trades, status.flagged) == (4, True)
    assert status.prior_close_equity == 30_000


def test_cash_accounts_are_not_counted(node: Node) -> None:
    trade(node, "cashy", "BUY", 10, "100")
    trade(node, "cashy", "SELL", 10, "100")
    assert pdt_status(node.engine.state, "cashy", node.clock.now()).day_trades == 0
