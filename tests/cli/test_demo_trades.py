"""``atlas demo trades``: a managed trade's day (issue 13 §3 "A demo section plays a whole day")
on the built-in exchange with a manual clock; the same every run, replayed to the same digest."""

from __future__ import annotations

from pathlib import Path

import pytest

from atlas_oms.cli.demo.trades import STEPS, run_trades_demo

from .helpers import run_main


def test_the_day_reprices_twice_brackets_and_moves_the_stop_to_break_even(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "trades.db"
    code, out, err = run_main(["demo", "trades", "--journal", str(path)], capsys)
    assert code == 0, err
    titles = [line for line in out.splitlines() if line.startswith("== ")]
    assert [t.split("  [")[0] for t in titles] == [
        f"== {i}. {title}" for i, (title, _) in enumerate(STEPS, 1)
    ]
    assert out.count("TradeEntryRepriced") == 2  # "an entry that reprices twice"
    assert "TradeBracketPlaced" in out and "cause=BREAK_EVEN" in out
    assert "stop 100.66 (break-even)" in out
    assert "cause=TRAIL" in out  # trailing on bar closes (§10)
    assert "reason=STOP_PARTIAL_FILL_EMERGENCY" in out  # a partial stop fill at market (§9.1)
    assert "TradeForcedCloseOrder" in out and "(FORCED_CLOSE)" in out  # forced close (§11)
    assert "refused: FORCED_CLOSE_WINDOW" in out
    digest = out.split("digest: ")[1].split()[0]
    code, replayed, _ = run_main(["replay", str(path)], capsys)
    assert code == 0 and f"digest: {digest}" in replayed


def test_the_day_is_the_same_every_run_and_every_decision_is_in_the_journal(
    capsys: pytest.CaptureFixture[str],
) -> None:
    first = run_trades_demo()
    second = run_trades_demo()
    capsys.readouterr()
    assert first.node.digest() == second.node.digest()
    t = first.trade()
    assert t.phase == "CLOSED" and t.close_cause == "STOP_PARTIAL_FILL" and t.position == 0
    assert t.tranches[0].status == "FILLED" and t.break_even
    second = first.node.managed_trade("acme-2")
    assert second is not None and second.close_cause == "FORCED_CLOSE"
