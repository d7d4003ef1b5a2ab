"""Bybit's self-trades (fake): without ``smpType`` an account's taker trades with its own resting
order, and both sides' executions carry the one ``execId`` and ``seq`` of the match (Bybit's
public trade of a match is keyed by that ``execId``); with ``smpType`` the match is prevented as
the docs say (CancelMaker / CancelTaker / CancelBoth, "Self Match Prevention", v5 docs)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from atlas_oms.fakes.bybit import AccountConfig
from atlas_oms.fakes.bybit.venue import FakeBybitVenue

D = Decimal


def _venue() -> tuple[FakeBybitVenue, list[tuple[str, dict[str, Any]]]]:
    venue = FakeBybitVenue(
        [AccountConfig(name="a", api_key="k", secret="s", wallet={"USDT": D(100000), "BTC": D(2)})]
    )
    pushed: list[tuple[str, dict[str, Any]]] = []
    venue.publish = lambda account, topic, rows: pushed.extend((topic, r) for r in rows)
    return venue, pushed


def _order(side: str, **extra: Any) -> dict[str, Any]:
    return {"symbol": "BTCUSDT", "side": side, "orderType": "Limit", "qty": "0.01",
            "price": "50000", "timeInForce": "GTC", **extra}  # fmt: skip


def test_without_smp_the_two_sides_share_one_exec_id_and_seq() -> None:
    venue, pushed = _venue()
    buy = venue.place("a", "spot", _order("Buy"))
    sell = venue.place("a", "spot", _order("Sell"))
    assert buy.status == sell.status == "Filled"
    rows = [r for topic, r in pushed if topic == "execution"]
    assert [r["orderId"] for r in rows] == [buy.order_id, sell.order_id]
    assert rows[0]["execId"] == rows[1]["execId"] and rows[0]["seq"] == rows[1]["seq"]
    assert [r["isMaker"] for r in rows] == [True, False]


@pytest.mark.parametrize(
    ("smp", "maker", "taker"),
    [
        ("CancelMaker", "Cancelled", "New"),
        ("CancelTaker", "New", "Cancelled"),
        ("CancelBoth", "Cancelled", "Cancelled"),
    ],
)
def test_smp_type_prevents_the_self_match(smp: str, maker: str, taker: str) -> None:
    venue, pushed = _venue()
    buy = venue.place("a", "spot", _order("Buy"))
    sell = venue.place("a", "spot", _order("Sell", smpType=smp))
    assert (buy.status, sell.status) == (maker, taker)
    assert not [r for topic, r in pushed if topic == "execution"]
    assert "CancelBySmp" in (buy.cancel_type, sell.cancel_type)
