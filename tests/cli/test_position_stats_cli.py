"""``atlas positions --stats``: an account's position statistics on a running server, as text or
the server's JSON."""

from __future__ import annotations

import json
from decimal import Decimal

from .helpers import Live

SPOT = "BTC/USDT"


def trade(live: Live, maker_side: str, price: str) -> None:
    body = {"account_id": "maker", "symbol": SPOT, "side": maker_side, "qty": "0.1", "price": price}
    live.maker("POST", "/v1/orders", json=body)
    taker_side = "buy" if maker_side == "SELL" else "sell"
    code, _, err = live.run("order", "submit", SPOT, taker_side, "0.1", price, "-a", "desk")
    assert code == 0, err


def test_position_stats_on_a_server(live: Live) -> None:
    """desk: a winning round trip (buy 60000, sell 61000: +100 before 12.1 of fees), a losing one
    (buy 61000, sell 60500: -50 before fees) and an open long 0.1 bought at 60000."""
    trade(live, "SELL", "60000")
    trade(live, "BUY", "61000")
    trade(live, "SELL", "61000")
    trade(live, "BUY", "60500")
    trade(live, "SELL", "60000")
    code, out, err = live.run("positions", "--stats", "-a", "desk")
    assert code == 0, err
    first = out.splitlines()[0]
    assert first.startswith("account desk: 1 open position(s), 2 closed round trip(s)")
    assert "(1 won, 1 lost), win rate 50.00%" in first
    assert SPOT in out and "realized" in out
    code, out, err = live.run("positions", "--stats", "-a", "desk", "--json")
    assert code == 0, err
    stats = json.loads(out)
    assert (stats["open_positions"], stats["closed_trades"], stats["win_rate"]) == (1, 2, "50.00")
    (row,) = stats["symbols"]
    assert Decimal(row["realized_pnl"]) == 50 and Decimal(row["qty"]) == Decimal("0.1")
    code, out, err = live.run("positions", "--stats", "-a", "desk", "--symbol", "ETH/USDT")
    assert code == 0 and "0 closed round trip(s)" in out and "win rate n/a" in out
    code, _, err = live.run("positions", "--stats", "-a", "maker")
    assert code == 2 and err.startswith("UNKNOWN_ACCOUNT: ")
