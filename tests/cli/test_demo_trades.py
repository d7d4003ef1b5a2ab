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
    digest = out.split("digest: ")[1].split()[0]
    code, replayed, _ = run_main(["replay", str(path)], capsys)
    assert code == 0 and f"digest: {digest}" in replayed


def test_the_day_is_the_same_every_run_and_its_trade_ends_protected_at_break_even(
    capsys: pytest.CaptureFixture[str],
) -> None:
    first = run_trades_demo()
    second = run_trades_demo()
    capsys.readouterr()
    assert first.node.digest() == second.node.digest()
    t = first.trade()
    assert t.phase == "PROTECTED" and t.break_even and t.position == 70
    assert t.tranches[0].status == "FILLED" and t.realized_pnl == t.tranches[0].realized_pnl
