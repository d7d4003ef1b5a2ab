"""``atlas transfer FROM TO ASSET AMOUNT``: a transfer within an account tree, on a journal.

Each test builds a small SQLite journal in a tmp dir with the library (:func:`.helpers.desk_journal`:
desk with a sub-account and a grandchild, and another top-level account, written from T0), runs
the command through ``main([...])`` on a manual clock a second later and reopens the journal with
a :class:`Node` to check what was journaled.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from atlas_oms import ManualClock, Node
from atlas_oms.model import events as ev

from .helpers import SECOND, T0, desk_journal, run_main

NOW = T0 + SECOND

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def journal(tmp_path: Path) -> Path:
    path = tmp_path / "desk.db"
    desk_journal(path)
    return path


@pytest.fixture
def run(journal: Path, capsys: pytest.CaptureFixture[str]) -> Run:
    """Run ``atlas transfer ARGS --journal JOURNAL`` at NOW; return the exit code, stdout, stderr."""

    def runner(*args: str, path: Path | None = None) -> tuple[int, str, str]:
        argv = ["transfer", *args, "--journal", str(path or journal)]
        return run_main(argv, capsys, clock=ManualClock(NOW))

    return runner


def journaled(path: Path, kind: type[ev.EventBase]) -> list[ev.EventBase]:
    with Node.open(str(path), clock=ManualClock(NOW)) as node:
        return [e for e in node.events() if isinstance(e, kind)]


def test_transfer_to_a_grandchild_is_journaled_and_prints_both_balances(
    run: Run, journal: Path
) -> None:
    code, out, err = run("desk", "desk.a.1", "USDT", "2500.5", "--reason", "seed the scalper")
    assert code == 0, err
    assert out.startswith("transferred 2500.5 USDT from desk to desk.a.1 (seed the scalper)")
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines()[1:]}
    assert rows["desk"] == ["USDT", "7499.5", "0", "7499.5"]
    assert rows["desk.a.1"] == ["USDT", "2500.5", "0", "2500.5"]
    (event,) = journaled(journal, ev.FundsTransferred)
    assert isinstance(event, ev.FundsTransferred)
    assert (event.account_id, event.to_account_id, event.asset, event.amount, event.reason) == (
        "desk",
        "desk.a.1",
        "USDT",
        Decimal("2500.5"),
        "seed the scalper",
    )
    assert event.ts_event == NOW
    with Node.open(str(journal), clock=ManualClock(NOW)) as node:
        assert node.balance("desk.a.1", "USDT").total == Decimal("2500.5")
        assert event.seq in {r.seq for r in node.audit("desk.a.1")}


def test_transfer_back_up_with_json_output(run: Run, journal: Path) -> None:
    assert run("desk", "desk.a", "USDT", "100")[0] == 0
    code, out, err = run("desk.a", "desk", "USDT", "40", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["transfer"]["type"] == "FundsTransferred"
    assert (data["transfer"]["amount"], data["transfer"]["reason"]) == ("40", "transfer")
    assert [(b["account_id"], b["free"]) for b in data["balances"]] == [
        ("desk.a", "60"),
        ("desk", "9940"),
    ]
    assert [e.amount for e in journaled(journal, ev.FundsTransferred)] == [100, 40]


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (("desk", "other", "USDT", "1"), "TRANSFER_NOT_ALLOWED: accounts desk and other"),
        (("desk", "desk", "USDT", "1"), "INVALID_TRANSFER: account desk cannot transfer"),
        (("desk", "nobody", "USDT", "1"), "UNKNOWN_ACCOUNT: receiving account nobody"),
        (("desk", "desk.a", "USDT", "0"), "INVALID_AMOUNT: a transfer amount must be a positive"),
        (("desk", "desk.a", "USDT", "-5"), "INVALID_AMOUNT"),
        (
            ("desk", "desk.a", "USDT", "10000.01"),
            "INSUFFICIENT_BALANCE: cannot transfer 10000.01 USDT from account desk: "
            "only 10000 is free",
        ),
    ],
)
def test_a_refusal_exits_2_with_its_reason_and_is_journaled(
    run: Run, journal: Path, args: tuple[str, ...], reason: str
) -> None:
    code, out, err = run(*args)
    assert code == 2 and out == ""
    assert err.startswith("refused: " + reason)
    assert journaled(journal, ev.FundsTransferred) == []
    (rejected,) = journaled(journal, ev.CommandRejected)
    assert isinstance(rejected, ev.CommandRejected)
    assert (rejected.command, rejected.account_id) == ("TransferFunds", args[0])


def test_bad_arguments_exit_2_and_write_nothing(run: Run, journal: Path, tmp_path: Path) -> None:
    with Node.open(str(journal), clock=ManualClock(NOW)) as node:
        seq = node.seq
    code, _, err = run("desk", "desk.a", "USDT", "lots")
    assert code == 2 and "not a number: 'lots'" in err
    code, _, err = run("desk", "desk.a", "USDT", "nan")
    assert code == 2 and "not a finite number" in err
    code, _, err = run("desk", "desk.a", "USDT")
    assert code == 2 and "AMOUNT" in err
    with Node.open(str(journal), clock=ManualClock(NOW)) as node:
        assert node.seq == seq
    code, _, err = run("desk", "desk.a", "USDT", "1", path=tmp_path / "missing.db")
    assert code == 2 and "atlas transfer: no journal at" in err
