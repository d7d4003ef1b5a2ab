"""``atlas futures mark|funding-rate|fund|liquidations|settle``: the market's side of the
derivatives venue, on a journal (:func:`.helpers.venue_journal`, written from T0; the commands run
on a manual clock ten minutes later)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from atlas_oms import Instrument, ManualClock, Node
from atlas_oms.model import events as ev

from . import helpers
from .helpers import BTC_PERP, MINUTE, PERP, SPOT, T0, futures_runner, row, venue_journal

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
    with Node.open(str(journal), clock=ManualClock(NOW)) as node:
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


def test_funding_rate(run: Run, journal: Path) -> None:
    code, out, err = run("funding-rate", ETH, "0.0001")
    assert code == 0, err
    assert f"funding rate of {ETH} set to 0.0001 (0.01% of the mark value every 480 min" in out
    assert out.endswith("next settlement at 2026-01-01 08:00:00 UTC\n")  # T0 + 480 min
    assert journaled(journal, ev.FundingRateSet)[-1].rate == Decimal("0.0001")
    code, out, _ = run("funding-rate", ETH, "-0.0002", "--json")
    assert json.loads(out)["rate"] == "-0.0002"
    assert json.loads(out)["next_funding_ts"] == T0 + 480 * MINUTE


def test_funding_rate_refusals(run: Run) -> None:
    code, _, err = run("funding-rate", SPOT, "0.0001")
    assert code == 2 and err.startswith("refused: NOT_A_PERPETUAL")
    code, _, err = run("funding-rate", ETH, "1.5")
    assert code == 2 and err.startswith("refused: INVALID_FUNDING_RATE")


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


def test_liquidations_history(run: Run) -> None:
    code, out, _ = run("liquidations")
    assert code == 0 and "Liquidations in" in out and ": none" in out
    run("mark", ETH, "2950")
    code, out, err = run("liquidations")
    assert code == 0, err
    assert ": 1" in out.splitlines()[0]
    assert re.search(r"\nseq \d+ at 2026-01-01 00:10:00 UTC\n", out)  # the mark ran at NOW
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


def test_settle_refuses_a_perpetual_and_settles_an_expired_dated_future(
    run: Run, journal: Path
) -> None:
    code, _, err = run("settle", ETH, "3000", "--actor", "ops")
    assert code == 2 and "NOT_A_DATED_FUTURE" in err
    fut = "ETH/USDT:USDT-261225"
    with Node.open(str(journal), clock=ManualClock(NOW)) as node:
        node.add_instrument(Instrument.future(fut, tick_size="0.01", lot_size="0.001", expiry_ts=1))
        node.update_prices(fut, last="3000", mark="3000")
        node.set_leverage("erin", fut, 10)
        node.set_leverage("dave", fut, 10)
        node.sell("erin", fut, "1", "3000")
        node.buy("dave", fut, "1", "3000")
    code, out, err = run("settle", fut, "3100", "--actor", "ops")
    assert code == 0, err
    assert f"{fut} settled at 3100 by ops: 2 positions closed" in out
    with Node.open(str(journal), clock=ManualClock(NOW)) as node:
        assert node.position("dave", fut).realized_pnl == 100  # type: ignore[union-attr]
    code, _, err = run("settle", fut, "3100", "--actor", "ops")
    assert code == 2 and "FUTURE_SETTLED" in err
