"""A managed trade on an external venue account, unchanged: its orders go out as venue requests,
the venue's words come back as ``ApplyOrderUpdate``; seed 001 §9.2 ("Doppelte Fill-Events
duerfen keine doppelte Position erzeugen. Deduplizierung ueber orderId + eventSeq")."""

from __future__ import annotations

import sys
from decimal import Decimal as D
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "venues"))

from venue_world import SPOT, update, vfill, vorder, world

from atlas_oms.model import events as ev
from atlas_oms.model.enums import OrderType, Side
from atlas_oms.model.venue import FactSource
from atlas_oms.model.venue import VenueOrderState as VS


def _of(events: list[ev.EventBase], kind: type) -> list[ev.EventBase]:
    return [e for e in events if isinstance(e, kind)]


def _intent(node):  # type: ignore[no-untyped-def]
    node.update_prices(SPOT, last=100)
    # ideal 100, max 101, stop 98, R 20 -> 10 BTC (lot 0.0001), value 1,000 USDT: 3T
    return node.trade(
        "v1", "spot", SPOT, "BUY", entry_ideal="100", entry_max="101", stop="98", risk_amount="20"
    )


def test_the_entry_goes_to_the_venue_and_a_duplicate_fill_does_not_double_the_position() -> None:
    node = world()
    events = _intent(node)
    entry = _of(events, ev.TradeEntryPlaced)[0]
    oid = entry.order_id  # type: ignore[attr-defined]
    assert node.order(oid).status.value == "SUBMITTED"  # waiting for the venue
    vo = vorder(oid, VS.PARTIALLY_FILLED, qty="10", price="100", cum="4")
    first = update(node, vo, vfill(vo, "T1", "4"))
    bracket = _of(first, ev.TradeBracketPlaced)
    assert len(bracket) == 1 and bracket[0].position_qty == D(4)  # type: ignore[attr-defined]
    # the same execution again, from the stream and from a query: nothing happens
    assert update(node, vo, vfill(vo, "T1", "4")) == []
    assert update(node, vo, vfill(vo, "T1", "4"), source=FactSource.QUERY) == []
    t = node.managed_trade("v1")
    # a spot wallet: the targets hold 1.6 + 1.6, the stop the runner's 0.8 (core/policy/cover.py)
    assert t is not None and t.position == D(4) and t.stop_qty == D("0.8")
    assert node.balance("spot", "BTC").total == D(4)
    stop = node.order(bracket[0].stop_order_id)  # type: ignore[attr-defined]
    assert stop.order_type is OrderType.STOP_LIMIT and stop.side is Side.SELL


def test_the_rest_of_the_entry_fills_and_the_stop_grows_with_it_once() -> None:
    node = world()
    oid = _of(_intent(node), ev.TradeEntryPlaced)[0].order_id  # type: ignore[attr-defined]
    vo = vorder(oid, VS.PARTIALLY_FILLED, qty="10", price="100", cum="4")
    update(node, vo, vfill(vo, "T1", "4"))
    done = vorder(oid, VS.FILLED, qty="10", price="100", cum="10", avg="100")
    update(node, done, vfill(done, "T2", "6"))
    update(node, done, vfill(done, "T2", "6"))  # duplicate
    t = node.managed_trade("v1")
    assert t is not None and t.position == D(10) and t.phase == "PROTECTED"
    assert node.balance("spot", "BTC").total == D(10)


def test_a_target_filled_at_the_venue_twice_resizes_the_stop_once() -> None:
    """§9.1 "Target-Tranche gefuellt → Stop-Quantity auf Restposition reduzieren", with the
    venue's fill delivered twice (§9.2)."""
    node = world()
    oid = _of(_intent(node), ev.TradeEntryPlaced)[0].order_id  # type: ignore[attr-defined]
    done = vorder(oid, VS.FILLED, qty="10", price="100", cum="10", avg="100")
    bracket = _of(update(node, done, vfill(done, "T1", "10")), ev.TradeBracketPlaced)[0]
    target_id, index, qty, price = bracket.targets[0]  # type: ignore[attr-defined]
    assert index == 1 and qty == D(4) and price == D(102)  # 3T: 40% @ 1R
    vt = vorder(target_id, VS.FILLED, qty="4", price="102", cum="4", avg="102", side=Side.SELL)
    first = update(node, vt, vfill(vt, "T9", "4", px="102"))
    resized = _of(first, ev.TradeStopResized)
    # the stop keeps covering what the targets do not hold: 6 held, 4 on tranche 2, 2 on it
    assert [e.qty for e in resized] == [D(2)]  # type: ignore[attr-defined]
    assert [e.cause for e in _of(first, ev.TradeStopMoved)] == ["BREAK_EVEN"]  # type: ignore[attr-defined]
    assert update(node, vt, vfill(vt, "T9", "4", px="102")) == []
    t = node.managed_trade("v1")
    assert t is not None and t.position == D(6)


def test_an_entry_the_venue_fills_through_its_stop_gets_the_stop_and_no_targets() -> None:
    """A venue may fill a buy limit far below it (a gap): at or through the stop there is no R to
    scale out by, so the bracket is the stop alone, and nothing crashes."""
    node = world()
    oid = _of(_intent(node), ev.TradeEntryPlaced)[0].order_id  # type: ignore[attr-defined]
    done = vorder(oid, VS.FILLED, qty="10", price="100", cum="10", avg="97")
    bracket = _of(update(node, done, vfill(done, "G1", "10", px="97")), ev.TradeBracketPlaced)
    assert bracket and bracket[0].targets == ()  # type: ignore[attr-defined]
    assert bracket[0].stop_order_id  # type: ignore[attr-defined]
