"""The operator commands that write a journal also run on a server (``--url``/``--key``): the same
action through the REST API, journaled there with the API key as the actor, printed in the same
words as offline. Offline twin: a journal set up exactly as ``atlas serve`` sets up its own."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from atlas_oms import ManualClock, Node
from atlas_oms.service.bootstrap import default_instruments, first_start

from .helpers import BRACKETS, T0, Live, run_main

PERP = "BTC/USDT:USDT"
SPOT = "BTC/USDT"


@pytest.fixture
def twin(tmp_path: Path) -> Path:
    """A journal as a fresh server's: its instruments, accounts and deposits."""
    path = tmp_path / "twin" / "atlas.db"
    path.parent.mkdir()
    with Node.open(str(path), clock=ManualClock(T0)) as node:
        first_start(node, default_instruments())
    return path


def offline(capsys: Any, journal: Path, *args: str) -> tuple[int, str, str]:
    return run_main([*args, "--journal", str(journal)], capsys, clock=ManualClock(T0))


def key_id(live: Live, who: str) -> str:
    return live.tokens[who].partition(".")[0]


def audit_events(live: Live, account: str) -> list[str]:
    return [r["event"] for r in live.admin("GET", f"/v1/audit/{account}")]


def leverages(live: Live) -> list[str]:
    records = live.admin("GET", "/v1/audit/desk")
    return [r["detail"]["leverage"] for r in records if r["event"] == "LeverageSet"]


def test_leverage_mode_and_transfer_on_a_server_print_what_they_print_offline(
    live: Live, twin: Path
) -> None:
    for args in (
        ("futures", "leverage", "desk", PERP, "50"),
        ("futures", "mode", "desk-algo", PERP, "isolated"),
        ("transfer", "desk", "desk-algo", "USDT", "1000", "--reason", "fund the algo"),
    ):
        code, online, err = live.run(*args)
        assert code == 0, (args, err)
        code, local, err = offline(live.capsys, twin, *args)
        assert code == 0, (args, err)
        assert online == local, args
    assert online.startswith("transferred 1000 USDT from desk to desk-algo (fund the algo), seq ")
    events = audit_events(live, "desk")
    assert "LeverageSet" in events and "FundsTransferred" in events
    assert "MarginModeSet" in audit_events(live, "desk-algo")
    code, out, _ = live.run("futures", "leverage", "desk", PERP, "50", "--json")
    # --json on a server shows the server's numbers: money at the asset's places (USDT: 8).
    assert code == 0 and json.loads(out)["max_notional"] == "1000000.00000000"


def test_isolated_margin_refusal_is_the_engines_reason_on_both(live: Live, twin: Path) -> None:
    args = ("futures", "margin", "add", "desk", PERP, "100")
    code, _, err = live.run(*args)
    code_offline, _, err_offline = offline(live.capsys, twin, *args)
    assert code == code_offline == 2
    reason = err_offline.removeprefix("refused: ").split(":")[0]
    assert err.startswith(f"{reason}: ")


def test_admin_market_actions_on_a_server(live: Live, twin: Path) -> None:
    admin = key_id(live, "admin")
    code, out, err = live.run("futures", "funding-rate", PERP, "0.0002", key="admin")
    assert code == 0, err
    _, local, _ = offline(live.capsys, twin, "futures", "funding-rate", PERP, "0.0002")
    assert out.split("; next settlement")[0] == local.split("; next settlement")[0]

    code, out, err = live.run(
        "futures", "tiers", PERP, "--file", str(BRACKETS), "--reason", "binance", key="admin"
    )
    assert code == 0, err
    _, local, _ = offline(
        live.capsys, twin, "futures", "tiers", PERP, "--file", str(BRACKETS), "--actor", "ops"
    )
    assert out.splitlines()[0] == (
        f"margin tiers of {PERP} set from {BRACKETS} (BTCUSDT) by {admin} on {live.url}: binance"
    )
    assert out.splitlines()[1:] == local.splitlines()[1:]
    code, shown, _ = live.run("futures", "tiers", PERP)
    assert code == 0 and shown.splitlines()[0] == f"Margin tiers of {PERP} in {live.url}"
    assert shown.splitlines()[1:] == local.splitlines()[1:]

    code, out, err = live.run("futures", "fund", "USDT", "250", "--reason", "seed", key="admin")
    assert code == 0, err
    assert (
        out == f"insurance fund USDT: deposit of 250 by {admin} on {live.url}: seed; balance 250\n"
    )
    code, out, _ = live.run("futures", "fund", "--json", key="risk")
    assert json.loads(out)["insurance_funds"][0]["deposited"] == "250.00000000"

    args = ("futures", "mark", PERP, "60100", "--last", "60090")
    code, out, err = live.run(*args, key="risk")
    assert code == 0, err
    _, local, _ = offline(live.capsys, twin, *args)
    assert out == local

    code, _, err = live.run("futures", "settle", PERP, "60000", key="admin")
    _, _, err_offline = offline(
        live.capsys, twin, "futures", "settle", PERP, "60000", "--actor", "x"
    )
    assert (
        code == 2 and err.startswith("NOT_A_DATED_FUTURE: ") and "NOT_A_DATED_FUTURE" in err_offline
    )
    funding = live.admin("GET", f"/v1/instruments/{PERP}/margin-tiers")
    assert funding["source"] == "set"


def test_risk_commands_on_a_server(live: Live, twin: Path) -> None:
    risk = key_id(live, "risk")
    by = f"by {risk} on {live.url}"
    code, out, err = live.run("risk", "market", SPOT, "halted", "--reason", "news", key="risk")
    assert (code, out) == (0, f"{SPOT} is HALTED {by}: news\n"), err
    code, _, err = live.run("order", "submit", SPOT, "buy", "0.1", "58000", "-a", "desk")
    assert code == 2 and err.startswith("INSTRUMENT_HALTED: "), err
    code, out, _ = live.run("risk", "market", SPOT, "schedule", "--reason", "over", key="risk")
    assert out == f"{SPOT} follows its schedule again ({by}: over)\n"

    args = ("risk", "limits", "account", "desk", "--set", "max_order_qty=5")
    code, out, err = live.run(*args, "--reason", "cap", key="risk")
    assert code == 0, err
    _, local, _ = offline(live.capsys, twin, *args, "--actor", "ops", "--reason", "cap")
    assert out.splitlines()[0] == f"limits of account desk set {by}: cap"
    assert out.splitlines()[1:] == local.splitlines()[1:]
    code, _, err = live.run("order", "submit", SPOT, "sell", "6", "70000", "-a", "desk")
    assert code == 2 and err.startswith("ORDER_QTY_TOO_LARGE: "), err
    code, out, err = live.run(
        "risk", "state", "account", "desk", "reducing", "--reason", "drawdown", key="risk"
    )
    assert (code, out) == (0, f"account desk is REDUCING {by}: drawdown\n"), err

    args = ("risk", "reset-breaker", "account", "desk", "--reason", "x")
    code, _, err = live.run(*args, key="risk")
    _, _, err_offline = offline(live.capsys, twin, *args, "--actor", "ops")
    reason = err_offline.removeprefix("refused: ").split(":")[0]  # no breaker there
    assert code == 2 and reason and err.startswith(f"{reason}: ")

    code, out, err = live.run("risk", "kill", "account", "desk", "--reason", "stop", key="risk")
    assert code == 0, err
    code, out, err = live.run("risk", "reset-kill", "account", "desk", "--reason", "ok", key="risk")
    assert (code, out) == (0, f"kill switch of account desk reset {by}: ok\n"), err

    status = live.admin("GET", "/v1/risk/status", params={"account_id": "desk"})
    assert status["trading_states"][0]["actor"] == risk
    assert status["market_status"] == {}


def test_roles_are_the_servers_and_the_key_is_the_actor(live: Live) -> None:
    code, out, err = live.run("futures", "funding-rate", PERP, "0.0002")  # the trader key
    assert (code, out) == (2, "") and err == "FORBIDDEN: this needs the admin role\n"
    code, _, err = live.run("futures", "leverage", "maker", PERP, "5")  # not its account
    assert code == 2 and err.startswith("UNKNOWN_ACCOUNT: ")
    code, _, err = live.run(
        "risk", "market", SPOT, "halted", "--actor", "ops", "--reason", "x", key="risk"
    )
    assert code == 2 and "the API key is the actor" in err
    code, _, err = live.run("futures", "settle", PERP, "1", "--journal", "x.db", key="admin")
    assert code == 2 and "--journal or --url/--key, not both" in err


def test_an_explicit_journal_stays_offline_and_the_environment_goes_online(
    live: Live, twin: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ATLAS_URL", live.url)
    monkeypatch.setenv("ATLAS_KEY", live.tokens["trader"])
    code, _, err = offline(live.capsys, twin, "futures", "leverage", "desk", PERP, "7")
    assert code == 0, err
    with Node.open(str(twin), clock=ManualClock(T0)) as node:
        assert any(getattr(e, "leverage", None) == 7 for e in node.events())
    assert leverages(live) == ["10"]  # the server's own, set at its first start
    code, _, err = run_main(["futures", "leverage", "desk", PERP, "8"], live.capsys)
    assert code == 0, err
    assert leverages(live) == ["10", "8"]


def test_closed_positions_and_pnl_on_a_server(live: Live) -> None:
    """desk buys 0.1 BTC/USDT @ 60000 and sells it @ 61000 (taker fee 0.1%, maker 0): one
    closed long, realized 100, fees 6 + 6.1."""
    for side, price in (("SELL", "60000"), ("BUY", "61000")):
        body = {"account_id": "maker", "symbol": SPOT, "side": side, "qty": "0.1", "price": price}
        live.maker("POST", "/v1/orders", json=body)
        other = "buy" if side == "SELL" else "sell"
        code, _, err = live.run("order", "submit", SPOT, other, "0.1", price, "-a", "desk")
        assert code == 0, err
    code, out, err = live.run("positions", "--closed", "-a", "desk")
    assert code == 0, err
    header, _, row = out.splitlines()[:3]
    assert header.split()[:8] == [
        "symbol", "side", "qty", "entry", "avg", "exit", "avg", "realized",
    ]  # fmt: skip
    assert row.split()[:8] == [SPOT, "LONG", "0.1", "60000", "61000", "100", "12.1", "0"]
    code, out, _ = live.run("positions", "--closed", "-a", "desk", "--json")
    (closed,) = json.loads(out)["positions"]
    assert closed["pnl_asset"] == "USDT"
    assert (Decimal(closed["realized_pnl"]), Decimal(closed["fees"])) == (100, Decimal("12.1"))
    code, out, err = live.run("pnl", "-a", "desk", "--json")
    assert code == 0, err
    entries = json.loads(out)["entries"]
    figures = [[Decimal(e[k]) for k in ("realized_pnl", "fee", "total_net")] for e in entries]
    assert figures == [[0, 6, -6], [100, Decimal("6.1"), Decimal("87.9")]]
    code, out, _ = live.run("pnl", "-a", "desk", "--equity", "--limit", "1")
    assert code == 0 and out.splitlines()[-1].startswith("more: --after-seq ")
    code, _, err = live.run("pnl", "-a", "maker")
    assert code == 2 and err.startswith("UNKNOWN_ACCOUNT: ")
