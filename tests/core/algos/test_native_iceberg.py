"""The ICEBERG algorithm is the venue's own iceberg where the instrument takes one (the default;
always on the built-in exchange): ONE child of the whole quantity showing the display quantity.
``native=False`` forces the emulation; a venue without native icebergs (or whose iceberg checks
the quantity would fail) emulates. The decision is journaled in ``AlgoAccepted.native``."""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path

from algo_world import SEC, T0, events_of, world
from tests.core.venues import venue_world

from atlas_oms import Instrument, ManualClock, Node
from atlas_oms.model.algos import AlgoStatus
from atlas_oms.model.events_algos import AlgoAccepted, AlgoChildPlaced
from atlas_oms.model.requests import SubmitToVenue


def _iceberg(node: Node, **kw: object) -> None:
    node.submit_algo(
        "t1", "BTC/USDT", "SELL", "1", "ICEBERG", limit_price="95", display_qty="0.3", **kw
    )


def test_a_native_iceberg_is_one_child_and_the_book_shows_only_its_display_part() -> None:
    node = world()
    _iceberg(node, algo_id="ice")
    (accepted,) = events_of(node, AlgoAccepted, "ice")
    assert accepted.native is True
    (placed,) = events_of(node, AlgoChildPlaced, "ice")
    assert placed.qty == D("1") and placed.display_qty == D("0.3") and placed.price == D("95")
    (child,) = node.algo("ice").children
    assert child.display_qty == D("0.3") and child.leaves_qty == D("1")
    assert node.book("BTC/USDT")["asks"][0] == (D("95"), D("0.3"))
    shown = []
    for _ in range(3):
        node.buy("mm", "BTC/USDT", "0.25", "95")
        shown.append(node.book("BTC/USDT")["asks"][0])
    # The venue refills: the visible part is never more than the display quantity.
    assert all(px == D("95") and qty <= D("0.3") for px, qty in shown)
    node.buy("mm", "BTC/USDT", "1", "95")
    view = node.algo("ice")
    assert view.status == AlgoStatus.DONE and view.cum_qty == D("1") and view.leaves_qty == 0
    assert len(view.children) == 1 and len(events_of(node, AlgoChildPlaced, "ice")) == 1
    assert view.avg_px == D("95")


def test_display_variance_does_not_apply_to_a_native_iceberg() -> None:
    node = world()
    _iceberg(node, algo_id="ice", display_variance_pct=50, seed=7)
    (placed,) = events_of(node, AlgoChildPlaced, "ice")
    assert placed.qty == D("1") and placed.display_qty == D("0.3")


def test_native_false_keeps_the_emulation_on_the_built_in_exchange() -> None:
    node = world()
    _iceberg(node, algo_id="ice", native=False)
    (accepted,) = events_of(node, AlgoAccepted, "ice")
    assert accepted.native is False
    (child,) = node.algo("ice").children
    assert child.leaves_qty == D("0.3") and child.display_qty is None
    for _ in range(4):
        node.buy("mm", "BTC/USDT", "0.3", "95")
    view = node.algo("ice")
    assert view.status == AlgoStatus.DONE and view.cum_qty == D("1")
    assert [e.qty for e in events_of(node, AlgoChildPlaced, "ice")] == [
        D("0.3"),
        D("0.3"),
        D("0.3"),
        D("0.1"),
    ]


def test_pause_and_resume_of_a_native_iceberg_places_one_child_of_the_rest() -> None:
    node = world()
    _iceberg(node, algo_id="ice")
    node.buy("mm", "BTC/USDT", "0.5", "95")
    node.pause_algo("ice")
    assert node.book("BTC/USDT")["asks"][0][0] != D("95")
    node.resume_algo("ice")
    placed = events_of(node, AlgoChildPlaced, "ice")
    assert [(e.qty, e.display_qty) for e in placed] == [(D("1"), D("0.3")), (D("0.5"), D("0.3"))]
    node.buy("mm", "BTC/USDT", "0.4", "95")
    node.pause_algo("ice")
    node.resume_algo("ice")  # 0.1 left: below the display quantity, a plain limit
    assert events_of(node, AlgoChildPlaced, "ice")[-1].display_qty is None
    node.buy("mm", "BTC/USDT", "0.1", "95")
    assert node.algo("ice").status == AlgoStatus.DONE


def test_a_native_iceberg_replays_to_the_same_digest_and_rests_again(tmp_path: Path) -> None:
    path = str(tmp_path / "j.db")
    node = Node(journal=path, clock=ManualClock(T0))
    node.add_instrument(Instrument.spot("BTC/USDT", tick_size="0.1", lot_size="0.01"))
    for acc in ("mm", "t1"):
        node.open_account(acc)
        node.deposit(acc, "USDT", 1_000_000)
        node.deposit(acc, "BTC", 100)
    _iceberg(node, algo_id="ice")
    node.buy("mm", "BTC/USDT", "0.4", "95")
    digest = node.engine.digest()
    node.close()
    again = Node(journal=path, clock=ManualClock(T0 + SEC))
    assert again.engine.digest() == digest
    assert again.book("BTC/USDT")["asks"] == [(D("95"), D("0.3"))]
    again.buy("mm", "BTC/USDT", "0.6", "95")
    view = again.algo("ice")
    assert view.status == AlgoStatus.DONE and view.cum_qty == D("1")
    assert sum(o.cum_qty for o in view.children) == D("1")
    again.close()


def _external(*, allowed: bool, parts: int | None = None) -> Node:
    node = venue_world.world()
    node.add_instrument(
        Instrument.spot(
            "ETH/USDT",
            tick_size="0.01",
            lot_size="0.01",
            venue="binance",
            iceberg_allowed=allowed,
            iceberg_parts=parts,
        )
    )
    node.deposit("spot", "ETH", 10)
    return node


def _sent(node: Node) -> list[SubmitToVenue]:
    stub = node.venues["binance"]
    return [r for r in stub.requests if isinstance(r, SubmitToVenue)]  # type: ignore[attr-defined]


def test_an_external_venue_without_native_icebergs_emulates() -> None:
    node = _external(allowed=False)
    node.submit_algo(
        "spot", "ETH/USDT", "SELL", "1", "ICEBERG", algo_id="e", limit_price="95", display_qty="0.3"
    )
    (accepted,) = events_of(node, AlgoAccepted, "e")
    assert accepted.native is False
    (sent,) = _sent(node)
    assert sent.qty == D("0.3") and sent.display_qty is None


def test_an_external_venue_with_native_icebergs_gets_one_order_with_its_display_qty() -> None:
    node = _external(allowed=True, parts=10)
    node.submit_algo(
        "spot", "ETH/USDT", "SELL", "1", "ICEBERG", algo_id="e", limit_price="95", display_qty="0.3"
    )
    assert events_of(node, AlgoAccepted, "e")[0].native is True
    (sent,) = _sent(node)
    assert sent.qty == D("1") and sent.display_qty == D("0.3")


def test_an_iceberg_the_venue_would_refuse_natively_is_emulated() -> None:
    node = _external(allowed=True, parts=2)  # 1 / 0.3 = 4 parts > 2
    node.submit_algo(
        "spot", "ETH/USDT", "SELL", "1", "ICEBERG", algo_id="e", limit_price="95", display_qty="0.3"
    )
    assert events_of(node, AlgoAccepted, "e")[0].native is False
    (sent,) = _sent(node)
    assert sent.qty == D("0.3") and sent.display_qty is None
