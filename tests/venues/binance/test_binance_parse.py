"""Binance JSON (fixtures from Binance's docs and real samples) into Atlas's venue language
(venues/binance/parse.py)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from atlas_oms.model.enums import InstrumentKind, LiquiditySide, PositionSide, Side, TimeInForce
from atlas_oms.model.venue import FactSource, VenueOrderState
from atlas_oms.venues.binance import parse as p

FIXTURES = Path(__file__).parent / "fixtures"
D = Decimal


def fixture(name: str) -> Any:
    data = json.loads((FIXTURES / name).read_text())
    assert data.pop("_source"), f"{name} names the page it imitates"
    return data.get("data", data) if set(data) == {"data"} else data


def decode(client_order_id: str) -> int | None:
    prefix = "atk3f9q2x"
    tail = client_order_id[len(prefix) :]
    return int(tail) if client_order_id.startswith(prefix) and tail.isdigit() else None


def ctx(venue: str = "binance") -> p.Context:
    c = p.Context(venue, "acc-1", decode)
    c.symbols.update(
        {"ETHBTC": "ETH/BTC", "ETHUSDT": "ETH/USDT", "BTCUSDT": "BTC/USDT", "BNBBTC": "BNB/BTC"}
    )
    if venue == "binanceusdm":
        c.symbols["BTCUSDT"] = "BTC/USDT:USDT"
        c.settle["BTCUSDT"] = "USDT"
    return c


def test_every_fixture_names_its_source() -> None:
    for path in FIXTURES.glob("*.json"):
        assert json.loads(path.read_text()).get("_source"), path.name


# --------------------------------------------------------------------------- spot stream
def test_a_spot_execution_report_inside_the_ws_api_wrapper_is_an_accepted_order() -> None:
    update = p.parse_execution_report(
        p.unwrap(fixture("spot_execution_report_new_wrapped.json")), ctx()
    )
    order = update.order
    assert update.exec_type == "NEW" and update.fill is None
    assert update.source is FactSource.STREAM
    assert (order.symbol, order.venue_symbol, order.venue_order_id) == (
        "ETH/BTC",
        "ETHBTC",
        "4293153",
    )
    assert order.state is VenueOrderState.NEW
    assert (order.qty, order.price, order.cum_qty, order.avg_px) == (
        D("1"),
        D("0.10264410"),
        0,
        None,
    )
    assert order.client_order_id == "mUvoqJxFIILMdfAW5iGSOW" and order.order_id is None
    assert order.ts == 1499405658657 * 1_000_000


def test_a_spot_trade_carries_trade_id_fee_asset_and_maker_flag() -> None:
    update = p.parse_execution_report(fixture("spot_execution_report_trade.json"), ctx())
    fill = update.fill
    assert fill is not None
    assert (fill.trade_id, fill.qty, fill.px) == ("98765432", D("1"), D("2500"))
    assert (fill.fee, fill.fee_asset, fill.liquidity_side) == (
        D("0.001"),
        "ETH",
        LiquiditySide.MAKER,
    )
    assert update.order.state is VenueOrderState.FILLED
    assert update.order.avg_px == D("2500")


def test_quantities_come_from_cumulative_filled_not_from_the_status() -> None:
    raw = dict(fixture("spot_execution_report_trade.json"))
    raw.update({"X": "PARTIALLY_FILLED", "q": "3", "l": "0.4", "z": "1.2", "Z": "3000.00"})
    order = p.parse_execution_report(raw, ctx()).order
    assert (order.cum_qty, order.avg_px, order.state) == (
        D("1.2"),
        D("2500"),
        VenueOrderState.PARTIALLY_FILLED,
    )
    assert order.leaves_qty == D("1.8")
    raw.update({"X": "NEW"})  # a status that lags the fills never hides them
    assert p.parse_execution_report(raw, ctx()).order.state is VenueOrderState.PARTIALLY_FILLED


def test_an_ioc_remainder_is_expired_with_the_venues_reason() -> None:
    update = p.parse_execution_report(fixture("spot_execution_report_expired.json"), ctx())
    assert update.order.state is VenueOrderState.EXPIRED
    assert update.order.tif is TimeInForce.IOC
    assert update.order.reason == "INSUFFICIENT_LIQUIDITY"
    assert update.fill is None


def test_a_canceled_spot_order_is_known_by_its_original_client_id() -> None:
    raw = dict(fixture("spot_execution_report_trade.json"))
    raw.update(
        {
            "x": "CANCELED",
            "X": "CANCELED",
            "c": "cancelReq1",
            "C": "atk3f9q2x1042",
            "t": -1,
            "l": "0",
        }
    )
    update = p.parse_execution_report(raw, ctx())
    assert update.order.client_order_id == "atk3f9q2x1042"
    assert update.order.order_id == 1042
    assert update.order.state is VenueOrderState.CANCELED and update.fill is None


def test_a_spot_balance_update_lists_the_changed_assets() -> None:
    update = p.parse_outbound_account_position(
        p.unwrap(fixture("spot_account_position_wrapped.json")), ctx()
    )
    assert [(b.asset, b.free, b.locked) for b in update.balances] == [("ETH", D("10000"), D("0"))]
    assert update.complete is False


# --------------------------------------------------------------------------- spot REST
def test_a_full_place_answer_carries_its_fills_as_taker_executions() -> None:
    raw = fixture("spot_new_order_full.json")
    order = p.parse_order(raw, ctx(), futures=False)
    fills = p.parse_full_fills(raw, order)
    assert order.state is VenueOrderState.FILLED and order.cum_qty == D("10")
    assert order.order_type == "MARKET" and order.price is None
    assert [f.trade_id for f in fills] == ["56", "57", "58", "59", "60"]
    assert sum(f.qty for f in fills) == order.cum_qty
    assert {f.liquidity_side for f in fills} == {LiquiditySide.TAKER}
    assert fills[1].fee == D("19.995") and fills[1].fee_asset == "USDT"
    assert all(f.side is Side.SELL for f in fills)


def test_a_query_answer_is_an_order() -> None:
    order = p.parse_order(fixture("spot_query_order.json"), ctx(), futures=False)
    assert (order.venue_symbol, order.state, order.qty, order.price) == (
        "LTCBTC",
        VenueOrderState.NEW,
        D("1.0"),
        D("0.1"),
    )
    assert order.symbol == "LTCBTC"  # an instrument not loaded keeps the venue's name


def test_a_limit_maker_is_a_post_only_limit() -> None:
    raw = dict(fixture("spot_query_order.json"), type="LIMIT_MAKER", clientOrderId="atk3f9q2x7")
    order = p.parse_order(raw, ctx(), futures=False)
    assert (order.order_type, order.post_only, order.order_id) == ("LIMIT", True, 7)


def test_my_trades_rows_are_fills_with_the_fee_in_bnb() -> None:
    (row,) = fixture("spot_my_trades.json")
    fill = p.parse_trade(row, ctx(), futures=False, client_order_id="atk3f9q2x55")
    assert (fill.symbol, fill.trade_id, fill.venue_order_id, fill.order_id) == (
        "BNB/BTC",
        "28457",
        "100234",
        55,
    )
    assert (fill.side, fill.qty, fill.px) == (Side.BUY, D("12"), D("4.00000100"))
    assert (fill.fee, fill.fee_asset, fill.liquidity_side) == (
        D("10.1"),
        "BNB",
        LiquiditySide.TAKER,
    )


def test_spot_account_balances_skip_empty_assets() -> None:
    balances = p.parse_spot_balances(fixture("spot_account.json"))
    assert [b.asset for b in balances] == ["BTC", "LTC"]
    assert balances[0].free == D("4723846.89208129")


def test_spot_exchange_info_becomes_atlas_instruments() -> None:
    ethbtc, bnbbtc = p.parse_exchange_info(
        fixture("spot_exchange_info.json"), "binance", futures=False
    )
    inst = ethbtc.instrument
    assert (inst.symbol, inst.kind, inst.venue, inst.venue_symbol) == (
        "ETH/BTC",
        InstrumentKind.SPOT,
        "binance",
        "ETHBTC",
    )
    assert (inst.tick_size, inst.lot_size, inst.min_qty, inst.max_qty) == (
        D("0.000001"),
        D("0.001"),
        D("0.001"),
        D("100000"),
    )
    assert inst.min_notional == D("0.0001") and inst.tradable
    assert ethbtc.order_types[:2] == ("LIMIT", "MARKET") and "STOP_LIMIT" in ethbtc.order_types
    assert bnbbtc.status == "BREAK" and not bnbbtc.instrument.tradable
    assert bnbbtc.instrument.min_notional == D("0.001")  # legacy MIN_NOTIONAL


# --------------------------------------------------------------------------- USDⓈ-M
def test_a_futures_partial_fill_has_position_side_realized_pnl_and_avg_price() -> None:
    update = p.parse_order_trade_update(
        fixture("usdm_order_update_trade_partial.json"), ctx("binanceusdm")
    )
    order, fill = update.order, update.fill
    assert order.symbol == "BTC/USDT:USDT" and order.state is VenueOrderState.PARTIALLY_FILLED
    assert (order.cum_qty, order.avg_px, order.position_side) == (
        D("0.001"),
        D("7100.50"),
        PositionSide.LONG,
    )
    assert fill is not None
    assert (fill.trade_id, fill.qty, fill.px, fill.fee, fill.fee_asset) == (
        "12345678",
        D("0.001"),
        D("7100.50"),
        D("0.01"),
        "USDT",
    )
    assert fill.realized_pnl == D("12.34") and fill.liquidity_side is LiquiditySide.MAKER


def test_an_exchange_generated_auto_close_is_an_external_order() -> None:
    update = p.parse_order_trade_update(fixture("usdm_order_update_adl.json"), ctx("binanceusdm"))
    assert update.exec_type == "CALCULATED"
    assert update.order.order_id is None and update.order.client_order_id == "adl_autoclose_12345"
    assert update.order.state is VenueOrderState.FILLED and update.order.reduce_only
    assert update.fill is not None and update.fill.order_id is None
    for cid in ("autoclose-1700000000", "settlement_autoclose-BTCUSDT", "adl_autoclose"):
        assert p.is_exchange_generated(cid)
    assert ctx().order_id("autoclose-atk3f9q2x1") is None


def test_a_futures_fill_without_commission_takes_the_settle_asset() -> None:
    raw = fixture("usdm_order_update_trade_partial.json")
    raw["o"] = {k: v for k, v in raw["o"].items() if k not in ("n", "N")}
    fill = p.parse_order_trade_update(raw, ctx("binanceusdm")).fill
    assert fill is not None and (fill.fee, fill.fee_asset) == (D(0), "USDT")


def test_a_gtx_order_is_post_only() -> None:
    raw = fixture("usdm_order_update_trade_partial.json")
    raw["o"]["f"] = "GTX"
    order = p.parse_order_trade_update(raw, ctx("binanceusdm")).order
    assert order.post_only and order.tif is TimeInForce.GTC


def test_an_account_update_gives_wallet_balances_and_the_legs_that_changed() -> None:
    balances, positions = p.parse_account_update(
        fixture("usdm_account_update.json"), ctx("binanceusdm")
    )
    assert [(b.asset, b.free) for b in balances.balances] == [("USDT", D("122624.12345678"))]
    legs = {pos.position_side: pos for pos in positions.positions}
    assert legs[PositionSide.BOTH].qty == 0
    assert (legs[PositionSide.LONG].qty, legs[PositionSide.LONG].entry_price) == (
        D("20"),
        D("6563.6"),
    )
    assert legs[PositionSide.SHORT].qty == D("10")  # hedge legs are positive
    assert legs[PositionSide.SHORT].margin_mode == "isolated"


def test_a_futures_place_answer_is_an_order() -> None:
    order = p.parse_order(fixture("usdm_order_response.json"), ctx("binanceusdm"), futures=True)
    assert (order.symbol, order.state, order.position_side, order.avg_px) == (
        "BTC/USDT:USDT",
        VenueOrderState.NEW,
        PositionSide.BOTH,
        None,
    )


def test_user_trades_rows_keep_position_side_and_pnl() -> None:
    (row,) = fixture("usdm_user_trades.json")
    fill = p.parse_trade(row, ctx("binanceusdm"), futures=True)
    assert (fill.side, fill.liquidity_side, fill.position_side) == (
        Side.BUY,
        LiquiditySide.MAKER,
        PositionSide.LONG,
    )
    assert fill.realized_pnl == D("12.34") and fill.order_id is None


def test_hedge_mode_position_risk_gives_two_positive_legs() -> None:
    legs = p.parse_position_risk(fixture("usdm_position_risk_hedge.json"), ctx("binanceusdm"))
    assert [(x.position_side, x.qty, x.entry_price) for x in legs] == [
        (PositionSide.LONG, D("0.005"), D("50000.0")),
        (PositionSide.SHORT, D("0.002"), D("52000.0")),
    ]
    assert legs[0].leverage == D("20") and legs[0].margin_mode == "cross"
    assert legs[0].symbol == "BTC/USDT:USDT"


def test_a_one_way_position_is_signed() -> None:
    rows = fixture("usdm_position_risk_hedge.json")
    rows[1]["positionSide"] = "BOTH"
    rows[0]["positionAmt"] = "0"
    (leg,) = p.parse_position_risk(rows, ctx("binanceusdm"))
    assert (leg.position_side, leg.qty) == (PositionSide.BOTH, D("-0.002"))


def test_futures_account_balances_are_wallet_balances() -> None:
    assert [(b.asset, b.free) for b in p.parse_futures_balances(fixture("usdm_account.json"))] == [
        ("USDT", D("23.72469206"))
    ]


def test_futures_exchange_info_gives_perpetuals_and_dated_futures() -> None:
    perp, quarterly = p.parse_exchange_info(
        fixture("usdm_exchange_info.json"), "binanceusdm", futures=True
    )
    assert perp.instrument.symbol == "BTC/USDT:USDT"
    assert perp.instrument.kind is InstrumentKind.PERPETUAL
    assert (perp.instrument.settle, perp.instrument.multiplier, perp.instrument.min_notional) == (
        "USDT",
        1,
        D("5"),
    )
    assert (perp.instrument.tick_size, perp.instrument.lot_size) == (D("0.10"), D("0.001"))
    assert perp.venue_symbol == "BTCUSDT" and perp.instrument.venue == "binanceusdm"
    assert quarterly.instrument.symbol == "BTC/USDT:USDT-260925"
    assert quarterly.instrument.kind is InstrumentKind.FUTURE
    assert quarterly.instrument.expiry_ts == 1790323200000 * 1_000_000


@pytest.mark.parametrize(
    ("status", "cum", "state"),
    [
        ("NEW", "0", VenueOrderState.NEW),
        ("PENDING_NEW", "0", VenueOrderState.NEW),
        ("PARTIALLY_FILLED", "1", VenueOrderState.PARTIALLY_FILLED),
        ("FILLED", "2", VenueOrderState.FILLED),
        ("CANCELED", "1", VenueOrderState.CANCELED),
        ("PENDING_CANCEL", "1", VenueOrderState.PARTIALLY_FILLED),
        ("REJECTED", "0", VenueOrderState.REJECTED),
        ("EXPIRED", "1", VenueOrderState.EXPIRED),
        ("EXPIRED_IN_MATCH", "0", VenueOrderState.EXPIRED),
        ("NEW_INSURANCE", "2", VenueOrderState.FILLED),
    ],
)
def test_status_mapping_follows_the_reference(
    status: str, cum: str, state: VenueOrderState
) -> None:
    assert p.order_state(status, D(2), D(cum)) is state


# --------------------------------------------------------------------------- public streams
def test_public_stream_messages_become_price_ticks() -> None:
    c = ctx("binanceusdm")
    c.symbols["BNBUSDT"] = "BNB/USDT:USDT"
    mark = p.parse_price_tick(fixture("usdm_mark_price_stream.json"), c)
    assert mark is not None and (mark.symbol, mark.mark, mark.bid) == (
        "BTC/USDT:USDT",
        D("11794.15"),
        None,
    )
    book = p.parse_price_tick(fixture("usdm_book_ticker_stream.json"), c)
    assert book is not None and (book.bid, book.ask) == (D("25.3519"), D("25.3652"))
    assert book.ts == 1568014460893 * 1_000_000
    trade = p.parse_price_tick(fixture("usdm_trade_stream.json"), c)
    assert trade is not None and trade.last == D("0.001")
    assert trade.last_qty == D("100")  # the trade's quantity: the rolling VWAP's volume
    assert book.last_qty is None and mark.last_qty is None
    spot_book = p.parse_price_tick(fixture("spot_book_ticker_stream.json"), ctx(), now_ns=7)
    assert spot_book is not None and (spot_book.symbol, spot_book.ts) == ("BNBUSDT", 7)
    assert p.parse_price_tick({"result": None, "id": 1}, c) is None


def test_symbol_config_gives_leverage_and_margin_mode() -> None:
    leverage, margin = p.parse_symbol_config(fixture("usdm_symbol_config.json"), ctx("binanceusdm"))
    assert leverage == {"BTC/USDT:USDT": D("21"), "ETH/USDT": D("5")}
    assert margin == {"BTC/USDT:USDT": "cross", "ETH/USDT": "isolated"}


def test_position_risk_carries_binances_own_liquidation_price_and_mark() -> None:
    """Issue 15 §2: the venue's figures from a published ``positionRisk`` answer (fixture: its
    ``_source``); ``maintMargin`` is absent there, so None (not zero)."""
    legs = p.parse_position_risk(fixture("usdm_position_risk_hedge.json"), ctx("binanceusdm"))
    assert [(x.liquidation_price, x.mark_price) for x in legs] == [
        (D("45000.0"), D("51000.0")),
        (D("57000.0"), D("51000.0")),
    ]
    assert legs[0].maintenance_margin is None and legs[0].margin_ratio is None


def test_a_v3_position_with_an_isolated_wallet_is_isolated_and_margined_by_it() -> None:
    row = {
        "symbol": "BTCUSDT",
        "positionSide": "BOTH",
        "positionAmt": "0.02",
        "entryPrice": "50000",
        "markPrice": "49000",
        "unRealizedProfit": "-20",
        "liquidationPrice": "0",
        "isolatedWallet": "50",
        "initialMargin": "49",
        "maintMargin": "3.92",
        "positionInitialMargin": "49",
        "updateTime": 1,
    }
    (pos,) = p.parse_position_risk([row], ctx("binanceusdm"))
    assert pos.margin_mode == "isolated" and pos.initial_margin == D(50)
    assert pos.liquidation_price is None  # Binance's "0": none
    assert pos.maintenance_margin == D("3.92")
    cross = p.parse_position_risk([row | {"isolatedWallet": "0"}], ctx("binanceusdm"))
    assert cross[0].margin_mode == "cross" and cross[0].initial_margin == D(49)
