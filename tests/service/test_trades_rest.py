"""Managed trades over REST (issue 13 §3): submit an intent, list and read trades with their
orders, tranches, stop history and P&L, idempotency, refusals, authorization, and the policy
parameters."""

from __future__ import annotations

from pathlib import Path

from tests.service.trades_rest_kit import SYMBOL, intent, trades_api


def test_submitting_an_intent_answers_201_with_the_managed_trade_and_its_bracket(
    tmp_path: Path,
) -> None:
    with trades_api(tmp_path) as api:
        api.node.sell("maker", SYMBOL, 100, 100)
        r = api.call("POST", "/v1/trades", json=intent())
        assert r.status_code == 201, r.text
        t = r.json()
        assert t["trade_id"] == "t1" and t["phase"] == "PROTECTED"
        # Exact strings at the instrument's places (tick 0.01, lot 1; averages 4 more places).
        assert t["position"] == "100" and t["entry_avg_px"] == "100.000000"
        assert t["intent"]["stop0"] == "98.00" and t["intent"]["urgency"] == "NORMAL"
        assert [o["role"] for o in t["entries"]] == ["ENTRY"]
        assert [o["role"] for o in t["stops"]] == ["STOP"]
        assert [x["index"] for x in t["tranches"]] == [1, 2, 3]
        assert t["stop_history"][0] == {"ts": 0, "trigger": "98.00", "cause": "INITIAL"}
        assert t["realized_pnl"] == "0.00000000"  # USD: 8 places unless configured
        assert t["events"] is None  # lists and the submit answer carry no events


def test_repeating_an_intent_id_returns_the_existing_trade_with_200(tmp_path: Path) -> None:
    with trades_api(tmp_path) as api:
        first = api.call("POST", "/v1/trades", json=intent())
        assert first.status_code == 201
        seq = api.node.seq
        again = api.call("POST", "/v1/trades", json=intent(entry_ideal="99"))
        assert again.status_code == 200 and again.json()["trade_id"] == "t1"
        assert again.json()["intent"]["entry_ideal"] == "100.00"  # the original, unchanged
        assert api.node.seq == seq  # nothing new happened


def test_an_intent_id_of_another_account_is_409_without_its_details(tmp_path: Path) -> None:
    with trades_api(tmp_path) as api:
        assert api.call("POST", "/v1/trades", json=intent()).status_code == 201
        r = api.call("POST", "/v1/trades", "other", json=intent(account_id="other"))
        assert r.status_code == 409 and r.json()["reason"] == "INTENT_ID_IN_USE"
        assert "trader" not in r.json()["detail"]


def test_a_refused_intent_is_422_with_its_reason_code_and_sentence(tmp_path: Path) -> None:
    with trades_api(tmp_path) as api:
        r = api.call("POST", "/v1/trades", json=intent(stop="101"))  # stop above a long entry
        assert r.status_code == 422
        body = r.json()
        assert body["reason"] == "INVALID_ZONE" and "stop" in body["detail"]
        assert api.node.managed_trade("t1") is None


def test_a_float_or_an_unknown_profile_is_a_validation_error(tmp_path: Path) -> None:
    with trades_api(tmp_path) as api:
        assert api.call("POST", "/v1/trades", json=intent(stop=98.0)).status_code == 400
        assert api.call("POST", "/v1/trades", json=intent(scale_out="WILD")).status_code == 400


def test_list_filters_by_account_symbol_and_open(tmp_path: Path) -> None:
    with trades_api(tmp_path) as api:
        api.call("POST", "/v1/trades", json=intent("a"))
        api.call("POST", "/v1/trades", "other", json=intent("b", account_id="other"))
        mine = api.call("GET", "/v1/trades").json()["trades"]
        assert [t["trade_id"] for t in mine] == ["a"]  # a trader sees its own accounts only
        every = api.call("GET", "/v1/trades", "risk").json()["trades"]
        assert [t["trade_id"] for t in every] == ["a", "b"]
        one = api.call("GET", "/v1/trades", "risk", params={"account_id": "other"}).json()
        assert [t["trade_id"] for t in one["trades"]] == ["b"]
        assert api.call("GET", "/v1/trades", params={"symbol": "NOPE"}).json()["trades"] == []
        opened = api.call("GET", "/v1/trades", params={"open_only": True}).json()["trades"]
        assert [t["trade_id"] for t in opened] == ["a"]
        assert api.call("GET", "/v1/trades", params={"account_id": "other"}).status_code == 404


def test_get_shows_the_trade_with_its_events_and_pnl_per_tranche(tmp_path: Path) -> None:
    with trades_api(tmp_path) as api:
        api.node.sell("maker", SYMBOL, 100, 100)
        api.call("POST", "/v1/trades", json=intent())
        api.node.buy("maker", SYMBOL, 30, 102)  # tranche 1 fills: +2 x 30
        t = api.call("GET", "/v1/trades/t1").json()
        assert t["tranches"][0]["status"] == "FILLED"
        assert t["tranches"][0]["realized_pnl"] == "60.00000000"
        assert t["realized_pnl"] == "60.00000000" and t["position"] == "70"
        kinds = [e["type"] for e in t["events"]]
        assert kinds[0] == "TradeIntentAccepted" and "TradeBracketPlaced" in kinds
        assert "TradeStopMoved" in kinds and "OrderFilled" in kinds
        events = api.call("GET", "/v1/trades/t1/events").json()
        assert [e["type"] for e in events["events"]] == kinds


def test_another_accounts_trade_is_404_and_submitting_for_it_403_or_404(tmp_path: Path) -> None:
    with trades_api(tmp_path) as api:
        api.call("POST", "/v1/trades", json=intent())
        r = api.call("GET", "/v1/trades/t1", "other")
        assert r.status_code == 404 and r.json()["reason"] == "UNKNOWN_TRADE"
        assert api.call("GET", "/v1/trades/t1/events", "other").status_code == 404
        # A trader key cannot submit for an account it does not hold (no probing: 404) ...
        r = api.call("POST", "/v1/trades", "other", json=intent("x"))
        assert r.status_code == 404
        # ... and a risk key sees the account but may not trade for it (403).
        r = api.call("POST", "/v1/trades", "risk", json=intent("y"))
        assert r.status_code == 403 and r.json()["reason"] == "FORBIDDEN_ROLE"
        assert api.call("GET", "/v1/trades/t1", "risk").status_code == 200


def test_market_data_trades_moved_and_the_old_path_still_answers_a_symbol(tmp_path: Path) -> None:
    with trades_api(tmp_path) as api:
        api.node.sell("maker", SYMBOL, 5, 100)
        api.node.buy("trader", SYMBOL, 5, 100)
        new = api.call("GET", f"/v1/marketdata/trades/{SYMBOL}").json()
        old = api.call("GET", f"/v1/trades/{SYMBOL}").json()
        assert new == old and new["trades"][0]["qty"] == "5"


def test_policy_params_get_and_put_by_an_admin(tmp_path: Path) -> None:
    with trades_api(tmp_path) as api:
        rows = api.call("GET", "/v1/policy/params").json()["parameters"]
        by = {r["name"]: r for r in rows}
        p = by["odin.execution.repricing-interval-ms"]
        assert p == p | {"value": "5000", "default": "5000", "source": "default"}
        assert p["seed"]
        body = {"overrides": {"execution.repricing-interval-ms": 2000}, "reason": "test"}
        assert api.call("PUT", "/v1/policy/params", json=body).status_code == 403  # trader
        r = api.call("PUT", "/v1/policy/params", "admin", json=body)
        assert r.status_code == 200, r.text
        p = {x["name"]: x for x in r.json()["parameters"]}["odin.execution.repricing-interval-ms"]
        assert p["value"] == "2000" and p["source"] == "journal"
        assert api.node.policy_params().execution.repricing_interval_ms == 2000
        bad = {"overrides": {"execution.no-such-thing": 1}}
        r = api.call("PUT", "/v1/policy/params", "admin", json=bad)
        assert r.status_code == 422 and r.json()["reason"] == "INVALID_FIELD"
        r = api.call("PUT", "/v1/policy/params", "admin", json={"overrides": {}})
        assert r.status_code == 200 and api.node.policy_overrides() == {}


def test_actions_on_an_open_trade_tighten_trail_only_and_scale_out(tmp_path: Path) -> None:
    """§10.1 CRITICAL monitor event, §7 TRAIL_ONLY and §6.2 scale-out over REST; a refused
    action is 422 with the engine's reason, another account's trade 404."""
    with trades_api(tmp_path) as api:
        api.node.sell("maker", SYMBOL, 100, 100)
        assert api.call("POST", "/v1/trades", json=intent()).status_code == 201
        r = api.call(
            "POST",
            "/v1/trades/t1/actions",
            json={"action": "TIGHTEN", "reason": "blow-off", "stop": "99"},
        )
        assert r.status_code == 200, r.text
        assert r.json()["stop_trigger"] == "99.00"
        api.node.buy("maker", SYMBOL, 10, "99.50")  # a bid for the scale-out
        r = api.call(
            "POST", "/v1/trades/t1/actions", json={"action": "SCALE_OUT", "reason": "parabolic"}
        )
        assert r.status_code == 200, r.text
        assert [o["role"] for o in r.json()["exits"]]  # a limit at the bid works
        r = api.call("POST", "/v1/trades/t1/actions", json={"action": "SCALE_OUT"})
        assert r.status_code == 422 and r.json()["reason"] == "TRADE_NOT_OPEN"
        r = api.call("POST", "/v1/trades/t1/actions", json={"action": "TRAIL_ONLY"}, who="other")
        assert r.status_code == 404
