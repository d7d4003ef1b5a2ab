"""The engine settings a served node takes from its environment: the retention windows."""

from __future__ import annotations

from pathlib import Path

import pytest

from atlas_oms.service.app import engine_config
from atlas_oms.service.settings import ServiceSettings


def test_retention_windows_default_to_an_hour_and_a_day() -> None:
    config = engine_config(ServiceSettings())
    assert config.order_retention_ns == 3600 * 10**9
    assert config.client_id_retention_ns == 86400 * 10**9


def test_retention_windows_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ATLAS_ORDER_RETENTION_S", "5")
    monkeypatch.setenv("ATLAS_CLIENT_ID_RETENTION_S", "0.5")
    config = engine_config(ServiceSettings(data_dir=tmp_path))
    assert config.order_retention_ns == 5 * 10**9
    assert config.client_id_retention_ns == 500_000_000


def test_no_window_keeps_everything(tmp_path: Path) -> None:
    settings = ServiceSettings(
        data_dir=tmp_path, order_retention_s=None, client_id_retention_s=None
    )
    config = engine_config(settings)
    assert config.order_retention_ns is None and config.client_id_retention_ns is None
