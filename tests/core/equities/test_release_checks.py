"""A session-queued order is checked again at its release (issue 15, queue): the checks that
depend on the market and the account at that moment (price band after a gap, kill switch,
trading halt, operator halt, buying power) refuse it with a typed reason -- canceled by Atlas,
never sent -- and the others are released as before. Every scenario replays to the live digest
and survives a snapshot."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from atlas_oms import Engine, Instrument, ManualClock, Node, OrderStatus, Reason
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
OPEN = (2026, 7, 6, 9, 30)  # Monday's regular open, after the Jul 3 holiday and the weekend


def ny(y: int, m: int, d: int, hh: int, mm: int = 0) -> int:
    return int(dt.datetime(y, m, d, hh, mm, tzinfo=NY).timestamp()) * 1_000_000_000


@pytest.fixture
def node() -> Node:
    n = Node.in_memory(clock=ManualClock(ny(2026, 1, 5, 10)))
    n.process(nyse_calendar_command(dt.date(2026, 1, 1), dt.date(2027, 12, 31), ts=n.clock.now()))
    n.add_instrument(Instrument.equity(AAPL))
    n.open_account("mm", equity_type="MARGIN")
    n.deposit("mm", "USD", 100_000_000)
    n.deposit("mm", AAPL, 1_000_000)
    for acct in ("margy", "other"):
        n.open_account(acct, equity_type="MARGIN")
        n.deposit(acct, "USD", 10_000)
    n.update_prices(AAPL, last="100")
    at(n, ny(2026, 7, 3, 21))  # Friday night, the observed Independence Day: orders queue
    return n


@pytest.fixture(autouse=True)
def _replays_and_restores(node: Node, kit: Any) -> Any:
    yield
    assert kit.replay_digest(node.events()) == node.digest()
    restored = Engine()
    restore_state(restored.state, decode_snapshot(encode_snapshot(export_state(node.engine.state))))
    assert restored.state.equities.us == node.engine.state.equities.us
    assert restored.digest() == node.digest()


def at(node: Node, ts: int) -> list[ev.EventBase]:
    assert isinstance(node.clock, ManualClock)
    node.clock.set(ts)
    return node.process(c.AdvanceTime(ts=ts))


def refused(events: list[ev.EventBase]) -> dict[int, str]:
    return {e.order_id: e.reason for e in events if isinstance(e, ev.OrderSessionReleaseRefused)}


def released(events: list[ev.EventBase]) -> list[int]:
    return [e.order_id for e in events if isinstance(e, ev.OrderSessionReleased)]


def assert_canceled_unsent(node: Node, order_id: int, reason: Reason) -> None:
    order = node.order(order_id)
    assert order.status is S.CANCELED and order.reason == reason
    assert order.venue_order_id is None and order.session_release is None
    assert node.next_deadline(ny(*OPEN)) != ny(*OPEN)


def test_a_queued_limit_buy_whose_price_is_outside_the_band_after_a_gap_is_refused_at_release(
    node: Node,
) -> None:
    node.set_limits("account", "margy", price_band_pct="5", actor="ops")
    stale = node.submit("margy", AAPL, "BUY", "LIMIT", 10, "99")  # 1% from 100: accepted
    fresh = node.submit("margy", AAPL, "BUY", "LIMIT", 10, "97")
    assert node.order(stale.order_id).status is S.ACCEPTED
    at(node, ny(2026, 7, 6, 8))
    node.update_prices(AAPL, last="93")  # gapped down 7% before the open
    events = at(node, ny(*OPEN))
    assert refused(events) == {stale.order_id: Reason.PRICE_OUTSIDE_BAND}  # 99 is 6.5% away
    assert released(events) == [fresh.order_id]  # 97 is within 5% of 93
    msg = next(e.message for e in events if isinstance(e, ev.OrderSessionReleaseRefused))
    assert "99" in msg and "93" in msg
    assert_canceled_unsent(node, stale.order_id, Reason.PRICE_OUTSIDE_BAND)
    trail = node.order_audit(stale.order_id)
    assert trail[-1].detail["type"] == "OrderSessionReleaseRefused"
    assert (
        trail[-1].detail["reason"] == "PRICE_OUTSIDE_BAND" and "93" in trail[-1].detail["message"]
    )
    assert node.order(fresh.order_id).venue_order_id is not None  # sent and acknowledged


def test_a_kill_switch_tripped_overnight_stops_the_queued_orders_and_the_rest_are_released(
    node: Node,
) -> None:
    mine = node.submit("margy", AAPL, "BUY", "LIMIT", 10, "99")
    theirs = node.submit("other", AAPL, "BUY", "LIMIT", 10, "99")
    at(node, ny(2026, 7, 5, 20))
    node.kill("account", "margy", actor="ops", reason="overnight incident")
    assert node.order(mine.order_id).status is S.CANCELED  # at once, by Atlas: never sent
    events = at(node, ny(*OPEN))
    assert released(events) == [theirs.order_id]
    assert mine.order_id not in released(events)
    assert node.order(mine.order_id).venue_order_id is None
    assert node.order(theirs.order_id).venue_order_id is not None


def test_a_trading_halt_set_overnight_refuses_the_queued_orders_at_release(node: Node) -> None:
    mine = node.submit("margy", AAPL, "BUY", "LIMIT", 10, "99")
    theirs = node.submit("other", AAPL, "BUY", "LIMIT", 10, "99")
    at(node, ny(2026, 7, 5, 20))
    node.set_trading_state("account", "margy", "HALTED", actor="ops", reason="compliance hold")
    assert node.order(mine.order_id).status is S.ACCEPTED  # a halt cancels nothing by itself
    events = at(node, ny(*OPEN))
    assert refused(events) == {mine.order_id: Reason.TRADING_HALTED}
    assert released(events) == [theirs.order_id]
    assert_canceled_unsent(node, mine.order_id, Reason.TRADING_HALTED)


def test_a_queued_order_of_a_symbol_halted_by_an_operator_is_refused_at_release(
    node: Node,
) -> None:
    order = node.submit("margy", AAPL, "BUY", "LIMIT", 10, "99")
    at(node, ny(2026, 7, 6, 8))
    node.set_market_status(AAPL, "HALTED", actor="ops", reason="news pending")
    events = at(node, ny(*OPEN))
    assert refused(events) == {order.order_id: Reason.INSTRUMENT_HALTED}
    assert_canceled_unsent(node, order.order_id, Reason.INSTRUMENT_HALTED)


def test_a_queued_buy_of_a_margin_account_that_lost_its_equity_overnight_is_refused(
    node: Node,
) -> None:
    big = node.submit("margy", AAPL, "BUY", "LIMIT", 150, "99")  # 14,850: 7,425 of Reg T margin
    sell = node.submit("margy", AAPL, "SELL", "LIMIT", 1, "101")  # a small short, still covered
    at(node, ny(2026, 7, 5, 20))
    node.withdraw("margy", "USD", 6_000)  # equity 4,000 now, below the requirement
    events = at(node, ny(*OPEN))
    assert refused(events) == {big.order_id: Reason.INSUFFICIENT_BUYING_POWER}
    assert released(events) == [sell.order_id]  # checked after the big buy left: 101 of exposure
    assert_canceled_unsent(node, big.order_id, Reason.INSUFFICIENT_BUYING_POWER)


def test_queued_orders_that_still_pass_are_released_exactly_as_before(node: Node) -> None:
    node.set_limits("account", "margy", price_band_pct="5", max_order_qty="100", actor="ops")
    a = node.submit("margy", AAPL, "BUY", "LIMIT", 10, "99")
    b = node.submit("other", AAPL, "SELL", "LIMIT", 1, "101")
    events = at(node, ny(*OPEN))
    assert refused(events) == {}
    assert released(events) == [a.order_id, b.order_id]
    assert node.order(a.order_id).qty == Decimal(10)
