"""Venue account status (VENUE_NOT_TRADABLE), instruments reloaded from a venue, and the fold:
a journal of venue events replays (and snapshots) to the same digest."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from venue_world import PERP, SPOT, reconcile, status, update, vfill, vorder, world

from atlas_oms import CommandRefused, Instrument, Node, OrderStatus, Reason
from atlas_oms.model import events as ev
from atlas_oms.model.venue import NoteOutcomeUnknown, VenueBalance, VenuePosition
from atlas_oms.model.venue import VenueOrderState as VS


def test_an_order_for_a_venue_account_that_is_not_tradable_is_refused() -> None:
    node = world()
    status(node, "binance", "spot", False, "RECONCILING")
    order = node.buy("spot", SPOT, "1", "100")
    assert order.status is OrderStatus.DENIED and order.reason == Reason.VENUE_NOT_TRADABLE
    denied = [e for e in node.events() if isinstance(e, ev.OrderDenied)][-1]
    assert "binance account spot is reconciling" in denied.message
    # The other venue account is unaffected; the built-in exchange too.
    assert node.buy("fut", PERP, "1", "100").status is OrderStatus.SUBMITTED
    status(node, "binance", "spot", True, "READY")
    assert node.buy("spot", SPOT, "1", "100").status is OrderStatus.SUBMITTED


def test_an_account_never_connected_to_a_managed_venue_is_refused() -> None:
    node = world()
    node.open_account("other")
    node.deposit("other", "USDT", 1000)
    order = node.buy("other", SPOT, "1", "100")
    assert order.reason == Reason.VENUE_NOT_TRADABLE
    denied = [e for e in node.events() if isinstance(e, ev.OrderDenied)][-1]
    assert "not connected" in denied.message


def test_sim_orders_are_unaffected_and_cancels_are_allowed_while_not_tradable() -> None:
    node = world()
    node.add_instrument(Instrument.spot("ETH/USDT", tick_size="0.01", lot_size="0.01"))
    oid = node.buy("spot", SPOT, "1", "100").order_id
    update(node, vorder(oid, VS.NEW))
    status(node, "binance", "spot", False, "DISCONNECTED")
    assert node.buy("spot", "ETH/USDT", "1", "10").status is not OrderStatus.DENIED
    assert node.cancel("spot", oid).status is OrderStatus.PENDING_CANCEL


def test_a_repeated_status_journals_nothing() -> None:
    node = world()
    assert status(node, "binance", "spot", True, "READY") == []
    assert [type(e) for e in status(node, "binance", "spot", False, "CONNECTING")] == [
        ev.VenueStatusChanged
    ]
    [st_] = node.venue_status("binance", "spot")
    assert not st_.tradable and st_.reason == "CONNECTING"


def test_instruments_reloaded_from_a_venue() -> None:
    node = world()
    same = Instrument.spot(SPOT, tick_size="0.01", lot_size="0.0001", venue="binance")
    seq = node.seq
    node.add_instrument(same)
    assert node.seq == seq  # identical: no event
    changed = Instrument.spot(SPOT, tick_size="0.1", lot_size="0.0001", venue="binance")
    node.add_instrument(changed)
    assert node.instrument(SPOT) == changed
    assert isinstance(list(node.events())[-1], ev.InstrumentAdded)
    with pytest.raises(CommandRefused) as refused:
        node.add_instrument(Instrument.spot(SPOT, tick_size="0.01", lot_size="0.0001", venue="okx"))
    assert refused.value.reason == Reason.INSTRUMENT_ON_OTHER_VENUE
    assert "exists on venue binance" in str(refused.value)


def _busy_world() -> Node:
    node = world()
    oid = node.buy("spot", SPOT, "1", "100").order_id
    vo = vorder(oid, VS.PARTIALLY_FILLED, cum="0.5")
    update(node, vo, vfill(vo, "t1", "0.5"))
    node.process(NoteOutcomeUnknown(order_id=oid, action="CANCEL", reason="TIMEOUT"))
    ext = vorder(None, VS.PARTIALLY_FILLED, symbol=PERP, account="fut", cum="0.3", voi="W")
    update(node, ext, vfill(ext, "x", "0.3"))
    reconcile(
        node,
        "binanceusdm",
        "fut",
        positions=(VenuePosition(symbol=PERP, qty=D(1), entry_price=D(100)),),
        balances=(VenueBalance(asset="USDT", free=D(99_000)),),
    )
    status(node, "binance", "spot", False, "DISCONNECTED")
    return node


def test_a_journal_of_venue_events_replays_to_the_same_digest() -> None:
    node = _busy_world()
    replayed = Node(node.journal)
    assert replayed.digest() == node.digest()
    assert replayed.reconciliation_reports() == node.reconciliation_reports()
    assert replayed.order(replayed.orders()[-1].order_id).external


def test_a_snapshot_keeps_the_venue_state() -> None:
    node = _busy_world()
    node.snapshot()
    restored = Node(node.journal)
    assert restored.recovery.snapshot_seq == node.seq
    assert restored.digest() == node.digest()
    assert restored.venue_status() == node.venue_status()
    assert [o.in_doubt for o in restored.orders()] == [o.in_doubt for o in node.orders()]


_FILLS = [("a", "0.1"), ("b", "0.2"), ("c", "0.3"), ("d", "0.15")]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(range(len(_FILLS))), st.sampled_from(["stream", "recon"])),
        min_size=1,
        max_size=12,
    )
)
def test_any_interleaving_or_duplication_of_the_same_fills_gives_the_same_position(
    plan: list[tuple[int, str]],
) -> None:
    node = world()
    oid = node.buy("fut", PERP, "1", "100").order_id
    seen: set[int] = set()
    for i, how in plan:
        seen.add(i)
        trade, qty = _FILLS[i]
        vo = vorder(oid, VS.PARTIALLY_FILLED, symbol=PERP, account="fut")
        if how == "stream":
            update(node, vo, vfill(vo, trade, qty))
        else:
            reconcile(node, "binanceusdm", "fut", fills=(vfill(vo, trade, qty),))
    expected = sum((D(_FILLS[i][1]) for i in seen), D(0))
    pos = node.position("fut", PERP)
    assert pos is not None and pos.qty == expected
    assert node.order(oid).cum_qty == expected
    assert len(node.order_fills(oid)) == len(seen)
