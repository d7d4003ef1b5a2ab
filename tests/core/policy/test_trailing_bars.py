"""Seed 001 §10.1: 1-minute bars in the core (``core/policy/bar_book.py``), built from the prints
Atlas sees or taken as market data, with ATR / EMA / swing points fed bar by bar.

§10.1 Normativ: "Stop-Maintenance: auf jedem 1m-Bar-Close"."""

from __future__ import annotations

from trade_kit import SEC, SYMBOL, of
from trailing_kit import (
    T0,
    D,
    bar,
    enter_long,
    feed,
    flat_bars,
    higher_low_bars,
    node_at_t0,
)

from atlas_oms.core.policy import bars, indicators
from atlas_oms.core.policy.bars import MINUTE_NS, minute_start
from atlas_oms.core.policy.indicators import IndicatorConfig
from atlas_oms.model import events as ev


def test_section_10_1_a_bar_is_built_from_prints_and_each_match_counts_once() -> None:
    """On the built-in exchange a match fills both sides (same match id): one print, not two."""
    node = node_at_t0()
    node.sell("maker", SYMBOL, 10, 100)
    node.buy("trader", SYMBOL, 10, 100)
    node.advance_time(5 * SEC)
    node.sell("maker", SYMBOL, 5, "101.5")
    node.buy("trader", SYMBOL, 5, "101.5")
    node.buy("maker", SYMBOL, 7, "99.25")
    node.sell("trader", SYMBOL, 7, "99.25")
    current, _ = node.bars_state(SYMBOL)
    assert current is not None
    assert current.start_ns == minute_start(T0)
    assert (current.open, current.high, current.low, current.close) == (
        D(100),
        D("101.5"),
        D("99.25"),
        D("99.25"),
    )
    assert (current.volume, current.trades) == (D(22), 3)


def test_section_10_1_a_last_price_tick_is_not_a_print() -> None:
    """Decision: ``UpdatePrices(last=...)`` has no quantity and may repeat a fill already booked;
    it does not enter a bar (external venues send bars, ``ApplyBar``)."""
    node = node_at_t0()
    node.sell("maker", SYMBOL, 10, 100)
    node.buy("trader", SYMBOL, 10, 100)
    node.update_prices(SYMBOL, last=120)
    current, _ = node.bars_state(SYMBOL)
    assert current is not None and current.high == D(100) and current.trades == 1


def test_section_10_1_a_later_print_closes_the_bar_and_feeds_the_indicators() -> None:
    node = node_at_t0()
    trades = []
    for px in ["100", "100.5", "99.5", "101", "100.25"]:
        node.sell("maker", SYMBOL, 1, px)
        node.buy("trader", SYMBOL, 1, px)
        trades.append((D(px), D(1), node.clock.now()))
        node.advance_time(25 * SEC)
    current, ind = node.bars_state(SYMBOL)
    expected = bars.bars_from_trades(trades)  # every bar but the last (still in progress)
    assert ind.bars == len(expected) == 2
    assert ind.prev_close == expected[-1].close
    assert current is not None and current.start_ns == minute_start(trades[-1][2])


def test_section_10_1_a_bar_of_a_trailed_symbol_closes_on_time_by_the_timer() -> None:
    """The DEADLINE_HOOK names the end of the bar in progress; the timer tick at that end closes
    it (``BarClosed``) though nothing traded since."""
    node = node_at_t0()
    enter_long(node, target_policy="TRAIL_ONLY")
    end = minute_start(T0) + MINUTE_NS
    assert node.engine.next_deadline(node.clock.now()) == end
    assert not of(node.advance_time(end - T0 - 1), ev.BarClosed)
    closed = of(node.advance_time(1), ev.BarClosed)
    assert len(closed) == 1
    c = closed[0]
    assert isinstance(c, ev.BarClosed)
    assert (c.start_ns, c.open, c.close, c.volume, c.trades) == (
        minute_start(T0),
        D(100),
        D(100),
        D(100),
        1,
    )
    assert node.bars_state(SYMBOL)[0] is None
    assert node.engine.next_deadline(node.clock.now()) is None  # empty minutes make no bar


def test_section_10_2_atr_ema_and_higher_low_through_the_engine_equal_the_pure_functions() -> None:
    """Wilder ATR(14), EMA(9) of closes, Williams higher low: fed bar by bar through ``ApplyBar``
    they equal the batch forms of ``indicators.py``."""
    node = node_at_t0()
    series = higher_low_bars(-30) + [
        bar(-21 + i, 100 + i % 3, D("103") + i % 4, D("99") + D(i % 5) / 10, D("100.5") + i % 2)
        for i in range(12)
    ]
    feed(node, series)
    _, ind = node.bars_state(SYMBOL)
    assert ind.atr == indicators.atr_series(series, 14)[-1]
    assert ind.ema == indicators.ema_series([b.close for b in series], 9)[-1]
    assert ind.last_higher_low == indicators.higher_lows([b.low for b in series])[-1]
    assert ind == indicators.run(series, IndicatorConfig())


def test_section_10_2_the_periods_are_parameters() -> None:
    node = node_at_t0()
    node.set_policy_params({"trailing.atr-period": 3, "trailing.ema-period": 2}, actor="test")
    series = flat_bars(-10, 4)
    feed(node, series)
    _, ind = node.bars_state(SYMBOL)
    assert ind.atr == indicators.atr_series(series, 3)[-1] == D("0.5")
    assert ind.ema == D(100)


def test_section_10_1_a_bar_as_market_data_is_refused_when_inconsistent_and_dropped_when_late() -> (
    None
):
    node = node_at_t0()
    refused = of(node.apply_bar(SYMBOL, minute_start(T0), 100, 99, 98, 100), ev.CommandRejected)
    assert refused and "BAR_INCONSISTENT" in refused[0].message
    feed(node, flat_bars(-3, 2))
    _, ind = node.bars_state(SYMBOL)
    assert ind.bars == 2
    feed(node, flat_bars(-3, 1))  # a minute already closed: counted late, changes nothing
    _, ind2 = node.bars_state(SYMBOL)
    assert ind2 == ind
    assert node.engine.state.bar_book.symbols[SYMBOL].bars.late_bars == 1


def test_section_10_1_the_bar_length_is_the_parameter_bar_interval_ms() -> None:
    """``trailing.bar-interval-ms`` (seed: 1m): with 120,000 the prints 60 s apart share a bar."""
    node = node_at_t0()
    node.set_policy_params({"trailing.bar-interval-ms": 120_000}, actor="test")
    for px in ("100", "101"):
        node.sell("maker", SYMBOL, 1, px)
        node.buy("trader", SYMBOL, 1, px)
        node.advance_time(60 * SEC)
    current, ind = node.bars_state(SYMBOL)
    assert current is not None and ind.bars == 0
    assert current.start_ns == minute_start(T0, 2 * MINUTE_NS) and current.trades == 2
    assert current.end_ns == current.start_ns + 2 * MINUTE_NS
