"""The pure FIX <-> Atlas translation (atlas_oms/fix/translate.py): NewOrderSingle fields to a
SubmitOrder, and events to ExecutionReports following the FIX 4.4 order-state matrices."""

from __future__ import annotations

from decimal import Decimal

import pytest

from atlas_oms.fix.translate import (
    FixInvalid,
    OrderTrack,
    cancel_reject,
    dec,
    rejected_order,
    submit_fields,
)
from atlas_oms.model import events as ev
from atlas_oms.model.enums import LiquiditySide, OrderStatus, OrderType, Side, TimeInForce


def track(qty: str = "1", price: str | None = "100") -> OrderTrack:
    return OrderTrack(
        order_id=7,
        account_id="desk",
        symbol="BTC/USDT",
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        tif=TimeInForce.GTC,
        qty=Decimal(qty),
        price=None if price is None else Decimal(price),
        stop_px=None,
        cl_ord_id="A",
    )


def fill(seq: int, qty: str, px: str, status: OrderStatus) -> ev.OrderFilled:
    return ev.OrderFilled(
        seq=seq,
        ts_event=seq,
        order_id=7,
        account_id="desk",
        symbol="BTC/USDT",
        side=Side.BUY,
        exec_id=f"e{seq}",
        trade_id=f"t{seq}",
        last_qty=Decimal(qty),
        last_px=Decimal(px),
        liquidity_side=LiquiditySide.MAKER,
        fee=Decimal(0),
        fee_asset="USDT",
        order_status=status,
    )


def one(out: list[tuple[str, list[tuple[int, str]]]]) -> dict[int, str]:
    assert len(out) == 1, out
    assert out[0][0] == "8"
    return dict(out[0][1])


def test_new_order_single_maps_to_submit_order_fields() -> None:
    base = {11: "c1", 55: "BTC/USDT", 54: "2", 38: "0.5", 40: "4", 44: "99", 99: "100"}
    got = submit_fields(base | {59: "3", 18: "E"}, "desk")
    assert got["order_type"] is OrderType.STOP_LIMIT
    assert got["side"] is Side.SELL
    assert got["tif"] is TimeInForce.IOC
    assert (got["qty"], got["price"], got["trigger_price"]) == (Decimal("0.5"), 99, 100)
    assert got["reduce_only"] and not got["post_only"]
    assert got["client_order_id"] == "c1" and got["account_id"] == "desk"
    market = submit_fields({11: "c2", 55: "X", 54: "1", 38: "1", 40: "1"}, "desk")
    assert market["tif"] is TimeInForce.DAY and market["price"] is None
    gtd = submit_fields(base | {40: "2", 59: "6", 126: "20260102-03:04:05", 18: "6"}, "desk")
    assert gtd["tif"] is TimeInForce.GTD and gtd["post_only"]
    assert gtd["expire_ts"] == 1767323045 * 10**9


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({40: "P"}, "UNSUPPORTED_ORD_TYPE"),
        ({59: "2"}, "INVALID_TIME_IN_FORCE"),
        ({54: "5"}, "UNSUPPORTED_SIDE"),
        ({18: "G"}, "UNSUPPORTED_EXEC_INST"),
        ({38: "1e"}, "INVALID_FIELD"),
        ({126: "tomorrow"}, "INVALID_EXPIRE_TIME"),
    ],
)
def test_what_atlas_cannot_take_is_refused_with_a_reason(
    change: dict[int, str], reason: str
) -> None:
    fields = {11: "c", 55: "BTC/USDT", 54: "1", 38: "1", 40: "2", 44: "1"} | change
    with pytest.raises(FixInvalid) as refused:
        submit_fields(fields, "desk")
    assert refused.value.reason == reason


def test_numbers_are_exact_decimal_strings_never_exponents() -> None:
    assert dec(Decimal("1E+3")) == "1000"
    assert dec(Decimal("0.00010")) == "0.0001"
    assert dec(Decimal("0E-8")) == "0"
    assert dec(None) == "0"


def test_new_partial_fills_and_fill_follow_the_matrix_with_unique_exec_ids() -> None:
    t = track()
    new = one(t.apply(ev.OrderAccepted(seq=1, ts_event=1, order_id=7, venue_order_id=None)))
    assert (new[150], new[39], new[14], new[151], new[11]) == ("0", "0", "0", "1", "A")
    first = one(t.apply(fill(2, "0.25", "100", OrderStatus.PARTIALLY_FILLED)))
    assert (first[150], first[39], first[14], first[151]) == ("F", "1", "0.25", "0.75")
    assert (first[32], first[31], first[6]) == ("0.25", "100", "100")
    last = one(t.apply(fill(3, "0.75", "104", OrderStatus.FILLED)))
    assert (last[150], last[39], last[14], last[151], last[6]) == ("F", "2", "1", "0", "103")
    assert len({new[17], first[17], last[17]}) == 3


def test_a_fill_without_an_acknowledgement_is_preceded_by_a_new() -> None:
    t = track()
    out = t.apply(fill(5, "1", "100", OrderStatus.FILLED))
    assert [dict(f)[150] for _, f in out] == ["0", "F"]
    assert dict(out[0][1])[39] == "0" and dict(out[1][1])[39] == "2"


def test_replace_reports_carry_the_new_clordid_and_the_previous_as_orig() -> None:
    t = track()
    t.apply(ev.OrderAccepted(seq=1, ts_event=1, order_id=7, venue_order_id=None))
    t.pending = ("B", "G")
    pending = one(
        t.apply(
            ev.OrderPendingReplace(
                seq=2,
                ts_event=2,
                order_id=7,
                qty=Decimal(2),
                price=Decimal(101),
                trigger_price=None,
                reserve_extra=Decimal(0),
            )
        )
    )
    assert (pending[150], pending[39], pending[11], pending[41]) == ("E", "E", "B", "A")
    # A fill racing the replace still names the order by its current ClOrdID.
    raced = one(t.apply(fill(3, "0.5", "100", OrderStatus.PARTIALLY_FILLED)))
    assert (raced[11], raced[14]) == ("A", "0.5")
    done = one(
        t.apply(
            ev.OrderReplaced(
                seq=4,
                ts_event=4,
                order_id=7,
                qty=Decimal(2),
                price=Decimal(101),
                trigger_price=None,
                reserve_unit=Decimal(0),
                order_status=OrderStatus.PARTIALLY_FILLED,
            )
        )
    )
    assert (done[150], done[39], done[11], done[41]) == ("5", "1", "B", "A")
    assert (done[38], done[44], done[14], done[151]) == ("2", "101", "0.5", "1.5")
    assert t.cl_ord_id == "B" and t.pending is None


def test_cancel_reports_pending_then_canceled_and_unsolicited_ones_carry_the_reason() -> None:
    t = track()
    t.apply(ev.OrderAccepted(seq=1, ts_event=1, order_id=7, venue_order_id=None))
    t.pending = ("C", "F")
    pend = one(t.apply(ev.OrderPendingCancel(seq=2, ts_event=2, order_id=7)))
    assert (pend[150], pend[39], pend[11], pend[41]) == ("6", "6", "C", "A")
    gone = one(t.apply(ev.OrderCanceled(seq=3, ts_event=3, order_id=7, reason="USER")))
    assert (gone[150], gone[39], gone[11], gone[41], gone[151]) == ("4", "4", "C", "A", "0")
    other = track()
    other.apply(ev.OrderAccepted(seq=1, ts_event=1, order_id=7, venue_order_id=None))
    ioc = one(other.apply(ev.OrderCanceled(seq=4, ts_event=4, order_id=7, reason="KILL_SWITCH")))
    assert ioc[150] == "4" and 41 not in ioc and ioc[58] == "KILL_SWITCH"


def test_expired_and_rejected_orders() -> None:
    t = track()
    t.apply(ev.OrderAccepted(seq=1, ts_event=1, order_id=7, venue_order_id=None))
    exp = one(t.apply(ev.OrderExpired(seq=2, ts_event=2, order_id=7)))
    assert (exp[150], exp[39], exp[151]) == ("C", "C", "0")
    r = track()
    rej = one(
        r.apply(
            ev.OrderRejected(
                seq=3, ts_event=3, order_id=7, reason="POST_ONLY_WOULD_TAKE", message="crosses"
            )
        )
    )
    assert (rej[150], rej[39], rej[103]) == ("8", "8", "99")
    assert rej[58] == "POST_ONLY_WOULD_TAKE: crosses"


def test_a_venue_refusing_a_cancel_in_flight_is_an_order_cancel_reject() -> None:
    t = track()
    t.apply(ev.OrderAccepted(seq=1, ts_event=1, order_id=7, venue_order_id=None))
    t.pending = ("C", "F")
    t.apply(ev.OrderPendingCancel(seq=2, ts_event=2, order_id=7))
    out = t.apply(
        ev.OrderCancelRejected(
            seq=3,
            ts_event=3,
            account_id="desk",
            reason="VENUE_REJECTED",
            message="too late",
            order_id=7,
            order_status=OrderStatus.ACCEPTED,
        )
    )
    assert out[0][0] == "9"
    reject = dict(out[0][1])
    assert (reject[11], reject[41], reject[39], reject[434]) == ("C", "A", "0", "1")
    assert t.pending is None and t.cl_ord_id == "A"


def test_rejects_without_an_order() -> None:
    refused = dict(
        rejected_order({11: "x", 55: "BTC/USDT", 54: "1"}, "e1", "RATE_LIMITED", "slow", 0)
    )
    assert (refused[37], refused[150], refused[39], refused[11]) == ("NONE", "8", "8", "x")
    assert refused[58] == "RATE_LIMITED: slow"
    unknown = dict(cancel_reject(None, "c", "G", "UNKNOWN_ORDER", "no order", orig_cl_ord_id="o"))
    assert (unknown[102], unknown[434], unknown[41], unknown[39]) == ("1", "2", "o", "8")


def test_d_requests_on_a_pending_order_are_rejected_as_already_pending() -> None:
    """Matrix "broker rejects the second as order is pending": CxlRejReason 3, OrdStatus the
    pending one, OrigClOrdID the last accepted ClOrdID (not the one in flight), TransactTime."""
    t = track()
    t.apply(ev.OrderAccepted(seq=1, ts_event=1, order_id=7, venue_order_id=None))
    t.pending = ("Y", "F")
    t.apply(ev.OrderPendingCancel(seq=2, ts_event=2, order_id=7))
    for kind, to in (("F", "1"), ("G", "2")):
        out = dict(cancel_reject(t, "Z", kind, "ORDER_PENDING", "pending cancel", ts=3 * 10**9))
        assert (out[11], out[41], out[39], out[102], out[434]) == ("Z", "A", "6", "3", to)
        assert out[60] == "19700101-00:00:03.000"
    dup = dict(cancel_reject(t, "A", "G", "DUPLICATE_CLIENT_ORDER_ID", "reused", ts=0))
    assert dup[102] == "6"


def test_d_a_fill_while_replace_is_pending_shows_the_original_order() -> None:
    """Fills during Pending Replace carry the original ClOrdID, OrderQty and price; the
    Replaced report then the new ones, with CumQty and AvgPx carried."""
    t = track(qty="1", price="100")
    t.apply(ev.OrderAccepted(seq=1, ts_event=1, order_id=7, venue_order_id=None))
    t.apply(fill(2, "0.25", "100", OrderStatus.PARTIALLY_FILLED))
    t.pending = ("B", "G")
    t.apply(
        ev.OrderPendingReplace(
            seq=3,
            ts_event=3,
            order_id=7,
            qty=Decimal(2),
            price=Decimal(99),
            trigger_price=None,
            reserve_extra=Decimal(0),
        )
    )
    raced = one(t.apply(fill(4, "0.5", "100.3", OrderStatus.PARTIALLY_FILLED)))
    # Order state precedence: Pending Replace over Partially Filled (matrix D10, row 6).
    assert (raced[11], raced[38], raced[44], raced[39]) == ("A", "1", "100", "E")
    assert (raced[14], raced[151], raced[32], raced[31]) == ("0.75", "0.25", "0.5", "100.3")
    assert raced[6] == "100.2"  # (0.25 x 100 + 0.5 x 100.3) / 0.75
    done = one(
        t.apply(
            ev.OrderReplaced(
                seq=5,
                ts_event=5,
                order_id=7,
                qty=Decimal(2),
                price=Decimal(99),
                trigger_price=None,
                reserve_unit=Decimal(0),
                order_status=OrderStatus.PARTIALLY_FILLED,
            )
        )
    )
    assert (done[11], done[41], done[38], done[44]) == ("B", "A", "2", "99")
    assert (done[14], done[151], done[6]) == ("0.75", "1.25", "100.2")
    assert 32 not in done and 31 not in done
