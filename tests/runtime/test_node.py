"""The node: record before acting, the library facade's refusals, snapshots."""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path

import pytest

from atlas_oms import CommandRefused, Instrument, ManualClock, Node, OrderStatus, Reason
from atlas_oms.model import events as ev
from atlas_oms.model.reports import Report, VenueAccepted
from atlas_oms.model.requests import SubmitToVenue, VenueRequest
from atlas_oms.store.sqlite import SqliteJournal


class ExternalVenue:
    """A venue outside the process: it looks at the journal on disk when a request arrives."""

    name = "ext"
    synchronous = False

    def __init__(self, path: Path) -> None:
        self.path = path
        self.seen_on_disk: list[list[str]] = []

    def handle(self, request: VenueRequest) -> list[Report]:
        with SqliteJournal(self.path, readonly=True) as disk:
            self.seen_on_disk.append([type(e).__name__ for e in disk.read()])
        assert isinstance(request, SubmitToVenue)
        return [VenueAccepted(order_id=request.order_id, ts=request.ts, venue_order_id="X-1")]


def test_intent_is_durable_before_a_request_leaves_for_an_external_venue(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    venue = ExternalVenue(path)
    node = Node(SqliteJournal(path), clock=ManualClock(1), venues=[venue])
    node.add_instrument(Instrument.spot("ETH/USD", tick_size="0.01", lot_size="0.01", venue="ext"))
    node.open_account("a")
    node.deposit("a", "USD", 1000)
    order = node.buy("a", "ETH/USD", "1", "100")
    assert order.status is OrderStatus.ACCEPTED and order.venue_order_id == "X-1"
    assert venue.seen_on_disk[-1][-1] == "OrderSubmitted"  # on disk before the venue saw it
    node.close()


def test_a_refused_cancel_raises_with_its_reason_and_is_journaled() -> None:
    node = Node.in_memory()
    node.open_account("a")
    with pytest.raises(CommandRefused) as refused:
        node.cancel("a", 999)
    assert refused.value.reason == Reason.UNKNOWN_ORDER
    last = list(node.events())[-1]
    assert isinstance(last, ev.OrderCancelRejected) and last.reason == Reason.UNKNOWN_ORDER


def test_floats_are_taken_by_their_shortest_repr() -> None:
    node = Node.in_memory()
    node.add_instrument(Instrument.spot("ETH/USD", tick_size="0.01", lot_size="0.01"))
    node.open_account("a")
    assert node.deposit("a", "USD", 0.1).total == D("0.1")


def test_a_snapshot_then_more_events_reopen_to_the_same_state(tmp_path: Path) -> None:
    path = str(tmp_path / "j.db")
    node = Node.open(path, clock=ManualClock(1))
    node.add_instrument(Instrument.spot("ETH/USD", tick_size="0.01", lot_size="0.01"))
    for account in ("a", "b"):
        node.open_account(account)
        node.deposit(account, "USD", 10_000)
        node.deposit(account, "ETH", 10)
    node.sell("a", "ETH/USD", "2", "100")
    node.snapshot()
    node.buy("b", "ETH/USD", "1", "100")
    node.sell("a", "ETH/USD", "1", "101")
    live = node.digest()
    node.close()
    again = Node.open(path, clock=ManualClock(2))
    assert again.recovered_events == 5  # only what came after the snapshot is replayed
    assert again.digest() == live
    assert again.book("ETH/USD")["asks"] == [(D(100), D(1)), (D(101), D(1))]
    again.close()


def test_net_positions_sum_an_account_with_its_sub_accounts() -> None:
    node = Node.in_memory()
    node.add_instrument(Instrument.spot("ETH/USD", tick_size="0.01", lot_size="0.01"))
    for account, parent in (("desk", None), ("desk-a", "desk"), ("desk-b", "desk"), ("mm", None)):
        node.open_account(account, parent_id=parent)
        node.deposit(account, "USD", 100_000)
        node.deposit(account, "ETH", 100)
    node.sell("mm", "ETH/USD", "5", "100")
    node.buy("desk-a", "ETH/USD", "3", "100")
    node.buy("desk-b", "ETH/USD", "2", "100")
    node.buy("mm", "ETH/USD", "1", "99")
    node.sell("desk-b", "ETH/USD", "1", "99")
    assert node.account_tree("desk") == ["desk", "desk-a", "desk-b"]
    desk = node.net_positions("desk")
    assert [(p.symbol, p.net_qty, p.gross_qty) for p in desk] == [("ETH/USD", D(4), D(4))]
    everyone = node.net_positions()
    assert [(p.symbol, p.net_qty) for p in everyone] == [
        ("ETH/USD", D(0))
    ]  # every trade has two sides
