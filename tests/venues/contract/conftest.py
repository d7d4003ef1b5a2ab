"""The contract suite runs for every harness listed here; a case marked
``@pytest.mark.requires(Capability.X)`` is collected as *not applicable* (a skip whose reason
starts with ``not applicable:`` and says why) for a harness without that capability.

A new venue joins the contract with a harness (``harness.VenueHarness``: its fake on 127.0.0.1,
its real adapter, its knobs and its truth) appended to ``HARNESSES``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from .binance import BinanceSpotHarness, BinanceUsdmHarness
from .harness import VenueHarness

HARNESSES: list[Callable[[], VenueHarness]] = [BinanceSpotHarness, BinanceUsdmHarness]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "requires(capability): the case applies only to venues with this capability"
    )


@pytest.fixture(params=HARNESSES, ids=lambda h: h.name)
def harness(request: pytest.FixtureRequest) -> VenueHarness:
    made: VenueHarness = request.param()
    marker = request.node.get_closest_marker("requires")
    for capability in marker.args if marker is not None else ():
        if capability not in made.capabilities:
            pytest.skip(f"not applicable: {made.not_applicable(capability)}")
    return made


@pytest.fixture
def journal(tmp_path: Path) -> Path:
    return tmp_path / "atlas.db"
