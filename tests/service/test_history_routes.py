"""Closed positions and the P&L/equity history of an account (service/routes_history.py,
runtime/history.py), against figures computed by hand for a small scripted session."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from atlas_oms import Instrument, ManualClock, Node
from atlas_oms.service.app import create_app
from atlas_oms.service.keys import KeyStore
from atlas_oms.service.settings import ServiceSettings

PERP = "ETH/USDT:USDT"
T0 = 1_767_225_600_000_000_000
HOUR = 3_600_000_000_000


def session(node: Node, clock: ManualClock) -> None:
    """t trades a perpetual (taker fee 0.1%, maker 0) against mm:

    buy 1 @ 100, buy 1 @ 110 (long 2, entry 105); funding at rate 0.001, mark 105: t pays
    2 * 105 * 0.001 = 0.21; sell 2 @ 120 (realized (120-100) + (120-110) = 30, flat); sell 1 @ 118
    (short 1); buy 3 @ 116 (realized 118 - 116 = 2, flips to long 2 @ 116).
    """
    node.add_instrument(
        Instrument.perpetual(
            PERP, tick_size="0.01", lot_size="0.001", maker_fee="0", taker_fee="0.001"
        )
    )
    for account in ("mm", "t", "other"):
        node.open_account(account)
        node.deposit(account, "USDT", 10_000)
    node.update_prices(PERP, last="100", mark="100")

    def trade(side: str, qty: str, px: str) -> None:
        if side == "BUY":
            node.sell("mm", PERP, qty, px)
            node.buy("t", PERP, qty, px)
        else:
            node.buy("mm", PERP, qty, px)
            node.sell("t", PERP, qty, px)

    trade("BUY", "1", "100")
    trade("BUY", "1", "110")
    node.set_funding_rate(PERP, "0.001")
    node.update_prices(PERP, mark="105")
    clock.advance(8 * HOUR)
    node.tick()
    trade("SELL", "2", "120")
    trade("SELL", "1", "118")
    trade("BUY", "3", "116")


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


def test_closed_positions_match_the_hand_computed_round_trips(api: Any) -> None:
    r = api("t", "/v1/accounts/t/positions/closed")
    assert r.status_code == 200, r.text
    long_trip, short_trip = r.json()["positions"]
    assert {k: long_trip[k] for k in long_trip if k not in ("opened_seq", "closed_seq")} == {
        "account_id": "t",
        "symbol": PERP,
        "position_side": "BOTH",
        "side": "LONG",
        # Quantities at the lot (0.001), averages at the tick + 4, money at USDT's 8 places.
        "max_qty": "2.000",
        "qty": "2.000",
        "entry_notional": "210.00000000",
        "exit_notional": "240.00000000",
        "entry_avg_px": "105.000000",
        "exit_avg_px": "120.000000",
        "realized_pnl": "30.00000000",
        "fees": "0.45000000",  # 0.100 + 0.110 + 0.240
        "funding": "-0.21000000",
        "pnl_asset": "USDT",
        "opened_ts": T0,
        "closed_ts": T0 + 8 * HOUR,
    }
    assert short_trip["side"] == "SHORT"
    assert (short_trip["entry_avg_px"], short_trip["exit_avg_px"]) == ("118.000000", "116.000000")
    assert short_trip["realized_pnl"] == "2.00000000"
    # The flipping fill's whole fee (3 * 116 * 0.001) goes to the round trip it closes.
    assert Decimal(short_trip["fees"]) == Decimal("0.118") + Decimal("0.348")
    assert short_trip["fees"] == "0.46600000"
    assert short_trip["closed_seq"] > long_trip["closed_seq"]
    assert r.json()["next_after_seq"] is None


def test_closed_positions_page_by_sequence(api: Any) -> None:
    first = api("t", "/v1/accounts/t/positions/closed", limit=1).json()
    assert [p["side"] for p in first["positions"]] == ["LONG"]
    after = first["next_after_seq"]
    assert after == first["positions"][0]["closed_seq"]
    second = api("t", "/v1/accounts/t/positions/closed", limit=1, after_seq=after).json()
    assert [p["side"] for p in second["positions"]] == ["SHORT"]
    assert second["next_after_seq"] is None
    assert api("t", "/v1/accounts/t/positions/closed", symbol="NOPE").json()["positions"] == []


def test_pnl_history_has_running_totals_and_equity_points(api: Any) -> None:
    r = api("t", "/v1/accounts/t/pnl")
    assert r.status_code == 200, r.text
    body = r.json()
    rows = [
        (e["event"], e["realized_pnl"], e["fee"], e["funding"], e["total_net"])
        for e in body["entries"]
    ]
    # Every amount is money in USDT, at its 8 places (service/numbers.py).
    assert rows == [
        ("OrderFilled", "0.00000000", "0.10000000", "0.00000000", "-0.10000000"),
        ("OrderFilled", "0.00000000", "0.11000000", "0.00000000", "-0.21000000"),
        ("FundingSettled", "0.00000000", "0.00000000", "-0.21000000", "-0.42000000"),
        ("OrderFilled", "30.00000000", "0.24000000", "0.00000000", "29.34000000"),
        ("OrderFilled", "0.00000000", "0.11800000", "0.00000000", "29.22200000"),
        ("OrderFilled", "2.00000000", "0.34800000", "0.00000000", "30.87400000"),
    ]
    last = body["entries"][-1]
    assert (last["total_realized_pnl"], last["total_fees"], last["total_funding"]) == (
        "32.00000000",
        "0.91600000",
        "-0.21000000",
    )
    equity = [(e["balance"], e["unrealized_pnl"], e["equity"]) for e in body["equity"]]
    assert equity == [
        ("10000.00000000", "0.00000000", "10000.00000000"),  # the deposit
        ("9999.90000000", "0.00000000", "9999.90000000"),  # long 1 @ 100, mark 100
        ("9999.79000000", "-10.00000000", "9989.79000000"),  # long 2, cost 210, mark 100
        ("9999.58000000", "0.00000000", "9999.58000000"),  # funding paid; mark 105, cost 210
        ("10029.34000000", "0.00000000", "10029.34000000"),  # flat
        ("10029.22200000", "13.00000000", "10042.22200000"),  # short 1 @ 118, mark 105
        ("10030.87400000", "-22.00000000", "10008.87400000"),  # long 2 @ 116, mark 105
    ]
    assert body["next_after_seq"] is None


def test_pnl_history_pages_by_sequence_without_losing_a_row(api: Any) -> None:
    whole = api("t", "/v1/accounts/t/pnl").json()
    entries: list[Any] = []
    equity: list[Any] = []
    after = 0
    pages = 0
    while after is not None:
        page = api("t", "/v1/accounts/t/pnl", limit=2, after_seq=after).json()
        entries += page["entries"]
        equity += page["equity"]
        after = page["next_after_seq"]
        pages += 1
    assert (entries, equity) == (whole["entries"], whole["equity"])
    assert pages == 4  # 7 sequence numbers, 2 per page


def test_history_of_another_account_is_404_and_risk_sees_it(api: Any) -> None:
    for path in ("/v1/accounts/t/positions/closed", "/v1/accounts/t/pnl"):
        r = api("other", path)
        assert r.status_code == 404 and r.json()["reason"] == "UNKNOWN_ACCOUNT"
        assert api("risk", path).status_code == 200
    assert api("t", "/v1/accounts/t/pnl", limit=0).status_code == 400
    assert api("t", "/v1/accounts/t/pnl", after_seq=-1).status_code == 400
