"""Seed 001's execution-policy parameters: every §16 parameter with the seed's name and default,
the other normative numbers, overrides, refusals, and parameter files (YAML and .properties)."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from pathlib import Path

import pytest

from atlas_oms.core.policy.params import PARAMETERS, ParamError, PolicyParams, TimeOfDay
from atlas_oms.core.policy.sources import params_from_text, parse_properties
from atlas_oms.runtime.policy_params import load_params, load_params_with_sources

#: Seed 001 §16 "Parameterkatalog" (seed file lines 276-284), copied: name -> default as written.
SECTION_16 = {
    "odin.execution.repricing-interval-ms": "5000",  # line 276
    "odin.execution.max-repricing-cycles": "3",  # line 277
    "odin.execution.stop-limit-offset-pct": "0.001",  # line 278
    "odin.execution.stop-market-fallback-ms": "5000",  # line 279
    "odin.execution.forced-close-start": "15:45",  # line 280
    "odin.execution.forced-close-end": "15:55",  # line 281
    "odin.risk.max-position-pct": "0.50",  # line 282
    "odin.risk.cancel-replace-rate-warn": "5.0",  # line 283
    "odin.risk.order-trade-ratio-warn": "10.0",  # line 284
}

#: The numbers of the seed's normative tables beyond §16 (names coined by Atlas), with their line.
NORMATIVE = {
    "odin.execution.exit-repricing-interval-ms": "5000",  # §3.1 line 43
    "odin.execution.entry-partial-cancel-ms": "30000",  # §9.1 line 164 (30s)
    "odin.repricing.cancel-replace-window-ms": "1800000",  # §8.2 line 146 (30 Min)
    "odin.repricing.degraded-interval-ms": "10000",  # §8.2 line 146 (10s)
    "odin.repricing.cancel-replace-rate-recover": "3.0",  # §8.2 line 146 (< 3:1)
    "odin.repricing.order-trade-window-ms": "3600000",  # §8.2 line 147 (60 Min)
    "odin.repricing.degraded-max-cycles": "1",  # §8.2 line 147
    "odin.repricing.order-trade-ratio-recover": "6.0",  # §8.2 line 147 (< 6:1)
    "odin.repricing.fill-rate-min": "0.30",  # §8.2 line 148
    "odin.repricing.fill-rate-attempts": "5",  # §8.2 line 148
    "odin.repricing.fill-rate-size-factor": "0.5",  # §8.2 line 148 (halbieren)
    "odin.tranches.compact-below-usd": "5000",  # §6.1 line 105
    "odin.tranches.full-above-usd": "15000",  # §6.1 line 107
    "odin.tranches.compact": "0.40@1R,0.40@2R,0.20@RUNNER",  # §6.1 line 105
    "odin.tranches.standard": "0.30@1R,0.30@KEY,0.25@2R,0.15@RUNNER",  # §6.1 line 106
    "odin.tranches.full": "0.25@1R,0.25@KEY,0.25@2R,0.15@3R,0.10@RUNNER",  # §6.1 line 107
    "odin.trailing.bar-interval-ms": "60000",  # §10.1 line 182 (1m-Bar)
    "odin.trailing.ema-period": "9",  # §10.2 line 191 (ema9_close)
    "odin.premarket.max-position-pct": "0.25",  # §13 line 237
    "odin.premarket.max-spread-pct": "0.005",  # §13 line 238
    "odin.premarket.min-volume": "10000",  # §13 line 239
    "odin.premarket.volume-window-ms": "1800000",  # §13 line 239 (30 Min)
    "odin.premarket.max-repricing-cycles": "0",  # §13 line 240 (kein Repricing)
    "odin.slippage.warn-avg-pct": "0.002",  # §14.2 line 254
    "odin.slippage.warn-trades": "5",  # §14.2 line 254
    "odin.slippage.reduce-avg-pct": "0.003",  # §14.2 line 255
    "odin.slippage.reduce-trades": "10",  # §14.2 line 255
    "odin.slippage.reduce-size-pct": "0.25",  # §14.2 line 255
    "odin.slippage.single-fill-max-pct": "0.005",  # §14.2 line 256
    "odin.execution.forced-close-timezone": "America/New_York",  # §11 line 201 (ET)
}

#: §10.2 uses these without a number: Atlas's defaults, flagged as not the seed's.
ATLAS_DEFAULTS = {
    "odin.trailing.atr-period": "14",
    "odin.trailing.trail-atr-factor": "2.0",
    "odin.trailing.mfe-lock-pct": "0.5",
    "odin.trailing.runner-buffer-pct": "0.001",
    "odin.execution.stop-reject-retries": "2",  # §2/§9.3 "Retry begrenzt" (no number)
    "odin.execution.forced-close-market-after-reprices": "2",  # §11 "Fallback Market"
    "odin.execution.session-calendar": "",  # §11 "exchange calendar aware" (no exceptions)
    "odin.risk.day-risk-budget-pct": "0.02",
    "odin.slippage.min-reward-risk": "1.0",
}


def _shown(value: object) -> str:
    return ",".join(map(str, value)) if isinstance(value, tuple) else str(value)


@pytest.mark.parametrize(("name", "default"), sorted(SECTION_16.items()))
def test_every_section_16_parameter_has_the_seeds_name_and_default(name: str, default: str) -> None:
    assert _shown(PolicyParams().get(name)) == default
    spec = next(spec for spec in PARAMETERS if spec.name == name)
    assert spec.in_section_16 and spec.seed_default and spec.seed.startswith("§16")


@pytest.mark.parametrize(("name", "default"), sorted({**NORMATIVE, **ATLAS_DEFAULTS}.items()))
def test_every_normative_number_is_a_parameter_with_its_default(name: str, default: str) -> None:
    assert _shown(PolicyParams().get(name)) == default
    spec = next(spec for spec in PARAMETERS if spec.name == name)
    assert not spec.in_section_16
    assert spec.seed_default == (name not in ATLAS_DEFAULTS)


def test_the_table_holds_exactly_these_parameters_sorted_each_citing_a_seed_section() -> None:
    names = [spec.name for spec in PARAMETERS]
    assert names == sorted({**SECTION_16, **NORMATIVE, **ATLAS_DEFAULTS})
    assert all(spec.seed.startswith("§") for spec in PARAMETERS)


def test_every_attribute_of_the_settings_object_is_in_the_table() -> None:
    params = PolicyParams()
    paths = {
        f"{group.name}.{attr.name}"
        for group in dataclasses.fields(params)
        for attr in dataclasses.fields(getattr(params, group.name))
    }
    assert paths == {spec.path for spec in PARAMETERS}


def test_typed_values_decimal_for_ratios_int_for_ms_and_counts() -> None:
    params = PolicyParams()
    assert params.execution.repricing_interval_ms == 5000
    assert isinstance(params.execution.max_repricing_cycles, int)
    assert params.execution.stop_limit_offset_pct == Decimal("0.001")
    assert params.risk.cancel_replace_rate_warn == Decimal(5)
    assert params.execution.forced_close_start == TimeOfDay(15, 45)
    assert [t.r_multiple for t in params.tranches.full] == [
        Decimal(1),
        None,
        Decimal(2),
        Decimal(3),
        None,
    ]


def test_a_name_may_leave_off_the_odin_prefix() -> None:
    params = PolicyParams()
    assert params.get("execution.repricing-interval-ms") == 5000
    assert params.get("odin.execution.repricing-interval-ms") == 5000


def test_overrides_return_a_changed_copy_and_leave_the_original() -> None:
    params = PolicyParams()
    changed = params.with_overrides(
        {
            "execution.repricing-interval-ms": "7000",
            "odin.execution.stop-limit-offset-pct": "0.2%",
            "risk.max-position-pct": 0.4,
            "execution.forced-close-start": "15:30",
            "tranches.compact": "0.5@1R,0.5@RUNNER",
        }
    )
    assert changed.execution.repricing_interval_ms == 7000
    assert changed.execution.stop_limit_offset_pct == Decimal("0.002")
    assert changed.risk.max_position_pct == Decimal("0.4")
    assert changed.execution.forced_close_start == TimeOfDay(15, 30)
    assert len(changed.tranches.compact) == 2
    assert params.execution.repricing_interval_ms == 5000
    with pytest.raises(dataclasses.FrozenInstanceError):
        params.execution.repricing_interval_ms = 1  # type: ignore[misc]


def test_an_unknown_name_is_refused_naming_the_key() -> None:
    with pytest.raises(ParamError) as caught:
        PolicyParams().with_overrides({"execution.repricing-intervall-ms": 1})
    assert caught.value.reason == "UNKNOWN_PARAMETER"
    assert caught.value.key == "execution.repricing-intervall-ms"
    assert "execution.repricing-intervall-ms" in str(caught.value)
    with pytest.raises(ParamError):
        PolicyParams().get("odin.nothing")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("execution.repricing-interval-ms", 0),
        ("execution.repricing-interval-ms", "-5"),
        ("execution.repricing-interval-ms", "5.5"),
        ("execution.repricing-interval-ms", True),
        ("execution.max-repricing-cycles", -1),
        ("execution.stop-limit-offset-pct", "1.5"),
        ("execution.stop-limit-offset-pct", "-0.001"),
        ("execution.stop-limit-offset-pct", "abc"),
        ("risk.cancel-replace-rate-warn", "0"),
        ("execution.forced-close-start", "25:00"),
        ("execution.forced-close-start", "quarter to four"),
        ("tranches.compact", "0.5@1R,0.4@RUNNER"),
        ("tranches.compact", "0.5@1X,0.5@RUNNER"),
        ("execution.forced-close-timezone", "not a zone"),
    ],
)
def test_a_wrong_value_is_refused_naming_the_key(name: str, value: object) -> None:
    with pytest.raises(ParamError) as caught:
        PolicyParams().with_overrides({name: value})
    assert caught.value.reason == "INVALID_VALUE"
    assert caught.value.key == "odin." + name
    assert name in str(caught.value)


def test_rules_between_parameters_are_checked() -> None:
    with pytest.raises(ParamError, match="forced-close-start"):
        PolicyParams().with_overrides({"execution.forced-close-start": "16:00"})
    with pytest.raises(ParamError, match="compact-below-usd"):
        PolicyParams().with_overrides({"tranches.compact-below-usd": "20000"})
    with pytest.raises(ParamError, match="cancel-replace-rate-recover"):
        PolicyParams().with_overrides({"risk.cancel-replace-rate-warn": "2"})


PROPERTIES = """\
# seed 001 notation
odin.execution.repricing-interval-ms = 7000
execution.forced-close-start = 15:40
! another comment
odin.tranches.compact: 0.5@1R, 0.5@RUNNER
odin.risk.max-position-pct=0.4
"""

YAML = """\
odin:
  execution:
    repricing-interval-ms: 7000
    forced-close-start: 15:40
  tranches:
    compact: ["0.5@1R", "0.5@RUNNER"]
odin.risk.max-position-pct: 0.4
"""


@pytest.mark.parametrize(("suffix", "text"), [(".properties", PROPERTIES), (".yaml", YAML)])
def test_a_file_sets_parameters_over_the_defaults(tmp_path: Path, suffix: str, text: str) -> None:
    path = tmp_path / f"policy{suffix}"
    path.write_text(text)
    params = load_params(path)
    assert params.execution.repricing_interval_ms == 7000
    assert params.execution.forced_close_start == TimeOfDay(15, 40)
    assert [str(t) for t in params.tranches.compact] == ["0.5@1R", "0.5@RUNNER"]
    assert params.risk.max_position_pct == Decimal("0.4")
    assert params.execution.max_repricing_cycles == 3
    _, sources = load_params_with_sources(path)
    assert (
        sources["odin.execution.repricing-interval-ms"]
        == f"{path}:{2 if suffix == '.properties' else 3}"
    )


@pytest.mark.parametrize(
    ("suffix", "text", "line", "key", "reason"),
    [
        (".properties", "a = 1\n", 1, "a", "UNKNOWN_PARAMETER"),
        (
            ".properties",
            "# c\nexecution.repricing-interval-ms = 0\n",
            2,
            "odin.execution.repricing-interval-ms",
            "INVALID_VALUE",
        ),
        (".properties", "\njust text\n", 2, None, "INVALID_FILE"),
        (
            ".yaml",
            "odin:\n  execution:\n    repricing-intervall-ms: 5\n",
            3,
            "odin.execution.repricing-intervall-ms",
            "UNKNOWN_PARAMETER",
        ),
        (
            ".yaml",
            "odin:\n  risk:\n    max-position-pct: 2\n",
            3,
            "odin.risk.max-position-pct",
            "INVALID_VALUE",
        ),
        (".yml", "- a\n- b\n", 1, None, "INVALID_FILE"),
        (".yaml", "odin: [\n", 2, None, "INVALID_FILE"),
        (
            ".properties",
            "execution.forced-close-start = 16:00\n",
            1,
            "odin.execution.forced-close-start",
            "INVALID_VALUE",
        ),
        (
            ".properties",
            "execution.max-repricing-cycles = 2\nodin.execution.max-repricing-cycles = 4\n",
            2,
            "odin.execution.max-repricing-cycles",
            "INVALID_FILE",
        ),
    ],
)
def test_a_wrong_file_is_refused_naming_file_line_and_key(
    tmp_path: Path, suffix: str, text: str, line: int, key: str | None, reason: str
) -> None:
    path = tmp_path / f"policy{suffix}"
    path.write_text(text)
    with pytest.raises(ParamError) as caught:
        load_params(path)
    error = caught.value
    assert (error.reason, error.source, error.line, error.key) == (reason, str(path), line, key)
    assert f"{path}:{line}" in str(error)


def test_a_missing_file_is_refused_naming_it(tmp_path: Path) -> None:
    with pytest.raises(ParamError, match="INVALID_FILE") as caught:
        load_params(tmp_path / "none.properties")
    assert caught.value.source == str(tmp_path / "none.properties")


def test_the_text_parsers_are_pure_and_an_empty_file_is_the_defaults() -> None:
    assert parse_properties("\n# only a comment\n", "x") == []
    assert params_from_text("", "x.yaml", yaml_format=True) == (PolicyParams(), {})
