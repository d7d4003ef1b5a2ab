"""``rest_order_us``, ``grpc_order_us``, ``fix_order_us``, ``binance_order_us``: a limit order placed
and canceled through each client interface to a real ``atlas serve`` (benchmarks/interfaces.py).

No timing is asserted (speed is reported by ``atlas bench``): what is asserted is that each key
runs at its quick size through its real client, every round placed an order that rested and
canceled it (the benchmark raises otherwise), and the figures are sane."""

from __future__ import annotations

import json
from typing import Any

import pytest

from atlas_oms.benchmarks import KEYS, TARGETS, interfaces
from atlas_oms.benchmarks.interfaces import CLIENTS_QUICK, INTERFACES, bench_interface
from atlas_oms.cli import main


def assert_sane(name: str, out: dict[str, Any]) -> None:
    p99, p50 = out[f"{name}_order_us"], out[f"{name}_order_p50_us"]
    assert 0 < p50 <= p99 < 10_000_000, (p50, p99)
    assert 0 < out[f"{name}_cancel_p50_us"] <= out[f"{name}_cancel_p99_us"]
    assert out[f"{name}_orders_per_s"] > 0
    loaded = out[f"{name}_loaded"]
    assert loaded["clients"] == CLIENTS_QUICK
    assert 0 < loaded["order_p50_us"] <= loaded["order_p99_us"]
    assert 0 < loaded["cancel_p50_us"] <= loaded["cancel_p99_us"]
    assert loaded["server_cpu_pct"] >= 0 and loaded["client_cpu_pct"] >= 0
    n = out["n"]
    assert n[f"{name}_latency_rounds"] > 0 and n[f"{name}_loaded_rounds"] > 0
    assert n[f"{name}_clients"] == CLIENTS_QUICK


@pytest.mark.parametrize("name", ["rest", "grpc"])
def test_interface_key_places_and_cancels_through_its_client(name: str) -> None:
    assert_sane(name, bench_interface(name, quick=True))


def test_binance_key_also_reports_the_ccxt_clients_own_round() -> None:
    out = bench_interface("binance", quick=True)
    via = out["binance_ccxt"]
    assert 0 < via["order_p50_us"] <= via["order_p99_us"]
    assert 0 < via["cancel_p50_us"] <= via["cancel_p99_us"]
    assert out["n"]["binance_ccxt_rounds"] > 0


def test_fix_key_places_and_cancels_through_quickfix_sessions() -> None:
    pytest.importorskip("quickfix")
    assert_sane("fix", bench_interface("fix", quick=True))


def test_interface_keys_are_atlas_bench_keys(capsys: pytest.CaptureFixture[str]) -> None:
    for name in INTERFACES:
        assert f"{name}_order_us" in KEYS and TARGETS[f"{name}_order_us"] == ("max", 20_000)
    assert main(["bench", "--quick", "--only", "grpc_order_us"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["grpc_order_us"] > 0 and result["grpc_orders_per_s"] > 0
    assert result["n"]["grpc_clients"] == CLIENTS_QUICK
    assert "rest_order_us" not in result  # --only runs only the key asked for


def test_a_broken_workload_is_refused_not_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    # An off-tick price is refused by the node: the benchmark must fail, not report the refusals.
    monkeypatch.setattr(interfaces, "PRICES", ("2900.001",))
    with pytest.raises(RuntimeError, match="REST submit answered 4"):
        bench_interface("rest", quick=True)


def test_unknown_interface_is_a_key_error() -> None:
    with pytest.raises(KeyError, match="unknown interface"):
        bench_interface("soap", quick=True)
