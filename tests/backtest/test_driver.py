"""The market driver's rules (backtest/driver.py): the intra-bar path, what reaches the core and
when, and the strategies' callbacks."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any

from atlas_oms.backtest.driver import MarketDriver, bar_path
from atlas_oms.backtest.strategy import Strategy, StrategyContext
from atlas_oms.model import events as ev
from atlas_oms.runtime.clock import ManualClock
from atlas_oms.runtime.node import Node
from atlas_oms.simulation.market import Bar, TradePrint
from conftest import bars, spot, venue_class

D = Decimal
START = 1_700_000_000_000_000_000
MIN = 60_000_000_000


def make(strategy: Strategy) -> tuple[Node, MarketDriver, list[Any]]:
    inst = spot("BTCUSDT")
    venue = venue_class()({inst.symbol: inst}, name="paper")
    node = Node.in_memory(clock=ManualClock(START - MIN), venues=[venue])
    node.add_instrument(inst)
    node.open_account("a")
    node.deposit("a", "USDT", 1_000_000)
    calls: list[Any] = []
    process = node.process

    def counting(message: Any) -> list[ev.EventBase]:
        calls.append(message)
        return process(message)

    node.process = counting  # type: ignore[method-assign]
    return node, MarketDriver(node, venue, {"a": strategy}), calls


def bar(i: int, o: str, h: str, lo: str, c: str) -> Bar:
    return Bar(
        symbol="BTCUSDT",
        start_ns=START + i * MIN,
        ts=START + (i + 1) * MIN,
        open=D(o),
        high=D(h),
        low=D(lo),
        close=D(c),
        volume=D(100),
    )


def test_a_bar_is_walked_open_nearer_extreme_other_extreme_close() -> None:
    up = bar(0, "100", "101", "95", "96")  # the high is nearer the open
    assert [p for _, p in bar_path(up)] == [D(100), D(101), D(95), D(96)]
    down = bar(0, "100", "110", "99", "105")  # the low is nearer
    assert [p for _, p in bar_path(down)] == [D(100), D(99), D(110), D(105)]
    tie = bar(0, "100", "102", "98", "100")  # a tie: the low first (adverse to a long)
    assert [p for _, p in bar_path(tie)] == [D(100), D(98), D(102), D(100)]
    ts = [t for t, _ in bar_path(up)]
    assert ts == [up.start_ns, up.start_ns + MIN // 3, up.start_ns + 2 * MIN // 3, up.ts]
    flat = bar(0, "100", "100", "100", "100")
    assert [p for _, p in bar_path(flat)] == [D(100), D(100)]  # open, and the close


class Idle(Strategy):
    def __init__(self) -> None:
        self.bars = 0

    def on_bar(self, ctx: StrategyContext, bar: Bar) -> None:
        self.bars += 1


def test_nothing_goes_through_the_core_while_nothing_is_live() -> None:
    strategy = Idle()
    node, driver, calls = make(strategy)
    seq = node.seq
    driver.run(bars(500))
    assert strategy.bars == 500
    assert calls == []  # not one node.process call
    assert node.seq == seq  # nothing journaled


class OneRoundTrip(Strategy):
    """Buys at bar 10, sells at bar 20, then idles."""

    def __init__(self) -> None:
        self.n = 0
        self.fills: list[ev.OrderFilled] = []

    def on_bar(self, ctx: StrategyContext, bar: Bar) -> None:
        self.n += 1
        if self.n == 10:
            ctx.buy("BTCUSDT", "0.5")
        elif self.n == 20:
            ctx.sell("BTCUSDT", ctx.position_qty("BTCUSDT"))

    def on_fill(self, ctx: StrategyContext, fill: ev.OrderFilled) -> None:
        self.fills.append(fill)


def test_prices_reach_the_core_only_while_a_position_is_open_and_fills_reach_on_fill() -> None:
    strategy = OneRoundTrip()
    _node, driver, calls = make(strategy)
    driver.run(bars(100))
    kinds = Counter(type(m).__name__ for m in calls)
    assert [f.side.value for f in strategy.fills] == ["BUY", "SELL"]
    assert strategy.fills[0].last_qty == D("0.5")
    # a spot position alone: the core gets each bar's close (bars 11..20), nothing after
    assert kinds["UpdatePrices"] <= 2 + 10
    last_update = max(i for i, m in enumerate(calls) if type(m).__name__ == "UpdatePrices")
    assert all(m.ts <= START + 21 * MIN for m in calls[last_update:])
    assert driver.need_prices == set() and driver.need_close == set()


class StopBuyer(Strategy):
    """Buys at bar 2 with a protective stop at 95 (a stop held in the core)."""

    def __init__(self) -> None:
        self.n = 0
        self.fills: list[ev.OrderFilled] = []

    def on_bar(self, ctx: StrategyContext, bar: Bar) -> None:
        self.n += 1
        if self.n == 2:
            ctx.buy("BTCUSDT", "1")
            ctx.submit("BTCUSDT", "SELL", "STOP_MARKET", "1", trigger_price="95")

    def on_fill(self, ctx: StrategyContext, fill: ev.OrderFilled) -> None:
        self.fills.append(fill)


def test_a_held_stop_fires_inside_the_bar_at_the_tick_that_crosses_it() -> None:
    strategy = StopBuyer()
    node, driver, _calls = make(strategy)
    data = [bar(0, "100", "100.5", "99.5", "100"), bar(1, "100", "100.5", "99.5", "100")]
    # the open is nearer the high: 100 -> 101 -> 94 -> 99: the stop fires at the 94 tick
    data.append(bar(2, "100", "101", "94", "99"))
    data += [bar(i, "99", "99.5", "98.5", "99") for i in range(3, 6)]
    driver.run(data)
    sells = [f for f in strategy.fills if f.side.value == "SELL"]
    assert len(sells) == 1
    assert sells[0].ts_event == START + 2 * MIN + 2 * MIN // 3  # the low's tick, not the close
    assert sells[0].last_px < D(95)  # filled around 94 (with the model's slippage), not at 99
    assert node.position("a", "BTCUSDT") is None or node.position("a", "BTCUSDT").qty == 0  # type: ignore[union-attr]


class Expiring(Strategy):
    def __init__(self) -> None:
        self.n = 0

    def on_bar(self, ctx: StrategyContext, bar: Bar) -> None:
        self.n += 1
        if self.n == 1:
            ctx.buy("BTCUSDT", "1", "50", tif="GTD", expire_ts=bar.ts + 5 * MIN)


def test_advance_time_is_sent_when_a_deadline_is_due() -> None:
    node, driver, calls = make(Expiring())
    driver.run(bars(10))
    expired = [e for e in node.events() if isinstance(e, ev.OrderExpired)]
    assert len(expired) == 1
    assert expired[0].ts_event == START + 6 * MIN  # the first bar at or after the expiry
    assert sum(type(m).__name__ == "AdvanceTime" for m in calls) == 1


class Timers(Strategy):
    def __init__(self) -> None:
        self.fired: list[tuple[int, int]] = []

    def on_start(self, ctx: StrategyContext) -> None:
        ctx.set_timer(START + 3 * MIN + 1)

    def on_timer(self, ctx: StrategyContext, ts: int) -> None:
        self.fired.append((ts, ctx.now))


def test_a_timer_fires_at_the_first_event_at_or_after_it() -> None:
    strategy = Timers()
    _node, driver, _calls = make(strategy)
    driver.run(bars(6))
    assert strategy.fired == [(START + 3 * MIN + 1, START + 4 * MIN)]


class Intent(Strategy):
    def __init__(self) -> None:
        self.n = 0

    def on_bar(self, ctx: StrategyContext, bar: Bar) -> None:
        self.n += 1
        if self.n == 30:
            ctx.submit_intent(
                "BTCUSDT",
                "BUY",
                entry_ideal=bar.close,
                entry_max=bar.close + 1,
                stop=bar.close - 10,
                risk_amount="100",
            )


def test_the_first_intent_brings_the_last_k_bars_then_apply_bar_while_the_trade_is_open() -> None:
    node, driver, calls = make(Intent())
    data = bars(40)
    driver.run(data)
    applied = [m for m in calls if type(m).__name__ == "ApplyBar"]
    k = node.policy_params().trailing.atr_period + 5
    intent_at = next(i for i, m in enumerate(calls) if type(m).__name__ == "SubmitTradeIntent")
    before = [m for m in calls[:intent_at] if type(m).__name__ == "ApplyBar"]
    assert [m.start_ns for m in before] == [b.start_ns for b in data[30 - k : 30]]
    trade = node.managed_trade("a-1")
    assert trade is not None
    if trade.is_open:  # still open at the end: every later bar was applied too
        assert [m.start_ns for m in applied[len(before) :]] == [b.start_ns for b in data[30:]]


def test_trade_prints_go_to_the_venue_and_on_trade() -> None:
    seen: list[TradePrint] = []

    class Prints(Strategy):
        def on_trade(self, ctx: StrategyContext, print_: TradePrint) -> None:
            seen.append(print_)
            assert ctx.price("BTCUSDT") == print_.price

    _node, driver, calls = make(Prints())
    prints = [
        TradePrint(symbol="BTCUSDT", ts=START + i, price=D(100) + i, qty=D(1)) for i in range(5)
    ]
    driver.run(prints)
    assert seen == prints and calls == []
