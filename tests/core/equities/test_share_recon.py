"""A split applied in Atlas but not at the broker (issue 15, queue §2): the reconciliation that
adopts the broker's share count brings the position along (lots rescaled, cost basis kept),
names the corporate action in a POSITION difference and raises a CRITICAL alert; a split applied
at both changes nothing. Each scenario replays to the live digest and survives a snapshot."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from atlas_oms import Engine, Instrument, ManualClock, Node
from atlas_oms.core.state.snapshot import (
    decode_snapshot,
    encode_snapshot,
    export_state,
    restore_state,
)
from atlas_oms.model import commands as c
from atlas_oms.model import events as ev
from atlas_oms.model.reasons import Reason
from atlas_oms.model.venue import ReconcileVenue, VenueBalance

AAPL = "AAPL"
NY = ZoneInfo("America/New_York")


@pytest.fixture
def node() -> Node:
    """``acc`` bought 10 AAPL at 150 then 6 at 160 (two lots); 2-for-1 split applied in Atlas."""
    ts = int(dt.datetime(2026, 6, 3, 11, tzinfo=NY).timestamp()) * 1_000_000_000
    n = Node.in_memory(clock=ManualClock(ts))
    n.add_instrument(Instrument.equity(AAPL))
    n.open_account("mm")
    n.deposit("mm", AAPL, 1_000)
    n.open_account("acc")
    n.deposit("acc", "USD", 10_000)
    n.update_prices(AAPL, last="150")
    for qty, px in ((10, "150"), (6, "160")):
        n.submit("mm", AAPL, "SELL", "LIMIT", qty, px)
        n.submit("acc", AAPL, "BUY", "LIMIT", qty, px)
    assert n.engine.state.balance("acc", AAPL).total == 16
    n.process(
        c.ApplyCorporateAction(
            ts=ts,
            actor="ops",
            reason="AAPL 2-for-1",
            action_id="AAPL-split-2026",
            symbol=AAPL,
            kind="SPLIT",
            ratio=D(2),
        )
    )
    return n


@pytest.fixture(autouse=True)
def _replays_and_restores(node: Node, kit: Any) -> Any:
    yield
    assert kit.replay_digest(node.events()) == node.digest()
    restored = Engine()
    restore_state(restored.state, decode_snapshot(encode_snapshot(export_state(node.engine.state))))
    assert restored.state.equities.us == node.engine.state.equities.us
    assert restored.digest() == node.digest()


def reconcile(node: Node, shares: int) -> list[ev.EventBase]:
    usd = node.engine.state.balance("acc", "USD").total
    return node.process(
        ReconcileVenue(
            ts=node.clock.now(),
            venue="sim",
            account_id="acc",
            reason="PERIODIC",
            balances=(
                VenueBalance(asset="USD", free=usd),
                VenueBalance(asset=AAPL, free=D(shares)),
            ),
        )
    )


def cost(node: Node) -> D:
    (pos,) = node.positions("acc")
    return sum((lot.qty * lot.price for lot in pos.lots), D(0))


def test_a_split_applied_in_atlas_and_at_the_broker_reconciles_to_nothing(node: Node) -> None:
    before = cost(node)
    events = reconcile(node, 32)
    (report,) = [e for e in events if isinstance(e, ev.VenueReconciled)]
    assert report.differences == ()
    assert [type(e).__name__ for e in events] == ["VenueReconciled"]
    (pos,) = node.positions("acc")
    assert pos.qty == 32 and cost(node) == before == D(2460)


def test_a_split_applied_in_atlas_only_is_reported_and_the_books_follow_the_broker(
    node: Node,
) -> None:
    (pos,) = node.positions("acc")
    assert pos.qty == 32 and [(lot.qty, lot.price) for lot in pos.lots] == [(20, 75), (12, 80)]
    before = cost(node)
    events = reconcile(node, 16)
    (report,) = [e for e in events if isinstance(e, ev.VenueReconciled)]
    diffs = {d.kind: d for d in report.differences}
    assert (diffs["BALANCE"].atlas, diffs["BALANCE"].venue) == ("32", "16")
    position = diffs["POSITION"]
    assert (position.symbol, position.atlas, position.venue) == (AAPL, "32", "16")
    assert "AAPL-split-2026" in position.action and position.action.startswith("adopted")
    (adopted,) = [e for e in events if isinstance(e, ev.PositionQtyAdopted)]
    assert adopted.action_ids == ("AAPL-split-2026",) and adopted.seq in position.seqs
    (alert,) = [e for e in events if isinstance(e, ev.RiskAlert)]
    assert alert.level == "CRITICAL" and alert.code == Reason.CORPORATE_ACTION_MISMATCH
    assert "AAPL-split-2026" in alert.message
    # The books are consistent: position == balance, lots back at their prices, cost kept.
    (pos,) = node.positions("acc")
    assert pos.qty == node.engine.state.balance("acc", AAPL).total == 16
    assert [(lot.qty, lot.price) for lot in pos.lots] == [(10, 150), (6, 160)]
    assert cost(node) == before == D(2460)
    assert pos.avg_entry_px == D(2460) / 16
    # The next reconciliation finds nothing.
    (again,) = [e for e in reconcile(node, 16) if isinstance(e, ev.VenueReconciled)]
    assert again.differences == ()


def test_a_share_difference_no_corporate_action_explains_leaves_the_position_for_review(
    node: Node,
) -> None:
    events = reconcile(node, 30)  # two shares gone at the broker: not a split
    (report,) = [e for e in events if isinstance(e, ev.VenueReconciled)]
    position = next(d for d in report.differences if d.kind == "POSITION")
    assert position.action.startswith("none: review") and position.atlas == "32"
    assert not [e for e in events if isinstance(e, ev.PositionQtyAdopted)]
    (alert,) = [e for e in events if isinstance(e, ev.RiskAlert)]
    assert alert.code == Reason.CORPORATE_ACTION_MISMATCH
    (pos,) = node.positions("acc")
    assert pos.qty == 32  # untouched: FIFO lots cannot be guessed
