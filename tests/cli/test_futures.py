"""``atlas futures tiers|leverage|mode|margin|positions``: the account's side of the derivatives
venue, on a journal.

Each test builds a small SQLite journal in a tmp dir with the library (:func:`.helpers.venue_journal`:
an ETH perpetual with Binance's ETHUSDT tiers from ``examples/``, a market maker, an isolated 50x
long, a cross long and a cross short, written from T0), acts on it through ``main([...])`` on a
manual clock ten minutes later and reopens the journal to check what was journaled.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from atlas_oms.cli import main
from atlas_oms.model import events as ev
from atlas_oms.store.reference import load_brackets

from . import helpers
from .helpers import (
    BRACKETS,
    BTC_PERP,
    MINUTE,
    PERP,
    SPOT,
    T0,
    futures_runner,
    row,
    venue_journal,
)

NOW = T0 + 10 * MINUTE
ETH = PERP
BTC = BTC_PERP

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def journal(tmp_path: Path) -> Path:
    path = tmp_path / "venue.db"
    venue_journal(path)
    return path


@pytest.fixture
def run(journal: Path, capsys: pytest.CaptureFixture[str]) -> Run:
    """Run ``atlas futures ARGS --journal JOURNAL`` at NOW; return the exit code, stdout, stderr."""
    return futures_runner(journal, capsys, NOW)


def journaled(path: Path, kind: type[ev.EventBase]) -> list[ev.EventBase]:
    return helpers.journaled(path, kind, NOW)


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


def test_positions_table_rounds_to_the_tick(run: Run) -> None:
    code, out, err = run("positions")
    assert code == 0, err
    assert out.startswith("Derivative positions in ") and " at 2026-01-01 00:10:00 UTC\n" in out
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
    assert data["as_of"] == NOW
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


def test_missing_journal(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["futures", "positions", "--journal", str(tmp_path / "nope.db")]) == 2
    assert "atlas futures positions: no journal at" in capsys.readouterr().err
