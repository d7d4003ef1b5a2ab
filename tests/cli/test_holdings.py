"""``atlas positions`` and ``atlas balances`` on a real server; url, key and account from the
environment."""

from __future__ import annotations

import json

import pytest

from .helpers import Live, run_main

BTC = "BTC/USDT"


def test_positions_and_balances(live: Live) -> None:
    live.admin(
        "POST",
        "/v1/orders",
        json={"account_id": "maker", "symbol": BTC, "side": "SELL", "qty": "1", "price": "60000"},
    )
    code, out, _ = live.run("order", "submit", BTC, "buy", "0.5", "60000", "-a", "desk")
    assert code == 0 and "FILLED" in out
    code, out, _ = live.run("positions", "-a", "desk")
    assert code == 0
    header, _, row = out.splitlines()
    assert header.split()[:4] == ["symbol", "side", "qty", "avg"]
    assert row.split()[:4] == [BTC, "BOTH", "0.5", "60000"]
    code, out, _ = live.run("positions", "-a", "desk", "--json")
    [pos] = json.loads(out)
    assert pos["qty"] == "0.5" and pos["account_id"] == "desk"
    code, out, _ = live.run("balances", "-a", "desk")
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines()[2:]}
    assert rows["BTC"] == ["10.5", "0", "10.5"]
    assert rows["USDT"][0] == "969970"  # 1,000,000 - 30,000 - the 0.1% taker fee
    code, out, _ = live.run("balances", "-a", "desk", "--json")
    assert {b["asset"]: b["total"] for b in json.loads(out)}["USDT"] == "969970.0000"


def test_environment_gives_url_key_and_account(
    live: Live, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ATLAS_URL", live.url)
    monkeypatch.setenv("ATLAS_KEY", live.tokens["trader"])
    code, out, err = run_main(["balances"], capsys)
    assert code == 2 and "which account? pass --account ID or set ATLAS_ACCOUNT" in err
    monkeypatch.setenv("ATLAS_ACCOUNT", "desk")
    code, out, _ = run_main(["balances"], capsys)
    assert code == 0 and "USDT" in out
    monkeypatch.delenv("ATLAS_KEY")
    code, out, err = run_main(["balances"], capsys)
    assert code == 2 and "no API key: pass --key KEY_ID.SECRET or set ATLAS_KEY" in err
    code, out, err = run_main(["balances", "--key", "ak_nope.wrong"], capsys)
    assert code == 2 and err == "UNAUTHENTICATED: the API key is not valid\n"
