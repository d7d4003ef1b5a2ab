"""An account's history (runtime/history.py) agrees with the live state it was replayed from:
over the demo's journal (spot, perpetuals, funding, liquidations, the insurance fund), every
account's realized P&L and fees add up to its positions' and its last equity point's balances are
its balances."""

from __future__ import annotations

import contextlib
import io
from decimal import Decimal
from pathlib import Path

from atlas_oms import Node
from atlas_oms.cli import main
from atlas_oms.store.opener import open_journal


def test_history_adds_up_to_the_live_state_over_the_demo(tmp_path: Path) -> None:
    path = tmp_path / "demo.db"
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["demo", "--journal", str(path)]) == 0
    node = Node(open_journal(str(path), readonly=True))
    closed_any = False
    for account in node.accounts():
        history = node.account_history(account.account_id)
        realized: dict[str, Decimal] = {}
        fees: dict[str, Decimal] = {}
        for entry in history.pnl:
            realized[entry.asset] = entry.total_realized_pnl
            fees[entry.asset] = entry.total_fees
        positions = node.positions(account.account_id, include_flat=True)
        assert sum(realized.values(), Decimal(0)) == sum(p.realized_pnl for p in positions)
        assert sum(fees.values(), Decimal(0)) == sum(p.fees for p in positions)
        last = {point.asset: point.balance for point in history.equity}
        balances = {b.asset: b.total for b in node.balances(account.account_id)}
        assert last == {asset: balances[asset] for asset in last}
        seqs = [e.seq for e in history.pnl]
        assert seqs == sorted(seqs)
        for trip in history.closed:
            closed_any = True
            assert trip.opened_seq <= trip.closed_seq and trip.qty > 0
    assert closed_any
    node.close()
