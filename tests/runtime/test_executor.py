"""Seed 003's executor: validate before sending, retry unknown outcomes by the same client order
id (never a second order), record every attempt, statistics per mode."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import pytest

from atlas_oms import Instrument, ManualClock, Node, OrderStatus
from atlas_oms.core.orders.order import OrderView
from atlas_oms.model.enums import OrderType, Side
from atlas_oms.runtime.executor import (
    ExecutionMode,
    OrderExecutor,
    OrderRequest,
    Outcome,
    RetryPolicy,
    TransientError,
)


def make_node() -> Node:
    node = Node.in_memory(clock=ManualClock(1))
    node.add_instrument(Instrument.spot("ETH/USD", tick_size="0.01", lot_size="0.01"))
    node.open_account("a")
    node.deposit("a", "USD", 10_000)
    return node


class FlakyPort:
    """A transport to the node that fails in given ways before it works.

    ``fail_submit``: a list of "before" (the request never arrived) or "after" (it was applied
    but the answer was lost) for the first sends; ``fail_query``: how many queries time out."""

    def __init__(self, node: Node, fail_submit: list[str], fail_query: int = 0) -> None:
        self.node = node
        self.fail_submit = list(fail_submit)
        self.fail_query = fail_query
        self.sends: list[str | None] = []
        self.queries = 0
        self.clock = node.clock

    def submit(self, *args: Any, **kw: Any) -> OrderView:
        self.sends.append(kw.get("client_order_id"))
        mode = self.fail_submit.pop(0) if self.fail_submit else None
        if mode == "before":
            raise TransientError("connection reset")
        view = self.node.submit(*args, **kw)
        if mode == "after":
            raise TimeoutError("no answer within 2s")
        return view

    def find_order(
        self, account_id: str, order_id: int | None = None, client_order_id: str | None = None
    ) -> OrderView | None:
        self.queries += 1
        if self.fail_query:
            self.fail_query -= 1
            raise TimeoutError("query timed out")
        return self.node.find_order(account_id, order_id, client_order_id)

    def pre_trade_check(self, *args: Any, **kw: Any) -> Any:
        return self.node.pre_trade_check(*args, **kw)


def limit_buy(**kw: Any) -> OrderRequest:
    fields: dict[str, Any] = {
        "account_id": "a",
        "symbol": "ETH/USD",
        "side": Side.BUY,
        "order_type": OrderType.LIMIT,
        "qty": D("1"),
        "price": D("100"),
    }
    return OrderRequest(**(fields | kw))


def executor(port: Any, **kw: Any) -> OrderExecutor:
    return OrderExecutor(port, ExecutionMode.BACKTEST, RetryPolicy(max_attempts=4), **kw)


def test_an_order_is_sent_once_with_a_client_order_id_and_succeeds() -> None:
    node = make_node()
    result = executor(node).execute(limit_buy())
    assert result.success and result.client_order_id == "bt-1"
    assert result.order is not None and result.order.status is OrderStatus.ACCEPTED
    assert [(a.action, a.outcome) for a in result.attempts] == [("send", Outcome.ACCEPTED)]
    assert len(node.orders(account_id="a")) == 1


@pytest.mark.parametrize(
    ("fail_submit", "fail_query"),
    [
        (["after"], 0),  # applied, answer lost: found by the query, never sent again
        (["before"], 0),  # never arrived: not found, sent again with the same id
        (["after"], 1),  # answer lost and the query timed out: resent, answered as duplicate
        (["before", "after"], 0),
    ],
)
def test_unknown_outcomes_are_retried_by_the_same_client_order_id_and_make_one_order(
    fail_submit: list[str], fail_query: int
) -> None:
    node = make_node()
    port = FlakyPort(node, fail_submit, fail_query)
    result = executor(port).execute(limit_buy(client_order_id="mine-1"))
    assert result.success, result
    assert len(node.orders(account_id="a")) == 1  # exactly one order exists
    assert set(port.sends) == {"mine-1"}  # every send carried the same id
    assert result.attempts[0].outcome is Outcome.UNKNOWN
    assert result.attempts[-1].outcome is Outcome.ACCEPTED
    assert result.retries == len(result.attempts) - 1 >= 1
    assert [a.attempt for a in result.attempts] == list(range(1, len(result.attempts) + 1))


def test_the_answer_lost_is_found_by_a_query_instead_of_a_resend() -> None:
    node = make_node()
    port = FlakyPort(node, ["after"])
    result = executor(port).execute(limit_buy())
    assert [(a.action, a.outcome) for a in result.attempts] == [
        ("send", Outcome.UNKNOWN),
        ("query", Outcome.ACCEPTED),
    ]
    assert len(port.sends) == 1


def test_giving_up_leaves_the_outcome_unknown_never_failed() -> None:
    node = make_node()
    port = FlakyPort(node, ["before"] * 5)
    result = OrderExecutor(port, "BACKTEST", RetryPolicy(max_attempts=3)).execute(limit_buy())
    assert not result.success and result.reason == "UNKNOWN"
    assert len(result.attempts) == 3
    stats = OrderExecutor(port, "BACKTEST")
    assert stats.statistics() == {}


def test_a_risk_denial_is_an_answer_and_is_not_retried() -> None:
    node = make_node()
    node.set_limits("account", "a", actor="test", max_order_qty=1)
    port = FlakyPort(node, [])
    result = executor(port).execute(limit_buy(qty=D(5)))
    assert not result.success
    assert result.attempts[-1].outcome in (Outcome.INVALID, Outcome.DENIED)
    assert len(port.sends) == 0  # refused by the dry pre-trade check before sending


def test_validation_refuses_before_sending() -> None:
    node = make_node()
    port = FlakyPort(node, [])
    result = executor(port).execute(limit_buy(symbol="NOPE/USD"))
    assert not result.success and result.reason == "UNKNOWN_INSTRUMENT"
    assert [(a.attempt, a.outcome) for a in result.attempts] == [(0, Outcome.INVALID)]
    assert port.sends == []


def test_the_order_size_is_checked_against_the_24h_volume() -> None:
    calls: list[tuple[D, D, D]] = []

    def size_check(value: D, volume: D, max_slippage: D) -> tuple[bool, str | None]:
        calls.append((value, volume, max_slippage))
        return (value <= volume / 100, None if value <= volume / 100 else "more than 1% of volume")

    node = make_node()
    ex = executor(node, size_check=size_check, max_slippage_pct="0.5")
    small = ex.execute(limit_buy(), market_data={"price": 100, "volume_24h": 1_000_000})
    big = ex.execute(limit_buy(qty=D(50)), market_data={"price": 100, "volume_24h": 100_000})
    assert small.success
    assert not big.success and big.reason == "ORDER_TOO_LARGE"
    assert big.message == "more than 1% of volume"
    assert calls[0] == (D(100), D(1_000_000), D("0.5"))
    assert len(node.orders(account_id="a")) == 1


def test_a_reused_client_order_id_with_other_terms_is_refused_not_retried() -> None:
    node = make_node()
    ex = executor(node)
    assert ex.execute(limit_buy(client_order_id="x")).success
    again = ex.execute(limit_buy(client_order_id="x", price=D(99)))
    assert not again.success
    assert again.attempts[-1].outcome in (Outcome.REFUSED, Outcome.INVALID)
    assert len(node.orders(account_id="a")) == 1


def test_statistics_per_mode() -> None:
    node = make_node()
    ticks = iter(range(0, 10**9, 1_000_000))  # each timer read 1 ms later
    port = FlakyPort(node, ["before"])
    ex = OrderExecutor(
        port, ExecutionMode.PAPER, sleep=lambda s: None, timer=lambda: next(ticks) + 1
    )
    ex.execute(limit_buy())  # one retry
    ex.execute(limit_buy())
    ex.execute(limit_buy(qty=D(0)))  # invalid
    stats = ex.statistics()[ExecutionMode.PAPER]
    assert (stats.executions, stats.successes, stats.retries, stats.rejections) == (3, 2, 1, 1)
    assert stats.success_rate == "66.67"
    assert stats.attempts == 3 and stats.average_latency_ms == "1.000"
    assert stats.max_latency_ms == "1.000"
    seed = ex.get_statistics()
    assert seed["total_executions"] == 3 and seed["success_rate"] == pytest.approx(66.67)
    assert seed["by_mode"]["PAPER"]["retries"] == 1


def test_the_default_size_check_is_seed_003s_validate_order_size() -> None:
    pytest.importorskip("atlas_oms.simulation.sizing")  # helper "fills"' module, once merged
    node = make_node()
    ex = executor(node)
    small = ex.execute(limit_buy(), market_data={"price": 100, "volume_24h": 10_000_000_000})
    assert small.success
    unknown_volume = ex.execute(limit_buy(), market_data={"price": 100, "volume_24h": 0})
    assert not unknown_volume.success and unknown_volume.reason == "ORDER_TOO_LARGE"
    assert len(node.orders(account_id="a")) == 1
