"""A client order id names one order: resent with the same terms it is that order (a duplicate,
nothing placed); resent with any other term it is refused ``DUPLICATE_CLIENT_ORDER_ID`` with a
sentence naming what differs, journaled like every refusal (issue 11, defect 7)."""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path
from typing import Any

import msgspec
import pytest

from atlas_oms import Instrument, Node
from atlas_oms.model import commands as c
from atlas_oms.model import events as ev
from atlas_oms.model import reports as rep
from atlas_oms.model.commands import user_submit_fields
from atlas_oms.model.enums import OrderStatus, OrderType, PositionSide, Side, TimeInForce
from atlas_oms.model.reasons import Reason
from atlas_oms.runtime.errors import CommandRefused

BTC = "BTC/USDT"


def order(**changes: Any) -> c.SubmitOrder:
    base = c.SubmitOrder(
        account_id="alice",
        symbol=BTC,
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        qty=D("0.5"),
        price=D(29000),
        client_order_id="cl-1",
    )
    return msgspec.structs.replace(base, **changes)


def send(rec: Any, cmd: c.SubmitOrder) -> list[Any]:
    return rec.handle(msgspec.structs.replace(cmd, ts=rec.next_ts()))


def test_the_same_terms_again_are_the_original_order(rec: Any) -> None:
    first = send(rec, order())
    assert isinstance(first[0], ev.OrderSubmitted)
    again = send(rec, order())
    assert [type(e) for e in again] == [ev.OrderDuplicateIgnored]
    assert again[0].order_id == first[0].order_id
    assert len(rec.engine.state.orders) == 1
    assert rec.replay_digest() == rec.engine.digest()


def test_another_quantity_is_refused_naming_the_quantity(rec: Any) -> None:
    send(rec, order())
    out = send(rec, order(qty=D("0.7")))
    assert [type(e) for e in out] == [ev.CommandRejected]  # journaled, like every refusal
    refusal = out[0]
    assert refusal.reason == Reason.DUPLICATE_CLIENT_ORDER_ID
    assert refusal.command == "SubmitOrder" and refusal.account_id == "alice"
    assert "qty (0.5 there, 0.7 here)" in refusal.message
    assert "cl-1" in refusal.message and "order 1" in refusal.message
    assert len(rec.engine.state.orders) == 1
    assert rec.engine.state.orders[1].qty == D("0.5")
    assert rec.replay_digest() == rec.engine.digest()


#: Another value for every user field but the account, the client order id and the symbol's
#: pair of side-dependent fields: each alone makes a resend a different order.
OTHER = {
    "symbol": "ETH/USDT",
    "side": Side.SELL,
    "order_type": OrderType.STOP_LIMIT,
    "qty": D("0.6"),
    "price": D(28000),
    "display_qty": D("0.1"),
    "trigger_price": D(29500),
    "trigger_type": "MARK",
    "trailing_offset": D(5),
    "trailing_offset_type": "PERCENT",
    "limit_offset": D(1),
    "tif": TimeInForce.IOC,
    "expire_ts": 10**19,
    "post_only": True,
    "reduce_only": True,
    "position_side": PositionSide.BOTH,
    "tag": "desk-2",
    "extended_hours": True,
    "market_reason": "FORCED_CLOSE",
}


def test_every_user_field_counts_as_a_term() -> None:
    assert set(OTHER) == set(user_submit_fields()) - {"account_id", "client_order_id"}


@pytest.mark.parametrize("field", sorted(OTHER))
def test_any_other_term_is_refused_and_named(rec: Any, field: str) -> None:
    send(rec, order())
    value = OTHER[field]
    changed = msgspec.convert(msgspec.to_builtins(order()) | {field: value}, c.SubmitOrder)
    out = send(rec, changed)
    assert [type(e) for e in out] == [ev.CommandRejected], out
    assert out[0].reason == Reason.DUPLICATE_CLIENT_ORDER_ID
    assert out[0].message.count(" there, ") == 1 and f"{field} (" in out[0].message


def test_a_modified_order_is_still_the_same_as_its_original_request(rec: Any) -> None:
    """A resend is compared with the request as it was sent, not with what the order became."""
    oid = send(rec, order())[0].order_id
    rec.accept(oid)
    rec.handle(c.ModifyOrder(ts=rec.next_ts(), account_id="alice", order_id=oid, qty=D("0.3")))
    rec.report(rep.VenueModified, oid, qty=D("0.3"), leaves_qty=D("0.3"))
    assert rec.engine.state.orders[oid].qty == D("0.3")
    assert [type(e) for e in send(rec, order())] == [ev.OrderDuplicateIgnored]
    out = send(rec, order(qty=D("0.3")))
    assert out[0].reason == Reason.DUPLICATE_CLIENT_ORDER_ID


def test_the_client_order_id_is_per_account(rec: Any) -> None:
    send(rec, order())
    out = send(rec, order(account_id="bob", qty=D("0.7")))
    assert isinstance(out[0], ev.OrderSubmitted)


def test_terms_survive_a_snapshot_and_a_restart(tmp_path: Path) -> None:
    path = str(tmp_path / "atlas.db")
    with Node.open(path) as node:
        node.add_instrument(Instrument.spot(BTC, tick_size="0.01", lot_size="0.0001"))
        node.open_account("alice")
        node.deposit("alice", "USDT", "100000")
        first = node.buy("alice", BTC, "0.5", "29000", client_order_id="cl-1")
        node.snapshot()
    with Node.open(path) as node:
        assert node.recovered_events == 0  # the state came from the snapshot
        same = node.buy("alice", BTC, "0.5", "29000", client_order_id="cl-1")
        assert same.duplicate and same.order_id == first.order_id
        with pytest.raises(CommandRefused) as refused:
            node.buy("alice", BTC, "0.5", "29001", client_order_id="cl-1")
        assert refused.value.reason == Reason.DUPLICATE_CLIENT_ORDER_ID
        assert "price (29000 there, 29001 here)" in refused.value.message
        assert node.order(first.order_id).status is OrderStatus.ACCEPTED
