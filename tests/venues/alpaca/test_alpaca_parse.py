"""Alpaca's order statuses and messages in Atlas's words (pure)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from atlas_oms.model.venue import VenueOrderState
from atlas_oms.venues.alpaca.parse import (
    Context,
    base_client_id,
    leg_client_id,
    order_state,
    parse_trade_update,
    ts_ns,
)

D = Decimal
VS = VenueOrderState


@pytest.mark.parametrize(
    ("status", "filled", "state"),
    [
        ("new", "0", VS.NEW),
        ("accepted", "0", VS.NEW),
        ("pending_new", "0", VS.NEW),
        ("accepted_for_bidding", "0", VS.NEW),
        ("held", "0", VS.NEW),
        ("stopped", "0", VS.NEW),
        ("suspended", "0", VS.NEW),
        ("pending_cancel", "0", VS.NEW),
        ("pending_cancel", "3", VS.PARTIALLY_FILLED),
        ("pending_replace", "3", VS.PARTIALLY_FILLED),
        ("partially_filled", "3", VS.PARTIALLY_FILLED),
        ("done_for_day", "0", VS.NEW),
        ("done_for_day", "3", VS.PARTIALLY_FILLED),
        ("calculated", "10", VS.FILLED),
        ("calculated", "3", VS.PARTIALLY_FILLED),
        ("filled", "10", VS.FILLED),
        ("canceled", "0", VS.CANCELED),
        ("canceled", "3", VS.CANCELED),
        ("expired", "3", VS.EXPIRED),
        ("replaced", "3", VS.CANCELED),
        ("rejected", "0", VS.REJECTED),
        ("rejected", "3", VS.CANCELED),
        ("some_new_status", "0", VS.NEW),
    ],
)
def test_each_alpaca_status_maps_to_one_atlas_state(status: str, filled: str, state: VS) -> None:
    assert order_state(status, D("10"), D(filled)) is state


def test_done_for_day_is_not_terminal() -> None:
    assert order_state("done_for_day", D("10"), D("3")).is_open


def test_a_leg_client_id_reads_back_as_the_atlas_client_id() -> None:
    leg = leg_client_id("atr3f9q2x12", 1765000000000)
    assert leg == "atr3f9q2x12r1765000000000"
    assert base_client_id(leg) == "atr3f9q2x12"
    assert base_client_id("atr3f9q2x12") == "atr3f9q2x12"  # an 'r' in the tag is no suffix


def test_rfc3339_with_nanoseconds() -> None:
    assert ts_ns("2026-12-07T14:30:00.123456789Z") == 1796653800_123456789
    assert ts_ns("2026-12-07T14:30:00Z") == 1796653800_000000000
    assert ts_ns(None) == 0


def test_a_fill_event_is_one_execution_keyed_by_order_and_cumulative_qty() -> None:
    ctx = Context("alpaca", "a", lambda cid: 5 if cid == "atk3f9q2x5" else None)
    data = {
        "event": "partial_fill",
        "execution_id": "e1",
        "timestamp": "2026-12-07T14:30:00.5Z",
        "price": "150.25",
        "qty": "2",
        "position_qty": "2",
        "order": {
            "id": "o-1",
            "client_order_id": "atk3f9q2x5",
            "symbol": "AAPL",
            "side": "buy",
            "type": "limit",
            "qty": "10",
            "filled_qty": "2",
            "filled_avg_price": "150.25",
            "limit_price": "151",
            "status": "partially_filled",
            "time_in_force": "day",
            "updated_at": "2026-12-07T14:30:00.5Z",
        },
    }
    update = parse_trade_update(data, ctx)
    assert update is not None and update.fill is not None
    assert update.order.order_id == 5 and update.order.state is VS.PARTIALLY_FILLED
    assert (update.fill.qty, update.fill.px, update.fill.trade_id) == (D(2), D("150.25"), "o-1:2")
    replaced = dict(data, event="replaced", order=dict(data["order"], status="replaced"))
    assert parse_trade_update(replaced, ctx) is None
