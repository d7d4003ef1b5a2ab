"""What ``atlas backtest`` and the strategy API give a user: seed 003's executor behind every
order (refusals reach ``on_reject``), stress scenarios, every fill setting, trades data."""

from __future__ import annotations

import json
import textwrap
from decimal import Decimal
from pathlib import Path

import msgspec
import pytest
import yaml

from atlas_oms.backtest.output import write_report, write_results
from atlas_oms.backtest.runner import AccountSpec, Backtest, BacktestResult
from atlas_oms.backtest.scenarios import StressError, parse
from atlas_oms.backtest.strategy import OrderRefusal, Strategy, StrategyContext
from atlas_oms.cli import main
from atlas_oms.model import events as ev
from atlas_oms.simulation.config import FillConfig
from atlas_oms.simulation.market import Bar, TradePrint
from conftest import bars

ROOT = Path(__file__).resolve().parents[2]
FILLS = ROOT / "examples" / "fills.yaml"
TRADES = ROOT / "tests" / "fixtures" / "trades" / "BTCUSDT-trades.csv"
T0 = 1_700_000_000_000_000_000
MIN = 60_000_000_000


class Flip(Strategy):
    def __init__(self, qty: str = "0.1", every: int = 10) -> None:
        self.qty, self.every, self.n = Decimal(qty), every, 0

    def on_bar(self, ctx: StrategyContext, bar: Bar) -> None:
        self.n += 1
        if self.n % self.every == 0:
            held = ctx.position_qty(bar.symbol)
            if held > 0:
                ctx.sell(bar.symbol, held)
            else:
                ctx.buy(bar.symbol, self.qty)


class Recorder(Strategy):
    """Submits what ``orders`` says at bar n; keeps every refusal and fill."""

    def __init__(self, orders: dict[int, tuple[str, str]]) -> None:
        self.orders, self.n = orders, 0
        self.refusals: list[OrderRefusal] = []
        self.fills: list[ev.OrderFilled] = []
        self.answers: list[object] = []

    def on_bar(self, ctx: StrategyContext, bar: Bar) -> None:
        self.n += 1
        if self.n in self.orders:
            symbol, qty = self.orders[self.n]
            self.answers.append(ctx.buy(symbol, qty))

    def on_reject(self, ctx: StrategyContext, refusal: OrderRefusal) -> None:
        self.refusals.append(refusal)

    def on_fill(self, ctx: StrategyContext, fill: ev.OrderFilled) -> None:
        self.fills.append(fill)


def flat(n: int, price: str = "100", symbol: str = "BTCUSDT", volume: str = "10") -> list[Bar]:
    p = Decimal(price)
    return [
        Bar(
            symbol=symbol,
            start_ns=T0 + i * MIN,
            ts=T0 + (i + 1) * MIN,
            open=p,
            high=p,
            low=p,
            close=p,
            volume=Decimal(volume),
        )
        for i in range(n)
    ]


def run(strategy: Strategy, events: list, **kw: object) -> BacktestResult:
    kw.setdefault("total_capital", Decimal(10_000))
    return Backtest([AccountSpec("a", strategy)], events=events, progress=False, **kw).run()  # type: ignore[arg-type]


# ------------------------------------------------------------------ the executor
def test_every_strategy_order_goes_through_the_executor_and_its_statistics_reach_the_files(
    tmp_path: Path,
) -> None:
    result = run(Flip(), bars(200))
    stats = result.executor["a"]["BACKTEST"]
    assert stats["executions"] == len(result.accounts["a"].fills) == 20
    assert stats["successes"] == 20 and stats["success_rate"] == "100.00"
    assert stats["rejections"] == 0 and stats["retries"] == 0
    write_results(result, tmp_path)
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["executor"] == {"a": {"BACKTEST": stats}}
    report = write_report(result, tmp_path / "report.html").read_text()
    assert "Order executor" in report and "a (BACKTEST)" in report
    # latencies on the simulated clock: a second run writes the same summary
    again = tmp_path / "again"
    write_results(run(Flip(), bars(200)), again)
    assert (again / "summary.json").read_text() == (tmp_path / "summary.json").read_text()


def test_a_paper_mode_run_records_its_executions_under_paper() -> None:
    result = run(Flip(), bars(100), mode="PAPER")
    assert list(result.executor["a"]) == ["PAPER"]
    assert result.executor["a"]["PAPER"]["executions"] == 10


def test_every_refused_order_reaches_on_reject_with_its_reason_and_sentence() -> None:
    s = Recorder({3: ("BTCUSDT", "1000"), 4: ("BTCUSDT", "0"), 5: ("NOPEUSDT", "1")})
    result = run(s, bars(10), total_capital=Decimal(1000))
    assert [r.stage for r in s.refusals] == ["risk", "validation", "validation"]
    too_big, zero, unknown = s.refusals
    # the core denied it (not enough USDT): the order exists, DENIED, and the strategy knows
    assert too_big.reason == "INSUFFICIENT_BALANCE" and too_big.message
    denied = s.answers[0]
    assert denied is not None and denied.status.value == "DENIED"  # type: ignore[attr-defined]
    assert too_big.order_id == denied.order_id  # type: ignore[attr-defined]
    # refused before sending: no order at all
    assert (zero.reason, zero.order_id) == ("INVALID_QTY", None)
    assert (unknown.reason, unknown.order_id) == ("UNKNOWN_INSTRUMENT", None)
    assert "NOPEUSDT" in unknown.message
    assert s.answers[1:] == [None, None]
    assert result.accounts["a"].fills == []
    assert result.executor["a"]["BACKTEST"]["rejections"] == 3
    node = result.node
    assert node is not None and len(node.orders("a", open_only=False)) == 1


def test_an_order_too_large_for_the_24h_volume_is_refused_before_sending() -> None:
    # 24h notional seen: 5 bars x 10 x 100 = 5000; 10 units = 1000 = 20 % of it
    s = Recorder({5: ("BTCUSDT", "10"), 6: ("BTCUSDT", "0.01")})
    result = run(s, flat(10), fills={"max_slippage_pct": "0.5"})
    assert len(s.refusals) == 1
    refusal = s.refusals[0]
    assert (refusal.reason, refusal.stage) == ("ORDER_TOO_LARGE", "validation")
    assert "exceeds the maximum 0.5%" in refusal.message
    assert len(s.fills) == 1 and s.fills[0].last_qty == Decimal("0.01")
    assert result.executor["a"]["BACKTEST"]["executions"] == 2


# ------------------------------------------------------------------ stress scenarios
class StopBelow(Strategy):
    """Buy 1 at the first bar; protect it with a sell stop at 97."""

    def __init__(self) -> None:
        self.done = False
        self.refusals: list[OrderRefusal] = []

    def on_reject(self, ctx: StrategyContext, refusal: OrderRefusal) -> None:
        self.refusals.append(refusal)

    def on_bar(self, ctx: StrategyContext, bar: Bar) -> None:
        if not self.done:
            self.done = True
            ctx.buy(bar.symbol, "1")
            ctx.submit(bar.symbol, "SELL", "STOP_MARKET", "1", trigger_price="97")


def test_a_gap_fills_the_stop_at_the_gapped_price_worse_than_the_stop() -> None:
    calm = run(StopBelow(), flat(20))
    assert len(calm.accounts["a"].fills) == 1  # the stop never fired
    at = T0 + 10 * MIN
    # -4 %: from 100 to 96, below the stop at 97 and inside the core's 5 % market protection
    gapped = run(StopBelow(), flat(20), stress=[f"gap:{at}:-4"])
    sells = [f for f in gapped.accounts["a"].fills if f.side.value == "SELL"]
    assert len(sells) == 1
    # the gapped price less the volume slippage (1 of the bar's 10), above the protection bound
    assert Decimal("92.15") <= sells[0].price < Decimal(96) < Decimal(97)
    assert sells[0].ts == at - MIN  # the first bar after the gap (its start tick)
    assert gapped.stress == ["gap: prices -4% from 2023-11-14T22:23:20Z"]


def test_a_gap_beyond_the_market_collar_cancels_the_fired_stop_and_the_strategy_is_told() -> None:
    """-10 %: from 100 to 90, beyond the core's 5 % protection below the stop's trigger (97 ->
    92.15): the venue has nothing to trade within it, cancels the fired stop's rest, the position
    stays open, and ``on_reject`` says so with MARKET_NO_LIQUIDITY (never a silent loss of
    protection)."""
    s = StopBelow()
    result = run(s, flat(20), stress=[f"gap:{T0 + 10 * MIN}:-10"])
    assert not [f for f in result.accounts["a"].fills if f.side.value == "SELL"]
    told = [r for r in s.refusals if r.reason == "MARKET_NO_LIQUIDITY"]
    assert len(told) == 1 and told[0].stage == "venue" and "collar" in told[0].message


def test_a_halt_refuses_orders_with_instrument_halted_and_fills_nothing_in_the_window() -> None:
    events = sorted(flat(30) + flat(30, "50", "ETHUSDT"), key=lambda e: (e.ts, e.symbol))

    class BuyBtcOnEth(Recorder):
        def on_bar(self, ctx: StrategyContext, bar: Bar) -> None:
            if bar.symbol == "ETHUSDT":
                self.answers.append(ctx.buy("BTCUSDT", "0.01"))

    start, end = T0 + 10 * MIN, T0 + 20 * MIN
    s = BuyBtcOnEth({})
    result = run(s, events, stress=[{"halt": {"from": start, "to": end, "symbol": "BTCUSDT"}}])
    halted = [r for r in s.refusals if r.reason == "INSTRUMENT_HALTED"]
    assert len(halted) == 10 and {r.stage for r in halted} == {"venue"}
    assert all(start <= r.ts < end for r in halted) and all(r.order_id for r in halted)
    fills = result.accounts["a"].fills
    assert fills and not [f for f in fills if start <= f.ts < end]
    assert len(fills) == 20  # before and after the halt
    assert result.executor["a"]["BACKTEST"]["executions"] == 30


def test_conservative_costs_give_a_lower_pnl_than_the_default_on_the_same_run() -> None:
    default = run(Flip("1"), bars(300))
    stressed = run(Flip("1"), bars(300), stress=["conservative"])
    assert len(default.accounts["a"].fills) == len(stressed.accounts["a"].fills) == 30
    assert stressed.accounts["a"].final_equity < default.accounts["a"].final_equity
    assert stressed.fills["fixed_slippage_pct"] == "0.10"
    assert stressed.stress == ["conservative: slippage x2, fees at the worst tier"]


def test_stress_scenarios_read_iso_times_with_colons_and_nanoseconds() -> None:
    g = parse("gap:2024-01-01T12:00:-5")
    assert (g.kind, g.at_ns, g.pct) == ("gap", 1_704_110_400_000_000_000, Decimal(-5))
    h = parse("halt:2024-01-01T12:00:00:2024-01-01T13:30:00")
    assert (h.at_ns, h.end_ns) == (1_704_110_400_000_000_000, 1_704_115_800_000_000_000)
    assert parse("halt:5:9").at_ns == 5 and parse("conservative:3").k == 3
    assert parse({"gap": {"at": "2024-01-01", "pct": 2, "symbol": "ETHUSDT"}}).symbol == "ETHUSDT"
    for bad in ("gap:2024-01-01", "halt:9:5", "conservative:0.5", "crash", {"gap": {"pct": 1}}):
        with pytest.raises(StressError):
            parse(bad)  # type: ignore[arg-type]


def test_atlas_backtest_applies_stress_from_the_command_line_and_the_yaml(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sample = ROOT / "examples" / "data" / "BTCUSDT-1m-sample.csv"
    sma = f"{ROOT / 'examples' / 'strategies' / 'sma_crossover.py'}:SmaCrossover"
    config = tmp_path / "bt.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "data": [str(sample)],
                "accounts": {"demo": {"strategy": sma, "capital": 10000}},
                "stress": ["halt:2024-01-01T14:00:2024-01-01T15:00"],
                "out": str(tmp_path / "out"),
            }
        )
    )
    argv = ["backtest", "--config", str(config), "--stress", "conservative", "--no-report"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "stress: halt: 2024-01-01T14:00:00Z to 2024-01-01T15:00:00Z" in out
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["stress"] == [
        "halt: 2024-01-01T14:00:00Z to 2024-01-01T15:00:00Z",
        "conservative: slippage x2, fees at the worst tier",
    ]
    bad = ["backtest", "--config", str(config), "--stress", "gap:soon:-5", "--no-report"]
    assert main(bad) == 78
    assert "gap:soon:-5" in capsys.readouterr().err


# ------------------------------------------------------------------ fill settings
def test_the_example_fills_file_names_every_fill_setting() -> None:
    keys = set(yaml.safe_load(FILLS.read_text()))
    assert keys == set(FillConfig.__struct_fields__)
    assert FillConfig.from_yaml(str(FILLS)).commission_tiers  # it loads
    assert "examples/fills.yaml" in (ROOT / "docs" / "SIMULATION.md").read_text()


@pytest.mark.parametrize("where", ["--fills", "inline", "path in yaml"])
def test_every_fill_setting_reaches_the_venue_from_the_cli_and_the_yaml(
    tmp_path: Path, where: str
) -> None:
    sample = ROOT / "examples" / "data" / "BTCUSDT-1m-sample.csv"
    sma = f"{ROOT / 'examples' / 'strategies' / 'sma_crossover.py'}:SmaCrossover"
    settings = yaml.safe_load(FILLS.read_text())
    settings.update(model="volume", volume_basis="24h", latency_ms=250, queue=False)
    settings["max_slippage_pct"] = 2
    fills_file = tmp_path / "fills.yaml"
    fills_file.write_text(yaml.safe_dump(settings))
    plan: dict[str, object] = {
        "data": [str(sample)],
        "accounts": {"demo": {"strategy": sma, "capital": 10000}},
    }
    argv = ["backtest", "--out", str(tmp_path / "out"), "--no-report", "--quiet"]
    if where == "--fills":
        argv += ["--fills", str(fills_file)]
    elif where == "inline":
        plan["fills"] = settings
    else:
        plan["fills"] = "fills.yaml"  # relative to the config's folder
    config = tmp_path / "bt.yaml"
    config.write_text(yaml.safe_dump(plan))
    assert main([*argv, "--config", str(config)]) == 0
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    expected = json.loads(json.dumps(msgspec.to_builtins(FillConfig.from_dict(settings))))
    assert summary["fills"] == expected
    assert summary["fills"]["latency_ms"] == 250 and summary["fills"]["queue"] is False
    assert summary["fills"]["model"] == "volume" and summary["fills"]["max_volume_pct"] == "5"
    assert len(summary["fills"]["commission_tiers"]) == 3


def test_30_day_volume_tiers_lower_the_fee_rate_during_a_long_run() -> None:
    tiers = [
        {"min_volume_30d": 0, "maker": "0.001", "taker": "0.001"},
        {"min_volume_30d": 1500, "maker": "0.0005", "taker": "0.0005"},
    ]
    result = run(Flip("1"), bars(300), fills={"commission_tiers": tiers})
    fills = result.accounts["a"].fills
    assert len(fills) == 30

    def rate(f: object) -> Decimal:
        fee = f.fee * f.price if f.fee_asset == "BTC" else f.fee  # type: ignore[attr-defined]
        return (fee / (f.qty * f.price)).quantize(Decimal("0.00001"))  # type: ignore[attr-defined]

    rates = [rate(f) for f in fills]
    assert rates[0] == Decimal("0.00100")
    assert rates[-1] == Decimal("0.00050")
    first_cheap = rates.index(Decimal("0.00050"))
    assert sum(f.qty * f.price for f in fills[:first_cheap]) >= 1500
    assert all(r == Decimal("0.00050") for r in rates[first_cheap:])


# ------------------------------------------------------------------ trades data
STRATEGY = textwrap.dedent(
    """
    from atlas_oms.backtest.strategy import Strategy

    class PassiveBid(Strategy):
        def on_start(self, ctx):
            self.prints = 0

        def on_trade(self, ctx, print_):
            self.prints += 1
            if self.prints == 1:
                ctx.buy(print_.symbol, "1", "99.00")
    """
)


@pytest.mark.parametrize(("queue", "expected"), [(True, ["0.3", "0.4", "0.3"]), (False, ["1"])])
def test_a_backtest_on_trades_fills_a_passive_limit_by_the_prints_at_its_price(
    tmp_path: Path, queue: bool, expected: list[str]
) -> None:
    strategy = tmp_path / "passive.py"
    strategy.write_text(STRATEGY)
    fills = tmp_path / "fills.yaml"
    fills.write_text(yaml.safe_dump({"queue": queue}))
    out = tmp_path / "out"
    argv = [
        "backtest",
        "--data",
        str(TRADES),
        "--strategy",
        f"{strategy}:PassiveBid",
        "--account",
        "demo=1000",
        "--fills",
        str(fills),
        "--out",
        str(out),
        "--no-report",
        "--quiet",
    ]
    assert main(argv) == 0
    rows = [json.loads(line) for line in (out / "demo.fills.jsonl").read_text().splitlines()]
    assert [Decimal(r["qty"]) for r in rows] == [Decimal(q) for q in expected]
    assert {r["price"] for r in rows} == {"99.00"}
    assert {r["liquidity"] for r in rows if "liquidity" in r} <= {"MAKER"}
    summary = json.loads((out / "summary.json").read_text())
    assert summary["events"] == 7 and summary["bars"] == 0
    # the prints at 99.50 (above the bid) filled nothing: the first fill is the print at 99.00
    assert rows[0]["ts"] == 1_704_067_202_000_000_000


def test_on_trade_sees_every_print_of_a_trades_file() -> None:
    from atlas_oms.backtest.data import load_trades

    seen: list[TradePrint] = []

    class Watch(Strategy):
        def on_trade(self, ctx: StrategyContext, print_: TradePrint) -> None:
            seen.append(print_)

    prints = load_trades(TRADES)
    run(Watch(), list(prints))
    assert [p.price for p in seen] == [p.price for p in prints] and len(seen) == 7


def test_setting_the_drivers_mode_moves_the_executions_that_follow_to_that_mode() -> None:
    backtest = Backtest([AccountSpec("a", Flip())], events=bars(40), progress=False)
    backtest.total_capital = Decimal(10_000)
    node, _venue, driver, _recorder, _capitals = backtest.build(bars(40))
    for bar in bars(40)[:20]:
        driver.apply(bar)
    driver.mode = "PAPER"  # type: ignore[assignment]
    for bar in bars(40)[20:]:
        driver.apply(bar)
    stats = driver.executor_statistics()["a"]
    assert (stats["BACKTEST"]["executions"], stats["PAPER"]["executions"]) == (2, 2)
    node.close()
