"""``atlas kill``: one command, one flow, two transports (a journal, or a running server).

Offline, on a journal written from T0 (:mod:`.helpers`), with ``--actor``; online, against a real
server (the ``live`` fixture), where the API key is the actor. Both print the same report.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from atlas_oms import ManualClock, Node, OrderStatus

from .helpers import ETH, MINUTE, T0, Live, run_main, spot_journal

NOW = T0 + 10 * MINUTE
OPS = ["--actor", "ops"]
BTC = "BTC/USDT"

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def journal(tmp_path: Path) -> Path:
    path = tmp_path / "oms.db"
    spot_journal(path)
    return path


@pytest.fixture
def run(journal: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Run:
    """Run ``atlas ARGS --journal JOURNAL`` at NOW; return the exit code, stdout and stderr."""
    for name in ("ATLAS_URL", "ATLAS_KEY"):
        monkeypatch.delenv(name, raising=False)

    def runner(*args: str, path: Path | None = None) -> tuple[int, str, str]:
        argv = [*args, "--journal", str(path or journal)]
        return run_main(argv, capsys, clock=ManualClock(NOW))

    return runner


def reopen(path: Path) -> Node:
    return Node.open(str(path), clock=ManualClock(NOW))


def kill_switches(run: Run) -> list[dict[str, object]]:
    code, out, _ = run("risk", "status", "--json")
    assert code == 0
    return json.loads(out)["kill_switches"]  # type: ignore[no-any-return]


# ----------------------------------------------------------------------------- on a journal
def test_kill_cancels_open_orders_and_blocks_new_ones(run: Run, journal: Path) -> None:
    with reopen(journal) as node:
        open_ids = [o.order_id for o in node.orders("alice", open_only=True)]
    assert len(open_ids) == 2
    code, out, err = run("kill", "account", "alice", *OPS, "--reason", "runaway algo")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[:3] == [
        "kill switch of account alice tripped by ops: runaway algo",
        "open orders canceled: 2",
        "canceled: " + ", ".join(f"#{i}" for i in open_ids),
    ]
    assert out.count("KILL_SWITCH") == 2  # the table of the canceled orders, with their reason

    with reopen(journal) as node:
        for order_id in open_ids:
            order = node.order(order_id)
            assert order.status is OrderStatus.CANCELED and order.reason == "KILL_SWITCH"
        assert node.orders("mm", open_only=True)  # another account's orders stay
        denied = node.buy("alice", ETH, "1", "1995")
        assert denied.status is OrderStatus.DENIED and denied.reason == "KILL_SWITCH_ACTIVE"

    [kill] = kill_switches(run)
    assert (kill["actor"], kill["reason"], kill["since"]) == ("ops", "runaway algo", NOW)
    code, out, _ = run("audit", "alice")
    assert code == 0
    trail = out.splitlines()
    assert any("KillSwitchTripped" in line and "runaway algo" in line for line in trail)
    canceled = [line for line in trail if "OrderCanceled" in line]
    assert len(canceled) == 2 and all("KILL_SWITCH" in line for line in canceled)
    assert all("2026-01-01 00:10:00.000" in line for line in canceled)


def test_kill_is_global_by_default(run: Run) -> None:
    code, out, _ = run("kill", *OPS, "--reason", "stop everything")
    assert code == 0 and "kill switch of global tripped" in out
    assert "open orders canceled: 4" in out  # alice's two bids and mm's two quotes
    [kill] = kill_switches(run)
    assert kill["scope"] == "global" and kill["actor"] == "ops"
    code, out, _ = run("kill", "--reset", *OPS, "--reason", "all clear")
    assert code == 0 and out == "kill switch of global reset by ops: all clear\n"
    assert kill_switches(run) == []


def test_risk_kill_is_the_same_command(run: Run) -> None:
    code, out, _ = run("risk", "kill", "account", "bob", *OPS, "--reason", "drill")
    assert code == 0
    assert out == "kill switch of account bob tripped by ops: drill\nopen orders canceled: none\n"
    code, _, err = run("risk", "kill", "account", *OPS, "--reason", "drill")
    assert code == 2 and err == "atlas risk kill: the account scope needs an id: account ID\n"


def test_reset_kill_needs_a_reason(run: Run, journal: Path) -> None:
    run("kill", "account", "alice", *OPS, "--reason", "runaway algo")
    code, _, err = run("risk", "reset-kill", "account", "alice", *OPS)
    assert code == 2 and "the following arguments are required: --reason" in err
    code, out, err = run("risk", "reset-kill", "account", "alice", *OPS, "--reason", " ")
    assert (code, out) == (2, "")
    assert err == "refused: INVALID_FIELD: resetting a kill switch needs a reason\n"
    assert kill_switches(run)  # still active

    code, out, _ = run("risk", "reset-kill", "account", "alice", *OPS, "--reason", "algo fixed")
    assert code == 0 and out == "kill switch of account alice reset by ops: algo fixed\n"
    assert kill_switches(run) == []
    with reopen(journal) as node:
        assert node.buy("alice", ETH, "1", "1995").status is OrderStatus.ACCEPTED
    code, _, err = run("kill", "--reset", "account", "alice", *OPS, "--reason", "again")
    assert code == 2
    assert err == "refused: KILL_SWITCH_NOT_ACTIVE: no kill switch is active for account alice\n"


def test_kill_reset_and_flatten_do_not_go_together(run: Run) -> None:
    code, _, err = run("kill", "--reset", "--flatten", *OPS, "--reason", "x")
    assert code == 2 and err == "atlas kill: --reset and --flatten do not go together\n"


def test_json_needs_a_server(run: Run, journal: Path) -> None:
    before = journal.read_bytes()
    code, out, err = run("kill", *OPS, "--reason", "x", "--json")
    assert (code, out) == (2, "") and err == "atlas kill: --json is for a server (--url)\n"
    assert journal.read_bytes() == before


def test_kill_with_flatten_closes_the_position(run: Run, journal: Path) -> None:
    with reopen(journal) as node:
        assert node.buy("bob", ETH, "2", "2010").status is OrderStatus.FILLED
    code, out, _ = run("kill", "account", "bob", "--flatten", *OPS, "--reason", "flatten bob")
    assert code == 0 and "flattening orders: 1" in out
    flat = out.splitlines()[out.splitlines().index("flattening orders: 1") + 1]
    assert flat.startswith("flattening: #")
    with reopen(journal) as node:
        position = node.position("bob", ETH)
        assert position is not None and position.qty == 0


def test_missing_journal_for_an_action_exits_2(run: Run, tmp_path: Path) -> None:
    code, out, err = run("kill", *OPS, "--reason", "x", path=tmp_path / "nope.db")
    assert (code, out) == (2, "") and "atlas kill: no journal at" in err
    assert not (tmp_path / "nope.db").exists()


# ---------------------------------------------------------------------------- on a server
def test_kill_goes_online_with_a_url_and_needs_the_risk_role(live: Live) -> None:
    _, out, _ = live.run("order", "submit", BTC, "buy", "0.1", "58000", "-a", "desk", "--json")
    order_id = json.loads(out)["order_id"]
    code, out, err = live.run("kill", "account", "desk", "--reason", "runaway")
    assert (code, out) == (2, "") and err == "FORBIDDEN_ROLE: this needs the risk role\n"
    code, out, err = live.run("kill", "account", "desk", "--reason", "runaway", key="risk")
    risk_id = live.tokens["risk"].split(".")[0]
    assert code == 0, err
    assert out.splitlines()[:3] == [
        f"kill switch of account desk tripped by {risk_id} on {live.url}: runaway",
        "open orders canceled: 1",
        f"canceled: #{order_id}",
    ]
    code, _, err = live.run("order", "submit", BTC, "buy", "0.1", "58000", "-a", "desk")
    assert code == 2 and err.startswith("KILL_SWITCH_ACTIVE: ")
    code, out, _ = live.run(
        "kill", "account", "desk", "--reset", "--reason", "fixed", "--json", key="risk"
    )
    assert code == 0 and "seq" in json.loads(out)
    assert live.run("order", "submit", BTC, "buy", "0.1", "58000", "-a", "desk")[0] == 0
    # The actor is the key: an --actor on a server is refused rather than silently dropped.
    code, _, err = live.run("kill", "--actor", "ops", "--reason", "x", key="risk")
    assert code == 2 and "the API key is the actor" in err
    code, _, err = live.run("kill", "account", "--reason", "x", key="risk")
    assert code == 2 and "the account scope needs an id" in err


def test_the_same_report_from_a_journal_and_from_a_server(
    run: Run, capsys: pytest.CaptureFixture[str]
) -> None:
    """The server's answer (faked here) is printed in the journal's words."""
    bodies: list[object] = []

    def server(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        return httpx.Response(200, json={"seq": 9, "canceled": [3, 4], "pending_cancel": []})

    argv = ["kill", "account", "alice", "--reason", "runaway algo"]
    argv += ["--url", "http://atlas.test", "--key", "ak_risk.secret"]
    code, online, err = run_main(argv, capsys, transport=httpx.MockTransport(server))
    assert code == 0, err
    assert bodies == [
        {"scope": "account", "scope_id": "alice", "reason": "runaway algo", "flatten": False}
    ]
    code, offline, _ = run("kill", "account", "alice", *OPS, "--reason", "runaway algo")
    assert code == 0
    assert online.splitlines() == [
        "kill switch of account alice tripped by ak_risk on http://atlas.test: runaway algo",
        "open orders canceled: 2",
        "canceled: #3, #4",
    ]
    assert offline.splitlines()[1:3] == online.splitlines()[1:3]


def test_arguments_are_checked_before_the_server_is_asked(
    capsys: pytest.CaptureFixture[str],
) -> None:
    def server(request: httpx.Request) -> httpx.Response:  # pragma: no cover - never asked
        raise AssertionError(f"unexpected request {request.url}")

    fake = httpx.MockTransport(server)
    online = ["--url", "http://atlas.test", "--key", "ak_risk.secret"]
    for args, message in (
        (["--reset", "--flatten"], "--reset and --flatten do not go together"),
        (["account"], "the account scope needs an id"),
        (["--actor", "ops"], "the API key is the actor"),
    ):
        code, out, err = run_main(["kill", *args, "--reason", "x", *online], capsys, transport=fake)
        assert (code, out) == (2, "") and message in err, args


def test_kill_stays_offline_with_a_journal_even_when_the_environment_names_a_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ATLAS_URL", "http://127.0.0.1:9")
    missing = str(tmp_path / "none.db")
    code, out, err = run_main(
        ["kill", "--actor", "ops", "--reason", "x", "--journal", missing], capsys
    )
    assert (code, out) == (2, "") and "atlas kill: no journal at" in err
    code, _, err = run_main(
        ["kill", "--actor", "ops", "--reason", "x", "--journal", missing, "--url", "http://x"],
        capsys,
    )
    assert code == 2 and "--journal or --url/--key, not both" in err
    code, _, err = run_main(["kill", "--reason", "x", "--journal", missing], capsys)
    assert code == 2 and "the following arguments are required: --actor" in err
