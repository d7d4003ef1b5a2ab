"""The WebSocket ``consolidated`` channel: a snapshot on subscribe, pushes only when the merged
book changed (throttled), fee-adjusted prices for a visible account only."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from test_stream import SPOT, Env, make_env

from atlas_oms.model.route_book import BookLevel, VenueBook


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    yield from make_env(tmp_path, md_push_every_ms=20, market_maker=False)


def books_until(ws: Any, done: Any) -> list[dict[str, Any]]:
    out = []
    while True:
        msg = ws.receive_json()
        if msg.get("channel") == "consolidated":
            out.append(msg)
            if done(msg):
                return out


def test_consolidated_channel_pushes_changes_of_the_merged_book(env: Env) -> None:
    env.order("bob", "bob", "SELL", "30100", qty="0.3")
    with env.ws("alice") as ws:
        ws.receive_json()
        ws.send_json(
            {
                "op": "subscribe",
                "channel": "consolidated",
                "symbol": SPOT,
                "depth": 3,
                "account_id": "alice",
            }
        )
        assert ws.receive_json() == {
            "op": "subscribed",
            "channel": "consolidated",
            "symbol": SPOT,
            "depth": 3,
        }
        first = books_until(ws, lambda m: True)[0]
        assert [(a["venue"], a["price"]) for a in first["asks"]] == [("sim", "30100")]
        md = env.client.app.state.service.market_data  # type: ignore[attr-defined]
        md.apply(
            VenueBook(
                venue="bybit",
                symbol="BTC/USDT@bybit",
                asks=(BookLevel(Decimal("30050"), Decimal("1")),),
                ts=env.node.clock.now(),
            )
        )
        later = books_until(ws, lambda m: len(m["asks"]) == 2)
        assert [a["venue"] for a in later[-1]["asks"]] == ["bybit", "sim"]
        ws.send_json(
            {"op": "subscribe", "channel": "consolidated", "symbol": SPOT, "account_id": "bob"}
        )
        assert ws.receive_json()["reason"] == "UNKNOWN_ACCOUNT"
        ws.send_json({"op": "unsubscribe", "channel": "consolidated", "symbol": SPOT})
        assert ws.receive_json()["op"] == "unsubscribed"
