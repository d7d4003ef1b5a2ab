"""``atlas risk`` and ``atlas kill``: one operator action on a journal, its result printed.

Each test builds a small SQLite journal in a tmp dir with the library, acts on it through the
command line (``main([...])``), then reopens the journal with a :class:`Node` to check that the
action is journaled and enforced. The command stamps its events with the wall clock, so the
journals here are written on a manual clock that starts at the real time of the test.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from atlas_oms import Instrument, ManualClock, Node, OrderStatus
from atlas_oms.cli import main

SECOND = 1_000_000_000
MINUTE = 60 * SECOND
ETH = "ETH/USD"
OPS = ["--actor", "ops"]

Run = Callable[..., tuple[int, str, str]]


def build(path: Path, start_ns: int | None = None) -> tuple[int, int]:
    """alice, bob and a market maker mm on ETH/USD (last 2000, mm quotes 1990/2010); alice has two
    bids resting. Return the ids of alice's resting bids."""
    clock = ManualClock(time.time_ns() if start_ns is None else start_ns)
    node = Node.open(str(path), clock=clock)
    node.add_instrument(Instrument.spot(ETH, tick_size="0.01", lot_size="0.01"))
    for account in ("mm", "alice", "bob"):
        node.open_account(account)
        node.deposit(account, "USD", 1_000_000)
        node.deposit(account, "ETH", 100)
    node.update_prices(ETH, last="2000")
    node.buy("mm", ETH, "50", "1990")
    node.sell("mm", ETH, "50", "2010")
    first = node.buy("alice", ETH, "1", "1980").order_id
    second = node.buy("alice", ETH, "1", "1985").order_id
    node.close()
    return first, second


@pytest.fixture
def journal(tmp_path: Path) -> Path:
    path = tmp_path / "oms.db"
    build(path)
    return path


@pytest.fixture
def run(journal: Path, capsys: pytest.CaptureFixture[str]) -> Run:
    """Run ``atlas ARGS --journal JOURNAL``; return the exit code, stdout and stderr."""

    def runner(*args: str, path: Path | None = None) -> tuple[int, str, str]:
        try:
            code = main([*args, "--journal", str(path or journal)])
        except SystemExit as exc:  # argparse refuses the command line
            code = int(exc.code or 0)
        captured = capsys.readouterr()
        assert "Traceback" not in captured.err
        return code, captured.out, captured.err

    return runner


def reopen(path: Path) -> Node:
    return Node.open(str(path))


def last_seq(path: Path) -> int:
    with reopen(path) as node:
        return node.engine.seq


def status_json(run: Run, *extra: str, path: Path | None = None) -> dict[str, Any]:
    code, out, _ = run("risk", "status", "--json", *extra, path=path)
    assert code == 0
    return json.loads(out)  # type: ignore[no-any-return]


# ------------------------------------------------------------------------------------ status
def test_status_of_a_journal_without_risk_settings(run: Run, journal: Path) -> None:
    code, out, _ = run("risk", "status")
    assert code == 0
    assert out.startswith(f"Risk status of {journal} at ")
    for line in (
        "Trading states: none set (everything ACTIVE)",
        "Kill switches: none active",
        "Circuit breakers: none configured",
        "Market status overrides: none (every instrument follows its schedule)",
    ):
        assert line in out
    status = status_json(run)
    assert isinstance(status.pop("as_of"), int)
    assert status == {
        "journal": str(journal),
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
    assert "account  alice  REDUCING" in out and "over budget" in out
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


# ------------------------------------------------------------------------------- kill switch
def test_kill_cancels_open_orders_and_blocks_new_ones(run: Run, journal: Path) -> None:
    with reopen(journal) as node:
        open_ids = [o.order_id for o in node.orders("alice", open_only=True)]
    assert len(open_ids) == 2
    code, out, err = run("kill", "account", "alice", *OPS, "--reason", "runaway algo")
    assert (code, err) == (0, "")
    assert "kill switch of account alice tripped by ops: runaway algo" in out
    assert "open orders canceled: 2" in out and out.count("KILL_SWITCH") == 2

    with reopen(journal) as node:
        for order_id in open_ids:
            order = node.order(order_id)
            assert order.status is OrderStatus.CANCELED and order.reason == "KILL_SWITCH"
        assert node.orders("mm", open_only=True)  # another account's orders stay
        denied = node.buy("alice", ETH, "1", "1995")
        assert denied.status is OrderStatus.DENIED and denied.reason == "KILL_SWITCH_ACTIVE"

    code, out, _ = run("risk", "status")
    assert "Kill switches:" in out and "runaway algo" in out
    code, out, _ = run("audit", "alice")
    assert code == 0
    trail = out.splitlines()
    assert any("KillSwitchTripped" in line and "runaway algo" in line for line in trail)
    canceled = [line for line in trail if "OrderCanceled" in line]
    assert len(canceled) == 2 and all("KILL_SWITCH" in line for line in canceled)


def test_kill_is_global_by_default(run: Run, journal: Path) -> None:
    code, out, _ = run("kill", *OPS, "--reason", "stop everything")
    assert code == 0 and "kill switch of global tripped" in out
    assert "open orders canceled: 4" in out  # alice's two bids and mm's two quotes
    [kill] = status_json(run)["kill_switches"]
    assert kill["scope"] == "global" and kill["actor"] == "ops"
    code, _, _ = run("kill", "--reset", *OPS, "--reason", "all clear")
    assert code == 0 and status_json(run)["kill_switches"] == []


def test_reset_kill_needs_a_reason(run: Run, journal: Path) -> None:
    run("kill", "account", "alice", *OPS, "--reason", "runaway algo")
    code, _, err = run("risk", "reset-kill", "account", "alice", *OPS)
    assert code == 2 and "the following arguments are required: --reason" in err
    code, out, err = run("risk", "reset-kill", "account", "alice", *OPS, "--reason", " ")
    assert (code, out) == (2, "")
    assert err == "refused: INVALID_FIELD: resetting a kill switch needs a reason\n"
    assert status_json(run)["kill_switches"]  # still active

    code, out, _ = run("risk", "reset-kill", "account", "alice", *OPS, "--reason", "algo fixed")
    assert code == 0 and out == "kill switch of account alice reset by ops: algo fixed\n"
    assert status_json(run)["kill_switches"] == []
    with reopen(journal) as node:
        assert node.buy("alice", ETH, "1", "1995").status is OrderStatus.ACCEPTED
    code, _, err = run("kill", "--reset", "account", "alice", *OPS, "--reason", "again")
    assert code == 2
    assert err == "refused: KILL_SWITCH_NOT_ACTIVE: no kill switch is active for account alice\n"


def test_kill_reset_and_flatten_do_not_go_together(run: Run) -> None:
    code, _, err = run("kill", "--reset", "--flatten", *OPS, "--reason", "x")
    assert code == 2 and "--reset and --flatten" in err


def test_kill_with_flatten_closes_the_position(run: Run, journal: Path) -> None:
    with reopen(journal) as node:
        assert node.buy("bob", ETH, "2", "2010").status is OrderStatus.FILLED
    code, out, _ = run("kill", "account", "bob", "--flatten", *OPS, "--reason", "flatten bob")
    assert code == 0 and "flattening orders: 1" in out
    with reopen(journal) as node:
        position = node.position("bob", ETH)
        assert position is not None and position.qty == 0


# --------------------------------------------------------------------------- circuit breaker
def trip_breaker(path: Path, start_ns: int) -> None:
    """A breaker on alice that trips on one losing trade, then a losing round trip."""
    node = Node.open(str(path), clock=ManualClock(start_ns))
    node.set_limits("account", "alice", actor="ops", breaker={"max_consecutive_losses": 1})
    node.buy("alice", ETH, "1", "2010")
    node.sell("alice", ETH, "1", "1990")
    report = node.breaker_status("account", "alice")
    assert report is not None and report["state"] == "OPEN"
    node.close()


def test_reset_breaker_is_refused_while_cooling_down(run: Run, tmp_path: Path) -> None:
    path = tmp_path / "cooling.db"
    build(path)
    trip_breaker(path, time.time_ns())
    code, out, err = run(
        "risk", "reset-breaker", "account", "alice", *OPS, "--reason", "looked", path=path
    )
    assert (code, out) == (2, "")
    assert err.startswith("refused: BREAKER_COOLING_DOWN: the account alice circuit breaker ")
    assert err.count("\n") == 1
    code, out, _ = run("risk", "status", path=path)
    assert "state               OPEN" in out
    assert "cause               CONSECUTIVE_LOSSES: 1 losing trades in a row (limit 1)" in out
    assert "may reset at" in out and " UTC" in out
    [report] = status_json(run, path=path)["circuit_breakers"]
    assert report["may_reset_at"] - report["tripped_at"] == 15 * MINUTE
    with reopen(path) as node:
        assert node.buy("alice", ETH, "1", "1995").reason == "CIRCUIT_BREAKER_OPEN"


def test_reset_breaker_after_the_cool_down(run: Run, tmp_path: Path) -> None:
    path = tmp_path / "cooled.db"
    start = time.time_ns() - 20 * MINUTE  # tripped 20 minutes ago: cooled down, not auto-reset
    build(path, start)
    trip_breaker(path, start + SECOND)
    code, out, _ = run(
        "risk", "reset-breaker", "account", "alice", *OPS, "--reason", "reviewed", path=path
    )
    assert code == 0 and out == "circuit breaker of account alice reset by ops: reviewed\n"
    assert status_json(run, path=path)["circuit_breakers"][0]["state"] == "CLOSED"
    code, _, err = run(
        "risk", "reset-breaker", "account", "alice", *OPS, "--reason", "again", path=path
    )
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
    """A journal written on a manual clock ahead of the wall clock (a backtest in the future)."""
    path = tmp_path / "future.db"
    future = time.time_ns() + 365 * 24 * 60 * MINUTE
    build(path, future)
    assert run("kill", *OPS, "--reason", "stop", path=path)[0] == 0
    with reopen(path) as node:
        stamps = [e.ts_event for e in node.events()]
    assert stamps == sorted(stamps) and stamps[-1] >= future


def test_missing_journal_for_an_action_exits_2(run: Run, tmp_path: Path) -> None:
    code, out, err = run("kill", *OPS, "--reason", "x", path=tmp_path / "nope.db")
    assert (code, out) == (2, "") and "atlas kill: no journal at" in err
    assert not (tmp_path / "nope.db").exists()
