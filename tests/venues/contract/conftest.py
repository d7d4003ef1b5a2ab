"""The contract suite runs for every harness listed here; a case marked
``@pytest.mark.requires(Capability.X)`` is collected only for the harnesses with that capability
(spot has no positions and no hedge mode: those cases run for USDⓈ-M alone). Nothing is skipped:
a case that applies to no harness fails at collection (:func:`pytest_generate_tests`).

A new venue joins the contract with a harness (``harness.VenueHarness``: its fake on 127.0.0.1,
its real adapter, its knobs and its truth) appended to ``HARNESSES``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from .alpaca import AlpacaHarness
from .binance import BinanceSpotHarness, BinanceUsdmHarness
from .bybit import BybitLinearHarness, BybitSpotHarness
from .harness import VenueHarness
from .okx import OkxSpotHarness, OkxSwapHarness
from .upbit import UpbitHarness

HARNESSES: list[Callable[[], VenueHarness]] = [
    BinanceSpotHarness,
    BinanceUsdmHarness,
    OkxSpotHarness,
    OkxSwapHarness,
    UpbitHarness,
    BybitSpotHarness,
    BybitLinearHarness,
    AlpacaHarness,
]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "requires(capability): the case applies only to venues with this capability"
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "harness" not in metafunc.fixturenames:
        return
    needed = {c for m in metafunc.definition.iter_markers("requires") for c in m.args}
    applicable = [h for h in HARNESSES if needed <= set(getattr(h, "capabilities", ()))]
    if not applicable:
        raise pytest.UsageError(
            f"{metafunc.definition.name} applies to no venue harness (needs {sorted(needed)})"
        )
    # A harness's ``pending`` cases (name -> why) are known gaps: strict xfail, so a fix shows.
    params = [
        pytest.param(
            h,
            marks=[pytest.mark.xfail(strict=True, reason=why)]
            if (why := getattr(h, "pending", {}).get(metafunc.definition.originalname))
            else [],
        )
        for h in applicable
    ]
    metafunc.parametrize(
        "harness", params, ids=[getattr(h, "name", str(h)) for h in applicable], indirect=True
    )


@pytest.fixture
def harness(request: pytest.FixtureRequest) -> VenueHarness:
    made: VenueHarness = request.param()
    return made


@pytest.fixture
def journal(tmp_path: Path) -> Path:
    return tmp_path / "atlas.db"
