"""Linked orders over REST: an OCO whose filled leg cancels the other, a bracket whose exits are
released by the entry's fill, and a list refused as a whole (nothing placed)."""

from __future__ import annotations

from pathlib import Path

from tests.service.order_rest import SPOT, order_api


def leg(side: str, price: str, qty: str = "0.1") -> dict[str, str]:
    return {"symbol": SPOT, "side": side, "order_type": "LIMIT", "qty": qty, "price": price}


def test_an_oco_whose_leg_fills_cancels_the_other(tmp_path: Path) -> None:
    with order_api(tmp_path) as api:
        r = api.client.post(
            "/v1/order-lists",
            json={
                "account_id": "alice",
                "kind": "OCO",
                "orders": [
                    {"account_id": "alice", **leg("SELL", "31000")},
                    {"account_id": "alice", **leg("SELL", "32000")},
                ],
            },
            headers=api.headers,
        )
        assert r.status_code == 201, r.text
        listed = r.json()
        first, second = listed["legs"]
        # bob buys at 31000: the first leg fills, the engine cancels the second.
        api.node.submit("bob", SPOT, "BUY", "LIMIT", "0.1", "31000")
        assert api.node.order(first).status == "FILLED"
        assert api.node.order(second).status == "CANCELED"
        got = api.client.get(f"/v1/order-lists/{listed['list_id']}", headers=api.headers)
        assert got.status_code == 200 and got.json()["open"] is False


def test_a_bracket_releases_its_exits_when_the_entry_fills(tmp_path: Path) -> None:
    with order_api(tmp_path) as api:
        r = api.client.post(
            "/v1/order-lists",
            json={
                "account_id": "alice",
                "kind": "BRACKET",
                "orders": [
                    {"account_id": "alice", **leg("BUY", "30000")},
                    {"account_id": "alice", **leg("SELL", "33000")},
                    {
                        "account_id": "alice",
                        "symbol": SPOT,
                        "side": "SELL",
                        "order_type": "STOP_MARKET",
                        "qty": "0.1",
                        "trigger_price": "28000",
                    },
                ],
            },
            headers=api.headers,
        )
        assert r.status_code == 201, r.text
        listed = r.json()
        assert listed["held_children"] == 2 and listed["released"] == []
        api.node.submit("bob", SPOT, "SELL", "LIMIT", "0.1", "30000")
        released = api.client.get(f"/v1/order-lists/{listed['list_id']}", headers=api.headers)
        assert len(released.json()["released"]) == 2


def test_a_list_with_an_order_of_another_account_is_refused_and_nothing_is_placed(
    tmp_path: Path,
) -> None:
    with order_api(tmp_path) as api:
        before = api.node.seq
        r = api.client.post(
            "/v1/order-lists",
            json={
                "account_id": "alice",
                "kind": "OCO",
                "orders": [
                    {"account_id": "alice", **leg("SELL", "31000")},
                    {"account_id": "bob", **leg("SELL", "32000")},
                ],
            },
            headers=api.headers,
        )
        assert (r.status_code, r.json()["reason"]) == (422, "INVALID_ORDER_LIST")
        assert api.node.seq == before
        missing = api.client.get("/v1/order-lists/999", headers=api.headers)
        assert (missing.status_code, missing.json()["reason"]) == (404, "UNKNOWN_ORDER_LIST")
