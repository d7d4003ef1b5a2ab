"""A snapshot holds the whole state: restored at any point of a session, folding the rest of the
journal reaches exactly the state of folding all of it. Its records mirror the state's classes
field for field, so a field added to the state without its record fails here."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from atlas_oms.core.derivatives.book import Case, LiqBook
from atlas_oms.core.engine import Engine
from atlas_oms.core.orders.order import Order
from atlas_oms.core.risk.book import BreakerStatus, RateWindow, RiskBook
from atlas_oms.core.state.positions import Position
from atlas_oms.core.state.snapshot import (
    SCHEMA,
    BreakerRecord,
    CaseRecord,
    LiqRecord,
    OrderRecord,
    PositionRecord,
    RiskRecord,
    StateSnapshot,
    WindowRecord,
    decode_snapshot,
    encode_snapshot,
    export_state,
    restore_state,
)
from atlas_oms.core.state.state import State
from atlas_oms.store.codec import events_from_json_lines

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "legacy_v1"

#: What the state derives from the rest (rebuilt on restore, never snapshotted).
DERIVED_STATE = {
    "trade_orders",
    "algo_orders",  # parent orders' children, rebuilt from state.algos (core/algos/state.py)
    "algos_open",
    "pair_orders",  # order id -> arbitrage pair, rebuilt from the pairs
    "policy",  # built from policy_overrides
    "triggers",
    "liq_index",
    "symbol_positions",
    "deriv_live",
    "open_orders",
    "firm",
    "account_positions",
    "account_balances",
    "refs_cache",
    "order_fills",  # exec ids per order, rebuilt from the fills
    "equities",  # its state part is the snapshot's ``unsettled``; its live-order index is derived
}
DERIVED_RISK = {
    "count_rates",
    "count_ratios",
    "dup_window_ns",
    "version",
    "active",
    "gated",
    "after_needed",
    "watch_fills",
    "_chains",
    "_families",
}


def _attributes(obj: object) -> set[str]:
    return set(getattr(obj, "__slots__", ())) or set(vars(obj))


def test_the_records_mirror_the_state_field_for_field() -> None:
    # ``session_release`` mirrors the US-market book's queue (snapshotted there, restored from it)
    derived = {"refs", "session_release"}
    assert set(OrderRecord.__struct_fields__) == set(Order.__struct_fields__) - derived
    assert list(OrderRecord.__struct_fields__) == [
        f for f in Order.__struct_fields__ if f not in derived
    ], "an order restores positionally: keep the record's order"
    assert set(PositionRecord.__struct_fields__) == set(Position.__slots__) - {
        "open_buy",
        "open_sell",
    }
    assert set(BreakerRecord.__struct_fields__) == set(BreakerStatus.__slots__) | {
        "scope",
        "scope_id",
    }
    assert set(CaseRecord.__struct_fields__) == set(Case.__slots__)
    assert set(WindowRecord.__struct_fields__) == set(RateWindow.__slots__) | {"key", "strategy"}
    assert set(RiskRecord.__struct_fields__) == _attributes(RiskBook()) - DERIVED_RISK
    assert set(LiqRecord.__struct_fields__) == _attributes(LiqBook())
    assert set(StateSnapshot.__struct_fields__) == (
        set(State.__slots__) - DERIVED_STATE - {"client_ids"}
    ) | {"schema", "client_ids", "unsettled", "us_markets", "risk", "liq"}


def _fixture_events() -> list[Any]:
    return events_from_json_lines((FIXTURE / "journal.jsonl").read_bytes())


@pytest.mark.parametrize("cut", [1, 12, 40, 75, 112, 150, 190, 220, 247])
def test_a_snapshot_taken_anywhere_in_a_rich_session_continues_to_the_same_state(cut: int) -> None:
    events = _fixture_events()
    whole = Engine()
    whole.apply_all(events)
    first = Engine()
    first.apply_all(events[:cut])
    blob = encode_snapshot(export_state(first.state))
    restored = Engine()
    restore_state(restored.state, decode_snapshot(blob))
    assert restored.digest() == first.digest()
    restored.apply_all(events[cut:])
    assert restored.digest() == whole.digest()
    assert restored.digest() == json.loads((FIXTURE / "expected.json").read_text())["digest"]


def test_a_snapshot_of_another_schema_is_refused() -> None:
    engine = Engine()
    snap = export_state(engine.state)
    other = StateSnapshot(
        **{**{f: getattr(snap, f) for f in snap.__struct_fields__}, "schema": SCHEMA + 1}
    )
    with pytest.raises(ValueError, match="schema"):
        restore_state(Engine().state, other)


def test_a_snapshot_loads_only_into_a_fresh_state() -> None:
    events = _fixture_events()
    used = Engine()
    used.apply_all(events[:5])
    with pytest.raises(ValueError, match="fresh"):
        restore_state(used.state, export_state(used.state))
