"""GET /v1/venue-positions and POST /v1/margin/estimate (issue 15 §2): the venue's own margin
figures and Atlas's estimate by the venue's convention over REST, with the account access rules.

Source of the figures: Bybit help centre "Liquidation Price (USDT Contract)",
https://testnet.bybit.com/en-US/help-center/s/article/Liquidation-Price-USDT-Contract ("long
entry of 1 BTC at 20,000 USDT with 50x leverage ... MMR is 0.5% ... 19,700 USDT")."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from atlas_oms import Instrument, ManualClock, Node
from atlas_oms.model.margin import MarginMode, single_tier
from atlas_oms.model.venue import ReconcileVenue, SetVenueStatus, VenuePosition
from atlas_oms.service.app import create_app
from atlas_oms.service.keys import KeyStore
from atlas_oms.service.settings import ServiceSettings

D = Decimal
PERP = "BTC/USDT:USDT"


class _Stub:
    synchronous = False
    name = "bybitlinear"

    def handle(self, request: Any) -> list[Any]:
        return []


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Any]:
    keys = KeyStore(tmp_path / "keys.json")
    tokens = {
        "t": keys.issue(("trader",), ("t",)).token,
        "other": keys.issue(("trader",), ("other",)).token,
    }
    node = Node.open(str(tmp_path / "atlas.db"), clock=ManualClock(1_000), venues=[_Stub()])
    node.add_instrument(
        Instrument.perpetual(PERP, tick_size="0.1", lot_size="0.001", venue="bybitlinear")
    )
    node.set_margin_tiers(PERP, single_tier(D("0.005"), D(100)), actor="test")
    node.open_account("t")
    node.open_account("other")
    node.deposit("t", "USDT", 10_000)
    node.set_leverage("t", PERP, 50)
    node.set_margin_mode("t", PERP, MarginMode.ISOLATED)
    node.process(SetVenueStatus(venue="bybitlinear", account_id="t", tradable=True, reason="READY"))
    node.process(
        ReconcileVenue(
            ts=2_000,
            venue="bybitlinear",
            account_id="t",
            reason="PERIODIC",
            positions=(
                VenuePosition(
                    symbol=PERP,
                    qty=D(1),
                    entry_price=D(20_000),
                    leverage=D(50),
                    margin_mode="isolated",
                    liquidation_price=D(19_700),
                    mark_price=D(19_950),
                    maintenance_margin=D(100),
                    initial_margin=D(400),
                ),
            ),
        )
    )
    settings = ServiceSettings(data_dir=tmp_path, rate_limit_per_s=1000)
    with TestClient(create_app(settings, node=node, keys=keys)) as client:

        def call(who: str, method: str, path: str, **kw: Any) -> Any:
            return client.request(method, path, headers={"X-API-Key": tokens[who]}, **kw)

        yield call
    node.close()


def test_venue_positions_show_the_venues_figures_next_to_atlas_estimate(api: Any) -> None:
    reply = api("t", "GET", "/v1/venue-positions", params={"account_id": "t"})
    assert reply.status_code == 200, reply.text
    (row,) = reply.json()
    assert row["venue"] == "bybitlinear" and row["convention"] == "bybit"
    assert D(row["venue_liquidation_price"]) == 19_700
    assert D(row["venue_maint_margin"]) == 100 and D(row["venue_initial_margin"]) == 400
    assert D(row["estimate_liquidation_price"]) == 19_700
    assert D(row["atlas_liquidation_price"]) == 19_700
    assert api("other", "GET", "/v1/venue-positions", params={"account_id": "t"}).status_code == 404


def test_margin_estimate_before_a_fill_follows_the_venue(api: Any) -> None:
    body = {
        "account_id": "t",
        "symbol": PERP,
        "side": "BUY",
        "order_type": "LIMIT",
        "qty": "1",
        "price": "22000",
    }
    reply = api("t", "POST", "/v1/margin/estimate", json=body)
    assert reply.status_code == 200, reply.text
    est = reply.json()
    assert est["convention"] == "bybit" and D(est["qty_after"]) == 2
    assert D(est["entry_after"]) == 21_000 and D(est["liquidation_price"]) == 20_685
    bad = api("t", "POST", "/v1/margin/estimate", json=body, params={"price": "-1"})
    assert bad.status_code == 422
    assert api("other", "POST", "/v1/margin/estimate", json=body).status_code == 404
