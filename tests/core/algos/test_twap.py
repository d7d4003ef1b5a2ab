"""TWAP on the built-in exchange with an injected clock: slice times and sizes exactly as
configured, seeded randomization (same seed, same events), catch-up, the limit cap, replay."""

from __future__ import annotations

from decimal import Decimal as D

from algo_world import SEC, T0, events_of, world

from atlas_oms import Node
from atlas_oms.model.algos import AlgoStatus
from atlas_oms.model.events_algos import (
    AlgoChildPlaced,
    AlgoCompleted,
    AlgoSlicesPlanned,
    AlgoSliceStarted,
)
from atlas_oms.store.codec import events_to_json_lines


def run_twap(node: Node, **kw: object) -> str:
    view = node.submit_algo(
        "t1", "BTC/USDT", "BUY", "1", "TWAP", algo_id="tw", duration_ms=50_000, slices=5, **kw
    )
    for _ in range(60):
        if node.engine.next_deadline(node.clock.now()) is None:
            break
        node.clock.set(node.engine.next_deadline(node.clock.now()))  # type: ignore[attr-defined]
        node.tick()
    return view.algo_id


def test_twap_slices_are_due_at_equal_times_with_equal_sizes() -> None:
    node = world()
    run_twap(node)
    (plan,) = events_of(node, AlgoSlicesPlanned, "tw")
    assert [(s.no, s.due_ts, s.qty) for s in plan.slices] == [
        (k, T0 + k * 10 * SEC, D("0.2")) for k in range(5)
    ]
    started = events_of(node, AlgoSliceStarted, "tw")
    assert [(e.ts_event, e.qty) for e in started] == [
        (T0 + k * 10 * SEC, D("0.2")) for k in range(5)
    ]
    placed = events_of(node, AlgoChildPlaced, "tw")
    assert [(e.ts_event, e.qty, e.price) for e in placed] == [
        (T0 + k * 10 * SEC, D("0.2"), D("100")) for k in range(5)
    ]
    view = node.algo("tw")
    assert view.status == AlgoStatus.DONE
    assert view.cum_qty == D("1") and view.avg_px == D("100") and view.leaves_qty == 0
    assert all(o.tag == "algo:tw" for o in view.children)
    assert sum(o.cum_qty for o in view.children) == view.cum_qty


def test_randomized_twap_is_the_same_for_the_same_seed_and_sums_to_the_quantity() -> None:
    a, b, c = world(), world(), world()
    for node, seed in ((a, 7), (b, 7), (c, 8)):
        run_twap(node, randomize_pct=40, seed=seed)
    plans = [events_of(n, AlgoSlicesPlanned, "tw")[0].slices for n in (a, b, c)]
    assert plans[0] == plans[1] and plans[0] != plans[2]
    for slices in plans:
        assert sum(s.qty for s in slices) == D("1")
        assert all(s.qty % D("0.01") == 0 and s.qty >= 0 for s in slices)
        dues = [s.due_ts for s in slices]
        assert dues == sorted(dues)
        for s in slices:  # time moved at most r/2 of a step, size by at most r (before rescale)
            assert abs(s.due_ts - (T0 + s.no * 10 * SEC)) <= D("0.2") * 10 * SEC
            assert -1 <= s.size_draw <= 1 and -1 <= s.time_draw <= 1
    assert any(s.qty != D("0.2") for s in plans[0])
    # Same seed: the whole journal (children, fills) is identical.
    assert events_to_json_lines(list(a.events())) == events_to_json_lines(list(b.events()))


def test_a_slice_that_did_not_fill_rolls_into_the_next_and_the_cap_holds() -> None:
    node = world(asks=(("100", "0.3"), ("105", "50")))
    run_twap(node, limit_price="101")
    started = events_of(node, AlgoSliceStarted, "tw")
    # slice 0 and 1 fill at 100 (0.2, then 0.1 of 0.2: the book runs out); above the cap
    # nothing fills and each slice asks for everything behind schedule.
    assert [e.qty for e in started] == [D("0.2"), D("0.2"), D("0.3"), D("0.5"), D("0.7")]
    assert all(e.price is not None and e.price <= D("101") for e in started)
    view = node.algo("tw")
    assert view.cum_qty == D("0.3") and view.status == AlgoStatus.EXPIRED
    assert all(o.price <= D("101") for o in view.children if o.price is not None)
    (end,) = events_of(node, AlgoCompleted, "tw")
    assert end.ts_event == T0 + 50 * SEC and end.reason == "WINDOW_ENDED"


def test_replay_of_the_journal_gives_the_same_digest() -> None:
    node = world(asks=(("100", "0.3"), ("105", "50")))
    run_twap(node, randomize_pct=30, seed=3, limit_price="101")
    twin = Node.in_memory()
    twin.engine.apply_all(node.events())
    assert twin.engine.digest() == node.engine.digest()
