"""``atlas serve`` guards its journal, end to end through real server processes: one server per
data folder, no offline writer on a live journal, and a damaged journal stops the start (with the
lost seq range) unless the operator repairs it, after which no id or seq is issued twice."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from atlas_oms.cli.exit_codes import EXIT_JOURNAL_DAMAGED, EXIT_JOURNAL_LOCKED
from atlas_oms.model.events import JournalRepaired
from atlas_oms.store.opener import open_journal

ATLAS = [sys.executable, "-m", "atlas_oms.cli"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve_args(data: Path, port: int, *extra: str) -> list[str]:
    return [*ATLAS, "serve", "--data-dir", str(data), "--port", str(port), *extra]


def start(
    data: Path, port: int, extra: tuple[str, ...] = (), env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        serve_args(data, port, "--no-market-maker", *extra),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "ATLAS_LOG_LEVEL": "INFO", **(env or {})},
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.1)
        if proc.poll() is not None:
            break
    proc.kill()
    raise AssertionError(f"atlas serve did not start: {proc.communicate()[1].decode()[-2000:]}")


def stop(proc: subprocess.Popen[bytes]) -> str:
    proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    return err.decode()


def kill9(proc: subprocess.Popen[bytes]) -> None:
    proc.kill()
    proc.communicate()


def refused_start(data: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """Run ``atlas serve`` expecting it not to start; return how it ended."""
    port = free_port()
    return subprocess.run(
        serve_args(data, port, "--no-market-maker", *extra),
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "ATLAS_LOG_LEVEL": "INFO"},
    )


def trader(data: Path) -> dict[str, str]:
    keys = [json.loads(line) for line in (data / "first-keys.txt").read_text().splitlines()]
    return {"X-API-Key": next(k["token"] for k in keys if k["roles"] == ["trader"])}


def place(url: str, headers: dict[str, str], price: str = "50000") -> dict[str, Any]:
    answer = httpx.post(
        f"{url}/v1/orders",
        headers=headers,
        json={
            "account_id": "desk",
            "symbol": "BTC/USDT",
            "side": "BUY",
            "order_type": "LIMIT",
            "qty": "0.01",
            "price": price,
        },
        timeout=10,
    )
    assert answer.status_code in (200, 201), answer.text
    return answer.json()  # type: ignore[no-any-return]


def seq_of(url: str) -> int:
    return int(httpx.get(f"{url}/health", timeout=5).json()["seq"])


def files_of(data: Path) -> dict[str, tuple[int, int]]:
    """Every file the server does not rewrite while it runs, with its size and mtime."""
    return {
        p.name: (p.stat().st_size, p.stat().st_mtime_ns)
        for p in data.iterdir()
        if not p.name.startswith("atlas.db") and p.name != ".lock"
    }


def one_sentence(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    return lines[0]


def test_a_second_server_on_the_same_data_folder_refuses_and_the_first_keeps_working(
    tmp_path: Path,
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    first = start(tmp_path, port)
    try:
        headers = trader(tmp_path)
        before = place(url, headers)
        files = files_of(tmp_path)
        names = sorted(p.name for p in tmp_path.iterdir())
        second = refused_start(tmp_path)
        assert second.returncode == EXIT_JOURNAL_LOCKED
        sentence = one_sentence(second.stderr)
        assert f"pid {first.pid}" in sentence and str(tmp_path) in sentence
        assert files_of(tmp_path) == files  # keys, first keys, trade-id key: untouched
        assert sorted(p.name for p in tmp_path.iterdir()) == names
        after = place(url, headers, "50001")  # the first server still takes writes
        assert after["order_id"] > before["order_id"]
        assert httpx.get(f"{url}/health", timeout=5).status_code == 200
    finally:
        stop(first)


def test_an_offline_command_on_the_live_journal_refuses_and_changes_nothing(
    tmp_path: Path,
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = start(tmp_path, port)
    journal = tmp_path / "atlas.db"
    try:
        headers = trader(tmp_path)
        place(url, headers)
        seq = seq_of(url)
        offline = subprocess.run(
            [
                *ATLAS,
                "futures",
                "leverage",
                "desk",
                "BTC/USDT:USDT",
                "3",
                "--journal",
                str(journal),
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert offline.returncode == EXIT_JOURNAL_LOCKED, offline.stderr
        sentence = one_sentence(offline.stderr)
        assert f"pid {server.pid}" in sentence and str(journal) in sentence
        assert seq_of(url) == seq
        reader = open_journal(str(journal), readonly=True)  # read-only opens work on a live one
        try:
            assert reader.last_seq == seq
        finally:
            reader.close()
        place(url, headers, "50001")
        assert seq_of(url) > seq
    finally:
        stop(server)


def lost_range(stderr: str) -> dict[str, Any]:
    """The JSON log line at ERROR that names the lost range."""
    for line in stderr.splitlines():
        if line.startswith("{"):
            record = json.loads(line)
            if record.get("level") == "error" and "lost_from_seq" in record:
                return record  # type: ignore[no-any-return]
    raise AssertionError(f"no ERROR log line with the lost range in: {stderr[-2000:]}")


def repaired_start(data: Path, top_order: int, highest: int, **start_kw: Any) -> None:
    """Start with the repair, place an order: its id and seq are above everything ever issued."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = start(data, port, **start_kw)
    try:
        assert seq_of(url) == highest + 1  # the JournalRepaired event, above the lost range
        health = httpx.get(f"{url}/health", timeout=5).json()
        assert health["status"] == "degraded"  # serving, and saying what was lost
        assert health["repaired"]["lost_to_seq"] == highest
        assert health["repaired"]["seq"] == highest + 1
        order = place(url, trader(data), "49000")
        assert order["order_id"] > top_order
        assert seq_of(url) > highest + 1
    finally:
        log = stop(proc)
    assert lost_range(log)["lost_to_seq"] == highest  # the repaired start logs the damage too
    journal = open_journal(str(data / "atlas.db"), readonly=True)
    try:
        assert journal.recovery.clean
        repairs = [e for e in journal.read() if isinstance(e, JournalRepaired)]
    finally:
        journal.close()
    assert [(r.seq, r.lost_to_seq) for r in repairs] == [(highest + 1, highest)]
    replay = subprocess.run([*ATLAS, "replay", str(data / "atlas.db")], capture_output=True)
    assert replay.returncode == 0, replay.stderr


def test_a_cut_wal_stops_the_start_with_the_lost_range_and_the_flag_repairs_it(
    tmp_path: Path,
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = start(tmp_path, port)
    headers = trader(tmp_path)
    orders = [place(url, headers, str(40_000 + i)) for i in range(40)]
    highest = seq_of(url)  # every order was acknowledged: committed
    kill9(server)
    wal = tmp_path / "atlas.db-wal"
    data = wal.read_bytes()
    wal.write_bytes(data[: len(data) // 3])

    refused = refused_start(tmp_path)
    assert refused.returncode == EXIT_JOURNAL_DAMAGED, refused.stderr
    record = lost_range(refused.stderr)
    assert record["reason"] == "TRUNCATED" and record["lost_to_seq"] == highest
    assert record["lost_events"] == highest - record["lost_from_seq"] + 1 > 0
    assert f"{record['lost_from_seq']}..{highest}" in refused.stderr

    replay = subprocess.run(
        [*ATLAS, "replay", str(tmp_path / "atlas.db")], capture_output=True, text=True
    )
    assert replay.returncode == EXIT_JOURNAL_DAMAGED
    assert "DAMAGED" in replay.stdout and f"{record['lost_from_seq']}..{highest}" in replay.stdout

    repaired_start(tmp_path, orders[-1]["order_id"], highest, extra=("--repair-journal",))


def test_a_flipped_byte_stops_the_start_and_the_environment_flag_repairs_it(
    tmp_path: Path,
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = start(tmp_path, port)
    headers = trader(tmp_path)
    orders = [place(url, headers, str(40_000 + i)) for i in range(10)]
    highest = seq_of(url)
    stop(server)
    db = sqlite3.connect(tmp_path / "atlas.db")
    with db:
        (first,) = db.execute(
            "SELECT first_seq FROM chunks WHERE first_seq <= ? AND last_seq >= ?",
            (highest - 8, highest - 8),
        ).fetchone()
        db.execute(
            "UPDATE chunks SET payload = CAST(substr(payload, 1, 20) || x'00' ||"
            " substr(payload, 22) AS BLOB) WHERE first_seq = ?",
            (first,),
        )
    db.close()

    refused = refused_start(tmp_path)
    assert refused.returncode == EXIT_JOURNAL_DAMAGED, refused.stderr
    record = lost_range(refused.stderr)
    assert record["reason"] == "CRC_MISMATCH"
    assert (record["lost_from_seq"], record["lost_to_seq"]) == (first, highest)

    repaired_start(tmp_path, orders[-1]["order_id"], highest, env={"ATLAS_REPAIR_JOURNAL": "1"})


def test_a_server_does_not_start_on_a_journal_an_offline_writer_holds(tmp_path: Path) -> None:
    from atlas_oms.store import SqliteJournal

    holder = SqliteJournal(tmp_path / "atlas.db")
    try:
        refused = refused_start(tmp_path)
        assert refused.returncode == EXIT_JOURNAL_LOCKED, refused.stderr
        assert f"pid {os.getpid()}" in one_sentence(refused.stderr)
        assert not (tmp_path / "first-keys.txt").exists()  # nothing was written
    finally:
        holder.close()
