"""The USDⓈ-M shapes built from a real node (binance_api/futures_wire.py): a position opened on
the built-in exchange shows in positionRisk, account, balance and the user-stream events as
Binance shows them; brackets come from the instrument's tiers; liquidations look like Binance's."""

from __future__ import annotations

from decimal import Decimal

import pytest

from atlas_oms.binance_api import futures_reference as fr
from atlas_oms.binance_api import futures_wire as fw
from atlas_oms.model import events as ev
from atlas_oms.runtime.node import Node
from atlas_oms.service.bootstrap import DESK, MAKER, default_instruments, first_start

PERP = "BTC/USDT:USDT"


@pytest.fixture
def node() -> Node:
    n = Node()
    first_start(n, default_instruments())
    return n


def _long(node: Node, qty: str = "0.5", price: str = "60000") -> int:
    node.submit(MAKER, PERP, "SELL", "LIMIT", qty, price, client_order_id="mk1")
    view = node.submit(DESK, PERP, "BUY", "LIMIT", qty, price, client_order_id="bot-1")
    return view.order_id


def test_only_perpetuals_show_under_their_binance_id(node: Node) -> None:
    perps = fw.perpetuals(node)
    assert list(perps) == ["BTCUSDT"]
    assert perps["BTCUSDT"].symbol == PERP


def test_exchange_info_carries_tick_lot_and_margin_asset(node: Node) -> None:
    info = fr.exchange_info(node, 1, [])
    (sym,) = info["symbols"]
    assert sym["symbol"] == "BTCUSDT" and sym["contractType"] == "PERPETUAL"
    assert sym["marginAsset"] == "USDT"
    assert sym["pricePrecision"] == 1 and sym["quantityPrecision"] == 3
    filters = {f["filterType"]: f for f in sym["filters"]}
    assert filters["PRICE_FILTER"]["tickSize"] == "0.1"
    assert filters["LOT_SIZE"]["stepSize"] == "0.001"


def test_leverage_brackets_are_the_instruments_tiers(node: Node) -> None:
    (entry,) = fw.leverage_brackets(node, "BTCUSDT")
    b = entry["brackets"]
    assert [x["initialLeverage"] for x in b] == [125, 100, 50, 20]
    assert b[1]["notionalFloor"] == 50000 and b[1]["notionalCap"] == 250000
    assert b[1]["maintMarginRatio"] == 0.005 and b[1]["cum"] == 50.0


def test_a_filled_order_shows_in_binance_order_shape(node: Node) -> None:
    oid = _long(node)
    view = node.order(oid)
    inst = fw.perpetuals(node)["BTCUSDT"]
    body = fw.order_json(inst, view, query=True)
    assert body["status"] == "FILLED" and body["clientOrderId"] == "bot-1"
    assert body["executedQty"] == "0.500" and body["avgPrice"] == "60000.0"
    assert body["cumQuote"] == "30000" and body["positionSide"] == "BOTH"
    assert "cumQty" not in body and "time" in body


def test_position_risk_shows_the_nodes_position_leverage_and_liquidation(node: Node) -> None:
    _long(node)
    (row,) = fw.position_risk(node, DESK, "BTCUSDT", v3=True)
    assert row["positionAmt"] == "0.5" and row["entryPrice"] == "60000"
    assert row["leverage"] == "10" and row["marginType"] == "cross"
    assert Decimal(row["notional"]) == Decimal(30000)
    assert Decimal(row["initialMargin"]) == Decimal(3000)
    assert Decimal(row["liquidationPrice"]) == 0  # cross, 1M USDT behind it: none
    flat = fw.position_risk(node, "desk-algo", None, v3=False)
    assert flat[0]["positionAmt"] == "0"
    assert fw.position_risk(node, "desk-algo", None, v3=True) == []


def test_account_and_balance_show_wallet_and_available(node: Node) -> None:
    _long(node)
    acct = fw.account_json(node, DESK, 5)
    usdt = next(a for a in acct["assets"] if a["asset"] == "USDT")
    bal = node.balance(DESK, "USDT")
    assert Decimal(usdt["walletBalance"]) == bal.total
    assert Decimal(usdt["availableBalance"]) == bal.free
    assert Decimal(acct["totalWalletBalance"]) == bal.total
    (pos,) = acct["positions"]
    assert pos["symbol"] == "BTCUSDT" and pos["positionAmt"] == "0.5"
    rows = {b["asset"]: b for b in fw.balance_json(node, DESK, 5)}
    assert Decimal(rows["USDT"]["availableBalance"]) == bal.free


def test_premium_index_has_mark_rate_and_next_funding(node: Node) -> None:
    node.set_funding_rate(PERP, "0.0001")
    inst = fw.perpetuals(node)["BTCUSDT"]
    body = fr.premium_index(node, inst, 7)
    assert body["markPrice"] == "60000.00000000"
    assert body["lastFundingRate"] == "0.00010000"
    funding = node.funding(PERP)
    assert body["nextFundingTime"] == fw.ms(funding.next_funding_ts)


def test_order_trade_update_and_account_update_after_a_fill(node: Node) -> None:
    oid = _long(node)
    inst = fw.perpetuals(node)["BTCUSDT"]
    fill = next(f for f in node.fills(DESK) if f.order_id == oid)
    otu = fw.order_trade_update(inst, node.order(oid), "TRADE", 9, fill)
    o = otu["o"]
    assert otu["e"] == "ORDER_TRADE_UPDATE"
    assert (o["x"], o["X"], o["l"], o["L"], o["c"]) == (
        "TRADE",
        "FILLED",
        "0.500",
        "60000.0",
        "bot-1",
    )
    assert o["N"] == "USDT" and Decimal(o["n"]) == fill.fee
    au = fw.account_update(node, DESK, [PERP], ["USDT"], "ORDER", 9)
    assert au["a"]["m"] == "ORDER"
    assert au["a"]["P"][0]["pa"] == "0.5" and au["a"]["P"][0]["ps"] == "BOTH"
    assert Decimal(au["a"]["B"][0]["wb"]) == node.balance(DESK, "USDT").total


def test_a_liquidation_shows_as_binance_autoclose_order(node: Node) -> None:
    node.open_account("thin")
    node.deposit("thin", "USDT", 700)
    node.set_leverage("thin", PERP, 50)
    node.submit(MAKER, PERP, "SELL", "LIMIT", "0.5", "60000")
    node.submit("thin", PERP, "BUY", "LIMIT", "0.5", "60000")
    node.submit(MAKER, PERP, "BUY", "LIMIT", "5", "58700")  # the bid the liquidation hits
    node.update_prices(PERP, mark="58800", last="58800")
    started = [e for e in node.liquidations("thin") if isinstance(e, ev.LiquidationStarted)]
    assert started, "the under-margined long must be liquidated"
    step = next(e for e in node.liquidations("thin") if isinstance(e, ev.LiquidationStep))
    assert step.order_id is not None
    inst = fw.perpetuals(node)["BTCUSDT"]
    view = node.order(step.order_id)
    fill = next(f for f in node.fills("thin") if f.order_id == step.order_id)
    o = fw.order_trade_update(inst, view, "TRADE", 1, fill)["o"]
    assert o["c"] == f"autoclose-{step.order_id}"
    assert (o["o"], o["ot"], o["x"]) == ("LIQUIDATION", "LIQUIDATION", "CALCULATED")
    assert fw.order_id_of_client_id(o["c"]) == step.order_id
    assert fw.order_json(inst, view)["clientOrderId"].startswith("autoclose-")


@pytest.mark.parametrize(
    ("value", "text"),
    [(Decimal("1E+1"), "10"), (Decimal("0.000100"), "0.0001"), (Decimal(0), "0"), (None, "0")],
)
def test_plain_numbers_never_use_exponents(value: Decimal | None, text: str) -> None:
    assert fw.plain(value) == text


def test_user_stream_pushes_only_once_durable_with_the_state_of_its_batch(node: Node) -> None:
    from atlas_oms.binance_api.futures_stream import FuturesUserStream

    stream = FuturesUserStream(node)
    node.subscribe(stream.on_processed)
    got: list[dict[str, object]] = []
    stream.attach(DESK, got.append)
    seen: list[list[ev.EventBase]] = []
    node.subscribe(seen.append)
    oid = _long(node)
    assert got == []  # nothing is durable yet
    # a later batch that is not yet durable must not leak into the first one's figures
    node.submit(MAKER, PERP, "SELL", "LIMIT", "0.25", "60000")
    node.submit(DESK, PERP, "BUY", "LIMIT", "0.25", "60000")
    stream.on_durable(seen[1])  # the desk's first order's batch
    kinds = [(p["e"], p.get("o", {}).get("x")) for p in got]  # type: ignore[union-attr]
    assert ("ORDER_TRADE_UPDATE", "NEW") in kinds and ("ORDER_TRADE_UPDATE", "TRADE") in kinds
    trade = next(p for p in got if p.get("o", {}).get("x") == "TRADE")  # type: ignore[union-attr]
    assert trade["o"]["i"] == oid and trade["o"]["z"] == "0.500"  # type: ignore[index]
    update = next(p for p in got if p["e"] == "ACCOUNT_UPDATE")
    assert update["a"]["P"][0]["pa"] == "0.5"  # type: ignore[index]  # not 0.75
    got.clear()
    stream.on_durable(seen[-1])
    update = next(p for p in got if p["e"] == "ACCOUNT_UPDATE")
    assert update["a"]["P"][0]["pa"] == "0.75"  # type: ignore[index]


def test_income_lists_commissions_and_funding(node: Node) -> None:
    _long(node)
    rows = fr.income(node, DESK)
    kinds = {r["incomeType"] for r in rows}
    assert "COMMISSION" in kinds
    fee = next(r for r in rows if r["incomeType"] == "COMMISSION")
    assert Decimal(fee["income"]) < 0 and fee["symbol"] == "BTCUSDT" and fee["asset"] == "USDT"


def test_a_hedge_mode_account_shows_long_and_short_legs(node: Node) -> None:
    from atlas_oms.model.enums import PositionMode

    node.open_account("hedger", position_mode=PositionMode.HEDGE)
    node.deposit("hedger", "USDT", 100000)
    node.submit(MAKER, PERP, "SELL", "LIMIT", "0.2", "60000")
    node.submit("hedger", PERP, "BUY", "LIMIT", "0.2", "60000", position_side="LONG")
    node.submit(MAKER, PERP, "BUY", "LIMIT", "0.1", "60000")
    node.submit("hedger", PERP, "SELL", "LIMIT", "0.1", "60000", position_side="SHORT")
    rows = {r["positionSide"]: r for r in fw.position_risk(node, "hedger", "BTCUSDT", v3=True)}
    assert rows["LONG"]["positionAmt"] == "0.2" and rows["SHORT"]["positionAmt"] == "-0.1"
    assert fw.position_mode(node, "hedger") is PositionMode.HEDGE
