"""History reads for archived orders (from the journal's history store), and late venue reports
for them: the order is loaded back and the report applies."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from atlas_oms import Instrument, ManualClock, Node, OrderStatus
from atlas_oms.core.engine import Engine
from atlas_oms.model import events as ev
from atlas_oms.model.enums import LiquiditySide
from atlas_oms.model.reports import VenueFillBusted, VenueFilled
from atlas_oms.runtime.history import SqliteHistory
from atlas_oms.runtime.snapshots import recover
from atlas_oms.store.sqlite import SqliteJournal

H = 3600 * 1_000_000_000


def make(journal: SqliteJournal | None = None) -> Node:
    node = Node(journal, clock=ManualClock(1)) if journal else Node.in_memory(clock=ManualClock(1))
    node.add_instrument(Instrument.spot("ETH/USD", tick_size="0.01", lot_size="0.01"))
    node.open_account("a")
    node.open_account("b")
    node.open_account("mm")
    for acct in ("a", "b"):
        node.deposit(acct, "USD", 1_000_000)
    node.deposit("mm", "ETH", 1_000)
    node.update_prices("ETH/USD", last=100)
    return node


def test_an_archived_order_is_found_by_id_and_client_id_with_paging(tmp_path: Path) -> None:
    node = make(SqliteJournal(tmp_path / "j.db"))
    ids = []
    for i in range(6):
        o = node.buy("a" if i % 2 == 0 else "b", "ETH/USD", "1", "90", client_order_id=f"c{i}")
        node.cancel(o.account_id, o.order_id)
        ids.append(o.order_id)
    node.advance_time(2 * H)
    assert not set(ids) & set(node.engine.state.orders)
    assert node.order(ids[0]).status is OrderStatus.CANCELED
    assert node.find_order("a", client_order_id="c2").order_id == ids[2]
    assert node.find_order("b", ids[0]) is None  # not b's order
    page1 = node.orders("a", status=OrderStatus.CANCELED, limit=2)
    page2 = node.orders("a", status=OrderStatus.CANCELED, after=page1[-1].order_id, limit=2)
    assert [o.order_id for o in page1 + page2] == [ids[0], ids[2], ids[4]]
    node.advance_time(30 * H)  # the client ids are forgotten too: history still finds them
    assert node.find_order("a", client_order_id="c4").order_id == ids[4]
    node.close()
    # The history store is on disk and derived from the journal: reopened, or rebuilt.
    reopened = Node(SqliteJournal(tmp_path / "j.db"), clock=ManualClock(40 * H))
    assert reopened.order(ids[1]).account_id == "b"
    reopened.close()
    (tmp_path / "j.db.history").unlink()
    rebuilt = Node(SqliteJournal(tmp_path / "j.db"), clock=ManualClock(40 * H))
    assert isinstance(rebuilt.history, SqliteHistory)
    assert [o.order_id for o in rebuilt.orders("b")] == [ids[1], ids[3], ids[5]]
    rebuilt.close()


def test_fills_and_audit_of_an_archived_order() -> None:
    node = make()
    node.sell("mm", "ETH/USD", "5", "100")
    bought = node.buy("a", "ETH/USD", "2")
    node.advance_time(2 * H)
    assert bought.order_id not in node.engine.state.orders
    assert [f.last_qty for f in node.order_fills(bought.order_id)] == [Decimal("2")]
    assert [f.order_id for f in node.fills("a")] == [bought.order_id]
    trail = node.order_audit(bought.order_id)
    assert trail[0].event == "OrderSubmitted" and trail[0].order_id == bought.order_id


def test_a_late_fill_for_an_archived_order_loads_it_back_and_applies() -> None:
    node = make()
    order = node.buy("a", "ETH/USD", "2", "90")
    node.feed(
        VenueFilled(
            order_id=order.order_id,
            ts=node.clock.now(),
            exec_id="E1",
            trade_id="T1",
            last_qty=Decimal("1"),
            last_px=Decimal("90"),
            liquidity_side=LiquiditySide.MAKER,
            fee=Decimal(0),
            fee_asset="USD",
        )
    )
    node.cancel("a", order.order_id)
    node.advance_time(2 * H)
    assert order.order_id not in node.engine.state.orders
    late = node.feed(
        VenueFilled(
            order_id=order.order_id,
            ts=node.clock.now(),
            exec_id="E2",
            trade_id="T2",
            last_qty=Decimal("1"),
            last_px=Decimal("90"),
            liquidity_side=LiquiditySide.MAKER,
            fee=Decimal(0),
            fee_asset="USD",
        )
    )
    assert isinstance(late[0], ev.OrderRestored)
    assert isinstance(late[1], ev.OrderFilled)
    assert node.order(order.order_id).cum_qty == Decimal("2")
    assert node.position("a", "ETH/USD").qty == Decimal("2")
    # The loaded-back order keeps its executions: a bust of an earlier one applies.
    again = node.feed(VenueFillBusted(order_id=order.order_id, ts=node.clock.now(), exec_id="E1"))
    busts = [e for e in again if isinstance(e, ev.OrderFillBusted)]
    assert [b.exec_id for b in busts] == ["E1"]
    assert node.position("a", "ETH/USD").qty == Decimal("1")
    replayed = Engine()
    recover(replayed, node.journal)
    assert replayed.digest() == node.digest()
