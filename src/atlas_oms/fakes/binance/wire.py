"""Binance's JSON shapes: every answer and event the fake sends is built by these builders.

Shapes follow the official docs (the fixture files in ``fixtures/`` name the page each imitates;
``tests/fakes/binance/test_wire.py`` checks these builders produce exactly the fixture's keys).
Numbers are strings as Binance sends them: spot with 8 decimals, futures at the symbol's
precision.

This module gathers them under one name (``wire.spot_order(...)``); they live in
``wire_common.py`` (number formats, filters, rate limits), ``wire_spot.py`` (spot REST and
user-stream events), ``wire_futures.py`` (USDⓈ-M REST and user-stream events) and
``wire_market.py`` (public market streams of both markets).
"""

from atlas_oms.fakes.binance.wire_common import ZERO, fnum, rate_limits, s8
from atlas_oms.fakes.binance.wire_futures import (
    account_update,
    futures_account_v3,
    futures_balance,
    futures_exchange_info,
    futures_order,
    futures_trade,
    leverage_brackets,
    listen_key_expired,
    order_trade_update,
    position_risk_v3,
    symbol_config,
)
from atlas_oms.fakes.binance.wire_market import (
    agg_trade,
    book_ticker,
    book_ticker_rest,
    mark_price,
    mini_ticker,
    public_trade,
    ticker_24h,
)
from atlas_oms.fakes.binance.wire_spot import (
    execution_report,
    outbound_account_position,
    spot_account,
    spot_amended,
    spot_cancel,
    spot_exchange_info,
    spot_order,
    spot_order_ack,
    spot_order_full,
    spot_order_result,
    spot_trade,
)

__all__ = [
    "ZERO",
    "account_update",
    "agg_trade",
    "book_ticker",
    "book_ticker_rest",
    "execution_report",
    "fnum",
    "futures_account_v3",
    "futures_balance",
    "futures_exchange_info",
    "futures_order",
    "futures_trade",
    "leverage_brackets",
    "listen_key_expired",
    "mark_price",
    "mini_ticker",
    "order_trade_update",
    "outbound_account_position",
    "position_risk_v3",
    "public_trade",
    "rate_limits",
    "s8",
    "spot_account",
    "spot_amended",
    "spot_cancel",
    "spot_exchange_info",
    "spot_order",
    "spot_order_ack",
    "spot_order_full",
    "spot_order_result",
    "spot_trade",
    "symbol_config",
    "ticker_24h",
]
