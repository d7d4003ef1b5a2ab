"""``venue_orders_per_s_<venue>``: each adapter through one gateway against its fake in a child
process, at a tiny size. Structure only (no timing is asserted): every order of the run filled
and booked once, the figure positive, the key registered in ``atlas bench``."""

from __future__ import annotations

import json

import pytest

from atlas_oms.benchmarks import _EACH, KEYS, TARGETS
from atlas_oms.benchmarks import venue_each as ve
from atlas_oms.cli import main


def test_every_adapter_has_its_key_and_target() -> None:
    assert ve.VENUES == _EACH
    for key in ve.KEYS:
        assert key in KEYS and TARGETS[key][0] == "min"


@pytest.mark.parametrize("venue", ve.VENUES)
def test_quick_run_fills_every_order_through_the_adapter(venue: str) -> None:
    out = ve.bench_venue(venue, quick=True)
    assert out[f"venue_orders_per_s_{venue}"] > 0
    detail = out[f"venue_orders_{venue}"]
    orders = ve.N_ORDERS_QUICK + ve.WARMUP_ORDERS_QUICK
    assert detail["statuses"] == {"FILLED": orders}
    assert detail["fills"] == orders and detail["refused"] == []
    assert out["n"][f"venue_orders_{venue}"] == ve.N_ORDERS_QUICK


def test_atlas_bench_prints_one_venue_key(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--quick", "--only", "venue_orders_per_s_okx"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["venue_orders_per_s_okx"] > 0
    assert result["venue_orders_okx"]["statuses"] == {
        "FILLED": ve.N_ORDERS_QUICK + ve.WARMUP_ORDERS_QUICK
    }
    assert "venue_orders_per_s_bybit" not in result  # only the asked venue ran
