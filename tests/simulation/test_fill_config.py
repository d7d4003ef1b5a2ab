"""FillConfig: seed 003's names, percent units, typed errors for unknown keys and bad values."""

from decimal import Decimal as D

import pytest

from atlas_oms.simulation.config import (
    BINANCE_SPOT_TIERS,
    CommissionTier,
    FillConfig,
    FillConfigError,
)


def test_defaults_are_seed_003_example_numbers() -> None:
    c = FillConfig()
    assert c.model == "realistic"
    assert c.fixed_slippage_pct == D("0.05")
    assert c.volume_slippage_factor == D("0.1")
    assert c.spread_pct == D("0.02")
    assert c.market_impact_factor == D("0.05")
    assert c.max_volume_pct is None
    assert c.latency_ms == 0 and c.queue is True
    assert c.commission_tiers == ()


def test_from_dict_reads_seed_003_slippage_config_with_floats_as_decimals() -> None:
    c = FillConfig.from_dict(
        {
            "fixed_slippage_pct": 0.05,
            "volume_slippage_factor": 0.1,
            "max_volume_pct": 5.0,
            "spread_pct": 0.02,
            "market_impact_factor": 0.05,
            "commission_tiers": {"maker": 0.001, "taker": 0.001},
        }
    )
    assert c.fixed_slippage_pct == D("0.05") and c.max_volume_pct == D("5.0")
    assert c.commission_tiers == (
        CommissionTier(min_volume_30d=D(0), maker=D("0.001"), taker=D("0.001")),
    )


def test_from_dict_names_the_tier_table() -> None:
    c = FillConfig.from_dict(
        {"commission_tiers": "binance_spot", "model": "book", "latency_ms": 50}
    )
    assert c.commission_tiers == BINANCE_SPOT_TIERS
    assert c.latency_ns == 50_000_000


@pytest.mark.parametrize(
    ("data", "reason", "key"),
    [
        ({"slippage": 1}, "UNKNOWN_KEY", "slippage"),
        ({"model": "magic"}, "INVALID_VALUE", "model"),
        ({"spread_pct": -1}, "INVALID_VALUE", "spread_pct"),
        ({"spread_pct": "abc"}, "INVALID_VALUE", "spread_pct"),
        ({"spread_pct": [1]}, "INVALID_TYPE", "spread_pct"),
        ({"latency_ms": 1.5}, "INVALID_TYPE", "latency_ms"),
        ({"queue": "yes"}, "INVALID_TYPE", "queue"),
        ({"max_volume_pct": 0}, "INVALID_VALUE", "max_volume_pct"),
        (
            {"commission_tiers": [{"min_volume_30d": 0, "maker": 0.001, "fee": 1}]},
            "UNKNOWN_KEY",
            "commission_tiers.fee",
        ),
        (
            {"commission_tiers": [{"min_volume_30d": 5, "maker": 0.001, "taker": 0.001}]},
            "INVALID_VALUE",
            "commission_tiers",
        ),
    ],
)
def test_bad_config_raises_a_typed_error_naming_the_key(data: dict, reason: str, key: str) -> None:
    with pytest.raises(FillConfigError) as info:
        FillConfig.from_dict(data)
    assert info.value.reason == reason
    assert info.value.key == key


def test_from_yaml_reads_a_file_or_its_fills_section(tmp_path) -> None:
    path = tmp_path / "fills.yaml"
    path.write_text("fills:\n  model: fixed\n  fixed_slippage_pct: 0.1\n  queue: false\n")
    c = FillConfig.from_yaml(str(path))
    assert (c.model, c.fixed_slippage_pct, c.queue) == ("fixed", D("0.1"), False)
    path.write_text("model: spread\nspread_pct: 0.04\n")
    assert FillConfig.from_yaml(str(path)).spread_pct == D("0.04")
    path.write_text("model: spread\nbogus: 1\n")
    with pytest.raises(FillConfigError):
        FillConfig.from_yaml(str(path))
