"""Journals written by an earlier version of Atlas still replay to the same state.

``tests/fixtures/legacy_v1/`` was written by ``tests/fixtures/make_legacy_journal.py`` at the
commit named in its ``expected.json``: one session that produces every event type of the
``Event`` union, as a SQLite journal (with a pickled snapshot taken mid-session) and as JSON
lines. Whatever the engine becomes, these files must keep reaching the digest recorded then.
Never regenerate the fixture to make these tests pass: that would defeat them.

The fixture is never opened in place (opening a journal may write to it): each test copies it.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import typing
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from atlas_oms.cli.replay import replay
from atlas_oms.core.engine import Engine
from atlas_oms.model import events as ev
from atlas_oms.runtime.node import Node
from atlas_oms.store.codec import events_from_json_lines
from atlas_oms.store.opener import open_journal

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "legacy_v1"


def replay_digest(events: Iterable[Any]) -> str:
    """The digest of a fresh engine that folds ``events``, in order.

    The only place in this module that knows how an engine is built and fed: when the engine's
    API changes, change this function, not the tests below.
    """
    engine = Engine()
    for event in events:
        engine.apply(event)
    return engine.digest()


@pytest.fixture(scope="module")
def expected() -> dict[str, Any]:
    return json.loads((FIXTURE / "expected.json").read_text())  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def jsonl_events() -> list[Any]:
    return list(events_from_json_lines((FIXTURE / "journal.jsonl").read_bytes()))


@pytest.fixture
def journal_copy(tmp_path: Path) -> str:
    """A private copy of the SQLite journal (the fixture itself is never opened)."""
    target = tmp_path / "journal.db"
    shutil.copyfile(FIXTURE / "journal.db", target)
    return str(target)


#: Event types added after the fixture was written (a journal from then cannot hold them;
#: tested in their own files).
NEWER_THAN_FIXTURE = {
    # Parent orders (issue 16 §2-§3): tested in tests/core/algos/ and tests/runtime/test_algos*.py
    # (replay and snapshot digests included).
    "AlgoAccepted",
    "AlgoRefused",
    "AlgoSlicesPlanned",
    "AlgoSliceStarted",
    "AlgoChildPlaced",
    "AlgoChildRefused",
    "AlgoRouteRequested",
    "AlgoRouted",
    "AlgoRerouted",
    "AlgoPaused",
    "AlgoResumed",
    "AlgoCanceled",
    "AlgoCompleted",
    # US markets (issue 15 §3): tested in tests/core/equities/test_us_markets.py (replay and
    # snapshot included) and tests/runtime/test_calendars.py.
    "SessionCalendarSet",
    "CorporateActionApplied",
    "CloseEquityRecorded",
    # Orders queued for their session: tests/core/equities/test_session_queue.py.
    "OrderSessionQueued",
    "OrderSessionReleased",
    # Re-checked at release, a split Atlas alone applied: tests/core/equities/
    # test_release_checks.py and test_share_recon.py (replay and snapshot included).
    "OrderSessionReleaseRefused",
    "PositionQtyAdopted",
    "OrdersArchived",
    "OrderRestored",
    "JournalRepaired",
    # External venues (issue 12): tested in tests/core/venues/ (replay digest included).
    "ExternalOrderAdopted",
    "PositionReconciled",
    "VenueReconciled",
    "VenueStatusChanged",
    "OrderOutcomeUnknown",
    # Failover routes (issue 15): tested in tests/runtime/gateway/test_failover.py.
    "RouteSwitched",
    # Smart order routing (issue 16): tested in tests/core/sor/ (replay included).
    "ArbitrageDetected",
    "ArbitragePairPlaced",
    "ArbitragePairUnwound",
    "ArbitragePairDone",
    # Rebalancing (issue 15 §2): tested in tests/core/test_rebalance_plan.py (replay included)
    # and tests/runtime/test_rebalancer.py.
    "RebalancePlanned",
    "VenueTransferNoted",
    # Cross-venue spread monitor (issue 16): tested in tests/runtime/market/test_spread.py.
    "VenueSpreadCrossed",
    # Linked orders (issue 13): tested in tests/core/orders/test_links.py (replay included).
    "OrderListCreated",
    "OrderListReleased",
    "OrderListSiblingCanceled",
    "OrderListClosed",
    # Managed trades (issue 13): tested in tests/core/policy/test_trade*.py.
    "TradeIntentAccepted",
    "TradeIntentRefused",
    "TradeEntryPlaced",
    "TradeEntryRepriced",
    "TradeEntryAbandoned",
    "TradeBracketPlaced",
    "TradeStopPlaced",
    "TradeStopResized",
    "TradeStopMoved",
    "TradeTargetCanceled",
    "PolicyParamsSet",
    "TradeStopFired",
    "TradeTargetsAdded",
    "TradeScaleOutStarted",
    "TradeExitStarted",
    "TradeScaleOutPlaced",
    "TradeScaleOutEnded",
    "TradingDayOpened",
    "TradeSized",
    "TradeSlippageRecorded",
    "SlippageEscalated",
    "RepricingDegraded",
    "TradingResumed",
    "TradeClosed",
    # Bars and stop maintenance (issue 13): tested in tests/core/policy/test_trailing*.py.
    "BarClosed",
    "BarApplied",
    "TradeTrailingStarted",
    "TradeEntryAtrSet",
    "TradeTargetPolicySet",
    # Emergency exits and forced close (issue 13): tests/core/policy/test_trade_fallback.py,
    # test_forced_close.py (replay digest included).
    "TradeStopTriggered",
    "TradeExitOrderPlaced",
    "TradeStopRejected",
    "TradeSessionObserved",
    "TradeForcedCloseOrder",
    "TradeCannotLiquidate",
}


def union_names() -> set[str]:
    return {t.__name__ for t in typing.get_args(ev.Event)} - NEWER_THAN_FIXTURE


def test_the_sqlite_journal_reopens_to_the_recorded_digest(
    journal_copy: str, expected: dict[str, Any]
) -> None:
    node = Node.open(journal_copy)
    try:
        assert node.engine.seq == expected["last_seq"]
        assert node.journal.last_seq == expected["last_seq"]
        assert node.digest() == expected["digest"]
    finally:
        node.close()


def test_a_full_replay_ignoring_the_snapshot_reaches_the_recorded_digest(
    journal_copy: str, expected: dict[str, Any]
) -> None:
    result = replay(journal_copy, full=True)
    assert result["snapshot_seq"] == 0
    assert result["events_replayed"] == expected["last_seq"]
    assert result["last_seq"] == expected["last_seq"]
    assert result["digest"] == expected["digest"]


def test_the_json_lines_replay_to_the_recorded_digest(
    jsonl_events: list[Any], expected: dict[str, Any]
) -> None:
    assert [e.seq for e in jsonl_events] == list(range(1, expected["last_seq"] + 1))
    assert replay_digest(jsonl_events) == expected["digest"]


def test_the_state_at_the_snapshot_is_the_recorded_one(
    jsonl_events: list[Any], expected: dict[str, Any]
) -> None:
    (seq,) = expected["snapshot_seqs"]
    assert replay_digest(e for e in jsonl_events if e.seq <= seq) == expected["snapshot_digest"]


def test_the_fixture_holds_its_mid_session_snapshot(expected: dict[str, Any]) -> None:
    # Read the file itself (read-only): whatever the journal code becomes, this is what was written.
    uri = f"{(FIXTURE / 'journal.db').as_uri()}?mode=ro&immutable=1"
    with sqlite3.connect(uri, uri=True) as db:
        seqs = [row[0] for row in db.execute("SELECT seq FROM snapshots ORDER BY seq")]
    assert seqs == expected["snapshot_seqs"]
    assert 0 < seqs[0] < expected["last_seq"]


def test_every_event_type_of_the_union_is_in_the_fixture(
    jsonl_events: list[Any], expected: dict[str, Any]
) -> None:
    counts = Counter(type(e).__name__ for e in jsonl_events)
    assert counts == expected["event_counts"]
    assert not union_names() - set(counts), sorted(union_names() - set(counts))


def test_the_sqlite_journal_and_the_json_lines_hold_the_same_events(
    journal_copy: str, jsonl_events: list[Any]
) -> None:
    journal = open_journal(journal_copy, readonly=True)
    try:
        assert list(journal.read()) == jsonl_events
    finally:
        journal.close()
