"""``consolidated_book_update_us``: a 10-level update on a 5-venue symbol plus the merged top,
registered in atlas bench (no timing assertion: the figure is reported, not tested)."""

from __future__ import annotations

import json

import pytest

from atlas_oms.benchmarks import KEYS, TARGETS
from atlas_oms.cli import main


def test_consolidated_book_update_is_an_atlas_bench_key(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert "consolidated_book_update_us" in KEYS and "consolidated_book_update_us" in TARGETS
    assert main(["bench", "--quick", "--only", "consolidated_book_update_us"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["consolidated_book_update_us"] > 0
    assert result["consolidated_book_update_p50_us"] > 0
    assert result["n"]["consolidated_book_venues"] == 5
