"""``atlas trades submit|list|show|params`` on a real server (the ``live`` fixture): readable
tables, ``--json`` exactly as the server sent it, idempotent submits, refusals on stderr."""

from __future__ import annotations

import json

from .helpers import Live

BTC = "BTC/USDT"
INTENT = ("trades", "submit", BTC, "buy", "--entry", "59000", "--max", "59100")
INTENT += ("--stop", "58800", "--risk", "100", "-a", "desk")


def test_submit_list_and_show_a_managed_trade(live: Live) -> None:
    code, out, err = live.run(*INTENT, "--id", "cli-1")
    assert code == 0, err
    assert out.startswith("trade submitted\ntrade cli-1  desk  BUY BTC/USDT  ENTERING")
    assert "R 100.00" in out and "ENTRY" in out  # the entry order, exact at the tick
    # The same id again: the trade it already names, nothing new.
    code, out, _ = live.run(*INTENT, "--id", "cli-1", "--json")
    assert code == 0
    body = json.loads(out)
    assert body["trade_id"] == "cli-1" and body["intent"]["qty"] == "0.50000"  # 100 / 200
    code, out, _ = live.run("trades", "list")
    lines = out.splitlines()
    assert lines[0].split()[:5] == ["trade", "account", "symbol", "side", "phase"]
    assert lines[2].split()[:5] == ["cli-1", "desk", "BTC/USDT", "BUY", "ENTERING"]
    code, out, _ = live.run("trades", "list", "--open", "--symbol", "ETH/USDT")
    assert code == 0 and "(none)" in out
    code, out, _ = live.run("trades", "show", "cli-1")
    assert code == 0 and "orders" in out and "events" in out and "TradeIntentAccepted" in out
    code, out, _ = live.run("trades", "show", "cli-1", "--json")
    assert json.loads(out)["events"][0]["type"] == "TradeIntentAccepted"


def test_a_refused_intent_and_an_unknown_trade_print_the_reason(live: Live) -> None:
    code, _, err = live.run(*INTENT[:-2], "-a", "desk", "--stop", "59500")  # stop above a long
    assert code == 2 and err.startswith("INVALID_ZONE: ")
    code, _, err = live.run("trades", "show", "nope")
    assert code == 2 and err.startswith("UNKNOWN_TRADE: ")


def test_params_shows_the_parameters_and_an_admin_sets_them(live: Live) -> None:
    code, out, _ = live.run("trades", "params")
    assert code == 0 and "odin.execution.repricing-interval-ms" in out
    name = "execution.repricing-interval-ms"
    code, _, err = live.run("trades", "params", "--set", f"{name}=2000")
    assert code == 2 and "FORBIDDEN_ROLE" in err  # the trader key
    code, out, _ = live.run("trades", "params", "--set", f"{name}=2000", "--json", key="admin")
    assert code == 0
    rows = {r["name"]: r for r in json.loads(out)["parameters"]}
    assert rows[f"odin.{name}"]["value"] == "2000" and rows[f"odin.{name}"]["source"] == "journal"
    code, out, _ = live.run("trades", "params", "--reset", key="admin")
    assert code == 0 and "journal" not in out


def test_act_sends_an_action_and_prints_the_engines_refusal(live: Live) -> None:
    code, _, err = live.run(*INTENT, "--id", "cli-act")
    assert code == 0, err
    code, _, err = live.run("trades", "act", "cli-act", "SCALE_OUT", "--reason", "parabolic")
    assert code == 2 and err.startswith("TRADE_NOT_OPEN: ")  # still entering: nothing to take
    code, _, err = live.run("trades", "act", "nope", "TIGHTEN")
    assert code == 2 and err.startswith("UNKNOWN_TRADE: ")
