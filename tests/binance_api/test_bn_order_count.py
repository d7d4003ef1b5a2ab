"""The dialect's new-order counts (``X-MBX-ORDER-COUNT-10S`` / ``-1D``, -1015 over a limit): each
window forgets the orders that left it, at a cost per order that does not grow with the day's
orders (it used to rebuild and scan the whole day's list on every order: docs/notes/bench17.md)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from atlas_oms.binance_api import server
from atlas_oms.binance_api.errors import BinanceError
from atlas_oms.binance_api.server import Dialect


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def counter(per_10s: int, per_day: int) -> Any:
    """Just what ``Dialect.count_order`` reads of its dialect."""
    return SimpleNamespace(_orders={}, orders_per_10s=per_10s, orders_per_day=per_day)


def order(dialect: Any, account: str = "desk") -> dict[str, str]:
    call = SimpleNamespace(account_id=account, headers={})
    Dialect.count_order(dialect, call)  # type: ignore[arg-type]
    return call.headers


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(server.time, "monotonic", clock)
    return clock


def test_ten_second_window_refuses_then_forgets(clock: Clock) -> None:
    d = counter(per_10s=3, per_day=100)
    assert [order(d)["X-MBX-ORDER-COUNT-10S"] for _ in range(3)] == ["1", "2", "3"]
    with pytest.raises(BinanceError) as refused:
        order(d)
    assert refused.value.code == -1015 and refused.value.status == 429
    assert order(d, "other")["X-MBX-ORDER-COUNT-10S"] == "1"  # per account
    clock.now += 10.001
    headers = order(d)
    assert headers == {"X-MBX-ORDER-COUNT-10S": "1", "X-MBX-ORDER-COUNT-1D": "4"}


def test_day_window_refuses_then_forgets(clock: Clock) -> None:
    d = counter(per_10s=100, per_day=2)
    order(d)
    clock.now += 3_600
    order(d)
    with pytest.raises(BinanceError, match="per DAY"):
        order(d)
    clock.now += 86_400 - 3_600 + 0.001  # the first order left the day's window
    assert order(d)["X-MBX-ORDER-COUNT-1D"] == "2"


def test_counts_stay_exact_over_many_orders(clock: Clock) -> None:
    d = counter(per_10s=1_000_000, per_day=1_000_000)
    for _ in range(20_000):
        clock.now += 0.5  # two orders a second (exact in binary: no rounding at the edges)
        headers = order(d)
    assert headers["X-MBX-ORDER-COUNT-1D"] == "20000"
    assert headers["X-MBX-ORDER-COUNT-10S"] == "20"  # (now - 10 s, now]
