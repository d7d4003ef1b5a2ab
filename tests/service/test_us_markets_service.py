"""US markets in ``atlas serve`` (issue 15 §3): corporate actions from an operator over REST
(``POST /v1/corporate-actions``, admin) and ``atlas corporate-action`` on a running server, the
feed file (``ATLAS_CORPORATE_FEED``) applied at start, and the NYSE calendar handed to the core
when the server starts with US equities."""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import pytest
from fastapi.testclient import TestClient

from atlas_oms import Instrument, ManualClock, Node
from atlas_oms.cli import main
from atlas_oms.model import events as ev
from atlas_oms.service.app import create_app
from atlas_oms.service.keys import KeyStore
from atlas_oms.service.server import BackgroundServer, build_app
from atlas_oms.service.settings import ServiceSettings
from atlas_oms.store.opener import open_journal

AAPL = "AAPL"
#: 2026-11-25 15:00 UTC (10:00 New York, a Wednesday).
T0 = 1_795_618_800_000_000_000


def world(node: Node) -> None:
    node.add_instrument(Instrument.equity(AAPL))
    node.open_account("alice", equity_type="MARGIN")
    node.deposit("alice", "USD", 10_000)
    node.deposit("alice", AAPL, 10)


@pytest.fixture
def api(tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str], Node]]:
    keys = KeyStore(tmp_path / "keys.json")
    tokens = {
        "alice": keys.issue(("trader",), ("alice",)).token,
        "admin": keys.issue(("admin",)).token,
    }
    feed = tmp_path / "feed.csv"
    feed.write_text("action_id,symbol,kind,ratio,amount\nbonus-1,AAPL,BONUS,0.5,\n")
    node = Node.open(str(tmp_path / "atlas.db"), clock=ManualClock(T0))
    settings = ServiceSettings(data_dir=tmp_path, rate_limit_per_s=1000, corporate_feed=feed)
    with TestClient(create_app(settings, node=node, keys=keys, setup=world)) as client:
        yield client, tokens, node
    node.close()


def test_an_admin_applies_a_split_over_rest_and_it_is_journaled_with_the_key(
    api: tuple[TestClient, dict[str, str], Node],
) -> None:
    client, tokens, node = api
    body = {"action_id": "split-1", "symbol": AAPL, "kind": "SPLIT", "ratio": "2", "reason": "2:1"}
    r = client.post("/v1/corporate-actions", json=body, headers={"X-API-Key": tokens["alice"]})
    assert r.status_code == 403, r.text
    r = client.post("/v1/corporate-actions", json=body, headers={"X-API-Key": tokens["admin"]})
    assert r.status_code == 200, r.text
    admin = tokens["admin"].partition(".")[0]
    out = r.json()
    assert out["actor"] == admin
    assert [
        (h["account_id"], Decimal(h["before"]), Decimal(h["after"]), Decimal(h["cash"]))
        for h in out["holdings"]
    ] == [("alice", 15, 30, 0)]  # 10 + the feed's bonus of 5, split 2:1
    (applied,) = [
        e
        for e in node.events()
        if isinstance(e, ev.CorporateActionApplied) and e.action_id == "split-1"
    ]
    assert (applied.actor, applied.reason) == (admin, "2:1")
    r = client.post("/v1/corporate-actions", json=body, headers={"X-API-Key": tokens["admin"]})
    assert r.status_code == 422 and r.json()["reason"] == "INVALID_CORPORATE_ACTION", r.text
    bad = dict(body, action_id="div-x", kind="DIVIDEND", ratio=None)
    r = client.post("/v1/corporate-actions", json=bad, headers={"X-API-Key": tokens["admin"]})
    assert r.status_code == 422 and "amount" in r.json()["detail"], r.text


def test_the_feed_file_is_applied_at_start_with_its_name_as_the_actor(
    api: tuple[TestClient, dict[str, str], Node],
) -> None:
    _, _, node = api
    (applied,) = [e for e in node.events() if isinstance(e, ev.CorporateActionApplied)]
    assert (applied.action_id, applied.kind, applied.actor) == ("bonus-1", "BONUS", "feed:feed.csv")
    assert node.engine.state.balance("alice", AAPL).total == 15


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(list(argv))
    return code, out.getvalue()


def test_a_served_node_with_us_equities_journals_the_calendar_and_takes_cli_actions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("ATLAS_URL", "ATLAS_KEY", "ATLAS_ACCOUNT"):
        monkeypatch.delenv(name, raising=False)
    instruments = tmp_path / "instruments.json"
    instruments.write_bytes(msgspec.json.encode([Instrument.equity(AAPL)]))
    settings = ServiceSettings(
        data_dir=tmp_path,
        market_maker=False,
        rate_limit_per_s=10_000,
        instruments_file=instruments,
    )
    with BackgroundServer(build_app(settings)) as server:
        lines = (tmp_path / "first-keys.txt").read_text().splitlines()
        roles: dict[str, Any] = {json.loads(x)["roles"][0]: json.loads(x)["token"] for x in lines}
        code, out = run(
            "corporate-action",
            "dividend",
            AAPL,
            "--amount",
            "0.25",
            "--id",
            "div-1",
            "--reason",
            "Q4",
            "--url",
            server.url,
            "--key",
            roles["admin"],
        )
        assert code == 0, out
        assert out.startswith("DIVIDEND AAPL applied as div-1: ")
        assert out.rstrip().endswith(f"on {server.url}: Q4")
    journal = open_journal(str(settings.journal_path), readonly=True)
    try:
        events = list(journal.read())
    finally:
        journal.close()
    calendars = [e for e in events if isinstance(e, ev.SessionCalendarSet)]
    assert len(calendars) == 1 and calendars[0].session == "XNYS"
    assert calendars[0].first_day.endswith("-01-01") and calendars[0].last_day.endswith("-12-31")
    (div,) = [e for e in events if isinstance(e, ev.CorporateActionApplied)]
    assert (div.kind, div.action_id, div.actor) == (
        "DIVIDEND",
        "div-1",
        roles["admin"].partition(".")[0],
    )
