"""freqtrade trades on Atlas THROUGH THE BINANCE USDⓈ-M DIALECT: a real ``freqtrade trade``
(live, ``dry_run: false``) configured as exchange ``binance`` with ccxt's urls pointed at a
real ``atlas serve``'s dialect port; a tiny strategy enters long on every candle and leaves at
once (ROI -100 %). Its orders reach Atlas's node (risk checks, the built-in exchange) and fill."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.service.serving import WAIT_S, Served, free_port

from atlas_oms.binance_api.keys import derived_secret, server_secret
from atlas_oms.fakes.binance.urls import ccxt_urls

PAIR = "BTC/USDT:USDT"

STRATEGY = '''
from pandas import DataFrame
from freqtrade.strategy import IStrategy


class AtlasTiny(IStrategy):
    """Enters long on every candle and leaves at once (ROI -100 %): orders on every loop."""

    INTERFACE_VERSION = 3
    timeframe = "1m"
    minimal_roi = {"0": -1}
    stoploss = -0.99
    startup_candle_count = 0
    process_only_new_candles = False

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        return dataframe

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe["enter_long"] = 1
        return dataframe

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe["exit_long"] = 0
        return dataframe
'''


def freqtrade_config(work: Path, http: str, ws: str, api_key: str, secret: str) -> dict[str, Any]:
    """A live freqtrade config (futures, isolated) whose ccxt clients talk to Atlas."""
    ccxt_cfg = {
        "urls": {"api": ccxt_urls(http, ws)},
        "options": {
            "fetchCurrencies": False,
            "fetchMargins": False,
            "fetchMarkets": {"types": ["linear"]},
        },
        "enableRateLimit": False,
    }
    return {
        "trading_mode": "futures",
        "margin_mode": "isolated",
        "max_open_trades": 1,
        "stake_currency": "USDT",
        "stake_amount": 100,
        "dry_run": False,
        "timeframe": "1m",
        "unfilledtimeout": {"entry": 10, "exit": 10, "unit": "seconds"},
        # freqtrade prices Binance futures from the order book only
        "entry_pricing": {"price_side": "other", "use_order_book": True, "order_book_top": 1},
        "exit_pricing": {"price_side": "other", "use_order_book": True, "order_book_top": 1},
        "order_types": {
            "entry": "market",
            "exit": "market",
            "stoploss": "market",
            "stoploss_on_exchange": False,
        },
        "exchange": {
            "name": "binance",
            "key": api_key,
            "secret": secret,
            "enable_ws": False,  # candles over REST klines
            "ccxt_config": ccxt_cfg,
            "ccxt_async_config": ccxt_cfg,
            "pair_whitelist": [PAIR],
            "pair_blacklist": [],
        },
        "pairlists": [{"method": "StaticPairList"}],
        "internals": {"process_throttle_secs": 1, "heartbeat_interval": 0},
        "telegram": {"enabled": False, "token": "", "chat_id": ""},
        "api_server": {
            "enabled": False,
            "listen_ip_address": "127.0.0.1",
            "listen_port": 8080,
            "username": "",
            "password": "",
        },
        "bot_name": "atlas-tiny",
        "initial_state": "running",
        "strategy": "AtlasTiny",
        "db_url": f"sqlite:///{work / 'trades.sqlite'}",
        "user_data_dir": str(work / "ud"),
    }


def _flat(path: Path) -> str:
    """The log with its line wrapping undone (freqtrade's console wraps long lines)."""
    return " ".join(path.read_text(errors="replace").split())


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Served, int]]:
    port = free_port()
    server = Served(tmp_path / "data", market_maker=True, env={"ATLAS_BINANCE_PORT": str(port)})
    try:
        yield server.start(), port
    finally:
        with contextlib.suppress(Exception):
            server.stop()
        server.ensure_stopped()


def test_freqtrade_trades_on_atlas_through_the_binance_dialect(
    served: tuple[Served, int], tmp_path: Path
) -> None:
    server, port = served
    keys = server.keys()
    key_id = keys["trader"]["X-API-Key"].partition(".")[0]
    secret = derived_secret(server_secret(server.data), key_id)
    work = tmp_path / "ft"
    (work / "ud" / "strategies").mkdir(parents=True)
    (work / "ud" / "strategies" / "atlas_tiny.py").write_text(STRATEGY)
    base = f"127.0.0.1:{port}"
    config = freqtrade_config(work, f"http://{base}", f"ws://{base}", key_id, secret)
    (work / "config.json").write_text(json.dumps(config))
    log_path = work / "freqtrade.log"
    with open(log_path, "wb") as log:
        bot = subprocess.Popen(
            [sys.executable, "-m", "freqtrade", "trade", "-c", str(work / "config.json")],
            cwd=work,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "1000"},
        )
        try:
            deadline = time.monotonic() + WAIT_S * 2
            while time.monotonic() < deadline and bot.poll() is None:
                if _flat(log_path).count("MARKET_SELL has been fulfilled") >= 1:
                    break
                time.sleep(0.5)
        finally:
            # What the bot logged while it traded (a SIGINT that lands inside freqtrade's own
            # sqlite commit makes freqtrade print a traceback of its own while it stops).
            before_stop = _flat(log_path)
            bot.send_signal(signal.SIGINT)
            try:
                bot.wait(timeout=30)
            except subprocess.TimeoutExpired:
                bot.kill()
                bot.wait()
    text = _flat(log_path)
    # one round trip: freqtrade locks the pair for the rest of the candle after an exit
    assert text.count("MARKET_BUY has been fulfilled") >= 1, text[-4000:]
    assert text.count("MARKET_SELL has been fulfilled") >= 1, text[-4000:]
    assert "Traceback" not in before_stop, before_stop[-4000:]
    # Atlas's own view: the desk's orders on the perpetual, filled on the built-in exchange
    r = httpx.get(
        f"{server.url}/v1/orders", params={"account_id": "desk"}, headers=keys["trader"], timeout=30
    )
    assert r.status_code == 200, r.text
    body = r.json()
    orders = body["orders"] if isinstance(body, dict) else body
    perp = [o for o in orders if o["symbol"] == PAIR]
    assert len(perp) >= 2  # a round trip
    assert all(o["status"] == "FILLED" for o in perp)
    assert {o["side"] for o in perp} == {"BUY", "SELL"}
    access = server.stderr()
    assert '"interface": "binance"' in access and "POST /fapi/v1/order" in access
