"""Replay: a node reopened on its journal is the node that was closed, and carries on the same.

A seeded random session runs on a durable journal (SQLite or file, with and without snapshots);
after close and reopen the digest, the built-in exchange's books (same orders, same priority) and
every later event equal those of a twin session that never stopped. A journal cut in the middle
of a write reopens with every complete event, and the node equals a twin that processed exactly
those events.
"""

from __future__ import annotations

import random
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from atlas_oms.core.engine import Engine
from atlas_oms.model import commands as c
from atlas_oms.model import events as ev
from atlas_oms.model.enums import OrderType, Side, TimeInForce
from atlas_oms.model.instrument import Instrument
from atlas_oms.runtime.clock import ManualClock
from atlas_oms.runtime.node import Node
from atlas_oms.store.file import FileJournal
from atlas_oms.store.sqlite import SqliteJournal

SPOT = Instrument.spot(
    "BTC/USDT", tick_size="0.5", lot_size="0.01", maker_fee="0.0005", taker_fee="0.001"
)
PERP = Instrument.perpetual(
    "ETH/USDT:USDT", tick_size="0.1", lot_size="0.1", maker_fee="0.0002", taker_fee="0.0005"
)
MIDS = {SPOT.symbol: Decimal(30_000), PERP.symbol: Decimal(2_000)}
ACCOUNTS = ("alice", "bob", "carol")
STEP_NS = 1_000_000


def setup(node: Node) -> None:
    for inst in (SPOT, PERP):
        node.add_instrument(inst)
    for account in ACCOUNTS:
        node.open_account(account)
        node.deposit(account, "USDT", 10_000_000)
        node.deposit(account, "BTC", 100)
    node.set_leverage("bob", PERP.symbol, 3)
    for symbol, mid in MIDS.items():
        node.update_prices(symbol, last=mid, mark=mid)


def next_command(node: Node, rng: random.Random) -> Any:
    """One random command for the node's current state (the same state gives the same command)."""
    ts = node.clock.now()
    roll = rng.random()
    live = sorted(o.order_id for o in node.engine.state.orders.values() if o.is_live)
    if roll < 0.12 and live:
        order = node.engine.state.orders[rng.choice(live)]
        return c.CancelOrder(ts=ts, account_id=order.account_id, order_id=order.order_id)
    if roll < 0.22 and live:
        order = node.engine.state.orders[rng.choice(live)]
        inst = node.engine.state.instruments[order.symbol]
        return c.ModifyOrder(
            ts=ts,
            account_id=order.account_id,
            order_id=order.order_id,
            qty=rng.randint(1, 30) * inst.lot_size,
            price=(
                MIDS[order.symbol] + rng.randint(-6, 6) * inst.tick_size
                if order.price is not None
                else None
            ),
        )
    inst = rng.choice((SPOT, PERP))
    mid = MIDS[inst.symbol]
    if roll < 0.30:
        px = mid + rng.randint(-10, 10) * inst.tick_size
        return c.UpdatePrices(ts=ts, symbol=inst.symbol, last=px, mark=px)
    if roll < 0.33:
        return c.AdvanceTime(ts=ts)
    side = rng.choice((Side.BUY, Side.SELL))
    otype = rng.choice(
        (OrderType.LIMIT,) * 6 + (OrderType.MARKET, OrderType.STOP_MARKET, OrderType.STOP_LIMIT)
    )
    tif = rng.choice((TimeInForce.GTC,) * 4 + (TimeInForce.IOC, TimeInForce.FOK, TimeInForce.GTD))
    if otype is OrderType.MARKET and tif is TimeInForce.GTD:
        tif = TimeInForce.IOC
    away = rng.randint(1, 8) * inst.tick_size
    return c.SubmitOrder(
        ts=ts,
        account_id=rng.choice(ACCOUNTS),
        symbol=inst.symbol,
        side=side,
        order_type=otype,
        qty=rng.randint(1, 30) * inst.lot_size,
        price=(
            mid + rng.randint(-6, 6) * inst.tick_size
            if otype in (OrderType.LIMIT, OrderType.STOP_LIMIT)
            else None
        ),
        trigger_price=(
            (mid + away if side is Side.BUY else mid - away)
            if otype in (OrderType.STOP_MARKET, OrderType.STOP_LIMIT)
            else None
        ),
        tif=tif,
        expire_ts=ts + 20 * STEP_NS if tif is TimeInForce.GTD else None,
        post_only=otype is OrderType.LIMIT and tif is TimeInForce.GTC and rng.random() < 0.2,
    )


def run(node: Node, rng: random.Random, steps: int) -> list[ev.EventBase]:
    """Run ``steps`` random commands, one clock step apart; return every event."""
    assert isinstance(node.clock, ManualClock)
    out: list[ev.EventBase] = []
    for _ in range(steps):
        node.clock.advance(STEP_NS)
        out.extend(node.process(next_command(node, rng)))
    return out


def books(node: Node) -> dict[str, list[Any]]:
    return {
        symbol: list(book.orders_in_priority())
        for symbol, book in sorted(node.sim.books.items())
        if len(book)
    }


def replayed(events: list[ev.EventBase]) -> Engine:
    engine = Engine()
    engine.apply_all(events)
    return engine


def open_node(path: Path, clock: ManualClock, snapshot_every: int) -> Node:
    return Node.open(str(path), clock=clock, snapshot_every=snapshot_every)


JOURNALS = [
    pytest.param("j.db", 0, id="sqlite"),
    pytest.param("j.db", 50, id="sqlite-snapshot-every-50"),
    pytest.param("j.journal", 0, id="file"),
    pytest.param("j.journal", 50, id="file-snapshot-every-50"),
]


@pytest.mark.parametrize(("name", "snapshot_every"), JOURNALS)
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_reopened_node_equals_the_closed_one_and_trades_on_like_an_uninterrupted_twin(
    tmp_path: Path, name: str, snapshot_every: int, seed: int
) -> None:
    path = tmp_path / name
    twin = Node.in_memory(clock=ManualClock(1))
    setup(twin)
    twin_rng = random.Random(seed)
    twin_first = run(twin, twin_rng, 150)

    clock = ManualClock(1)
    node = open_node(path, clock, snapshot_every)
    setup(node)
    rng = random.Random(seed)
    first = run(node, rng, 150)
    assert first == twin_first
    digest, resting, seq = node.digest(), books(node), node.engine.seq
    assert resting, "the session should leave orders resting in the book"
    if snapshot_every:
        assert node.journal.latest_snapshot() is not None
    node.close()

    reopened = open_node(path, ManualClock(clock.now()), snapshot_every)
    assert reopened.engine.seq == seq
    assert reopened.digest() == digest == twin.digest()
    assert books(reopened) == resting == books(twin)
    assert replayed(list(reopened.journal.read())).digest() == digest

    later = run(reopened, rng, 80)
    twin_later = run(twin, twin_rng, 80)
    assert later == twin_later
    assert reopened.digest() == twin.digest()
    assert books(reopened) == books(twin)
    reopened.close()


@pytest.mark.parametrize("name", ["j.db", "j.journal"])
def test_a_snapshot_taken_by_hand_restores_the_same_node(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    clock = ManualClock(1)
    node = open_node(path, clock, 0)
    setup(node)
    rng = random.Random(7)
    run(node, rng, 60)
    assert node.snapshot() == node.engine.seq
    run(node, rng, 40)  # events after the snapshot are replayed on top of it
    digest, resting = node.digest(), books(node)
    node.close()
    reopened = open_node(path, ManualClock(clock.now()), 0)
    assert reopened.recovered_events < reopened.engine.seq  # started from the snapshot
    assert reopened.digest() == digest
    assert books(reopened) == resting
    assert replayed(list(reopened.journal.read())).digest() == digest
    reopened.close()


def _full_session(path: Path, seed: int) -> tuple[list[ev.EventBase], int]:
    """Write a session to ``path``; return its events and the clock's end."""
    clock = ManualClock(1)
    journal = FileJournal(path, fsync=False, batch_ms=None)
    node = Node(journal, clock=clock)
    setup(node)
    run(node, random.Random(seed), 120)
    events = list(node.events())
    node.close()
    return events, clock.now()


@pytest.mark.parametrize("seed", [11, 12, 13, 14])
def test_a_file_journal_cut_mid_write_recovers_every_complete_event(
    tmp_path: Path, seed: int
) -> None:
    full = tmp_path / "full.journal"
    events, end = _full_session(full, seed)
    data = full.read_bytes()
    rng = random.Random(seed)
    for attempt in range(3):
        cut = rng.randrange(len(data) // 3, len(data) - 1)
        path = tmp_path / f"cut-{attempt}.journal"
        path.write_bytes(data[:cut])
        node = Node.open(str(path), clock=ManualClock(end))
        report = node.journal.recovery
        kept = node.engine.seq
        assert 0 < kept < len(events)
        assert report.events_recovered == report.last_seq == kept
        assert not report.clean
        assert report.reason == "TORN_TAIL"
        twin = replayed(events[:kept])
        assert node.digest() == twin.digest()
        assert list(node.journal.read()) == events[:kept]
        _books_match_the_engine(node)
        more = run(node, random.Random(attempt), 20)  # the node carries on, gap-free
        assert [e.seq for e in more] == list(range(kept + 1, kept + 1 + len(more)))
        node.close()
        again = Node.open(str(path), clock=ManualClock(end))
        assert again.journal.recovery.clean
        assert again.digest() == replayed([*events[:kept], *more]).digest()
        again.close()


def test_a_sqlite_journal_whose_log_was_cut_mid_write_recovers_every_committed_event(
    tmp_path: Path,
) -> None:
    source = tmp_path / "live.db"
    clock = ManualClock(1)
    journal = SqliteJournal(source, batch_events=1, batch_ms=None)
    node = Node(journal, clock=clock)
    setup(node)
    run(node, random.Random(21), 120)
    events = list(node.events())
    wal = source.with_name(source.name + "-wal")
    assert wal.exists()
    wal_bytes = wal.read_bytes()
    rng = random.Random(21)
    for attempt in range(3):
        target = tmp_path / f"crashed-{attempt}.db"
        shutil.copyfile(source, target)
        cut = rng.randrange(len(wal_bytes) // 3, len(wal_bytes) - 1)
        target.with_name(target.name + "-wal").write_bytes(wal_bytes[:cut])
        crashed = Node.open(str(target), clock=ManualClock(clock.now()))
        kept = crashed.engine.seq
        assert 0 < kept <= len(events)
        assert crashed.journal.recovery.events_recovered == kept
        assert crashed.digest() == replayed(events[:kept]).digest()
        assert list(crashed.journal.read()) == events[:kept]
        _books_match_the_engine(crashed)
        crashed.close()
    node.close()


def _books_match_the_engine(node: Node) -> None:
    """The restored exchange rests exactly the engine's working limit orders, by time priority."""
    resting = {
        r.order_id: (symbol, r.price, r.leaves_qty)
        for symbol, book in node.sim.books.items()
        for r in book.orders_in_priority()
    }
    working = {
        o.order_id: (o.symbol, o.price, o.leaves_qty)
        for o in node.engine.state.orders.values()
        if o.is_live and not o.held
    }
    assert resting == working
    for book in node.sim.books.values():
        assert not book.is_crossed()
        for side in (Side.BUY, Side.SELL):
            seqs = [
                (r.price, node.engine.state.orders[r.order_id].priority_seq)
                for r in book.orders_in_priority()
                if r.side is side
            ]
            by_level: dict[Decimal, list[int]] = {}
            for price, seq in seqs:
                by_level.setdefault(price, []).append(seq)
            assert all(level == sorted(level) for level in by_level.values())


@pytest.mark.parametrize("name", ["j.db", "j.journal"])
def test_a_node_restored_from_a_snapshot_can_still_match_and_fill(
    tmp_path: Path, name: str
) -> None:
    path = tmp_path / name
    clock = ManualClock(1)
    node = open_node(path, clock, 0)
    setup(node)
    resting = node.sell("bob", SPOT.symbol, "0.5", "30000")
    node.snapshot()
    node.close()
    reopened = open_node(path, clock, 0)
    taker = reopened.buy("alice", SPOT.symbol, "0.5", "30000")
    assert taker.status == "FILLED"
    assert reopened.order(resting.order_id).status == "FILLED"
    reopened.close()
