"""``atlas binance ccxt``: a ccxt config a bot in another environment pastes as it is."""

from __future__ import annotations

import json
from pathlib import Path

import ccxt
import pytest

from atlas_oms.binance_api.keys import derived_secret, server_secret
from atlas_oms.cli import main
from atlas_oms.service.keys import KeyStore


def _trader(data: Path) -> str:
    issued = KeyStore(data / "api-keys.json").issue(("trader",), ("desk",))
    return issued.key.key_id


def test_the_config_points_every_ccxt_url_at_atlas_with_the_keys_pair(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key_id = _trader(tmp_path)
    code = main(
        ["binance", "ccxt", key_id, "--data-dir", str(tmp_path), "--url", "http://127.0.0.1:9001"]
    )
    assert code == 0
    config = json.loads(capsys.readouterr().out)
    assert config["apiKey"] == key_id
    assert config["secret"] == derived_secret(server_secret(tmp_path), key_id)
    exchange = ccxt.binance(config)
    api = exchange.urls["api"]
    assert api["public"] == "http://127.0.0.1:9001/api/v3"
    assert api["fapiPrivate"] == "http://127.0.0.1:9001/fapi/v1"
    assert api["ws"]["ws-api"]["spot"] == "ws://127.0.0.1:9001/ws-api/v3"
    assert exchange.options["fetchMarkets"]["types"] == ["spot"]


def test_usdm_asks_for_futures_and_an_unknown_key_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key_id = _trader(tmp_path)
    assert main(["binance", "ccxt", key_id, "--data-dir", str(tmp_path), "--market", "usdm"]) == 0
    config = json.loads(capsys.readouterr().out)
    assert config["options"]["defaultType"] == "future"
    assert config["urls"]["api"]["fapiPublic"] == "http://127.0.0.1:8001/fapi/v1"
    assert main(["binance", "ccxt", "ak_nope", "--data-dir", str(tmp_path)]) == 1
    assert "no key ak_nope" in capsys.readouterr().err
