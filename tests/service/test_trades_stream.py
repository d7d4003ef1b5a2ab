"""The WebSocket's ``trades`` channel (issue 13 §3 "WebSocket updates"): a snapshot of the
account's open trades, then one message per ``Trade*`` event (and per fill of a trade's order)
with the trade's current view; another account's trades are never sent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.service.trades_rest_kit import SYMBOL, TradesApi, intent, trades_api


def _until(ws: Any, done: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    while True:
        m = ws.receive_json()
        out.append(m)
        if done(m):
            return out


def _settle(api: TradesApi, ws: Any) -> list[dict[str, Any]]:
    """Everything sent once every processed event is published (ping until the pong's seq)."""
    out: list[dict[str, Any]] = []
    while True:
        ws.send_json({"op": "ping"})
        out += _until(ws, lambda m: m.get("op") == "pong")
        if out[-1]["seq"] == api.node.seq:
            return [m for m in out if m.get("op") != "pong"]


def test_trade_updates_carry_the_event_and_the_trades_view_to_its_account_only(
    tmp_path: Path,
) -> None:
    with trades_api(tmp_path) as api:
        api.call("POST", "/v1/trades", json=intent("old"))  # open before the subscription
        c = api.client
        with (
            c.websocket_connect("/v1/ws", headers=api.headers()) as mine,
            c.websocket_connect("/v1/ws", headers=api.headers("other")) as theirs,
        ):
            for ws in (mine, theirs):
                assert ws.receive_json()["op"] == "authenticated"
            theirs.send_json({"op": "subscribe", "channel": "trades", "account_id": "trader"})
            assert theirs.receive_json()["reason"] == "UNKNOWN_ACCOUNT"
            theirs.send_json({"op": "subscribe", "channel": "trades", "account_id": "other"})
            mine.send_json({"op": "subscribe", "channel": "trades", "account_id": "trader"})
            first = _settle(api, mine)
            assert first[0]["op"] == "subscribed"
            snap = next(m for m in first if m.get("type") == "snapshot")
            assert [t["trade_id"] for t in snap["trades"]] == ["old"]
            # A new trade fills at once (the maker offers), then tranche 1 fills.
            api.node.sell("maker", SYMBOL, 200, 100)  # fills "old" too
            # one open trade per account and symbol (seed 001 §12): t1 adds to it (§12.1)
            added = api.call("POST", "/v1/trades", json=intent("t1", add_to="old"))
            assert added.status_code == 201
            api.node.buy("maker", SYMBOL, 60, 102)  # both tranche 1s
            got = [m for m in _settle(api, mine) if m.get("channel") == "trades"]
            seen_by_other = _settle(api, theirs)
        t1 = [m for m in got if m["trade_id"] == "t1"]
        kinds = [m["type"] for m in t1]
        assert kinds[0] == "TradeIntentAccepted"
        assert "TradeBracketPlaced" in kinds and "TradeStopMoved" in kinds
        assert "OrderFilled" in kinds  # the entry's and the target's fills
        moved = next(m for m in t1 if m["type"] == "TradeStopMoved")
        assert moved["event"]["cause"] == "BREAK_EVEN"
        # The view is the trade as it is when sent: after the tranche-1 fill, exact strings.
        assert moved["trade"]["position"] == "70" and moved["trade"]["break_even"] is True
        assert moved["trade"]["stop_trigger"] == "100.00"
        assert all(m["subscription"] == "trader" for m in got)
        assert [
            m for m in seen_by_other if m.get("channel") == "trades" and m.get("trade_id")
        ] == []
