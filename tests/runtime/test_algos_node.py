"""Parent orders through the Node on a durable journal: a restart (replay, and from a snapshot)
rebuilds the identical state, the open parent carries on after it; the route-book provider is
pluggable; the execution report."""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path

from atlas_oms import Instrument, ManualClock, Node
from atlas_oms.model.algos import AlgoStatus
from atlas_oms.model.route_book import BookLevel, RouteBook, VenueBook

SEC = 1_000_000_000
T0 = 1_000 * SEC


def durable(path: Path, now: int) -> Node:
    node = Node.open(str(path), clock=ManualClock(now))
    return node


def setup(node: Node) -> None:
    node.add_instrument(Instrument.spot("BTC/USDT", tick_size="0.1", lot_size="0.01"))
    for acc in ("mm", "t1", "t2"):
        node.open_account(acc)
        node.deposit(acc, "USDT", 1_000_000)
        node.deposit(acc, "BTC", 100)
    node.sell("mm", "BTC/USDT", "0.5", "100")
    node.sell("mm", "BTC/USDT", "50", "102")
    node.buy("mm", "BTC/USDT", "50", "98")


def test_a_restart_replays_to_the_same_digest_and_the_parents_carry_on(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    node = durable(path, T0)
    setup(node)
    node.submit_algo(
        "t1",
        "BTC/USDT",
        "BUY",
        "1",
        "TWAP",
        algo_id="tw",
        duration_ms=40_000,
        slices=4,
        randomize_pct=20,
        seed=5,
        limit_price="101",
    )
    node.submit_algo(
        "t2",
        "BTC/USDT",
        "SELL",
        "1",
        "ICEBERG",
        algo_id="ice",
        limit_price="103",
        display_qty="0.2",
        native=False,
    )
    node.submit_algo("t1", "BTC/USDT", "BUY", "0.2", "SMART", algo_id="sm", limit_price="103")
    node.clock.set(T0 + 12 * SEC)  # type: ignore[attr-defined]
    node.tick()
    digest = node.engine.digest()
    node.close()

    again = durable(path, T0 + 12 * SEC)
    assert again.engine.digest() == digest
    assert again.algo("tw").status == AlgoStatus.WORKING
    snap_seq = again.snapshot()
    assert snap_seq == again.seq
    again.close()

    third = durable(path, T0 + 12 * SEC)
    assert third.recovery.snapshot_seq == snap_seq and third.engine.digest() == digest
    assert third.engine.state.algo_orders == again.engine.state.algo_orders
    assert set(third.engine.state.algos_open) == {"tw", "ice"}
    third.clock.set(T0 + 40 * SEC)  # type: ignore[attr-defined]
    third.tick()  # the remaining slices' target rolled into the last one, the window ended
    tw = third.algo("tw")
    # 0.5 offered at 100 (0.2 of it to the SMART parent), 102 is above the cap of 101.
    assert third.algo("sm").status == AlgoStatus.DONE and third.algo("sm").cum_qty == D("0.2")
    assert tw.status == AlgoStatus.EXPIRED and tw.cum_qty == D("0.3") and tw.avg_px == D("100")
    assert third.algo("ice").status == AlgoStatus.WORKING
    assert [o.leaves_qty for o in third.algo("ice").children] == [D("0.2")]
    third.close()


def test_the_route_book_provider_is_pluggable() -> None:
    node = Node.in_memory(clock=ManualClock(T0))
    setup(node)
    asked: list[tuple[str, str, str | None]] = []

    def provider(symbol: str, account_id: str, strategy: str | None) -> RouteBook:
        asked.append((symbol, account_id, strategy))
        return RouteBook(
            symbol=symbol,
            quote="USDT",
            ts=T0,
            books=(VenueBook(venue="sim", symbol="BTC/USDT", asks=(BookLevel(D("102"), D("9")),)),),
        )

    node.route_books = provider
    node.submit_algo("t1", "BTC/USDT", "BUY", "1", "SMART", algo_id="p", strategy="desk")
    assert asked == [("BTC/USDT", "t1", "desk")]
    view = node.algo("p")
    # The provider's book said 102: the child's limit is 102, it took 0.5 at 100 and 0.5 at 102.
    assert view.status == AlgoStatus.DONE and view.avg_px == D("101")


def test_the_execution_report() -> None:
    node = Node.in_memory(clock=ManualClock(T0))
    setup(node)
    node.submit_algo("t1", "BTC/USDT", "BUY", "1", "SMART", algo_id="r")
    report = node.algo_report("r")
    assert D(report["arrival_price"]) == 99  # mid of 98 and 100
    assert D(report["avg_px"]) == 101
    assert report["slippage_bps"] == "202.02"  # (101 - 99) / 99 * 10_000: a cost
    assert D(report["filled_qty"]) == 1 and D(report["leaves_qty"]) == 0
    assert D(report["market_volume"]) == 1 and report["participation_pct"] == "100.00"
    assert report["children"] == 1 and report["status"] == "DONE"
    assert node.algo("r").report == report
    assert [v.algo_id for v in node.algos("t1")] == ["r"] and node.algos("mm") == []
