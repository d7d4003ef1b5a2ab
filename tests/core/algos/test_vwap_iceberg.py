"""VWAP sizes follow the volume profile (supplied, or from the trades seen); iceberg: the display
quantity is what works, refilled as it fills, until the whole quantity filled."""

from __future__ import annotations

from decimal import Decimal as D

from algo_world import SEC, T0, events_of, world

from atlas_oms import Node
from atlas_oms.model.algos import AlgoStatus
from atlas_oms.model.events_algos import AlgoChildPlaced, AlgoSlicesPlanned, AlgoSliceStarted


def drive(node: Node) -> None:
    for _ in range(100):
        due = node.engine.next_deadline(node.clock.now())
        if due is None:
            return
        node.clock.set(due)  # type: ignore[attr-defined]
        node.tick()


def test_vwap_slices_follow_the_supplied_profile() -> None:
    node = world()
    node.submit_algo(
        "t1",
        "BTC/USDT",
        "BUY",
        "2",
        "VWAP",
        algo_id="vw",
        duration_ms=40_000,
        weights=["1", "3", "4", "2"],
    )
    drive(node)
    (plan,) = events_of(node, AlgoSlicesPlanned, "vw")
    assert [(s.due_ts, s.qty) for s in plan.slices] == [
        (T0, D("0.2")),
        (T0 + 10 * SEC, D("0.6")),
        (T0 + 20 * SEC, D("0.8")),
        (T0 + 30 * SEC, D("0.4")),
    ]
    assert [e.qty for e in events_of(node, AlgoSliceStarted, "vw")] == [
        D("0.2"),
        D("0.6"),
        D("0.8"),
        D("0.4"),
    ]
    view = node.algo("vw")
    assert view.status == AlgoStatus.DONE and view.cum_qty == D("2")


def test_vwap_without_weights_takes_the_profile_of_the_trades_seen_before() -> None:
    node = world(asks=(("100", "50"),))
    # Yesterday's windows (same length, just before the start): trades in the 1st and 3rd
    # quarter only, 1 and 3 BTC.
    node.open_account("t2")
    node.deposit("t2", "USDT", 10_000)
    for offset, qty in ((0, "1"), (20, "3")):
        node.clock.set(T0 + offset * SEC)  # type: ignore[attr-defined]
        node.buy("t2", "BTC/USDT", qty, "100")  # takes mm's ask
    start = T0 + 40 * SEC
    node.clock.set(start)  # type: ignore[attr-defined]
    view = node.submit_algo(
        "t1",
        "BTC/USDT",
        "BUY",
        "1",
        "VWAP",
        algo_id="vw2",
        duration_ms=40_000,
        slices=4,
        lookback_windows=1,
    )
    assert view.slices_planned == 4
    (plan,) = events_of(node, AlgoSlicesPlanned, "vw2")
    assert [s.qty for s in plan.slices] == [D("0.25"), D("0"), D("0.75"), D("0")]


def test_iceberg_shows_the_display_quantity_and_refills_until_done() -> None:
    node = world()
    node.submit_algo(
        "t1",
        "BTC/USDT",
        "SELL",
        "1",
        "ICEBERG",
        algo_id="ice",
        limit_price="95",
        display_qty="0.3",
        native=False,  # the emulated path (native: test_native_iceberg.py)
    )
    shown = []
    for _ in range(5):
        shown.append([o.leaves_qty for o in node.algo("ice").children if o.leaves_qty > 0])
        node.buy("mm", "BTC/USDT", "0.25", "95")
    assert shown[0] == [D("0.3")]  # one child, the display quantity, at a time
    assert all(len(s) <= 1 for s in shown)
    node.buy("mm", "BTC/USDT", "1", "95")
    view = node.algo("ice")
    assert view.status == AlgoStatus.DONE and view.cum_qty == D("1") and view.leaves_qty == 0
    placed = events_of(node, AlgoChildPlaced, "ice")
    assert all(e.qty <= D("0.3") and e.price == D("95") for e in placed)
    assert sum(o.cum_qty for o in view.children) == D("1")
    assert all(o.tag == "algo:ice" for o in view.children)


def test_iceberg_display_variance_is_seeded() -> None:
    sizes = []
    for seed in (1, 1, 2):
        node = world()
        node.submit_algo(
            "t1",
            "BTC/USDT",
            "SELL",
            "2",
            "ICEBERG",
            algo_id="ice",
            limit_price="95",
            native=False,
            display_qty="0.3",
            display_variance_pct=50,
            seed=seed,
        )
        for _ in range(4):
            node.buy("mm", "BTC/USDT", "0.5", "95")
        sizes.append([e.qty for e in events_of(node, AlgoChildPlaced, "ice")])
    assert sizes[0] == sizes[1] and sizes[0] != sizes[2]
    assert all(D("0.15") <= q <= D("0.45") for q in sizes[0][:-1])


def test_a_participation_cap_holds_slices_to_a_share_of_the_market_volume() -> None:
    node = world()
    node.open_account("t2")
    node.deposit("t2", "USDT", 10_000)
    node.submit_algo(
        "t1",
        "BTC/USDT",
        "BUY",
        "1",
        "VWAP",
        algo_id="pv",
        duration_ms=40_000,
        weights=["1", "1", "1", "1"],
        participation_pct=50,
    )
    node.clock.set(T0 + 5 * SEC)  # type: ignore[attr-defined]
    node.buy("t2", "BTC/USDT", "0.4", "100")  # the market trades 0.4
    drive(node)
    started = events_of(node, AlgoSliceStarted, "pv")
    # Nothing traded before slice 0; then 50% of 0.4; later slices: 50% of 0.4 + own 0.2 ...
    assert [(e.qty, e.market_volume) for e in started][:2] == [
        (D("0"), D("0")),
        (D("0.2"), D("0.4")),
    ]
    assert all(e.market_volume is not None for e in started)
    view = node.algo("pv")
    assert view.cum_qty <= D("0.5") * (D("0.4") + view.cum_qty)
