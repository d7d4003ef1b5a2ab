"""Native icebergs at the core's edge: ``SubmitOrder.display_qty`` is checked (typed refusals),
kept in the order's record (the ``OrderSubmitted`` intent, so replay and snapshots keep it), shown
in the order's view and sent on to the venue."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec
import pytest

from atlas_oms.model import commands as c
from atlas_oms.model import events as ev
from atlas_oms.model.enums import OrderType, Side, TimeInForce
from atlas_oms.model.instrument import Instrument
from atlas_oms.model.reasons import Reason
from atlas_oms.model.requests import SubmitToVenue
from atlas_oms.store.codec import decode_event, encode_event

D = Decimal
SPOT = "BTC/USDT"  # lot 0.01, on the built-in exchange (venue "sim"): native icebergs


def iceberg(**changes: Any) -> c.SubmitOrder:
    base = c.SubmitOrder(
        account_id="alice",
        symbol=SPOT,
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        qty=D("1"),
        price=D(29000),
        display_qty=D("0.2"),
    )
    return msgspec.structs.replace(base, **changes)


def test_an_iceberg_is_accepted_kept_and_sent_with_its_display_qty(rec: Any) -> None:
    out = rec.handle(msgspec.structs.replace(iceberg(), ts=rec.next_ts()))
    assert isinstance(out[0], ev.OrderSubmitted)
    order_id = out[0].order_id
    view = rec.engine.state.orders[order_id].view()
    assert view.display_qty == D("0.2") and view.qty == D(1)
    sent = [r for r in rec.engine.take_requests() if isinstance(r, SubmitToVenue)]
    assert sent[-1].display_qty == D("0.2") and sent[-1].qty == D(1)
    assert rec.replay_digest() == rec.engine.digest()
    fresh = rec.engine.__class__()
    fresh.apply_all(rec.events)
    assert fresh.state.orders[order_id].view().display_qty == D("0.2")


def test_an_ordinary_order_shows_no_display_qty(rec: Any) -> None:
    order_id = rec.limit("alice", "BUY", "1", "29000")
    assert rec.engine.state.orders[order_id].view().display_qty is None
    sent = [r for r in rec.engine.take_requests() if isinstance(r, SubmitToVenue)]
    assert sent[-1].display_qty is None


@pytest.mark.parametrize(
    ("changes", "why"),
    [
        pytest.param({"display_qty": D(0)}, "positive", id="zero"),
        pytest.param({"display_qty": D(-1)}, "positive", id="negative"),
        pytest.param({"display_qty": D("NaN")}, "positive", id="nan"),
        pytest.param({"display_qty": D(1)}, "below the quantity", id="all-of-it"),
        pytest.param({"display_qty": D(2)}, "below the quantity", id="more-than-all"),
        pytest.param({"display_qty": D("0.005")}, "lot size", id="off-lot"),
        pytest.param({"tif": TimeInForce.IOC}, "GTC, GTD or DAY", id="ioc"),
        pytest.param({"tif": TimeInForce.FOK}, "GTC, GTD or DAY", id="fok"),
        pytest.param(
            {"order_type": OrderType.MARKET, "price": None}, "only a limit order", id="market"
        ),
        pytest.param(
            {"order_type": OrderType.STOP_LIMIT, "trigger_price": D(29500)},
            "only a limit order",
            id="stop-limit",
        ),
    ],
)
def test_a_display_qty_that_does_not_fit_is_refused(
    rec: Any, changes: dict[str, Any], why: str
) -> None:
    rec.engine.take_requests()
    out = rec.handle(msgspec.structs.replace(iceberg(**changes), ts=rec.next_ts()))
    assert [type(e) for e in out] == [ev.OrderDenied]
    assert out[0].reason == Reason.INVALID_DISPLAY_QTY
    assert why in out[0].message
    assert rec.engine.take_requests() == []  # nothing went to the venue
    assert rec.replay_digest() == rec.engine.digest()


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"tif": TimeInForce.DAY}, id="day"),
        pytest.param({"tif": TimeInForce.GTD, "expire_ts": 10**19}, id="gtd"),
        pytest.param({"post_only": True}, id="post-only"),
        pytest.param({"display_qty": D("0.01")}, id="one-lot"),
    ],
)
def test_resting_icebergs_are_accepted(rec: Any, changes: dict[str, Any]) -> None:
    out = rec.handle(msgspec.structs.replace(iceberg(**changes), ts=rec.next_ts()))
    assert isinstance(out[0], ev.OrderSubmitted), out


def _add(rec: Any, inst: Instrument) -> None:
    rec.handle(c.AddInstrument(ts=rec.next_ts(), instrument=inst))
    rec.handle(c.UpdatePrices(ts=rec.next_ts(), symbol=inst.symbol, last=D(100), mark=D(100)))


def test_a_venue_without_native_icebergs_refuses_one(rec: Any) -> None:
    inst = Instrument.spot("SOL/USDT", tick_size="0.01", lot_size="0.1", venue="okx")
    _add(rec, inst)
    out = rec.handle(
        msgspec.structs.replace(
            iceberg(symbol="SOL/USDT", price=D(100), qty=D(5), display_qty=D(1)),
            ts=rec.next_ts(),
        )
    )
    assert [type(e) for e in out] == [ev.OrderDenied]
    assert out[0].reason == Reason.ICEBERG_NOT_SUPPORTED
    assert "ICEBERG algorithm" in out[0].message


def test_an_iceberg_in_more_parts_than_the_venue_allows_is_refused(rec: Any) -> None:
    inst = Instrument.spot(
        "XRP/USDT", tick_size="0.01", lot_size="1", iceberg_parts=10, iceberg_allowed=True
    )
    _add(rec, inst)
    ok = iceberg(symbol="XRP/USDT", price=D(100), qty=D(100), display_qty=D(10))
    assert isinstance(
        rec.handle(msgspec.structs.replace(ok, ts=rec.next_ts()))[0], ev.OrderSubmitted
    )
    too_many = msgspec.structs.replace(ok, display_qty=D(9), ts=rec.next_ts())
    out = rec.handle(too_many)
    assert out[0].reason == Reason.INVALID_DISPLAY_QTY and "10 parts" in out[0].message


def test_the_submit_event_of_an_older_journal_reads_with_no_display_qty() -> None:
    event = ev.OrderSubmitted(
        seq=1,
        ts_event=1,
        order_id=1,
        intent=iceberg(display_qty=None),
        reserved_asset="USDT",
        reserve_unit=D(29000),
        protection_price=None,
        trigger_price=None,
        expire_ts=None,
    )
    raw = encode_event(event)
    assert b"display_qty" not in raw  # an event without it is the older journal's shape
    assert decode_event(raw).intent.display_qty is None
    shown = msgspec.structs.replace(event, intent=iceberg())
    assert decode_event(encode_event(shown)).intent.display_qty == D("0.2")
