"""The FIX 4.4 order-state change matrices (Volume 4, Appendix D) that apply to Atlas, each driven
end to end by QuickFIX's own initiator against a real ``atlas serve``: D1 vanilla (new, partial,
filled, AvgPx exact), replaces (price only keeps the OrderID, increase, reduce below CumQty,
CumQty/AvgPx carried), rejected replace of a filled order, duplicate ClOrdIDs on cancel/replace,
unsolicited cancels, IOC/FOK remainders canceled, GTD expiry (C), status requests (I), and the
fields every report must carry (LeavesQty 0 when terminal, 32/31 only on fills, 60, unique 17)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from tests.fix.initiator import Initiator
from tests.fix.test_fix_orders import Desk
from tests.service.serving import Served, free_port

NOW = "20260101-00:00:00"


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    root = tmp_path_factory.mktemp("fixmatrix")
    fix_port = free_port()
    served = Served(root / "data", env={"ATLAS_FIX_PORT": str(fix_port)}).start()
    trader = served.keys()["trader"]["X-API-Key"]
    client = Initiator(root / "client", fix_port, trader).start()
    try:
        yield Desk(served, fix_port, client)
    finally:
        client.stop()
        served.stop()
        served.ensure_stopped()


@pytest.fixture
def c(desk: Desk) -> Initiator:
    """The desk's session with no open orders left by an earlier test (a mass cancel), and
    nothing left unread."""
    client = desk.client
    client.send("q", (11, client.cl()), (530, "7"), (60, NOW))
    client.drain(0.5)
    return client


def replace(c: Initiator, cl: str, orig: str, qty: str, price: str, **more: str) -> str:
    new = c.cl()
    fields = [(11, new), (41, orig), (55, "BTC/USDT"), (54, "1"), (40, "2"), (38, qty)]
    fields += [(44, price), (60, NOW), *((int(k[1:]), v) for k, v in more.items())]
    c.send("G", *fields)
    return new


def no_fill_fields(report: dict[int, str]) -> None:
    """LastQty(32)/LastPx(31) belong to fills (ExecType F) only; TransactTime(60) always."""
    assert 32 not in report and 31 not in report, report
    assert 60 in report, report


def test_d1_vanilla_new_partial_fill_then_filled_with_exact_avgpx(desk: Desk, c: Initiator) -> None:
    cl = c.cl()
    c.new_order(cl, "1", "0.5", "39000")
    new = c.expect("8", t150="0", t39="0", t11=cl, t14="0", t151="0.5", t6="0", t38="0.5")
    no_fill_fields(new)
    order_id = new[37]
    desk.maker_order("SELL", "0.2", "39000")
    part = c.expect("8", t150="F", t39="1", t14="0.2", t151="0.3", t32="0.2", t31="39000")
    assert part[6] == "39000" and 60 in part
    # A replace that changes only the price keeps the OrderID, CumQty and AvgPx.
    cl2 = replace(c, cl, cl, "0.5", "39001")
    no_fill_fields(c.expect("8", t150="E", t39="E", t11=cl2, t41=cl, t14="0.2", t37=order_id))
    done = c.expect("8", t150="5", t39="1", t11=cl2, t41=cl, t14="0.2", t151="0.3", t6="39000")
    assert done[37] == order_id and done[44] == "39001"
    no_fill_fields(done)
    desk.maker_order("SELL", "0.3", "39001")
    fill = c.expect("8", t150="F", t39="2", t11=cl2, t14="0.5", t151="0", t32="0.3", t31="39001")
    assert fill[6] == "39000.6"  # (0.2 x 39000 + 0.3 x 39001) / 0.5, exact
    assert fill[37] == order_id


def test_d_replace_to_increase_quantity_keeps_cumqty(desk: Desk, c: Initiator) -> None:
    cl = c.cl()
    c.new_order(cl, "1", "0.5", "38000")
    order_id = c.expect("8", t150="0", t11=cl)[37]
    desk.maker_order("SELL", "0.2", "38000")
    c.expect("8", t150="F", t39="1", t14="0.2", t151="0.3")
    cl2 = replace(c, cl, cl, "1", "38000")
    c.expect("8", t150="E", t11=cl2, t41=cl)
    c.expect("8", t150="5", t39="1", t11=cl2, t41=cl, t38="1", t14="0.2", t151="0.8", t37=order_id)


def test_d_replace_to_reduce_quantity_below_cumqty_fills_the_order(
    desk: Desk, c: Initiator
) -> None:
    """Matrix "replace request ... the requested order qty is below/equals the cum qty": the
    balance is canceled and "filled" takes precedence over "replaced": ExecType 5, OrdStatus 2,
    OrderQty amended to CumQty, LeavesQty 0."""
    cl = c.cl()
    c.new_order(cl, "1", "1", "37000")
    c.expect("8", t150="0", t11=cl)
    desk.maker_order("SELL", "0.4", "37000")
    c.expect("8", t150="F", t39="1", t14="0.4")
    cl2 = replace(c, cl, cl, "0.3", "37000")
    c.expect("8", t150="E", t11=cl2, t41=cl)
    c.expect("8", t150="5", t39="2", t11=cl2, t41=cl, t38="0.4", t14="0.4", t151="0", t6="37000")


def test_d_replace_of_a_filled_order_is_rejected_too_late(desk: Desk, c: Initiator) -> None:
    cl = c.cl()
    c.new_order(cl, "1", "0.1", "36000")
    order_id = c.expect("8", t150="0", t11=cl)[37]
    desk.maker_order("SELL", "0.1", "36000")
    c.expect("8", t150="F", t39="2", t151="0")
    cl2 = replace(c, cl, cl, "0.1", "35999")
    reject = c.expect("9", t434="2", t102="0", t39="2", t11=cl2, t41=cl, t37=order_id)
    assert 60 in reject and reject[58].startswith("ORDER_NOT_LIVE")


def test_d_cancel_replace_with_a_reused_clordid_is_rejected_and_changes_nothing(
    desk: Desk, c: Initiator
) -> None:
    first = c.cl()
    c.new_order(first, "1", "0.1", "35000")
    c.expect("8", t150="0", t11=first)
    cl = c.cl()
    c.new_order(cl, "1", "0.1", "35001")
    order_id = c.expect("8", t150="0", t11=cl)[37]
    # The ClOrdID of another order, then the order's own current one: both duplicates.
    for reused in (first, cl):
        c.send(
            "G",
            (11, reused),
            (41, cl),
            (55, "BTC/USDT"),
            (54, "1"),
            (40, "2"),
            (38, "0.2"),
            (44, "35002"),
            (60, NOW),
        )
        reject = c.expect("9", t434="2", t102="6", t11=reused, t41=cl, t39="0", t37=order_id)
        assert reject[58].startswith("DUPLICATE_CLIENT_ORDER_ID")
    c.send("F", (11, first), (41, cl), (55, "BTC/USDT"), (54, "1"), (60, NOW))
    c.expect("9", t434="1", t102="6", t11=first, t41=cl)
    c.send("H", (11, cl), (55, "BTC/USDT"), (54, "1"))
    c.expect("8", t150="I", t39="0", t38="0.1", t44="35001", t37=order_id)  # unchanged


def test_d_unsolicited_cancel_is_reported_without_origclordid(desk: Desk, c: Initiator) -> None:
    cl = c.cl()
    c.new_order(cl, "1", "0.1", "34000")
    order_id = c.expect("8", t150="0", t11=cl)[37]
    trader = desk.served.keys()["trader"]
    url = f"{desk.served.url}/v1/orders/{order_id}"
    r = httpx.delete(url, params={"account_id": "desk"}, headers=trader)  # not by FIX
    assert r.status_code == 200, r.text
    pending = c.expect("8", t150="6", t39="6", t11=cl, t37=order_id)
    done = c.expect("8", t150="4", t39="4", t11=cl, t151="0", t37=order_id)
    assert 41 not in pending and 41 not in done  # no request of the client's behind them
    no_fill_fields(done)


def test_d_ioc_partially_filled_then_the_rest_is_canceled(desk: Desk, c: Initiator) -> None:
    desk.maker_order("SELL", "0.2", "33000")
    cl = c.cl()
    c.new_order(cl, "1", "0.5", "33000", extra=((59, "3"),))
    got = [c.next() for _ in range(3)]
    kinds = [f[150] for _, f in got]
    assert kinds == ["0", "F", "4"], got
    fill, done = got[1][1], got[2][1]
    assert fill[32] == "0.2" and fill[39] == "1" and fill[151] == "0.3"
    assert done[39] == "4" and done[14] == "0.2" and done[151] == "0" and done[6] == "33000"
    assert 58 in done  # unsolicited: the reason in Text


def test_d_fok_that_cannot_be_filled_is_canceled(desk: Desk, c: Initiator) -> None:
    desk.maker_order("SELL", "0.2", "32000")
    cl = c.cl()
    c.new_order(cl, "1", "1", "32000", extra=((59, "4"),))
    c.expect("8", t150="0", t11=cl)
    done = c.expect("8", t150="4", t39="4", t11=cl, t14="0", t151="0")
    assert "FOK" in done.get(58, ""), done
    # The maker's 0.2 is still there for the next test: take it.
    take = c.cl()
    c.new_order(take, "1", "0.2", "32000", extra=((59, "3"),))
    assert c.expect("8", t150="0", t11=take) and c.expect("8", t150="F", t39="2", t11=take)


def test_d_gtd_order_expires_with_exec_type_c(desk: Desk, c: Initiator) -> None:
    cl = c.cl()
    expire = datetime.fromtimestamp(time.time() + 2, tz=UTC).strftime("%Y%m%d-%H:%M:%S.%f")[:-3]
    c.new_order(cl, "1", "0.1", "31000", extra=((59, "6"), (126, expire)))
    c.expect("8", t150="0", t39="0", t11=cl, t59="6")
    done = c.expect("8", timeout=30, t150="C", t39="C", t11=cl, t151="0", t14="0")
    no_fill_fields(done)
    c.send("H", (11, cl), (55, "BTC/USDT"), (54, "1"))
    c.expect("8", t150="I", t39="C", t151="0")


def test_d_status_requests_show_terminal_orders_with_no_leaves(desk: Desk, c: Initiator) -> None:
    cl = c.cl()
    c.new_order(cl, "1", "0.3", "30500")
    order_id = c.expect("8", t150="0", t11=cl)[37]
    desk.maker_order("SELL", "0.3", "30500")
    c.expect("8", t150="F", t39="2")
    c.send("H", (11, cl), (55, "BTC/USDT"), (54, "1"), (790, "s-1"))
    filled = c.expect("8", t150="I", t39="2", t14="0.3", t151="0", t6="30500", t790="s-1")
    no_fill_fields(filled)
    c.send("H", (11, "x"), (37, order_id), (55, "BTC/USDT"), (54, "1"))  # by OrderID
    c.expect("8", t150="I", t39="2", t37=order_id)


def test_d_order_rejected_carries_ordrejreason_and_no_leaves(desk: Desk, c: Initiator) -> None:
    cl = c.cl()
    c.new_order(cl, "1", "0.1", "30000", symbol="NOPE/USDT")
    reject = c.expect("8", t150="8", t39="8", t11=cl, t103="1", t151="0", t14="0")
    assert 60 in reject and reject[58].startswith("UNKNOWN_INSTRUMENT")


def test_every_exec_id_of_the_session_is_unique(desk: Desk) -> None:
    seen = [f[17] for t, f in desk.client.app.seen if t == "8"]
    assert seen and len(seen) == len(set(seen))


def test_d_replace_may_not_change_side_or_symbol(desk: Desk, c: Initiator) -> None:
    cl = c.cl()
    c.new_order(cl, "1", "0.1", "30100")
    order_id = c.expect("8", t150="0", t11=cl)[37]
    bad = c.cl()
    c.send(
        "G",
        (11, bad),
        (41, cl),
        (55, "BTC/USDT"),
        (54, "2"),
        (40, "2"),
        (38, "0.1"),
        (44, "30101"),
        (60, NOW),
    )
    reject = c.expect("9", t434="2", t102="99", t11=bad, t41=cl, t39="0", t37=order_id)
    assert reject[58].startswith("UNSUPPORTED_CHANGE: Side(54)")
    # The refused ClOrdID was not taken: a good replace may use it.
    c.send(
        "G",
        (11, bad),
        (41, cl),
        (55, "BTC/USDT"),
        (54, "1"),
        (40, "2"),
        (38, "0.1"),
        (44, "30101"),
        (60, NOW),
    )
    c.expect("8", t150="E", t11=bad, t41=cl)
    c.expect("8", t150="5", t11=bad, t41=cl, t44="30101", t37=order_id)
