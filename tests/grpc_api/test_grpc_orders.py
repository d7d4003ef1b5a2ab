"""The Orders service over a real grpcio client: submit, fills, batch, modify, cancel, get,
list, cancel-all, denials with their reason code, and the order-update stream."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from grpc_kit import SPOT, Env, grpc_env

from atlas_oms.grpc_api.gen.atlas.v1 import orders_pb2 as pb
from atlas_oms.grpc_api.gen.atlas.v1 import types_pb2 as t


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    with grpc_env(tmp_path) as e:
        yield e


def order(
    account: str, side: int, qty: str, price: str | None = None, **kw: object
) -> pb.SubmitOrderRequest:
    return pb.SubmitOrderRequest(
        account_id=account,
        symbol=SPOT,
        side=side,
        order_type=t.ORDER_TYPE_LIMIT if price is not None else t.ORDER_TYPE_MARKET,
        qty=qty,
        price=price,
        **kw,  # type: ignore[arg-type]
    )


def reason_of(err: grpc.RpcError) -> str | None:
    return dict(err.trailing_metadata() or ()).get("atlas-reason")  # type: ignore[attr-defined]


def test_submit_rests_and_a_market_order_fills_against_it(env: Env) -> None:
    s = env.stubs.orders
    rest = s.SubmitOrder(order("bob", t.SIDE_SELL, "1", "30000"), metadata=env.md("bob"))
    assert rest.status == t.ORDER_STATUS_ACCEPTED
    assert rest.price == "30000.00" and rest.qty == "1.0000"  # exact strings at the places
    taker = s.SubmitOrder(order("alice", t.SIDE_BUY, "0.25"), metadata=env.md("alice"))
    assert taker.status == t.ORDER_STATUS_FILLED
    assert (taker.cum_qty, taker.avg_px) == ("0.2500", "30000.000000")
    got = s.GetOrder(pb.OrderRef(account_id="bob", order_id=rest.order_id), metadata=env.md("bob"))
    assert got.status == t.ORDER_STATUS_PARTIALLY_FILLED and got.leaves_qty == "0.7500"
    positions = env.stubs.positions.List(
        __import__("atlas_oms.grpc_api.gen.atlas.v1.portfolio_pb2", fromlist=["x"]).AccountRequest(
            account_id="alice"
        ),
        metadata=env.md("alice"),
    )
    assert [(p.symbol, p.qty) for p in positions.positions] == [(SPOT, "0.2500")]


def test_a_denied_order_is_failed_precondition_with_its_reason_and_the_order(env: Env) -> None:
    with pytest.raises(grpc.RpcError) as caught:
        env.stubs.orders.SubmitOrder(
            order("alice", t.SIDE_BUY, "1000000", "30000"), metadata=env.md("alice")
        )
    err = caught.value
    assert err.code() == grpc.StatusCode.FAILED_PRECONDITION  # type: ignore[attr-defined]
    reason = reason_of(err)
    assert reason == "INSUFFICIENT_BALANCE"
    assert err.details().startswith(f"{reason}: ")  # type: ignore[attr-defined]
    trailers = dict(err.trailing_metadata())  # type: ignore[attr-defined]
    denied = t.Order.FromString(trailers["atlas-order-bin"])
    assert denied.status == t.ORDER_STATUS_DENIED and denied.reason == reason
    assert str(denied.order_id) == trailers["atlas-order-id"]
    # journaled: the order is there to read
    again = env.stubs.orders.GetOrder(
        pb.OrderRef(account_id="alice", order_id=denied.order_id), metadata=env.md("alice")
    )
    assert again.status == t.ORDER_STATUS_DENIED


def test_invalid_requests_are_invalid_argument(env: Env) -> None:
    for bad in (
        order("alice", t.SIDE_BUY, "1.5e", "30000"),
        pb.SubmitOrderRequest(account_id="alice", symbol=SPOT, qty="1"),  # no side
    ):
        with pytest.raises(grpc.RpcError) as caught:
            env.stubs.orders.SubmitOrder(bad, metadata=env.md("alice"))
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT  # type: ignore[attr-defined]
        assert reason_of(caught.value) == "INVALID_FIELD"


def test_batch_modify_cancel_list_and_cancel_all(env: Env) -> None:
    s, md = env.stubs.orders, env.md("alice")
    batch = s.SubmitBatch(
        pb.SubmitBatchRequest(
            orders=[
                order("alice", t.SIDE_BUY, "0.1", "29000", client_order_id="b1"),
                order("alice", t.SIDE_BUY, "999999", "29000"),  # denied, the others go on
                order("alice", t.SIDE_BUY, "0.2", "28000", client_order_id="b3"),
            ]
        ),
        metadata=md,
    )
    codes = [r.code for r in batch.results]
    assert codes == [0, grpc.StatusCode.FAILED_PRECONDITION.value[0], 0]
    assert batch.results[1].reason == "INSUFFICIENT_BALANCE"
    assert batch.results[1].order.status == t.ORDER_STATUS_DENIED
    first = batch.results[0].order
    modified = s.ModifyOrder(
        pb.ModifyOrderRequest(account_id="alice", order_id=first.order_id, price="29100"),
        metadata=md,
    )
    assert modified.price == "29100.00"
    by_client = s.GetOrder(pb.OrderRef(account_id="alice", client_order_id="b3"), metadata=md)
    assert by_client.qty == "0.2000"
    listed = s.ListOrders(pb.ListOrdersRequest(account_id="alice", open_only=True), metadata=md)
    assert sorted(o.client_order_id for o in listed.orders) == ["b1", "b3"]
    page = s.ListOrders(pb.ListOrdersRequest(account_id="alice", limit=1), metadata=md)
    assert len(page.orders) == 1 and page.HasField("next_after")
    canceled = s.CancelOrder(pb.OrderRef(account_id="alice", client_order_id="b1"), metadata=md)
    assert canceled.status == t.ORDER_STATUS_CANCELED
    with pytest.raises(grpc.RpcError) as caught:  # not live any more
        s.CancelOrder(pb.OrderRef(account_id="alice", order_id=first.order_id), metadata=md)
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION  # type: ignore[attr-defined]
    assert reason_of(caught.value) == "ORDER_NOT_LIVE"
    rest = s.CancelAll(pb.CancelAllRequest(account_id="alice"), metadata=md)
    assert list(rest.canceled) == [by_client.order_id]


def test_the_stream_replays_from_a_seq_then_goes_live_with_fills(env: Env) -> None:
    s = env.stubs.orders
    first = s.SubmitOrder(order("bob", t.SIDE_SELL, "1", "30000"), metadata=env.md("bob"))
    stream = s.StreamOrderUpdates(
        pb.StreamOrderUpdatesRequest(account_id="bob", since_seq=0), metadata=env.md("bob")
    )
    got: list[pb.OrderUpdate] = []
    done = threading.Event()

    def read() -> None:
        for update in stream:
            got.append(update)
            if update.type == "OrderFilled":
                done.set()
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    s.SubmitOrder(order("alice", t.SIDE_BUY, "0.5"), metadata=env.md("alice"))
    assert done.wait(20), [u.type for u in got]
    stream.cancel()
    replayed = [u for u in got if u.replay]
    live = [u for u in got if not u.replay]
    assert replayed and all(u.order_id == first.order_id for u in replayed)
    assert live[-1].fill.last_qty == "0.5000" and live[-1].fill.last_px == "30000.00"
    assert live[-1].order.status == t.ORDER_STATUS_PARTIALLY_FILLED
    assert live[-1].fill.trade_id.startswith("sim-t")  # a trader sees opaque trade ids
    seqs = [u.seq for u in got]
    assert seqs == sorted(set(seqs))  # no gap handling needed: no duplicate, in order
    assert all(u.account_id == "bob" for u in got)  # never alice's side


def test_a_stream_of_another_account_or_from_a_future_seq_is_refused(env: Env) -> None:
    s = env.stubs.orders
    for request, who, expected in (
        (pb.StreamOrderUpdatesRequest(account_id="bob"), "alice", grpc.StatusCode.NOT_FOUND),
        (
            pb.StreamOrderUpdatesRequest(account_id="alice", since_seq=10**9),
            "alice",
            grpc.StatusCode.FAILED_PRECONDITION,
        ),
    ):
        with pytest.raises(grpc.RpcError) as caught:
            next(iter(s.StreamOrderUpdates(request, metadata=env.md(who), timeout=10)))
        assert caught.value.code() == expected  # type: ignore[attr-defined]
    assert reason_of(caught.value) == "SEQ_AHEAD"


def test_a_commit_timeout_is_unavailable_with_an_unknown_outcome_never_a_failure(
    env: Env,
) -> None:
    service = env.server.app.state.service

    async def never(seq: int, timeout_s: float | None) -> None:
        from atlas_oms.runtime.live import CommitTimeout

        raise CommitTimeout

    real = service.committer.wait
    service.committer.wait = never
    try:
        with pytest.raises(grpc.RpcError) as caught:
            env.stubs.orders.SubmitOrder(
                order("alice", t.SIDE_BUY, "0.1", "29000", client_order_id="maybe"),
                metadata=env.md("alice"),
            )
    finally:
        service.committer.wait = real
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE  # type: ignore[attr-defined]
    assert reason_of(caught.value) == "COMMIT_OUTCOME_UNKNOWN"
    # it was processed: the client finds it by its client order id once the journal answers
    found = env.stubs.orders.GetOrder(
        pb.OrderRef(account_id="alice", client_order_id="maybe"), metadata=env.md("alice")
    )
    assert found.status == t.ORDER_STATUS_ACCEPTED
