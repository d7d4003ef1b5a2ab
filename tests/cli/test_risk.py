"""``atlas risk``: one operator action on a journal, its result printed.

Each test builds a small SQLite journal in a tmp dir with the library (:mod:`.journals`, written
from T0), acts on it through ``main([...])`` on a manual clock ten minutes later, then reopens the
journal with a :class:`Node` to check that the action is journaled and enforced.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from atlas_oms import ManualClock, Node, OrderStatus
from atlas_oms.cli import main

from .helpers import ETH, MINUTE, SECOND, T0, run_main, spot_journal, trip_breaker

#: When the commands run: ten minutes after the journals start.
NOW = T0 + 10 * MINUTE
OPS = ["--actor", "ops"]

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def journal(tmp_path: Path) -> Path:
    path = tmp_path / "oms.db"
    spot_journal(path)
    return path


@pytest.fixture
def run(journal: Path, capsys: pytest.CaptureFixture[str]) -> Run:
    """Run ``atlas ARGS --journal JOURNAL`` at ``now``; return the exit code, stdout and stderr."""

    def runner(*args: str, path: Path | None = None, now: int = NOW) -> tuple[int, str, str]:
        argv = [*args, "--journal", str(path or journal)]
        return run_main(argv, capsys, clock=ManualClock(now))

    return runner


def reopen(path: Path, now: int = NOW) -> Node:
    """The journal's node, on a manual clock at ``now`` (as the command ran)."""
    return Node.open(str(path), clock=ManualClock(now))


def last_seq(path: Path) -> int:
    with reopen(path) as node:
        return node.seq


def status_json(run: Run, *extra: str, path: Path | None = None, now: int = NOW) -> dict[str, Any]:
    code, out, _ = run("risk", "status", "--json", *extra, path=path, now=now)
    assert code == 0
    return json.loads(out)  # type: ignore[no-any-return]


# ------------------------------------------------------------------------------------ status
def test_status_of_a_journal_without_risk_settings(run: Run, journal: Path) -> None:
    code, out, _ = run("risk", "status")
    assert code == 0
    assert out.startswith(f"Risk status of {journal} at 2026-01-01 00:10:00 UTC\n")
    for line in (
        "Trading states: none set (everything ACTIVE)",
        "Kill switches: none active",
        "Circuit breakers: none configured",
        "Market status overrides: none (every instrument follows its schedule)",
    ):
        assert line in out
    assert status_json(run) == {
        "journal": str(journal),
        "as_of": NOW,
        "trading_states": [],
        "kill_switches": [],
        "circuit_breakers": [],
        "limits": [],
        "market_status": {},
    }


def test_status_reads_without_writing(run: Run, journal: Path) -> None:
    before = journal.read_bytes()
    assert run("risk", "status")[0] == 0
    assert run("risk", "status", "--json", "--account", "alice")[0] == 0
    assert journal.read_bytes() == before


def test_status_of_an_unknown_account_or_a_missing_journal_fails_cleanly(
    run: Run, tmp_path: Path
) -> None:
    code, out, err = run("risk", "status", "--account", "carol")
    assert code == 2 and out == "" and "unknown account 'carol'" in err
    code, _, err = run("risk", "status", path=tmp_path / "nope.db")
    assert code == 2 and err == f"atlas risk status: no journal at {tmp_path / 'nope.db'}\n"
    assert not (tmp_path / "nope.db").exists()


def test_risk_status_of_the_demo_journal(
    demo_run: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    path, _ = demo_run
    assert main(["risk", "status", "--journal", str(path), "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["kill_switches"] == [] and status["trading_states"] == []
    [breaker] = status["circuit_breakers"]
    assert (breaker["scope_id"], breaker["state"]) == ("bob", "OPEN")
    assert breaker["cause"] == "CONSECUTIVE_LOSSES"
    [limits] = status["limits"]
    assert limits["limits"]["max_open_orders"] == 3
    assert main(["risk", "status", "--journal", str(path)]) == 0
    out = capsys.readouterr().out
    assert "account  bob  max_order_qty    1" in out and "circuit breaker     account bob" in out


# ------------------------------------------------------------------------------------ limits
def test_limits_are_journaled_shown_in_status_and_enforced(run: Run, journal: Path) -> None:
    code, out, err = run(
        "risk", "limits", "account", "alice", "--set", "max_order_qty=5",
        "--set", "price_band_pct=3", *OPS, "--reason", "desk limits",
    )  # fmt: skip
    assert (code, err) == (0, "")
    assert "limits of account alice set by ops: desk limits" in out
    assert "max_order_qty" in out and "price_band_pct" in out

    code, out, _ = run("risk", "status")
    assert code == 0
    assert "account  alice  max_order_qty   5" in out
    assert "account  alice  price_band_pct  3" in out
    [entry] = status_json(run)["limits"]
    assert entry["scope"] == "account" and entry["scope_id"] == "alice"
    assert entry["limits"] == {"max_order_qty": "5", "price_band_pct": "3"}

    with reopen(journal) as node:
        big = node.buy("alice", ETH, "6", "2000")
        assert big.status is OrderStatus.DENIED and big.reason == "ORDER_QTY_TOO_LARGE"
        far = node.buy("alice", ETH, "1", "1900")  # 5% under the last 2000
        assert far.status is OrderStatus.DENIED and far.reason == "PRICE_OUTSIDE_BAND"
        fine = node.buy("alice", ETH, "5", "1995")
        assert fine.status is OrderStatus.ACCEPTED
        assert node.buy("bob", ETH, "6", "1995").status is OrderStatus.ACCEPTED  # not bob's
        [record] = [r for r in node.audit("alice") if r.event == "RiskLimitsSet"]
        assert record.actor == "ops" and record.detail["reason"] == "desk limits"
        assert record.ts_event == NOW  # stamped by the injected clock


def test_limits_from_a_file_with_a_breaker(run: Run, journal: Path, tmp_path: Path) -> None:
    spec = tmp_path / "limits.json"
    spec.write_text(
        json.dumps(
            {
                "max_open_orders": 2,
                "max_order_notional": 50000.5,
                "breaker": {"cooldown_minutes": 5},
            }
        )
    )
    code, out, _ = run(
        "risk", "limits", "account", "bob", "--from-file", str(spec),
        "--breaker", "max_consecutive_losses=3", *OPS,
    )  # fmt: skip
    assert code == 0
    assert "max_consecutive_losses=3, cooldown_minutes=5; others default" in out
    status = status_json(run, "--account", "bob")
    [entry] = status["limits"]
    assert entry["limits"]["max_order_notional"] == "50000.5"
    assert entry["limits"]["breaker"] == {"max_consecutive_losses": 3, "cooldown_minutes": 5}
    [breaker] = status["circuit_breakers"]
    assert breaker["state"] == "CLOSED" and breaker["consecutive_losses"] == 0
    code, out, _ = run("risk", "status", "--account", "bob")
    assert "circuit breaker     account bob" in out
    assert "consecutive losses  0 of 3" in out


def test_limits_replace_unless_update(run: Run) -> None:
    run("risk", "limits", "account", "alice", "--set", "max_order_qty=5", *OPS)
    run("risk", "limits", "account", "alice", "--set", "max_open_orders=4", *OPS)
    assert status_json(run)["limits"][0]["limits"] == {"max_open_orders": 4}
    code, _, _ = run(
        "risk", "limits", "account", "alice", "--update", "--set", "max_order_qty=7", *OPS
    )
    assert code == 0
    assert status_json(run)["limits"][0]["limits"] == {"max_order_qty": "7", "max_open_orders": 4}
    run("risk", "limits", "account", "alice", "--update", "--set", "max_open_orders=none", *OPS)
    assert status_json(run)["limits"][0]["limits"] == {"max_order_qty": "7"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--set", "max_order_qtty=5"], "unknown limit 'max_order_qtty'; known: max_order_qty, "),
        (["--set", "max_open_orders=lots"], "bad value 'lots' for limit max_open_orders"),
        (["--set", "max_order_qty=abc"], "bad value 'abc' for limit max_order_qty"),
        (["--set", "luld=maybe"], "bad value 'maybe' for limit luld"),
        (["--set", "max_order_qty"], "--set 'max_order_qty': write KEY=VALUE"),
        (["--breaker", "cooldown=5"], "unknown breaker setting 'cooldown'"),
        (["--breaker", "cooldown_minutes=soon"], "bad value 'soon' for breaker setting"),
    ],
)
def test_a_bad_limit_exits_2_naming_it_and_writes_nothing(
    run: Run, journal: Path, args: list[str], message: str
) -> None:
    before = last_seq(journal)
    code, out, err = run("risk", "limits", "account", "alice", *args, *OPS)
    assert code == 2 and out == ""
    assert err.startswith("atlas risk limits: ") and message in err
    assert last_seq(journal) == before


def test_limits_the_engine_refuses_exit_2_with_the_reason(run: Run) -> None:
    code, out, err = run("risk", "limits", "account", "alice", "--set", "max_order_qty=-1", *OPS)
    assert (code, out) == (2, "")
    assert err == "refused: INVALID_LIMITS: max_order_qty must be positive, got -1\n"
    code, _, err = run("risk", "limits", "account", "carol", "--set", "max_order_qty=1", *OPS)
    assert code == 2 and err == "refused: UNKNOWN_ACCOUNT: account carol does not exist\n"
    code, _, err = run("risk", "limits", "account", "--set", "max_order_qty=1", *OPS)
    assert code == 2 and "the account scope needs an id" in err


def test_every_operator_action_needs_an_actor(run: Run) -> None:
    for args in (
        ["risk", "limits", "account", "alice", "--set", "max_order_qty=1"],
        ["risk", "state", "account", "alice", "HALTED", "--reason", "x"],
        ["kill", "--reason", "x"],
        ["risk", "kill", "--reason", "x"],
        ["risk", "reset-kill", "--reason", "x"],
        ["risk", "reset-breaker", "account", "alice", "--reason", "x"],
        ["risk", "market", ETH, "HALTED", "--reason", "x"],
    ):
        code, out, err = run(*args)
        assert code == 2 and out == "", args
        assert "the following arguments are required: --actor" in err, args


# ------------------------------------------------------------------------- trading states
def test_state_reducing_then_halted_then_active(run: Run, journal: Path) -> None:
    code, out, _ = run(
        "risk", "state", "account", "alice", "reducing", *OPS, "--reason", "over budget"
    )
    assert code == 0 and out == "account alice is REDUCING by ops: over budget\n"
    code, out, _ = run("risk", "status", "--account", "alice")
    assert "account  alice  REDUCING  2026-01-01 00:10:00 UTC  ops    over budget" in out
    with reopen(journal) as node:
        more = node.buy("alice", ETH, "1", "1995")
        assert more.status is OrderStatus.DENIED and more.reason == "TRADING_REDUCING"

    assert run("risk", "state", "global", "HALTED", *OPS, "--reason", "drill")[0] == 0
    with reopen(journal) as node:
        assert node.buy("bob", ETH, "1", "1995").reason == "TRADING_HALTED"
    assert run("risk", "state", "global", "ACTIVE", *OPS, "--reason", "drill over")[0] == 0
    assert run("risk", "state", "account", "alice", "ACTIVE", *OPS, "--reason", "ok")[0] == 0
    assert status_json(run)["trading_states"] == []
    with reopen(journal) as node:
        assert node.buy("alice", ETH, "1", "1995").status is OrderStatus.ACCEPTED


def test_state_arguments_are_checked(run: Run, journal: Path) -> None:
    before = last_seq(journal)
    code, _, err = run("risk", "state", "account", "alice", "SLEEPY", *OPS, "--reason", "x")
    assert code == 2 and "unknown trading state 'SLEEPY': ACTIVE, REDUCING, HALTED" in err
    code, _, err = run("risk", "state", "account", "HALTED", *OPS, "--reason", "x")
    assert code == 2 and "the account scope needs an id" in err
    code, _, err = run("risk", "state", "account", "a", "b", "HALTED", *OPS, "--reason", "x")
    assert code == 2 and "SCOPE [ID] STATE" in err
    assert last_seq(journal) == before
    code, _, err = run("risk", "state", "instrument", ETH, "HALTED", *OPS, "--reason", "x")
    assert code == 2 and err.startswith("refused: INVALID_SCOPE: ")


# --------------------------------------------------------------------------- circuit breaker
def test_reset_breaker_is_refused_while_cooling_down(run: Run, tmp_path: Path) -> None:
    path = tmp_path / "cooling.db"
    spot_journal(path)
    trip_breaker(path, T0 + SECOND)  # tripped at 00:00:01; 15 minutes of cool-down
    code, out, err = run(
        "risk", "reset-breaker", "account", "alice", *OPS, "--reason", "looked", path=path
    )
    assert (code, out) == (2, "")
    assert err.startswith("refused: BREAKER_COOLING_DOWN: the account alice circuit breaker ")
    assert err.count("\n") == 1
    code, out, _ = run("risk", "status", path=path)
    assert "state               OPEN" in out
    assert "cause               CONSECUTIVE_LOSSES: 1 losing trades in a row (limit 1)" in out
    assert "tripped at          2026-01-01 00:00:01 UTC" in out
    assert "may reset at        2026-01-01 00:15:01 UTC" in out
    [report] = status_json(run, path=path)["circuit_breakers"]
    assert report["tripped_at"] == T0 + SECOND
    assert report["may_reset_at"] == T0 + SECOND + 15 * MINUTE
    with reopen(path) as node:
        assert node.buy("alice", ETH, "1", "1995").reason == "CIRCUIT_BREAKER_OPEN"


def test_reset_breaker_after_the_cool_down(run: Run, tmp_path: Path) -> None:
    path = tmp_path / "cooled.db"
    spot_journal(path)
    trip_breaker(path, T0 + SECOND)
    later = T0 + 20 * MINUTE  # cooled down, not auto-reset
    code, out, _ = run(
        "risk", "reset-breaker", "account", "alice", *OPS, "--reason", "reviewed", path=path,
        now=later,
    )  # fmt: skip
    assert code == 0 and out == "circuit breaker of account alice reset by ops: reviewed\n"
    assert status_json(run, path=path, now=later)["circuit_breakers"][0]["state"] == "CLOSED"
    code, _, err = run(
        "risk", "reset-breaker", "account", "alice", *OPS, "--reason", "again", path=path,
        now=later,
    )  # fmt: skip
    assert code == 2 and err.startswith("refused: BREAKER_NOT_OPEN: ")


# ---------------------------------------------------------------------------- market status
def test_market_halt_and_back_to_schedule(run: Run, journal: Path) -> None:
    code, out, _ = run("risk", "market", ETH, "halted", *OPS, "--reason", "news pending")
    assert code == 0 and out == f"{ETH} is HALTED by ops: news pending\n"
    assert status_json(run)["market_status"] == {ETH: "HALTED"}
    with reopen(journal) as node:
        assert node.buy("bob", ETH, "1", "1995").reason == "INSTRUMENT_HALTED"
    code, out, _ = run("risk", "market", ETH, "schedule", *OPS, "--reason", "news out")
    assert code == 0 and "follows its schedule again" in out
    assert status_json(run)["market_status"] == {}
    code, _, err = run("risk", "market", "XYZ", "OPEN", *OPS, "--reason", "x")
    assert code == 2 and err == "refused: UNKNOWN_INSTRUMENT: instrument XYZ does not exist\n"


# --------------------------------------------------------------------------------- the clock
def test_operator_events_never_precede_the_journal(run: Run, tmp_path: Path) -> None:
    """A journal written on a manual clock ahead of the command's clock (a backtest in the
    future): the operator's events are stamped at the journal's last time, not before it."""
    path = tmp_path / "future.db"
    future = NOW + 365 * 24 * 60 * MINUTE
    spot_journal(path, future)
    before = last_seq(path)
    assert run("risk", "state", "global", "HALTED", *OPS, "--reason", "stop", path=path)[0] == 0
    with reopen(path) as node:
        stamps = [e.ts_event for e in node.events()]
    assert stamps == sorted(stamps) and set(stamps[before:]) == {future}
