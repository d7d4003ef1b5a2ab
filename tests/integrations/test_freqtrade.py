"""freqtrade on Atlas: the real freqtrade backtesting engine runs a strategy that mixes in
``AtlasGuard`` over a bundled day of 5-minute BTC/USDT candles (tests/fixtures/freqtrade/),
offline: the exchange's markets are given instead of loaded. Atlas vetoes the entries that break
its limits or meet a kill switch, accepts the others, and its positions follow freqtrade's trades.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from freqtrade.data import history
from freqtrade.enums import RunMode
from freqtrade.exchange import Binance
from freqtrade.optimize.backtesting import Backtesting
from freqtrade.persistence import LocalTrade
from freqtrade.util import dt_ts

from atlas_oms.integrations.freqtrade import (
    AtlasGuard,
    EmbeddedAtlas,
    FreqtradeVenue,
    RestAtlas,
    Verdict,
)
from atlas_oms.model.enums import InstrumentKind
from atlas_oms.model.instrument import Instrument
from atlas_oms.runtime.clock import ManualClock
from atlas_oms.runtime.node import Node
from atlas_oms.service.app import create_app
from atlas_oms.service.keys import KeyStore
from atlas_oms.service.settings import ServiceSettings

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "freqtrade"
PAIR = "BTC/USDT"
ACCOUNT = "bot-1"
STAKE = 1000  # USDT per entry; the strategy asks 5x that on every third entry
MARKET = {
    "id": "BTCUSDT",
    "symbol": PAIR,
    "base": "BTC",
    "quote": "USDT",
    "baseId": "BTC",
    "quoteId": "USDT",
    "settle": None,
    "active": True,
    "type": "spot",
    "spot": True,
    "margin": False,
    "swap": False,
    "future": False,
    "option": False,
    "contract": False,
    "linear": None,
    "inverse": None,
    "contractSize": None,
    "taker": 0.001,
    "maker": 0.001,
    "precision": {"amount": 0.00001, "price": 0.01},
    "limits": {
        "amount": {"min": 0.00001, "max": 9000.0},
        "price": {"min": 0.01, "max": 1000000.0},
        "cost": {"min": 5.0, "max": None},
        "leverage": {"min": None, "max": None},
    },
    "info": {},
}


def config(tmp_path: Path) -> dict[str, Any]:
    return {
        "runmode": RunMode.BACKTEST,
        "dry_run": True,
        "strategy": "AtlasSampleStrategy",
        "strategy_path": str(FIXTURES),
        "user_data_dir": tmp_path,
        "datadir": FIXTURES,
        "dataformat_ohlcv": "json",
        "exportfilename": tmp_path / "backtest_results",
        "export": "none",
        "timeframe": "5m",
        "stake_currency": "USDT",
        "stake_amount": STAKE,
        "dry_run_wallet": 100_000,
        "max_open_trades": 1,
        "fee": 0.001,
        "trading_mode": "spot",
        "margin_mode": "",
        "candle_type_def": "spot",
        "entry_pricing": {"price_side": "same", "use_order_book": False},
        "exit_pricing": {"price_side": "same", "use_order_book": False},
        "order_types": {
            "entry": "limit",
            "exit": "limit",
            "stoploss": "limit",
            "stoploss_on_exchange": False,
        },
        "exchange": {
            "name": "binance",
            "key": "",
            "secret": "",
            "pair_whitelist": [PAIR],
            "pair_blacklist": [],
        },
        "pairlists": [{"method": "StaticPairList"}],
        "internals": {},
        "original_config": {},
    }


def offline_exchange(conf: dict[str, Any]) -> Binance:
    """freqtrade's Binance without the network: the markets are given, never loaded."""
    exchange = Binance(conf, validate=False)
    exchange._api.set_markets({PAIR: MARKET})
    exchange._api_async.set_markets({PAIR: MARKET})
    exchange._markets = exchange._api.markets
    exchange._last_markets_refresh = dt_ts()
    return exchange


def atlas_node() -> Node:
    node = Node.in_memory(clock=ManualClock(), venues=[FreqtradeVenue()])
    node.add_instrument(
        Instrument(
            symbol=PAIR,
            kind=InstrumentKind.SPOT,
            base="BTC",
            quote="USDT",
            tick_size=Decimal("0.01"),
            lot_size=Decimal("0.00001"),
            venue="freqtrade",
        )
    )
    node.open_account(ACCOUNT)
    node.deposit(ACCOUNT, "USDT", 100_000)
    node.set_limits("account", ACCOUNT, actor="risk", max_order_notional=Decimal(3 * STAKE))
    return node


@pytest.fixture(autouse=True)
def _no_leftover_trades() -> Iterator[None]:
    LocalTrade.bt_trades_open = []
    LocalTrade.bt_trades_open_pp = {}
    yield
    LocalTrade.bt_trades = []
    LocalTrade.bt_trades_open = []
    LocalTrade.bt_trades_open_pp = {}


def backtest(tmp_path: Path, node: Node) -> tuple[Any, list[Any]]:
    """Run freqtrade's backtest of the sample strategy on Atlas; (strategy, closed trades)."""
    conf = config(tmp_path)
    bt = Backtesting(conf, exchange=offline_exchange(conf))
    strategy = bt.strategylist[0]
    strategy.atlas = EmbeddedAtlas.create(node, ACCOUNT)
    bt._set_strategy(strategy)
    data, _ = bt.load_bt_data()
    processed = bt.strategy.advise_all_indicators(data)
    start, end = history.get_timerange(processed)
    result = bt.backtest(processed=processed, start_date=start, end_date=end)
    trades = result["results"].to_dict("records")
    return strategy, trades


def test_atlas_vetoes_the_entries_over_its_limits_and_books_the_others(tmp_path: Path) -> None:
    node = atlas_node()
    strategy, trades = backtest(tmp_path, node)

    # 288 candles, an entry signal every 20: 15 entries asked, every third (5) five times too big.
    refusals = strategy.atlas_refusals
    assert len(refusals) == 5
    assert {(pair, side, reason) for pair, side, reason, _ in refusals} == {
        (PAIR, "BUY", "ORDER_NOTIONAL_TOO_LARGE")
    }
    assert len(trades) == 10
    assert all(t["stake_amount"] < 3 * STAKE for t in trades)
    assert strategy.atlas_unbooked == []

    # Atlas's orders and fills are freqtrade's trades, one buy and one sell each, at its prices.
    fills = node.fills(ACCOUNT)
    buys = [f for f in fills if f.side == "BUY"]
    sells = [f for f in fills if f.side == "SELL"]
    assert len(buys) == len(sells) == len(trades)
    assert sorted(f.last_qty for f in buys) == sorted(Decimal(str(t["amount"])) for t in trades)
    assert sorted(f.last_px for f in buys) == sorted(
        Decimal(str(t["open_rate"])).quantize(Decimal("0.01")) for t in trades
    )
    # Every trade was closed (the last one by freqtrade's forced exit): so is Atlas's position,
    # and Atlas's realized P&L (before fees) is freqtrade's.
    position = node.position(ACCOUNT, PAIR)
    assert position is not None and position.qty == 0
    gross = sum(
        (Decimal(str(t["close_rate"])) - Decimal(str(t["open_rate"]))) * Decimal(str(t["amount"]))
        for t in trades
    )
    assert abs(position.realized_pnl - gross) < Decimal("0.05")


def test_a_kill_switch_in_atlas_stops_every_entry_of_the_bot(tmp_path: Path) -> None:
    node = atlas_node()
    node.kill("account", ACCOUNT, actor="risk", reason="desk closed")
    strategy, trades = backtest(tmp_path, node)

    assert trades == []
    assert len(strategy.atlas_refusals) == 15
    assert {reason for _, _, reason, _ in strategy.atlas_refusals} == {"KILL_SWITCH_ACTIVE"}
    assert node.position(ACCOUNT, PAIR) is None or node.position(ACCOUNT, PAIR).qty == 0


def test_an_error_while_asking_atlas_denies_the_entry(tmp_path: Path) -> None:
    """freqtrade reads an exception in confirm_trade_entry as a yes: the mixin fails closed."""

    class Broken(EmbeddedAtlas):
        def place(self, intent: Any) -> Verdict:
            raise ConnectionError("Atlas is down")

    node = atlas_node()
    conf = config(tmp_path)
    bt = Backtesting(conf, exchange=offline_exchange(conf))
    strategy = bt.strategylist[0]
    strategy.atlas = Broken(node, ACCOUNT)
    ok = strategy.confirm_trade_entry(
        PAIR, "limit", 0.02, 50000.0, "GTC", datetime.now(UTC), None, "long"
    )
    assert ok is False
    assert strategy.atlas_refusals[0][2] == "ATLAS_UNAVAILABLE"


# --------------------------------------------------------------------------- over REST
def rest_world(node: Node) -> None:
    node.add_instrument(Instrument.spot(PAIR, tick_size="0.01", lot_size="0.00001"))
    for account in (ACCOUNT, "maker"):
        node.open_account(account)
        node.deposit(account, "USDT", 100_000)
        node.deposit(account, "BTC", 10)
    node.set_limits("account", ACCOUNT, actor="risk", max_order_notional=Decimal(3 * STAKE))
    node.sell("maker", PAIR, "1", "50000")  # liquidity the bot's buys take


class Bot(AtlasGuard):
    """The mixin's callbacks as freqtrade calls them (a live bot's strategy object)."""


def test_over_rest_atlas_places_the_accepted_orders_and_refuses_the_others(
    tmp_path: Path,
) -> None:
    keys = KeyStore(tmp_path / "keys.json")
    token = keys.issue(("trader",), (ACCOUNT,)).token
    risk = keys.issue(("risk",)).token
    settings = ServiceSettings(data_dir=tmp_path, rate_limit_per_s=1000)
    app = create_app(settings, node=Node.in_memory(), keys=keys, setup=rest_world)
    now = datetime.now(UTC)
    with TestClient(app) as client:
        bot = Bot()
        bot.atlas = RestAtlas("", token, ACCOUNT, http=client)
        # 0.02 BTC at 50,000 = 1,000 USDT: Atlas places it and its exchange fills it.
        assert bot.confirm_trade_entry(PAIR, "limit", 0.02, 50000.0, "GTC", now, None, "long")
        assert bot.atlas.position_qty(PAIR) == Decimal("0.02")
        # 0.1 BTC = 5,000 USDT: over the account's order-notional limit.
        assert not bot.confirm_trade_entry(PAIR, "limit", 0.1, 50000.0, "GTC", now, None, "long")
        assert bot.atlas_refusals[-1][2] == "ORDER_NOTIONAL_TOO_LARGE"
        killed = client.post(
            "/v1/risk/kill",
            headers={"X-API-Key": risk},
            json={"scope": "account", "scope_id": ACCOUNT, "reason": "desk closed"},
        )
        assert killed.status_code < 300, killed.text
        assert not bot.confirm_trade_entry(PAIR, "limit", 0.02, 50000.0, "GTC", now, None, "long")
        assert bot.atlas_refusals[-1][2] == "KILL_SWITCH_ACTIVE"
        assert bot.atlas.position_qty(PAIR) == Decimal("0.02")
