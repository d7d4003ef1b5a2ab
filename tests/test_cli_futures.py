"""``atlas futures``: the perpetual-futures venue operated from the command line, on a journal.

Each test builds a small SQLite journal in a tmp dir with the library (an ETH perpetual with
Binance's ETHUSDT tiers from ``examples/``, a market maker, an isolated 50x long, a cross long
and a cross short), acts on it through ``main([...])`` and reopens the journal with a
:class:`Node` to check that the action was journaled. The journal is written on a manual clock
that starts at the real time of the test, since the commands stamp their events with the wall
clock.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import json
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from atlas_oms import Instrument, ManualClock, Node
from atlas_oms.cli import main
from atlas_oms.model import events as ev
from atlas_oms.store.reference import load_brackets

BRACKETS = Path(__file__).resolve().parents[1] / "examples" / "binance_leverage_brackets.json"
ETH = "ETH/USDT:USDT"
BTC = "BTC/USDT:USDT"
SPOT = "ETH/USDT"
DEPOSITS = {"mm": 200_000, "carol": 1_000, "dave": 5_000, "erin": 2_000}

Run = Callable[..., tuple[int, str, str]]


def build(path: Path) -> None:
    """mm offers 7 @ 3000 and bids 4 @ 2945, 2 @ 2938, 20 @ 2800; erin (cross 20x) sells 8 @ 3000;
    carol (isolated 50x) buys 10 and dave (cross 10x) 5 at market. The USDT fund holds 100."""
    node = Node.open(str(path), clock=ManualClock(time.time_ns()))
    tiers = load_brackets(BRACKETS)["ETHUSDT"]
    node.add_instrument(
        Instrument.perpetual(
            ETH,
            tick_size="0.01",
            lot_size="0.001",
            maker_fee="0.0002",
            taker_fee="0.0005",
            margin_tiers=tiers,
        )
    )
    node.add_instrument(Instrument.perpetual(BTC, tick_size="0.1", lot_size="0.001"))
    node.add_instrument(Instrument.spot(SPOT, tick_size="0.01", lot_size="0.001"))
    for account, amount in DEPOSITS.items():
        node.open_account(account)
        node.deposit(account, "USDT", amount)
    node.deposit_insurance_fund("USDT", 100, actor="ops", reason="seed")
    node.set_margin_mode("carol", ETH, "ISOLATED")
    for account, leverage in (("carol", 50), ("dave", 10), ("erin", 20), ("mm", 10)):
        node.set_leverage(account, ETH, leverage)
    node.update_prices(ETH, last="3000", mark="3000")
    node.sell("mm", ETH, "7", "3000")
    for qty, px in (("4", "2945"), ("2", "2938"), ("20", "2800")):
        node.buy("mm", ETH, qty, px)
    node.sell("erin", ETH, "8", "3000")
    node.buy("carol", ETH, "10")
    node.buy("dave", ETH, "5")
    node.close()


@pytest.fixture
def journal(tmp_path: Path) -> Path:
    path = tmp_path / "venue.db"
    build(path)
    return path


@pytest.fixture
def run(journal: Path, capsys: pytest.CaptureFixture[str]) -> Run:
    """Run ``atlas futures ARGS --journal JOURNAL``; return the exit code, stdout and stderr."""

    def runner(*args: str) -> tuple[int, str, str]:
        try:
            code = main(["futures", *args, "--journal", str(journal)])
        except SystemExit as exc:  # argparse refuses the command line
            code = int(exc.code or 0)
        captured = capsys.readouterr()
        assert "Traceback" not in captured.err
        return code, captured.out, captured.err

    return runner


def journaled(path: Path, kind: type[ev.EventBase]) -> list[ev.EventBase]:
    with Node.open(str(path)) as node:
        return [e for e in node.events() if isinstance(e, kind)]


def row(text: str, first: str) -> list[str]:
    """The cells of the table row whose first cell is ``first``."""
    for line in text.splitlines():
        cells = line.split()
        if cells and cells[0] == first:
            return cells
    raise AssertionError(f"no row {first!r} in:\n{text}")


# ------------------------------------------------------------------------------- example file
def test_example_brackets_are_binance_shaped_and_continuous() -> None:
    data = json.loads(BRACKETS.read_text(), parse_float=Decimal)
    assert [entry["symbol"] for entry in data] == ["BTCUSDT", "ETHUSDT"]
    for entry in data:
        brackets = entry["brackets"]
        assert set(brackets[0]) == {
            "bracket",
            "initialLeverage",
            "notionalCap",
            "notionalFloor",
            "maintMarginRatio",
            "cum",
        }
        assert brackets[0]["notionalFloor"] == 0 and brackets[0]["cum"] == 0
        for prev, cur in itertools.pairwise(brackets):
            assert cur["bracket"] == prev["bracket"] + 1
            assert cur["notionalFloor"] == prev["notionalCap"]
            assert cur["initialLeverage"] < prev["initialLeverage"]
            step = cur["notionalFloor"] * (cur["maintMarginRatio"] - prev["maintMarginRatio"])
            assert cur["cum"] == prev["cum"] + step, (entry["symbol"], cur["bracket"])
    tables = load_brackets(BRACKETS)  # the loader's own validation agrees
    assert len(tables["BTCUSDT"]) == len(tables["ETHUSDT"]) == 10


# -------------------------------------------------------------------------------------- tiers
def test_tiers_shows_the_default_then_sets_them_from_a_binance_file(
    run: Run, journal: Path
) -> None:
    code, out, _ = run("tiers", BTC)
    assert code == 0 and "the engine's default single tier" in out
    code, out, err = run("tiers", BTC, "--file", str(BRACKETS), "--actor", "ops", "--reason", "r")
    assert code == 0, err
    assert f"margin tiers of {BTC} set from {BRACKETS} (BTCUSDT) by ops: r" in out
    assert row(out, "tier")[:7] == ["tier", "1", "0", "50,000", "125x", "0.4%", "0"]
    assert "105,872,550" in out  # the last tier's maintenance amount
    [event] = journaled(journal, ev.MarginTiersSet)
    assert event.symbol == BTC and event.actor == "ops" and len(event.tiers) == 10
    code, out, _ = run("tiers", BTC, "--json")
    shown = json.loads(out)
    assert shown["source"] == "set"
    assert shown["tiers"][1] == {
        "bracket": 2,
        "floor": "50000",
        "cap": "500000",
        "maint_margin_rate": "0.005",
        "maint_amount": "50.0",
        "max_leverage": "100",
    }


def test_tiers_from_another_entry_of_the_file(run: Run) -> None:
    code, out, err = run(
        "tiers", BTC, "--file", str(BRACKETS), "--binance-symbol", "ETHUSDT", "--actor", "ops"
    )
    assert code == 0, err
    assert row(out, "tier")[4] == "100x"


def test_tiers_refusals(run: Run, tmp_path: Path, journal: Path) -> None:
    code, _, err = run("tiers", BTC, "--file", str(BRACKETS))
    assert code == 2 and "needs --actor" in err
    code, _, err = run("tiers", SPOT, "--file", str(BRACKETS), "--actor", "ops")
    assert code == 2 and "not a derivative" in err
    code, _, err = run(
        "tiers", BTC, "--file", str(BRACKETS), "--binance-symbol", "X", "--actor", "o"
    )
    assert code == 2 and "no brackets for X (it has BTCUSDT, ETHUSDT)" in err
    jump = json.loads(BRACKETS.read_text())
    jump[0]["brackets"][1]["cum"] = 49  # maintenance margin would jump at 50,000
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(jump))
    code, _, err = run("tiers", BTC, "--file", str(bad), "--actor", "ops")
    assert code == 2 and "leaves a jump at notional 50000" in err
    assert journaled(journal, ev.MarginTiersSet) == []


# ----------------------------------------------------------------------------------- leverage
def test_leverage(run: Run, journal: Path) -> None:
    code, out, err = run("leverage", "dave", ETH, "20")
    assert code == 0, err
    assert f"leverage of dave on {ETH} set to 20x: positions up to 1,000,000 USDT" in out
    assert journaled(journal, ev.LeverageSet)[-1].leverage == Decimal(20)
    code, out, _ = run("leverage", "dave", ETH, "25", "--json")
    assert json.loads(out) == {
        "account_id": "dave",
        "symbol": ETH,
        "leverage": "25",
        "max_notional": "1000000",
    }


@pytest.mark.parametrize(
    ("leverage", "reason"),
    [
        ("0", "INVALID_LEVERAGE: leverage must be a number of at least 1, got 0"),
        ("150", f"LEVERAGE_TOO_HIGH: leverage 150x is above {ETH}'s maximum 100x"),
        # dave's 15,000 of notional is in tier 2 (up to 75x): 100x allows 10,000
        ("100", f"LEVERAGE_TOO_HIGH: at 100x a {ETH} position may reach 10000 USDT"),
    ],
)
def test_leverage_refusals(run: Run, journal: Path, leverage: str, reason: str) -> None:
    before = len(journaled(journal, ev.LeverageSet))
    code, out, err = run("leverage", "dave", ETH, leverage)
    assert code == 2 and out == ""
    assert err.startswith("refused: " + reason)
    assert len(journaled(journal, ev.LeverageSet)) == before


# ------------------------------------------------------------------------------- margin mode
def test_margin_mode(run: Run, journal: Path) -> None:
    code, out, err = run("mode", "dave", BTC, "isolated")
    assert code == 0, err
    assert f"dave's {BTC} position is margined ISOLATED" in out
    event = journaled(journal, ev.MarginModeSet)[-1]
    assert (event.account_id, event.symbol, event.mode) == ("dave", BTC, "ISOLATED")
    code, out, _ = run("mode", "dave", BTC, "CROSS", "--json")
    assert json.loads(out)["margin_mode"] == "CROSS"


def test_margin_mode_refused_with_a_position(run: Run) -> None:
    code, _, err = run("mode", "dave", ETH, "isolated")
    assert code == 2 and err.startswith("refused: MARGIN_MODE_LOCKED: account dave has a position")
    code, _, err = run("mode", "dave", ETH, "hedged")
    assert code == 2 and "invalid choice" in err


# ------------------------------------------------------------------------------------ margin
def test_margin_add_and_remove(run: Run, journal: Path) -> None:
    code, out, err = run("margin", "add", "carol", ETH, "50")
    assert code == 0, err
    assert f"50 USDT added to carol's isolated {ETH} margin" in out
    cells = row(out, "carol")
    assert cells[8] == "650" and cells[-2:] == ["2952.69", "2935"]  # margin, liq., bankruptcy
    code, out, _ = run("margin", "remove", "carol", ETH, "30", "--json")
    data = json.loads(out)
    assert data["action"] == "remove" and data["position"]["margin"] == "620"
    assert [e.amount for e in journaled(journal, ev.IsolatedMarginAdjusted)] == [50, -30]


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (("remove", "carol", ETH, "-5"), "INVALID_AMOUNT: the margin amount must be a positive"),
        (("remove", "carol", ETH, "0"), "INVALID_AMOUNT"),
        # 600 of margin is exactly the initial margin at 50x: nothing can come out
        (("remove", "carol", ETH, "1"), "MARGIN_REMOVAL_TOO_LARGE: at most 0 USDT can be removed"),
        (("add", "carol", ETH, "5000"), "INSUFFICIENT_BALANCE: cannot add 5000 USDT"),
        (("add", "dave", ETH, "10"), f"NOT_ISOLATED: {ETH} is margined CROSS for account dave"),
    ],
)
def test_margin_refusals(run: Run, journal: Path, args: tuple[str, ...], reason: str) -> None:
    code, out, err = run("margin", *args)
    assert code == 2 and out == ""
    assert err.startswith("refused: " + reason)
    assert journaled(journal, ev.IsolatedMarginAdjusted) == []


# --------------------------------------------------------------------------------- positions
def test_positions_table_rounds_to_the_tick(run: Run) -> None:
    code, out, err = run("positions")
    assert code == 0, err
    header = row(out, "account")
    for name in ("qty", "entry", "mark", "mode", "liq.", "bankr."):
        assert name in header
    carol = row(out, "carol")
    assert carol[2:7] == ["10", "3000", "3000", "0", "ISOLATED"]
    assert carol[7:] == ["50x", "600", "30%", "2957.73", "2940"]
    assert row(out, "erin")[-2:] == ["3230.28", "3249.4"]
    assert "Cross margin" in out and row(out, "dave")[6] == "CROSS"
    assert "E-" not in out and "E+" not in out


def test_positions_json_is_exact(run: Run) -> None:
    code, out, _ = run("positions", "carol", "--json")
    assert code == 0
    data = json.loads(out)
    [carol] = data["positions"]
    assert carol["liquidation_price"] == "2957.725213890286864620030196"
    assert carol["bankruptcy_price"] == "2940"
    assert (carol["margin_mode"], carol["leverage"], carol["qty"]) == ("ISOLATED", "50", "10")
    assert data["cross_margin"] == []
    code, out, _ = run("positions", "dave", "--json")
    [cross] = json.loads(out)["cross_margin"]
    assert cross["account_id"] == "dave" and cross["wallet_balance"] == "4992.5000"


def test_positions_of_an_unknown_account(run: Run) -> None:
    code, _, err = run("positions", "nobody")
    assert code == 2 and "unknown account 'nobody'" in err


# -------------------------------------------------------------------------------------- mark
def test_mark_without_liquidation(run: Run) -> None:
    code, out, err = run("mark", ETH, "2990")
    assert code == 0, err
    assert f"mark of {ETH}: 3000 -> 2990" in out and "no liquidation" in out


def test_mark_liquidates_through_the_book_the_fund_and_adl(run: Run, journal: Path) -> None:
    code, out, err = run("mark", ETH, "2950")
    assert code == 0, err
    assert "liquidation #1: carol ISOLATED" in out and "; finished" in out
    book, fund, adl = row(out, "BOOK"), row(out, "FUND"), row(out, "ADL")
    # stage, symbol, order (#id IOC limit), bankruptcy, qty, price, vs bankruptcy, to fund, who
    assert book[4:] == ["2940", "2940", "4", "2945", "+5", "+20", "book:", "mm"]
    assert fund[4:] == ["2920", "2940", "2", "2938", "-2", "-4", "book:", "mm"]
    assert adl[2:] == ["-", "2940", "4", "2940", "0", "-", "ADL", "rank", "1:", "erin"]
    assert "insurance fund USDT: 100 -> 116" in out
    with Node.open(str(journal)) as node:
        assert node.insurance_fund("USDT") == 116
        assert node.position("carol", ETH).qty == 0  # type: ignore[union-attr]
        assert node.position("erin", ETH).qty == -4  # type: ignore[union-attr]
        # the library's view from the ADL counterparty's side: its own trade, nothing of carol's
        mine = node.liquidations("erin")
        assert [type(e).__name__ for e in mine] == ["PositionAutoDeleveraged"]
        assert mine[0].account_id == "erin" and not mine[0].liquidated  # type: ignore[attr-defined]
        assert node.liquidations("dave") == []
        kinds = [type(e).__name__ for e in node.liquidations("carol")]
        assert kinds[0] == "LiquidationStarted" and kinds[-1] == "LiquidationFinished"


def test_mark_json(run: Run) -> None:
    code, out, _ = run("mark", ETH, "2950", "--json")
    assert code == 0
    data = json.loads(out)
    assert (data["mark"], data["previous_mark"]) == ("2950", "3000")
    assert data["insurance_fund"] == {"USDT": "116"}
    [case] = data["liquidations"]
    assert [s["stage"] for s in case["steps"]] == ["BOOK", "FUND", "ADL"]
    assert case["steps"][0]["fills"][0]["vs_bankruptcy"] == "5"
    assert case["steps"][2]["adl"][0]["counterparty_id"] == "erin"
    assert case["finished"]["shortfall"] == "0"
    assert data["events"][0]["type"] == "PricesUpdated"


def test_mark_refusals(run: Run) -> None:
    code, _, err = run("mark", SPOT, "2950")
    assert code == 2 and f"{SPOT!r} is not a derivative" in err
    code, _, err = run("mark", ETH, "cheap")
    assert code == 2 and "not a number: 'cheap'" in err


# ------------------------------------------------------------------------------- funding rate
def test_funding_rate(run: Run, journal: Path) -> None:
    code, out, err = run("funding-rate", ETH, "0.0001")
    assert code == 0, err
    assert f"funding rate of {ETH} set to 0.0001 (0.01% of the mark value every 480 min" in out
    assert journaled(journal, ev.FundingRateSet)[-1].rate == Decimal("0.0001")
    code, out, _ = run("funding-rate", ETH, "-0.0002", "--json")
    assert json.loads(out)["rate"] == "-0.0002"


def test_funding_rate_refusals(run: Run) -> None:
    code, _, err = run("funding-rate", SPOT, "0.0001")
    assert code == 2 and err.startswith("refused: NOT_A_PERPETUAL")
    code, _, err = run("funding-rate", ETH, "1.5")
    assert code == 2 and err.startswith("refused: INVALID_FUNDING_RATE")


# ------------------------------------------------------------------------------ insurance fund
def test_fund_deposit_and_show(run: Run, journal: Path) -> None:
    code, out, err = run("fund", "USDT", "400", "--actor", "ops", "--reason", "top up")
    assert code == 0, err
    assert "insurance fund USDT: deposit of 400 by ops: top up; balance 500" in out
    run("mark", ETH, "2950")
    code, out, _ = run("fund")
    assert code == 0
    assert row(out, "USDT")[1:] == ["500", "+20", "-4", "516"]
    code, out, _ = run("fund", "USDT", "--json")
    assert json.loads(out)["insurance_funds"] == [
        {
            "asset": "USDT",
            "deposited": "500",
            "from_liquidations": "20",
            "to_liquidations": "-4",
            "balance": "516",
        }
    ]
    event = journaled(journal, ev.InsuranceFundDeposited)[-1]
    assert (event.amount, event.actor, event.reason) == (400, "ops", "top up")


def test_fund_refusals(run: Run) -> None:
    code, _, err = run("fund", "USDT", "-1000", "--actor", "ops")
    assert code == 2
    assert err.startswith("refused: INSUFFICIENT_BALANCE: the USDT insurance fund holds 100")
    code, _, err = run("fund", "USDT", "10")
    assert code == 2 and "needs --actor" in err


# ------------------------------------------------------------------------------ liquidations
def test_liquidations_history(run: Run) -> None:
    code, out, _ = run("liquidations")
    assert code == 0 and "Liquidations in" in out and ": none" in out
    run("mark", ETH, "2950")
    code, out, err = run("liquidations")
    assert code == 0, err
    assert ": 1" in out.splitlines()[0]
    assert "liquidation #1: carol ISOLATED" in out
    assert row(out, "ADL")[-2:] == ["1:", "erin"]
    assert "insurance fund +16 USDT from this case" in out
    code, out, _ = run("liquidations", "erin")  # the ADL counterparty sees the case
    assert "liquidation #1" in out
    code, out, _ = run("liquidations", "dave")
    assert "none" in out and "liquidation #1" not in out
    code, out, _ = run("liquidations", "carol", "--json")
    [case] = json.loads(out)["liquidations"]
    assert case["account_id"] == "carol" and case["to_fund"] == "16"
    assert case["steps"][1]["fills"] == [
        {"seq": case["steps"][1]["fills"][0]["seq"], "qty": "2", "price": "2938"}
        | {"vs_bankruptcy": "-2", "counterparty": "mm"}
    ]
    code, _, err = run("liquidations", "nobody")
    assert code == 2 and "unknown account" in err


def test_futures_without_action_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["futures"]) == 2
    out = capsys.readouterr().out
    for action in ("tiers", "leverage", "mode", "margin", "positions", "mark", "liquidations"):
        assert action in out


def test_missing_journal(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["futures", "positions", "--journal", str(tmp_path / "nope.db")]) == 2
    assert "atlas futures positions: no journal at" in capsys.readouterr().err


# -------------------------------------------------------------------------------------- demo
def test_demo_prints_the_derivatives_section(tmp_path: Path) -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["demo", "--journal", str(tmp_path / "demo.db")]) == 0
    text = out.getvalue()
    section = text[text.index("== Derivatives venue") :]
    assert "tier 2          10,000    100,000       75x" in section
    assert "refused LEVERAGE_TOO_HIGH: leverage 150x is above ETH/USDT:USDT's maximum 100x" in (
        section
    )
    carol = row(section, "carol")
    assert carol[5:] == ["0", "ISOLATED", "50x", "600", "30%", "2957.73", "2940"]
    assert "liquidation #1: carol ISOLATED" in section
    assert row(section, "BOOK")[-2:] == ["book:", "mm-eth"]
    assert row(section, "ADL")[-2:] == ["1:", "erin"]
    assert "-> 208,100 USDT in, 208,100 accounted for: conserved" in section
    assert row(section, "total")[1:] == ["208,100", "208,100"]
    assert text.index("== Derivatives venue") > text.index("Audit trail of bob")


def test_settle_refuses_a_perpetual_and_settles_an_expired_dated_future(
    run: Run, journal: Path
) -> None:
    code, _, err = run("settle", ETH, "3000", "--actor", "ops")
    assert code == 2 and "NOT_A_DATED_FUTURE" in err
    fut = "ETH/USDT:USDT-261225"
    with Node.open(str(journal), clock=ManualClock(time.time_ns())) as node:
        node.add_instrument(Instrument.future(fut, tick_size="0.01", lot_size="0.001", expiry_ts=1))
        node.update_prices(fut, last="3000", mark="3000")
        node.set_leverage("erin", fut, 10)
        node.set_leverage("dave", fut, 10)
        node.sell("erin", fut, "1", "3000")
        node.buy("dave", fut, "1", "3000")
    code, out, err = run("settle", fut, "3100", "--actor", "ops")
    assert code == 0, err
    assert f"{fut} settled at 3100 by ops: 2 positions closed" in out
    with Node.open(str(journal)) as node:
        assert node.position("dave", fut).realized_pnl == 100  # type: ignore[union-attr]
    code, _, err = run("settle", fut, "3100", "--actor", "ops")
    assert code == 2 and "FUTURE_SETTLED" in err
