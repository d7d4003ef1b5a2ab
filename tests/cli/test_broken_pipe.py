"""A reader that goes away (``atlas ... | head -1``) is not an error of Atlas's."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_closed_stdout_ends_the_command_quietly_with_exit_0(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "atlas_oms.cli",
            "backtest",
            "--strategy",
            str(ROOT / "examples/strategies/sma_crossover.py:SmaCrossover"),
            "--data",
            str(ROOT / "examples/data/BTCUSDT-1m-sample.csv"),
            "--account",
            "demo=10000",
            "--out",
            str(tmp_path / "out"),
            "--no-report",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader is gone before the first line
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 0, err
    assert "Traceback" not in err and "BrokenPipeError" not in err
    assert (tmp_path / "out" / "summary.json").exists()  # the work itself was done
