"""Queue priority in the built-in exchange survives a restart.

The exchange keeps price-time priority: a modify that changes the price or raises the quantity
sends the order to the back of its level, a smaller quantity at the same price keeps its place.
The engine records each resting order's place (``priority_seq``) and a restarting node rebuilds
the books from the journal in that order. A node reopened on its journal must therefore hold, at
every price level, the same queue as the node that was closed, and fill the same makers first.

The queues are read with ``OrderBook.orders_in_priority()`` (bids best first, then asks, FIFO
within a level), grouped by side and price.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import event, example, given, settings
from hypothesis import strategies as st

from atlas_oms import Instrument, ManualClock, Node, OrderStatus, OrderType, Side
from atlas_oms.model import commands as c
from atlas_oms.model import events as ev
from atlas_oms.model.enums import LiquiditySide
from atlas_oms.store.memory import MemoryJournal

D = Decimal
SYMBOL = "ETH/USD"
ACCOUNTS = ("a", "b", "c", "d")
#: Trades only in the property test's final sweeps.
SWEEPER = "z"
MID = D(100)
STEP_NS = 1_000_000

Queues = dict[tuple[str, Side, Decimal], list[int]]


def setup(node: Node) -> None:
    node.add_instrument(Instrument.spot(SYMBOL, tick_size="1", lot_size="1"))
    for account in (*ACCOUNTS, SWEEPER):
        node.open_account(account)
        node.deposit(account, "USD", 100_000_000)
        node.deposit(account, "ETH", 1_000_000)
    node.update_prices(SYMBOL, last=MID)


def queues(node: Node) -> Queues:
    """Every non-empty price level of every book: its resting order ids, front of the queue first."""
    out: Queues = {}
    for symbol, book in sorted(node.sim.books.items()):
        for r in book.orders_in_priority():
            out.setdefault((symbol, r.side, r.price), []).append(r.order_id)
    return out


def resting(node: Node) -> dict[str, list[Any]]:
    """Every non-empty book's resting orders (id, account, side, price, leaves) in priority."""
    return {
        symbol: list(book.orders_in_priority())
        for symbol, book in sorted(node.sim.books.items())
        if len(book)
    }


def makers(events: list[ev.EventBase]) -> list[int]:
    """The maker order ids of the fills in ``events``, in the order they traded."""
    return [
        e.order_id
        for e in events
        if isinstance(e, ev.OrderFilled) and e.liquidity_side is LiquiditySide.MAKER
    ]


def market(node: Node, account: str, side: Side, qty: Decimal) -> list[ev.EventBase]:
    """A market order at the node's clock; return every event it set off."""
    return node.process(
        c.SubmitOrder(
            ts=node.clock.now(),
            account_id=account,
            symbol=SYMBOL,
            side=side,
            order_type=OrderType.MARKET,
            qty=qty,
        )
    )


def step(node: Node) -> None:
    assert isinstance(node.clock, ManualClock)
    node.clock.advance(STEP_NS)


def reopen(path: Path, node: Node, *, snapshot: bool) -> Node:
    """Close ``node`` (optionally after a snapshot) and open a new node on its journal."""
    if snapshot:
        node.snapshot()
    now = node.clock.now()
    node.close()
    return Node.open(str(path), clock=ManualClock(now))


Script = Callable[[Node], dict[str, int]]


def twin_and_restarted(
    tmp_path: Path, script: Script, *, snapshot: bool
) -> tuple[Node, Node, dict[str, int]]:
    """Run ``script(node) -> ids`` on a node that never stops and on one that is closed and
    reopened on its SQLite journal afterwards; return (twin, restarted, ids)."""
    twin = Node.in_memory(clock=ManualClock(1))
    setup(twin)
    twin_ids = script(twin)
    node = Node.open(str(tmp_path / "j.db"), clock=ManualClock(1))
    setup(node)
    ids = script(node)
    assert ids == twin_ids
    live = queues(node)
    assert live == queues(twin)
    restarted = reopen(tmp_path / "j.db", node, snapshot=snapshot)
    assert restarted.digest() == twin.digest()
    assert queues(restarted) == live
    return twin, restarted, ids


# ---------------------------------------------------------------- examples
def reprice_away_and_back(node: Node) -> dict[str, int]:
    a = node.sell("a", SYMBOL, "1", "101").order_id
    step(node)
    b = node.sell("b", SYMBOL, "1", "101").order_id
    step(node)
    node.modify("a", a, price="102")
    step(node)
    node.modify("a", a, price="101")  # back at 101, behind b
    step(node)
    return {"a": a, "b": b}


def raise_quantity(node: Node) -> dict[str, int]:
    a = node.sell("a", SYMBOL, "1", "101").order_id
    step(node)
    b = node.sell("b", SYMBOL, "1", "101").order_id
    step(node)
    node.modify("a", a, qty="2")  # more at the same price: to the back, behind b
    step(node)
    return {"a": a, "b": b}


@pytest.mark.parametrize("snapshot", [False, True], ids=["replay", "snapshot"])
@pytest.mark.parametrize("script", [reprice_away_and_back, raise_quantity])
def test_an_order_that_lost_its_place_stays_behind_after_a_restart(
    tmp_path: Path, script: Script, snapshot: bool
) -> None:
    twin, restarted, ids = twin_and_restarted(tmp_path, script, snapshot=snapshot)
    a, b = ids["a"], ids["b"]
    assert queues(twin) == {(SYMBOL, Side.SELL, D(101)): [b, a]}
    assert queues(restarted) == {(SYMBOL, Side.SELL, D(101)): [b, a]}
    # A crossing market buy for one lot takes b's ask, in both nodes; a keeps resting.
    for node in (twin, restarted):
        step(node)
    twin_fill = market(twin, "c", Side.BUY, D(1))
    fill = market(restarted, "c", Side.BUY, D(1))
    assert makers(fill) == makers(twin_fill) == [b]
    assert fill == twin_fill
    for node in (twin, restarted):
        assert node.order(b).status is OrderStatus.FILLED
        assert node.order(a).status is OrderStatus.ACCEPTED
    assert restarted.digest() == twin.digest()
    restarted.close()


def reduce_quantity(node: Node) -> dict[str, int]:
    a = node.sell("a", SYMBOL, "2", "101").order_id
    step(node)
    b = node.sell("b", SYMBOL, "1", "101").order_id
    step(node)
    node.modify("a", a, qty="1")  # less at the same price: a keeps its place ahead of b
    step(node)
    return {"a": a, "b": b}


@pytest.mark.parametrize("snapshot", [False, True], ids=["replay", "snapshot"])
def test_a_quantity_reduction_keeps_its_place_after_a_restart(
    tmp_path: Path, snapshot: bool
) -> None:
    twin, restarted, ids = twin_and_restarted(tmp_path, reduce_quantity, snapshot=snapshot)
    a, b = ids["a"], ids["b"]
    assert queues(restarted) == queues(twin) == {(SYMBOL, Side.SELL, D(101)): [a, b]}
    for node in (twin, restarted):
        step(node)
        taker = node.buy("c", SYMBOL, "1", "101")  # a crossing limit buy for one lot
        assert taker.status is OrderStatus.FILLED
        assert node.order(a).status is OrderStatus.FILLED
        assert node.order(b).status is OrderStatus.ACCEPTED
        assert queues(node) == {(SYMBOL, Side.SELL, D(101)): [b]}
    assert restarted.digest() == twin.digest()
    restarted.close()


def held_stop_modified_then_triggered(node: Node) -> dict[str, int]:
    """A stop-limit sell is modified while held, an ask arrives at its new limit price, then the
    stop fires and rests behind that ask; one more ask arrives after it."""
    stop = node.submit("c", SYMBOL, "SELL", "STOP_LIMIT", "1", "103", trigger_price="97").order_id
    step(node)
    node.modify("c", stop, price="102", trigger_price="99")  # held: replaced at once
    step(node)
    before = node.sell("a", SYMBOL, "1", "102").order_id
    step(node)
    node.update_prices(SYMBOL, last="99")  # the stop fires: a limit sell at 102, which rests
    step(node)
    after = node.sell("b", SYMBOL, "1", "102").order_id
    step(node)
    return {"stop": stop, "before": before, "after": after}


@pytest.mark.parametrize("snapshot", [False, True], ids=["replay", "snapshot"])
def test_a_stop_modified_while_held_rests_where_it_triggered_after_a_restart(
    tmp_path: Path, snapshot: bool
) -> None:
    twin, restarted, ids = twin_and_restarted(
        tmp_path, held_stop_modified_then_triggered, snapshot=snapshot
    )
    stop, before, after = ids["stop"], ids["before"], ids["after"]
    want = {(SYMBOL, Side.SELL, D(102)): [before, stop, after]}
    assert queues(twin) == want
    assert queues(restarted) == want
    order = restarted.order(stop)
    assert (order.status, order.price, order.trigger_price) == (
        OrderStatus.TRIGGERED,
        D(102),
        D(99),
    )
    # A market buy for three lots sweeps the level in queue order in both nodes.
    fills = []
    for node in (twin, restarted):
        step(node)
        fills.append(market(node, "d", Side.BUY, D(3)))
    assert makers(fills[1]) == makers(fills[0]) == [before, stop, after]
    assert fills[1] == fills[0]
    restarted.close()


# ---------------------------------------------------------------- property
#: Each side's own price levels, best first: a limit at one of them rests (unless the other side
#: has come through it); ``cross`` orders and market orders take liquidity.
LEVELS = {Side.BUY: [D(100), D(99)], Side.SELL: [D(101), D(102)]}
LEVEL = st.integers(0, 1)
QTYS = st.sampled_from([D(1), D(2), D(3)])
PICK = st.integers(0, 1_000)
SIDES = st.sampled_from([Side.BUY, Side.SELL])
ACCOUNT = st.sampled_from(ACCOUNTS)
PRICES = st.sampled_from([D(p) for p in range(97, 105)])

LIMIT = st.tuples(st.just("limit"), ACCOUNT, SIDES, LEVEL, QTYS)
CROSS = st.tuples(st.just("cross"), ACCOUNT, SIDES, LEVEL, QTYS)
MODIFY = st.tuples(
    st.just("modify"),
    PICK,
    st.none() | LEVEL,  # a new price: one of the order's own side's levels
    st.none() | QTYS,
    st.none() | PRICES,  # a new trigger (held orders only)
)
CANCEL = st.tuples(st.just("cancel"), PICK)
MARKET = st.tuples(st.just("market"), ACCOUNT, SIDES, QTYS)
STOP = st.tuples(st.just("stop"), ACCOUNT, SIDES, LEVEL, PRICES, QTYS)
LAST = st.tuples(st.just("last"), PRICES)
SNAPSHOT = st.tuples(st.just("snapshot"))
#: Each operation with its weight (``sampled_from`` picks every entry alike): mostly orders that
#: rest and modifies of them, so that levels hold several orders whose places change.
OPS = st.lists(
    st.sampled_from(
        [LIMIT] * 6 + [MODIFY] * 5 + [STOP] * 2 + [CANCEL, CROSS, MARKET, LAST, SNAPSHOT]
    ).flatmap(lambda op: op),
    min_size=15,
    max_size=60,
)


def command(node: Node, op: tuple[Any, ...]) -> Any:
    """The command ``op`` stands for in the node's current state (None: nothing to do)."""
    ts = node.clock.now()
    kind = op[0]
    if kind in ("limit", "cross", "stop"):
        _, account, side, level, *rest = op
        own = side if kind != "cross" else (Side.SELL if side is Side.BUY else Side.BUY)
        return c.SubmitOrder(
            ts=ts,
            account_id=account,
            symbol=SYMBOL,
            side=side,
            order_type=OrderType.STOP_LIMIT if kind == "stop" else OrderType.LIMIT,
            qty=rest[-1],
            price=LEVELS[own][level],
            trigger_price=rest[0] if kind == "stop" else None,
        )
    if kind == "market":
        _, account, side, qty = op
        return c.SubmitOrder(
            ts=ts,
            account_id=account,
            symbol=SYMBOL,
            side=side,
            order_type=OrderType.MARKET,
            qty=qty,
        )
    if kind == "last":
        return c.UpdatePrices(ts=ts, symbol=SYMBOL, last=op[1])
    live = sorted(
        o.order_id for o in node.engine.state.orders.values() if o.is_live and o.price is not None
    )
    if not live:
        return None
    order = node.engine.state.orders[live[op[1] % len(live)]]
    if kind == "cancel":
        return c.CancelOrder(ts=ts, account_id=order.account_id, order_id=order.order_id)
    _, _, level, qty, trigger = op
    price = None if level is None else LEVELS[order.side][level]
    if price is None and qty is None and (trigger is None or not order.held):
        return None  # nothing to change
    return c.ModifyOrder(
        ts=ts,
        account_id=order.account_id,
        order_id=order.order_id,
        qty=qty,
        price=price,
        trigger_price=trigger if order.held else None,
    )


def restarted_copy(node: Node) -> Node:
    """A new node recovered from a copy of ``node``'s journal (events and latest snapshot)."""
    journal = MemoryJournal()
    for batch in node.journal.read_batches():
        journal.append(batch)
    snap = node.journal.latest_snapshot()
    if snap is not None:
        journal.save_snapshot(*snap)
    return Node(journal, clock=ManualClock(node.clock.now()))


SWEEPS = [(Side.BUY, D(1_000)), (Side.SELL, D(1_000))]


@settings(max_examples=60, deadline=None)
@given(ops=OPS)
# Two asks at 101; the first is repriced away and back, so it ends behind the second.
@example(
    ops=[
        ("limit", "a", Side.SELL, 0, D(1)),
        ("limit", "b", Side.SELL, 0, D(1)),
        ("modify", 0, 1, None, None),
        ("modify", 0, 0, None, None),
    ]
)
# Two bids at 99: the first raises its quantity (to the back), then the second cuts its own.
@example(
    ops=[
        ("limit", "a", Side.BUY, 1, D(1)),
        ("limit", "b", Side.BUY, 1, D(2)),
        ("modify", 0, None, D(3), None),
        ("modify", 1, None, D(1), None),
    ]
)
def test_a_restarted_node_rebuilds_every_queue_of_the_live_book(ops: list[tuple[Any, ...]]) -> None:
    live = Node.in_memory(clock=ManualClock(1))
    setup(live)
    for op in ops:
        step(live)
        if op[0] == "snapshot":
            live.snapshot()
            continue
        cmd = command(live, op)
        if cmd is not None:
            live.process(cmd)
    live_queues = queues(live)
    n = sum(map(len, live_queues.values()))
    event("resting orders: " + ("0" if not n else "1-4" if n < 5 else "5-9" if n < 10 else "10+"))
    if any(q != sorted(q) for q in live_queues.values()):
        event("a level out of order-id order (an order moved back, or a stop fired)")
    restarted = restarted_copy(live)
    assert restarted.digest() == live.digest()
    assert queues(restarted) == queues(live)
    assert resting(restarted) == resting(live)  # the same leaves too
    # And they trade the same: a market order sweeping each side meets the same makers in turn
    # (the sweeper has no orders of its own, so self-trade prevention never stops it).
    for side, qty in SWEEPS:
        step(live)
        step(restarted)
        assert market(restarted, SWEEPER, side, qty) == market(live, SWEEPER, side, qty)
