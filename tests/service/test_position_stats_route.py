"""GET /v1/accounts/{account_id}/position-stats: the position statistics over REST, with the
access rules of the other account reads."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from test_history_routes import PERP, T0, session

from atlas_oms import ManualClock, Node
from atlas_oms.service.app import create_app
from atlas_oms.service.keys import KeyStore
from atlas_oms.service.settings import ServiceSettings


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Any]:
    keys = KeyStore(tmp_path / "keys.json")
    tokens = {
        "t": keys.issue(("trader",), ("t",)).token,
        "other": keys.issue(("trader",), ("other",)).token,
        "risk": keys.issue(("risk",)).token,
    }
    clock = ManualClock(T0)
    node = Node.open(str(tmp_path / "atlas.db"), clock=clock)
    session(node, clock)
    settings = ServiceSettings(data_dir=tmp_path, rate_limit_per_s=1000)
    with TestClient(create_app(settings, node=node, keys=keys)) as client:

        def call(who: str, path: str, **params: Any) -> Any:
            return client.get(path, headers={"X-API-Key": tokens[who]}, params=params)

        yield call
    node.close()


def test_position_stats_of_the_scripted_session(api: Any) -> None:
    # t: round trip long 2 (realized 30, fees 0.45, funding -0.21) and round trip short 1
    # (realized 2, fees 0.118 + the flipping fill's 0.348): two winners; long 2 @ 116 open.
    reply = api("t", "/v1/accounts/t/position-stats")
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["account_id"] == "t"
    assert (body["open_positions"], body["closed_trades"], body["wins"]) == (1, 2, 2)
    assert body["win_rate"] == "100.00"
    (row,) = body["symbols"]
    assert row["symbol"] == PERP and Decimal(row["qty"]) == 2
    assert Decimal(row["realized_pnl"]) == 32
    assert Decimal(row["funding"]) == Decimal("-0.21")
    usdt = body["by_asset"]["USDT"]
    assert Decimal(body["total_pnl"]) == Decimal(usdt["total_pnl"])
    assert Decimal(usdt["total_pnl"]) == (
        Decimal(usdt["realized_pnl"])
        + Decimal(usdt["unrealized_pnl"])
        - Decimal(usdt["fees"])
        + Decimal(usdt["funding"])
    )


def test_position_stats_filtered_by_symbol(api: Any) -> None:
    body = api("t", "/v1/accounts/t/position-stats", symbol="BTC/USDT").json()
    assert (body["open_positions"], body["closed_trades"], body["symbols"]) == (0, 0, [])
    assert body["win_rate"] is None


def test_position_stats_follow_the_account_access_rules(api: Any) -> None:
    # as every account read: another trader gets 404 (the account is not revealed)
    assert api("other", "/v1/accounts/t/position-stats").status_code == 404
    assert api("risk", "/v1/accounts/t/position-stats").status_code == 200
    assert api("risk", "/v1/accounts/ghost/position-stats").status_code == 404
