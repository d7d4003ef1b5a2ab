"""Bad input at the core's edge: every refusal has its exact reason code, a sentence, and no effect.

A refused command changes nothing: orders, positions, balances, prices, fills and indexes are as
they were (only ``seq`` moves, and a DENIED order is kept for the audit trail). A replay of the
journal reaches the same digest, so a refusal must not touch state outside an event either.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from atlas_oms.model import commands as c
from atlas_oms.model import events as ev
from atlas_oms.model import reports as rep
from atlas_oms.model.enums import OrderStatus, OrderType, Side, TimeInForce
from atlas_oms.model.instrument import Instrument
from atlas_oms.model.reasons import Reason

SPOT = "BTC/USDT"
PERP = "ETH/USDT:USDT"
BAD_NUMBERS = {
    "zero": Decimal(0),
    "negative": Decimal(-1),
    "nan": Decimal("NaN"),
    "snan": Decimal("sNaN"),
    "inf": Decimal("Infinity"),
    "-inf": Decimal("-Infinity"),
    "1e30": Decimal("1e30"),
}


@dataclass
class World:
    """A session with an order in every interesting state."""

    rec: Any
    resting: int  # alice's accepted buy, working at the venue
    filled: int  # bob's fully filled sell
    pending: int  # carol's buy with a cancel in flight
    unacked: int  # alice's sell, sent but not acknowledged


@pytest.fixture
def world(rec: Any) -> World:
    rec.handle(c.OpenAccount(ts=rec.next_ts(), account_id="dave"))  # no money at all
    rec.handle(c.OpenAccount(ts=rec.next_ts(), account_id="alice.sub", parent_id="alice"))
    resting = rec.limit("alice", "BUY", "0.5", "29000")
    rec.accept(resting)
    filled = rec.limit("bob", "SELL", "0.3", "31000")
    rec.accept(filled)
    rec.fill(filled, "0.3", "31000", "F1")
    pending = rec.limit("carol", "BUY", "0.2", "29500")
    rec.accept(pending)
    rec.handle(c.CancelOrder(ts=rec.next_ts(), account_id="carol", order_id=pending))
    unacked = rec.limit("alice", "SELL", "0.1", "32000")
    rec.engine.take_requests()
    w = World(rec=rec, resting=resting, filled=filled, pending=pending, unacked=unacked)
    assert rec.engine.state.orders[filled].status is OrderStatus.FILLED
    assert rec.engine.state.orders[pending].status is OrderStatus.PENDING_CANCEL
    assert rec.engine.state.orders[unacked].status is OrderStatus.SUBMITTED
    return w


def submit(**fields: Any) -> Callable[[World], c.SubmitOrder]:
    """A limit buy of 0.1 BTC at 30000 by alice, with ``fields`` changed."""
    base: dict[str, Any] = {
        "account_id": "alice",
        "symbol": SPOT,
        "side": Side.BUY,
        "order_type": OrderType.LIMIT,
        "qty": Decimal("0.1"),
        "price": Decimal(30_000),
    }
    base.update(fields)
    return lambda w: c.SubmitOrder(ts=w.rec.next_ts(), **base)


def stop(**fields: Any) -> Callable[[World], c.SubmitOrder]:
    fields.setdefault("trigger_price", Decimal(29_000))
    return submit(order_type=OrderType.STOP_MARKET, side=Side.SELL, price=None, **fields)


def cancel(account: str, which: str | int) -> Callable[[World], c.CancelOrder]:
    return lambda w: c.CancelOrder(
        ts=w.rec.next_ts(),
        account_id=account,
        order_id=which if isinstance(which, int) else getattr(w, which),
    )


def modify(account: str, which: str | int, **fields: Any) -> Callable[[World], c.ModifyOrder]:
    return lambda w: c.ModifyOrder(
        ts=w.rec.next_ts(),
        account_id=account,
        order_id=which if isinstance(which, int) else getattr(w, which),
        **fields,
    )


def adjust(account: str, asset: str, amount: Decimal) -> Callable[[World], c.AdjustBalance]:
    return lambda w: c.AdjustBalance(
        ts=w.rec.next_ts(), account_id=account, asset=asset, amount=amount
    )


def transfer(src: str, dst: str, asset: str, amount: Decimal) -> Callable[[World], c.TransferFunds]:
    return lambda w: c.TransferFunds(
        ts=w.rec.next_ts(), account_id=src, to_account_id=dst, asset=asset, amount=amount
    )


def leverage(account: str, symbol: str, lev: Decimal) -> Callable[[World], c.SetLeverage]:
    return lambda w: c.SetLeverage(
        ts=w.rec.next_ts(), account_id=account, symbol=symbol, leverage=lev
    )


def prices(symbol: str, **fields: Decimal) -> Callable[[World], c.UpdatePrices]:
    return lambda w: c.UpdatePrices(ts=w.rec.next_ts(), symbol=symbol, **fields)


def _modify_twice(w: World) -> c.ModifyOrder:
    """Send a modify of the resting order (left in flight), then return a second one."""
    out = w.rec.handle(modify("alice", "resting", qty=Decimal("0.4"))(w))
    assert [type(e) for e in out] == [ev.OrderPendingReplace]
    w.rec.engine.take_requests()
    return modify("alice", "resting", qty=Decimal("0.3"))(w)


D = ev.OrderDenied
CR = ev.OrderCancelRejected
MR = ev.OrderModifyRejected
KR = ev.CommandRejected

CASES: list[Any] = [
    *(
        pytest.param(submit(qty=v), D, Reason.INVALID_QUANTITY, id=f"submit-qty-{k}")
        for k, v in BAD_NUMBERS.items()
    ),
    *(
        pytest.param(submit(price=v), D, Reason.INVALID_PRICE, id=f"submit-price-{k}")
        for k, v in BAD_NUMBERS.items()
    ),
    *(
        pytest.param(
            stop(trigger_price=v), D, Reason.INVALID_TRIGGER_PRICE, id=f"submit-trigger-{k}"
        )
        for k, v in BAD_NUMBERS.items()
    ),
    *(
        pytest.param(
            submit(order_type=OrderType.MARKET, price=None, qty=v),
            D,
            Reason.INVALID_QUANTITY,
            id=f"submit-market-qty-{k}",
        )
        for k, v in BAD_NUMBERS.items()
    ),
    pytest.param(
        submit(qty=Decimal("0.015")), D, Reason.QUANTITY_NOT_MULTIPLE_OF_LOT, id="qty-off-lot"
    ),
    pytest.param(
        submit(price=Decimal("30000.3")), D, Reason.PRICE_NOT_ON_TICK, id="price-off-tick"
    ),
    pytest.param(
        stop(trigger_price=Decimal("29000.2")), D, Reason.PRICE_NOT_ON_TICK, id="trigger-off-tick"
    ),
    pytest.param(stop(trigger_price=None), D, Reason.MISSING_TRIGGER_PRICE, id="stop-no-trigger"),
    pytest.param(
        submit(trigger_price=Decimal(29_000)), D, Reason.PRICE_NOT_ALLOWED, id="limit-w-trigger"
    ),
    pytest.param(submit(price=None), D, Reason.MISSING_PRICE, id="limit-without-price"),
    pytest.param(
        submit(order_type=OrderType.MARKET), D, Reason.PRICE_NOT_ALLOWED, id="market-with-price"
    ),
    pytest.param(submit(symbol="DOGE/USDT"), D, Reason.UNKNOWN_INSTRUMENT, id="unknown-symbol"),
    pytest.param(submit(account_id="mallory"), D, Reason.UNKNOWN_ACCOUNT, id="unknown-account"),
    pytest.param(
        submit(tif=TimeInForce.GTD), D, Reason.INVALID_EXPIRE_TIME, id="gtd-without-expire"
    ),
    pytest.param(
        submit(tif=TimeInForce.GTD, expire_ts=1), D, Reason.INVALID_EXPIRE_TIME, id="gtd-in-past"
    ),
    pytest.param(
        submit(expire_ts=10**18), D, Reason.INVALID_EXPIRE_TIME, id="gtc-with-expire-time"
    ),
    pytest.param(
        submit(order_type=OrderType.MARKET, price=None, post_only=True),
        D,
        Reason.POST_ONLY_NOT_ALLOWED,
        id="post-only-market",
    ),
    pytest.param(
        submit(post_only=True, tif=TimeInForce.IOC),
        D,
        Reason.POST_ONLY_NOT_ALLOWED,
        id="post-only-ioc",
    ),
    pytest.param(
        submit(order_type=OrderType.MARKET, price=None, tif=TimeInForce.GTD, expire_ts=10**18),
        D,
        Reason.INVALID_TIME_IN_FORCE,
        id="market-gtd",
    ),
    pytest.param(
        submit(qty=Decimal(1000)), D, Reason.INSUFFICIENT_BALANCE, id="buy-beyond-balance"
    ),
    pytest.param(
        submit(account_id="dave"), D, Reason.INSUFFICIENT_BALANCE, id="buy-with-no-balance-at-all"
    ),
    pytest.param(
        submit(account_id="dave", side=Side.SELL),
        D,
        Reason.INSUFFICIENT_BALANCE,
        id="sell-with-no-balance-at-all",
    ),
    pytest.param(
        submit(account_id="dave", symbol=PERP, qty=Decimal(1), price=Decimal(2000)),
        D,
        Reason.INSUFFICIENT_MARGIN,
        id="perp-with-no-margin-at-all",
    ),
    pytest.param(
        submit(reduce_only=True, symbol=PERP, qty=Decimal(1), price=Decimal(2000)),
        D,
        Reason.REDUCE_ONLY_WOULD_INCREASE,
        id="reduce-only-without-position",
    ),
    pytest.param(
        submit(client_order_id=""), D, Reason.INVALID_CLIENT_ORDER_ID, id="empty-client-id"
    ),
    pytest.param(
        submit(client_order_id="x" * 65), D, Reason.INVALID_CLIENT_ORDER_ID, id="long-client-id"
    ),
    # --- cancel
    pytest.param(cancel("alice", 9999), CR, Reason.UNKNOWN_ORDER, id="cancel-unknown-order"),
    pytest.param(
        cancel("bob", "resting"), CR, Reason.UNKNOWN_ORDER, id="cancel-other-accounts-order"
    ),
    pytest.param(cancel("mallory", "resting"), CR, Reason.UNKNOWN_ORDER, id="cancel-unknown-acct"),
    pytest.param(cancel("bob", "filled"), CR, Reason.ORDER_NOT_LIVE, id="cancel-filled-order"),
    pytest.param(cancel("carol", "pending"), CR, Reason.ORDER_PENDING, id="cancel-twice"),
    # --- modify
    pytest.param(
        modify("bob", "filled", qty=Decimal("0.1")),
        MR,
        Reason.ORDER_NOT_LIVE,
        id="modify-filled-order",
    ),
    pytest.param(
        modify("alice", 9999, qty=Decimal("0.1")), MR, Reason.UNKNOWN_ORDER, id="modify-unknown"
    ),
    pytest.param(
        modify("bob", "resting", qty=Decimal("0.1")),
        MR,
        Reason.UNKNOWN_ORDER,
        id="modify-other-accounts-order",
    ),
    pytest.param(modify("alice", "resting"), MR, Reason.NOTHING_TO_MODIFY, id="modify-nothing"),
    pytest.param(
        modify("alice", "resting", qty=Decimal("0.5"), price=Decimal(29_000)),
        MR,
        Reason.NOTHING_TO_MODIFY,
        id="modify-to-same-values",
    ),
    *(
        pytest.param(
            modify("alice", "resting", qty=v), MR, Reason.INVALID_QUANTITY, id=f"modify-qty-{k}"
        )
        for k, v in BAD_NUMBERS.items()
    ),
    *(
        pytest.param(
            modify("alice", "resting", price=v), MR, Reason.INVALID_PRICE, id=f"modify-price-{k}"
        )
        for k, v in BAD_NUMBERS.items()
    ),
    pytest.param(
        modify("alice", "resting", qty=Decimal("0.015")),
        MR,
        Reason.QUANTITY_NOT_MULTIPLE_OF_LOT,
        id="modify-qty-off-lot",
    ),
    pytest.param(
        modify("alice", "resting", price=Decimal("29000.1")),
        MR,
        Reason.PRICE_NOT_ON_TICK,
        id="modify-price-off-tick",
    ),
    pytest.param(
        modify("alice", "resting", trigger_price=Decimal(28_000)),
        MR,
        Reason.PRICE_NOT_ALLOWED,
        id="modify-trigger-of-a-limit",
    ),
    pytest.param(
        modify("alice", "resting", qty=Decimal(1000)),
        MR,
        Reason.INSUFFICIENT_BALANCE,
        id="modify-beyond-balance",
    ),
    pytest.param(
        modify("alice", "unacked", qty=Decimal("0.2")),
        MR,
        Reason.ORDER_PENDING,
        id="modify-unacknowledged",
    ),
    pytest.param(
        modify("carol", "pending", qty=Decimal("0.1")),
        MR,
        Reason.ORDER_PENDING,
        id="modify-pending-cancel",
    ),
    pytest.param(
        lambda w: _modify_twice(w),
        MR,
        Reason.ORDER_PENDING,
        id="modify-while-a-modify-is-in-flight",
    ),
    # --- money and settings
    *(
        pytest.param(adjust("alice", "USDT", v), KR, Reason.INVALID_AMOUNT, id=f"deposit-{k}")
        for k, v in BAD_NUMBERS.items()
        if k != "negative"
    ),
    pytest.param(
        adjust("alice", "USDT", Decimal(-10_000_000)),
        KR,
        Reason.INSUFFICIENT_BALANCE,
        id="withdraw-locked-funds",
    ),
    pytest.param(
        adjust("alice", "USDT", Decimal(-20_000_000)),
        KR,
        Reason.INSUFFICIENT_BALANCE,
        id="withdraw-beyond-total",
    ),
    pytest.param(
        adjust("dave", "USDT", Decimal(-1)),
        KR,
        Reason.INSUFFICIENT_BALANCE,
        id="withdraw-asset-never-held",
    ),
    pytest.param(
        adjust("mallory", "USDT", Decimal(1)), KR, Reason.UNKNOWN_ACCOUNT, id="deposit-unknown-acct"
    ),
    # --- transfers within an account tree (alice and alice.sub)
    pytest.param(
        transfer("mallory", "alice", "USDT", Decimal(1)),
        KR,
        Reason.UNKNOWN_ACCOUNT,
        id="transfer-from-unknown-acct",
    ),
    pytest.param(
        transfer("alice", "mallory", "USDT", Decimal(1)),
        KR,
        Reason.UNKNOWN_ACCOUNT,
        id="transfer-to-unknown-acct",
    ),
    pytest.param(
        transfer("alice", "alice", "USDT", Decimal(1)),
        KR,
        Reason.INVALID_TRANSFER,
        id="transfer-to-itself",
    ),
    pytest.param(
        transfer("alice", "bob", "USDT", Decimal(1)),
        KR,
        Reason.TRANSFER_NOT_ALLOWED,
        id="transfer-to-another-tree",
    ),
    *(
        pytest.param(
            transfer("alice", "alice.sub", "USDT", v),
            KR,
            Reason.INVALID_AMOUNT,
            id=f"transfer-{k}",
        )
        for k, v in BAD_NUMBERS.items()
    ),
    pytest.param(
        transfer("alice", "alice.sub", "USDT", Decimal(10_000_000)),
        KR,
        Reason.INSUFFICIENT_BALANCE,
        id="transfer-locked-funds",
    ),
    pytest.param(
        transfer("alice.sub", "alice", "USDT", Decimal(1)),
        KR,
        Reason.INSUFFICIENT_BALANCE,
        id="transfer-asset-never-held",
    ),
    *(
        pytest.param(leverage("alice", PERP, v), KR, Reason.INVALID_LEVERAGE, id=f"leverage-{k}")
        for k, v in {**BAD_NUMBERS, "below-one": Decimal("0.5")}.items()
        if k not in ("1e30", "huge")
    ),
    pytest.param(
        leverage("alice", PERP, Decimal(1000)),
        KR,
        Reason.LEVERAGE_TOO_HIGH,
        id="leverage-above-the-tier",
    ),
    pytest.param(
        leverage("alice", SPOT, Decimal(2)), KR, Reason.UNKNOWN_INSTRUMENT, id="leverage-on-spot"
    ),
    pytest.param(
        leverage("mallory", PERP, Decimal(2)), KR, Reason.UNKNOWN_ACCOUNT, id="leverage-unknown"
    ),
    *(
        pytest.param(prices(SPOT, last=v), KR, Reason.INVALID_PRICE, id=f"last-price-{k}")
        for k, v in BAD_NUMBERS.items()
    ),
    pytest.param(prices(SPOT, mark=Decimal("NaN")), KR, Reason.INVALID_PRICE, id="mark-price-nan"),
    pytest.param(
        prices("DOGE/USDT", last=Decimal(1)), KR, Reason.UNKNOWN_INSTRUMENT, id="price-unknown"
    ),
    pytest.param(
        lambda w: c.OpenAccount(ts=w.rec.next_ts(), account_id="alice"),
        KR,
        Reason.DUPLICATE_ACCOUNT,
        id="open-account-twice",
    ),
    pytest.param(
        lambda w: c.OpenAccount(ts=w.rec.next_ts(), account_id="eve", parent_id="nobody"),
        KR,
        Reason.UNKNOWN_PARENT_ACCOUNT,
        id="sub-account-of-nobody",
    ),
    pytest.param(
        lambda w: c.AddInstrument(
            ts=w.rec.next_ts(), instrument=Instrument.spot(SPOT, tick_size="1", lot_size="1")
        ),
        KR,
        Reason.DUPLICATE_INSTRUMENT,
        id="add-instrument-twice",
    ),
]


@pytest.mark.parametrize(("make", "event_type", "reason"), CASES)
def test_bad_input_is_refused_with_its_reason_and_changes_nothing(
    world: World, kit: Any, make: Callable[[World], Any], event_type: type, reason: Reason
) -> None:
    rec = world.rec
    engine = rec.engine
    command = make(world)  # may itself set the scene (a modify already in flight)
    before = kit.fingerprint(engine)
    out = rec.handle(command)
    assert [type(e) for e in out] == [event_type], out
    refusal = out[0]
    assert refusal.reason == reason
    assert isinstance(refusal.message, str) and refusal.message.strip(), "no human sentence"
    assert not engine.take_requests(), "a refusal sent something to a venue"
    denied = [refusal.order_id] if isinstance(refusal, ev.OrderDenied) else []
    if denied:
        assert engine.state.orders[denied[0]].status is OrderStatus.DENIED
        assert engine.state.orders[denied[0]].reason == reason
    assert kit.fingerprint(engine, skip_orders=denied) == before
    assert rec.replay_digest() == engine.digest()


def test_a_duplicate_client_order_id_is_ignored_and_changes_nothing(world: World, kit: Any) -> None:
    rec = world.rec
    first, _ = rec.submit(
        account_id="alice",
        symbol=SPOT,
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        qty=Decimal("0.1"),
        price=Decimal(29_500),
        client_order_id="abc",
    )
    rec.engine.take_requests()
    before = kit.fingerprint(rec.engine)
    again, out = rec.submit(
        account_id="alice",
        symbol=SPOT,
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        qty=Decimal("0.1"),
        price=Decimal(29_500),
        client_order_id="abc",
    )
    assert [type(e) for e in out] == [ev.OrderDuplicateIgnored]
    assert again == first
    assert not rec.engine.take_requests()
    assert kit.fingerprint(rec.engine) == before
    # Other terms under the same id: refused (tests/core/orders/test_duplicate_terms.py).
    out = rec.handle(
        c.SubmitOrder(
            ts=rec.next_ts(),
            account_id="alice",
            symbol=SPOT,
            side=Side.SELL,
            order_type=OrderType.MARKET,
            qty=Decimal("0.2"),
            client_order_id="abc",
        )
    )
    assert [type(e) for e in out] == [ev.CommandRejected]
    assert out[0].reason == Reason.DUPLICATE_CLIENT_ORDER_ID
    assert not rec.engine.take_requests()


@pytest.mark.parametrize(
    ("qty", "px", "fee"),
    [
        (Decimal("NaN"), Decimal(30_000), Decimal(0)),
        (Decimal("sNaN"), Decimal(30_000), Decimal(0)),
        (Decimal(0), Decimal(30_000), Decimal(0)),
        (Decimal(-1), Decimal(30_000), Decimal(0)),
        (Decimal("0.1"), Decimal("Infinity"), Decimal(0)),
        (Decimal("0.1"), Decimal(0), Decimal(0)),
        (Decimal("0.1"), Decimal(30_000), Decimal("NaN")),
    ],
    ids=["qty-nan", "qty-snan", "qty-zero", "qty-negative", "px-inf", "px-zero", "fee-nan"],
)
def test_a_fill_report_with_bad_numbers_is_ignored_as_invalid(
    world: World, kit: Any, qty: Decimal, px: Decimal, fee: Decimal
) -> None:
    rec = world.rec
    before = kit.fingerprint(rec.engine)
    out = rec.report(
        rep.VenueFilled,
        world.resting,
        exec_id="BAD",
        trade_id="BAD",
        last_qty=qty,
        last_px=px,
        liquidity_side="MAKER",
        fee=fee,
        fee_asset="USDT",
    )
    assert [type(e) for e in out] == [ev.VenueReportIgnored]
    assert out[0].reason == Reason.INVALID_REPORT
    assert kit.fingerprint(rec.engine) == before
    assert rec.replay_digest() == rec.engine.digest()
