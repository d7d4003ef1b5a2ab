"""Linked orders (OCO, OTO, bracket) on the built-in exchange, as a library user sees them."""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path

import pytest

from atlas_oms import CommandRefused, Engine, Instrument, ManualClock, Node, OrderStatus
from atlas_oms.model import events as ev

S = OrderStatus
BTC = "BTC/USDT"
SEC = 1_000_000_000


def setup(n: Node) -> Node:
    n.add_instrument(Instrument.spot(BTC, tick_size="0.01", lot_size="0.001"))
    for account in ("mm", "alice"):
        n.open_account(account)
        n.deposit(account, "USDT", 1_000_000)
        n.deposit(account, "BTC", 100)
    n.update_prices(BTC, last="100")
    return n


@pytest.fixture
def node() -> Node:
    return setup(Node.in_memory(clock=ManualClock(1_767_225_600 * SEC)))


def limit(side: str, qty: str, price: str) -> dict[str, str]:
    return {"symbol": BTC, "side": side, "order_type": "LIMIT", "qty": qty, "price": price}


def stop(side: str, qty: str, trigger: str) -> dict[str, str]:
    return {
        "symbol": BTC,
        "side": side,
        "order_type": "STOP_MARKET",
        "qty": qty,
        "trigger_price": trigger,
    }


def sibling_cancels(node: Node) -> list[ev.OrderListSiblingCanceled]:
    return [e for e in node.journal.read(1) if isinstance(e, ev.OrderListSiblingCanceled)]


def test_oco_one_leg_fills_the_other_is_canceled(node: Node) -> None:
    oco = node.submit_oco("alice", limit("SELL", "1", "110"), stop("SELL", "1", "90"))
    target, protect = oco.legs
    assert node.order(protect).status is S.ACCEPTED
    node.buy("mm", BTC, "1", "110")
    assert node.order(target).status is S.FILLED
    assert node.order(protect).status is S.CANCELED
    assert node.order(protect).reason == "OCO_SIBLING_FILLED"
    (decision,) = sibling_cancels(node)
    assert (decision.order_id, decision.cause_order_id) == (protect, target)
    assert node.order_list(oco.list_id).open is False


def test_oco_a_partial_fill_cancels_the_other_leg_by_default(node: Node) -> None:
    oco = node.submit_oco("alice", limit("SELL", "2", "110"), limit("SELL", "2", "120"))
    node.buy("mm", BTC, "1", "110")
    assert node.order(oco.legs[0]).status is S.PARTIALLY_FILLED
    assert node.order(oco.legs[1]).status is S.CANCELED


def test_oco_reduce_mode_shrinks_the_other_leg_by_what_filled(node: Node) -> None:
    oco = node.submit_oco(
        "alice", limit("SELL", "2", "110"), stop("SELL", "2", "90"), oco_partial="REDUCE"
    )
    node.buy("mm", BTC, "0.5", "110")
    assert node.order(oco.legs[1]).qty == D("1.5")
    node.buy("mm", BTC, "1.5", "110")
    assert node.order(oco.legs[0]).status is S.FILLED
    assert node.order(oco.legs[1]).status is S.CANCELED


def test_oco_user_cancels_one_leg_and_the_engine_cancels_the_others(node: Node) -> None:
    oco = node.submit_oco(
        "alice", limit("SELL", "1", "110"), limit("SELL", "1", "120"), stop("SELL", "1", "90")
    )
    node.cancel("alice", oco.legs[0])
    assert [node.order(o).status for o in oco.legs] == [S.CANCELED] * 3
    assert {d.reason for d in sibling_cancels(node)} == {"OCO_SIBLING_ENDED"}


def test_oto_children_are_held_until_the_parent_fills(node: Node) -> None:
    oto = node.submit_oto("alice", limit("BUY", "1", "100"), limit("SELL", "1", "110"))
    assert oto.held_children == 1 and oto.released == ()
    assert len(node.orders("alice", open_only=True)) == 1
    node.sell("mm", BTC, "1", "100")
    view = node.order_list(oto.list_id)
    (child,) = view.released
    assert node.order(child).status is S.ACCEPTED and node.order(child).qty == D(1)


def test_oto_partial_parent_fill_releases_children_sized_to_what_filled(node: Node) -> None:
    oto = node.submit_oto("alice", limit("BUY", "2", "100"), limit("SELL", "2", "110"))
    node.sell("mm", BTC, "0.5", "100")
    (child,) = node.order_list(oto.list_id).released
    assert node.order(child).qty == D("0.5")
    node.sell("mm", BTC, "1.5", "100")
    assert node.order(child).qty == D(2)
    assert node.order_list(oto.list_id).open is False


def test_oto_parent_canceled_before_any_fill_drops_its_children(node: Node) -> None:
    oto = node.submit_oto("alice", limit("BUY", "1", "100"), limit("SELL", "1", "110"))
    node.cancel("alice", oto.parent_id)
    view = node.order_list(oto.list_id)
    assert (view.open, view.close_reason, view.released) == (False, "OTO_PARENT_ENDED", ())
    assert node.orders("alice", open_only=True) == []


def test_oto_parent_denied_drops_its_children(node: Node) -> None:
    oto = node.submit_oto("alice", limit("BUY", "1000000", "100"), limit("SELL", "1", "110"))
    assert node.order(oto.parent_id).status is S.DENIED
    assert node.order_list(oto.list_id).close_reason == "OTO_PARENT_ENDED"


def test_bracket_entry_fill_releases_an_oco_target_and_stop(node: Node) -> None:
    br = node.submit_bracket(
        "alice", limit("BUY", "1", "100"), limit("SELL", "1", "110"), stop("SELL", "1", "90")
    )
    node.sell("mm", BTC, "1", "100")
    target, protect = node.order_list(br.list_id).legs
    node.buy("mm", BTC, "1", "110")
    assert node.order(target).status is S.FILLED
    assert node.order(protect).status is S.CANCELED
    assert node.position("alice", BTC).qty == D(0)
    assert node.order_list(br.list_id).open is False


def test_a_malformed_list_is_refused(node: Node) -> None:
    with pytest.raises(CommandRefused):
        node.submit_order_list("alice", "OCO", [limit("SELL", "1", "110")])


def test_replay_gives_the_same_digest_and_a_reopened_journal_keeps_the_links(
    tmp_path: Path,
) -> None:
    path = str(tmp_path / "j.db")
    node = setup(Node.open(path, clock=ManualClock(1_767_225_600 * SEC)))
    br = node.submit_bracket(
        "alice", limit("BUY", "2", "100"), limit("SELL", "2", "110"), stop("SELL", "2", "90")
    )
    node.sell("mm", BTC, "1", "100")
    digest = node.digest()
    events = list(node.journal.read(1))
    node.close()
    engine = Engine()
    engine.apply_all(events)
    assert engine.digest() == digest
    again = Node.open(path, clock=ManualClock(1_767_225_700 * SEC))
    try:
        assert again.digest() == digest
        target, protect = again.order_list(br.list_id).legs
        again.sell("mm", BTC, "1", "100")  # the rest of the entry: the exits grow to 2
        assert again.order(target).qty == D(2) and again.order(protect).qty == D(2)
        again.buy("mm", BTC, "2", "110")
        assert again.order(protect).status is S.CANCELED
    finally:
        again.close()


def test_a_snapshot_keeps_the_links(node: Node) -> None:
    from atlas_oms.core.state.snapshot import (
        decode_snapshot,
        encode_snapshot,
        export_state,
        restore_state,
    )

    node.submit_bracket(
        "alice", limit("BUY", "2", "100"), limit("SELL", "2", "110"), stop("SELL", "2", "90")
    )
    node.sell("mm", BTC, "1", "100")
    restored = Engine()
    restore_state(restored.state, decode_snapshot(encode_snapshot(export_state(node.engine.state))))
    assert restored.digest() == node.digest()
    assert restored.state.links.by_order == node.engine.state.links.by_order
