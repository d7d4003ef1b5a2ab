"""``atlas order``, ``atlas positions`` and ``atlas balances`` on a real server (the ``live``
fixture), as tables or the server's JSON exactly as it came; url, key and account from the options
or the environment."""

from __future__ import annotations

import json

import pytest

from .helpers import Live, run_main

BTC = "BTC/USDT"


def test_submit_prints_a_table_and_json_keeps_exact_strings(live: Live) -> None:
    code, out, err = live.run("order", "submit", BTC, "buy", "0.10", "59000.50", "-a", "desk")
    assert code == 0, err
    assert out.startswith("order #") and " ACCEPTED\n" in out
    assert "BTC/USDT" in out and "59000.5" in out and "LIMIT" in out
    code, out, _ = live.run(
        "order", "submit", BTC, "sell", "0.25", "61000", "--account", "desk", "--json"
    )
    assert code == 0
    body = json.loads(out)
    assert body["qty"] == "0.25000" and body["price"] == "61000.00" and body["side"] == "SELL"
    assert out.strip() == out.strip().splitlines()[0]  # one line: the server's JSON as it came
    # A retry with the same client id returns the original order.
    first = live.run(
        "order", "submit", BTC, "buy", "0.1", "58000", "-a", "desk", "--client-id", "c1"
    )
    again = live.run(
        "order", "submit", BTC, "buy", "0.1", "58000", "-a", "desk", "--client-id", "c1"
    )
    assert first[0] == again[0] == 0
    assert "a retry" in again[1] and first[1].splitlines()[0] in again[1]
    other = live.run("order", "submit", BTC, "buy", "9", "58000", "-a", "desk", "--client-id", "c1")
    assert other[0] != 0 and "DUPLICATE_CLIENT_ORDER_ID" in other[2]


def test_list_pages_filters_and_json(live: Live) -> None:
    ids = []
    for px in ("58000", "58100", "58200"):
        code, out, _ = live.run("order", "submit", BTC, "buy", "0.1", px, "-a", "desk", "--json")
        ids.append(json.loads(out)["order_id"])
    code, out, err = live.run("order", "list", "-a", "desk", "--limit", "2")
    assert code == 0 and f"more orders: add --after {ids[1]}" in err
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["id", "account", "symbol"]
    assert [int(x.split()[0]) for x in lines[2:]] == ids[:2]
    code, out, err = live.run("order", "list", "-a", "desk", "--after", str(ids[1]), "--json")
    page = json.loads(out)
    assert [o["order_id"] for o in page["orders"]] == ids[2:] and page["next_after"] is None
    assert err == ""
    live.run("order", "cancel", str(ids[0]), "-a", "desk")
    code, out, _ = live.run("order", "list", "-a", "desk", "--open", "--json")
    assert [o["order_id"] for o in json.loads(out)["orders"]] == ids[1:]
    code, out, _ = live.run("order", "list", "-a", "desk", "--status", "canceled", "--json")
    assert [o["order_id"] for o in json.loads(out)["orders"]] == ids[:1]
    code, out, _ = live.run("order", "list", "-a", "desk-algo")
    assert code == 0 and "(none)" in out  # a sub-account of the key's account


def test_get_modify_cancel_and_cancel_all(live: Live) -> None:
    _, out, _ = live.run("order", "submit", BTC, "buy", "0.1", "58000", "-a", "desk", "--json")
    order_id = str(json.loads(out)["order_id"])
    code, out, _ = live.run("order", "modify", order_id, "-a", "desk", "--price", "57500.25")
    assert code == 0 and f"order #{order_id} modified" in out and "57500.25" in out
    code, out, _ = live.run("order", "get", order_id, "-a", "desk", "--json")
    assert json.loads(out)["price"] == "57500.25"
    code, out, _ = live.run("order", "cancel", order_id, "-a", "desk")
    assert code == 0 and f"order #{order_id} CANCELED" in out
    for px in ("57000", "57100"):
        live.run("order", "submit", BTC, "buy", "0.1", px, "-a", "desk")
    live.run("order", "submit", "ETH/USDT", "buy", "1", "2900", "-a", "desk")
    code, out, _ = live.run("order", "cancel-all", "-a", "desk", "--symbol", BTC)
    assert code == 0 and "account desk, BTC/USDT: 2 open order(s) canceled" in out
    code, out, _ = live.run("order", "cancel-all", "-a", "desk", "--json")
    assert len(json.loads(out)["canceled"]) == 1
    code, out, err = live.run("order", "modify", order_id, "-a", "desk")
    assert code == 2 and "nothing to change" in err


def test_a_refusal_is_reason_and_detail_on_stderr_with_exit_code_2(live: Live) -> None:
    code, out, err = live.run("order", "submit", BTC, "buy", "1000", "60000", "-a", "desk")
    assert code == 2 and out == ""
    first, second = err.splitlines()
    assert first.startswith("INSUFFICIENT_BALANCE: needs ")
    assert second.startswith("order #") and second.endswith(" is DENIED")
    code, out, err = live.run(
        "order", "submit", BTC, "buy", "0.1", "60000.001", "-a", "desk", "--json"
    )
    assert code == 2 and err.startswith("PRICE_NOT_ON_TICK: ")
    assert json.loads(out)["order"]["status"] == "DENIED"  # --json: the problem document
    _, out, _ = live.run("order", "submit", BTC, "buy", "0.1", "58000", "-a", "desk", "--json")
    order_id = str(json.loads(out)["order_id"])
    assert live.run("order", "cancel", order_id, "-a", "desk")[0] == 0
    code, out, err = live.run("order", "cancel", order_id, "-a", "desk")
    assert (code, out) == (2, "") and err.startswith("ORDER_NOT_LIVE: ")
    code, _, err = live.run("order", "submit", "NOPE/USDT", "buy", "1", "1", "-a", "desk")
    assert code == 2 and err.startswith("UNKNOWN_INSTRUMENT: ")


def test_another_accounts_orders_and_money_are_404(live: Live) -> None:
    maker = live.maker(
        "POST",
        "/v1/orders",
        json={"account_id": "maker", "symbol": BTC, "side": "SELL", "qty": "1", "price": "61000"},
    )
    mid = str(maker["order_id"])
    for args in (
        ("order", "list", "-a", "maker"),
        ("order", "get", mid, "-a", "maker"),
        ("order", "cancel", mid, "-a", "maker"),
        ("order", "modify", mid, "-a", "maker", "--qty", "2"),
        ("order", "cancel-all", "-a", "maker"),
        ("order", "submit", BTC, "buy", "1", "1", "-a", "maker"),
        ("positions", "-a", "maker"),
        ("balances", "-a", "maker"),
    ):
        code, out, err = live.run(*args, "--json")
        assert code == 2, args
        assert err.startswith("UNKNOWN_ACCOUNT: no account maker for this key"), (args, err)
        assert json.loads(out)["status"] == 404
    # Through its own account the desk cannot reach the maker's order either.
    for args in (("order", "get", mid), ("order", "cancel", mid)):
        code, out, err = live.run(*args, "-a", "desk", "--json")
        assert code == 2 and err.startswith("UNKNOWN_ORDER: ")
        assert json.loads(out)["status"] == 404 and "maker" not in out
    assert live.admin("GET", f"/v1/orders/{mid}", params={"account_id": "maker"})["status"] == (
        "ACCEPTED"
    )


def test_positions_and_balances(live: Live) -> None:
    live.maker(
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
    assert pos["qty"] == "0.50000" and pos["account_id"] == "desk"
    code, out, _ = live.run("balances", "-a", "desk")
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines()[2:]}
    assert rows["BTC"] == ["10.5", "0", "10.5"]
    assert rows["USDT"][0] == "969970"  # 1,000,000 - 30,000 - the 0.1% taker fee
    code, out, _ = live.run("balances", "-a", "desk", "--json")
    assert {b["asset"]: b["total"] for b in json.loads(out)}["USDT"] == "969970.00000000"


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
