"""Orders accepted outside their session queue for the next one (issue 15 §3, MD-2): held by
Atlas while the market is closed, released by the tick that opens the next session they may
trade in (pre-market for extended-hours limits, else 09:30 New York), weekends and holidays of
the journaled calendar skipped; DAY orders end at that session's close. Every scenario replays
to the live digest and survives a snapshot."""

from __future__ import annotations

import datetime as dt
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
from atlas_oms.model.risk import MarketStatus
from atlas_oms.runtime.calendars import nyse_calendar_command

S = OrderStatus
NY = ZoneInfo("America/New_York")
AAPL = "AAPL"


def ny(y: int, m: int, d: int, hh: int, mm: int = 0) -> int:
    return int(dt.datetime(y, m, d, hh, mm, tzinfo=NY).timestamp()) * 1_000_000_000


def make_node(calendar: bool = True) -> Node:
    n = Node.in_memory(clock=ManualClock(ny(2026, 1, 5, 10)))
    if calendar:
        n.process(
            nyse_calendar_command(dt.date(2026, 1, 1), dt.date(2027, 12, 31), ts=n.clock.now())
        )
    n.add_instrument(Instrument.equity(AAPL))
    n.open_account("mm", equity_type="MARGIN")
    n.deposit("mm", "USD", 100_000_000)
    n.deposit("mm", AAPL, 1_000_000)
    n.open_account("margy", equity_type="MARGIN")
    n.deposit("margy", "USD", 10_000)
    n.update_prices(AAPL, last="100")
    return n


@pytest.fixture
def node() -> Node:
    return make_node()


@pytest.fixture(autouse=True)
def _replays_and_restores(node: Node, kit: Any) -> Any:
    yield
    assert kit.replay_digest(node.events()) == node.digest()
    restored = Engine()
    restore_state(restored.state, decode_snapshot(encode_snapshot(export_state(node.engine.state))))
    assert restored.state.equities.us == node.engine.state.equities.us
    assert restored.digest() == node.digest()


def at(node: Node, ts: int) -> list[ev.EventBase]:
    """Set the clock and tick (the runtime's timer)."""
    assert isinstance(node.clock, ManualClock)
    node.clock.set(ts)
    return node.process(c.AdvanceTime(ts=ts))


def kinds(events: list[ev.EventBase]) -> list[str]:
    return [type(e).__name__ for e in events]


def test_an_order_placed_on_independence_day_observed_night_is_released_monday_at_the_open(
    node: Node,
) -> None:
    at(node, ny(2026, 7, 3, 21))  # Friday, the observed holiday, 21:00
    view = node.submit("margy", AAPL, "BUY", "LIMIT", 10, "99", tif="DAY")
    assert view.status is S.ACCEPTED and view.venue_order_id is None
    assert view.session_release == ny(2026, 7, 6, 9, 30)  # Monday, the regular open
    assert view.expire_ts == ny(2026, 7, 6, 16)  # lives through Monday's session
    queued = [e for e in node.events() if isinstance(e, ev.OrderSessionQueued)]
    assert [(e.order_id, e.session, e.release_ts) for e in queued] == [
        (view.order_id, "XNYS", ny(2026, 7, 6, 9, 30))
    ]
    assert node.next_deadline(ny(2026, 7, 3, 21)) == ny(2026, 7, 6, 9, 30)
    for ts in (ny(2026, 7, 4, 10), ny(2026, 7, 5, 12), ny(2026, 7, 6, 4), ny(2026, 7, 6, 9, 29)):
        assert "OrderSessionReleased" not in kinds(at(node, ts))  # weekend, pre-market
    assert node.order(view.order_id).session_release is not None
    events = at(node, ny(2026, 7, 6, 9, 30))
    assert kinds(events)[:2] == ["OrderSessionReleased", "OrderAccepted"]  # sent, acknowledged
    order = node.order(view.order_id)
    assert order.status is S.ACCEPTED and order.venue_order_id is not None
    assert order.session_release is None
    at(node, ny(2026, 7, 6, 16))
    assert node.order(view.order_id).status is S.EXPIRED  # at that session's close


def test_an_order_placed_on_thanksgiving_eve_is_released_friday_and_expires_at_the_early_close(
    node: Node,
) -> None:
    at(node, ny(2026, 11, 25, 20, 30))  # Wednesday after the after-hours session
    day = node.submit("margy", AAPL, "BUY", "LIMIT", 10, "99", tif="DAY")
    gtc = node.submit("margy", AAPL, "BUY", "LIMIT", 5, "98")
    assert day.session_release == gtc.session_release == ny(2026, 11, 27, 9, 30)
    assert day.expire_ts == ny(2026, 11, 27, 13)  # 13:00 early close
    assert "OrderSessionReleased" not in kinds(at(node, ny(2026, 11, 26, 10)))  # Thanksgiving
    released = at(node, ny(2026, 11, 27, 9, 30))
    assert [e.order_id for e in released if isinstance(e, ev.OrderSessionReleased)] == [
        day.order_id,
        gtc.order_id,
    ]
    at(node, ny(2026, 11, 27, 13))
    assert node.order(day.order_id).status is S.EXPIRED
    assert node.order(gtc.order_id).status is S.ACCEPTED


def test_an_extended_hours_limit_waits_for_the_pre_market_and_others_for_the_regular_open(
    node: Node,
) -> None:
    at(node, ny(2026, 12, 24, 18))  # Christmas Eve after its 17:00 after-hours end
    ext = node.submit("margy", AAPL, "BUY", "LIMIT", 1, "99", extended_hours=True)
    assert ext.session_release == ny(2026, 12, 28, 4)  # Christmas, then the weekend
    at(node, ny(2026, 12, 28, 6))  # Monday pre-market: a plain order waits for 09:30
    plain = node.submit("margy", AAPL, "BUY", "LIMIT", 1, "99")
    assert plain.session_release == ny(2026, 12, 28, 9, 30)
    assert node.order(ext.order_id).venue_order_id is not None  # released at 06:00's tick
    at(node, ny(2026, 12, 28, 18))  # after-hours: a plain order waits for tomorrow
    later = node.submit("margy", AAPL, "BUY", "LIMIT", 1, "99")
    assert later.session_release == ny(2026, 12, 29, 9, 30)


def test_a_queued_order_is_canceled_and_modified_by_atlas_without_reaching_the_venue(
    node: Node,
) -> None:
    at(node, ny(2026, 7, 3, 21))
    view = node.submit("margy", AAPL, "BUY", "LIMIT", 10, "99")
    other = node.submit("margy", AAPL, "BUY", "LIMIT", 10, "97")
    node.modify("margy", other.order_id, qty=4, price="96")
    modified = node.order(other.order_id)
    assert (modified.qty, modified.price, modified.status) == (4, 96, S.ACCEPTED)
    assert modified.session_release == ny(2026, 7, 6, 9, 30)
    events = node.process(
        c.CancelOrder(ts=node.clock.now(), account_id="margy", order_id=view.order_id)
    )
    assert kinds(events) == ["OrderCanceled"]  # at once: it is in no venue's queue
    assert node.order(view.order_id).session_release is None
    assert node.engine.state.equities.us.queued == {other.order_id: ny(2026, 7, 6, 9, 30)}
    assert node.engine.state.balance("margy", "USD").locked == 0  # a margin account locks none
    released = at(node, ny(2026, 7, 6, 9, 30))
    assert [e.order_id for e in released if isinstance(e, ev.OrderSessionReleased)] == [
        other.order_id
    ]
    assert node.order(view.order_id).status is S.CANCELED


def test_queued_orders_meet_at_the_open(node: Node) -> None:
    at(node, ny(2026, 7, 3, 21))
    ask = node.submit("mm", AAPL, "SELL", "LIMIT", 10, "100")
    bid = node.submit("margy", AAPL, "BUY", "MARKET", 10)
    assert ask.session_release == bid.session_release == ny(2026, 7, 6, 9, 30)
    at(node, ny(2026, 7, 6, 9, 30))
    assert node.order(bid.order_id).status is S.FILLED
    assert node.position("margy", AAPL).qty == 10


def test_a_queued_stop_watches_its_trigger_only_from_the_open(node: Node) -> None:
    at(node, ny(2026, 7, 3, 21))
    stop = node.submit("margy", AAPL, "BUY", "STOP_MARKET", 1, trigger_price="105")
    assert stop.session_release is not None
    node.update_prices(AAPL, last="106")  # reached while the market is closed: nothing
    assert node.order(stop.order_id).status is S.ACCEPTED
    assert stop.order_id not in node.engine.state.triggers
    events = at(node, ny(2026, 7, 6, 9, 30))
    assert kinds(events)[:2] == ["OrderSessionReleased", "OrderTriggered"]


def test_a_snapshot_taken_while_orders_are_queued_continues_to_the_same_state(
    node: Node, kit: Any
) -> None:
    at(node, ny(2026, 7, 3, 21))
    plain = node.submit("margy", AAPL, "BUY", "LIMIT", 10, "99", tif="DAY")
    stop = node.submit("margy", AAPL, "BUY", "STOP_MARKET", 1, trigger_price="105")
    restored = Engine()
    restore_state(restored.state, decode_snapshot(encode_snapshot(export_state(node.engine.state))))
    assert restored.state.orders[plain.order_id].session_release == ny(2026, 7, 6, 9, 30)
    assert stop.order_id not in restored.state.triggers
    assert restored.digest() == node.digest()
    live = Engine()
    live.apply_all(node.events())
    tick = c.AdvanceTime(ts=ny(2026, 7, 6, 9, 30))
    assert (
        kinds(restored.handle(tick))
        == kinds(live.handle(tick))
        == [
            "OrderSessionReleased",
            "OrderSessionReleased",
        ]
    )
    assert restored.digest() == live.digest()


def test_without_a_calendar_or_under_an_operator_status_outside_sessions_is_refused(
    node: Node,
) -> None:
    bare = make_node(calendar=False)
    at(bare, ny(2026, 7, 3, 21))
    assert bare.submit("margy", AAPL, "BUY", "LIMIT", 1, "99").reason == Reason.MARKET_CLOSED
    node.process(
        c.SetMarketStatus(
            ts=node.clock.now(),
            symbol=AAPL,
            status=MarketStatus.CLOSED,
            actor="ops",
            reason="trading suspended",
        )
    )
    at(node, ny(2026, 7, 3, 21))
    assert node.submit("margy", AAPL, "BUY", "LIMIT", 1, "99").reason == Reason.MARKET_CLOSED
