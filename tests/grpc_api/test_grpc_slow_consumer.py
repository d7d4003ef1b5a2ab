"""A stream consumer that falls behind: a ``StreamOrderUpdates`` whose client stops reading
while the account trades is ended RESOURCE_EXHAUSTED ``SLOW_CONSUMER`` once more than
``grpc_stream_queue`` durable batches wait for it (``ATLAS_GRPC_STREAM_QUEUE``), instead of
holding them in memory without bound; a stream that keeps up at the same time is not touched;
opened again from the last seq it saw, it replays the rest from the journal; the cut-off is
counted in /metrics."""

from __future__ import annotations

import threading
from pathlib import Path

import grpc
import httpx
from grpc_kit import SPOT, grpc_env

from atlas_oms.grpc_api.gen.atlas.v1 import orders_pb2 as pb
from atlas_oms.grpc_api.gen.atlas.v1 import types_pb2 as t
from atlas_oms.grpc_api.gen.atlas.v1.orders_pb2_grpc import OrdersStub

LIMIT = 2
ROUNDS = 8
PER_ROUND = 100


def batch() -> pb.SubmitBatchRequest:
    one = pb.SubmitOrderRequest(
        account_id="alice",
        symbol=SPOT,
        side=t.SIDE_BUY,
        order_type=t.ORDER_TYPE_LIMIT,
        qty="0.001",
        price="1000",
    )
    return pb.SubmitBatchRequest(orders=[one] * PER_ROUND)


def test_a_stream_that_falls_behind_is_cut_off_and_one_that_keeps_up_is_not(
    tmp_path: Path,
) -> None:
    with grpc_env(tmp_path, grpc_stream_queue=LIMIT) as env:
        md = env.md("alice")
        request = pb.StreamOrderUpdatesRequest(account_id="alice")
        # the slow client on its own connection, without BDP probing (which would grow its
        # HTTP/2 window to megabytes while the other stream reads): its 64 KiB window fills
        # once it stops reading, the server's writes to it wait, and its queue grows
        slow_channel = grpc.insecure_channel(env.target, options=(("grpc.http2.bdp_probe", 0),))
        slow = OrdersStub(slow_channel).StreamOrderUpdates(request, metadata=md, timeout=30)
        fast = env.stubs.orders.StreamOrderUpdates(request, metadata=md, timeout=120)
        accepted: set[int] = set()
        fast_error: list[grpc.RpcError] = []

        def keep_up() -> None:
            try:
                for update in fast:
                    if update.type == "OrderAccepted":
                        accepted.add(update.order_id)
            except grpc.RpcError as err:
                fast_error.append(err)

        reader = threading.Thread(target=keep_up, daemon=True)
        reader.start()
        placed: list[int] = []
        pause = threading.Event()
        for _ in range(ROUNDS):  # each answer waits for its commit: a durable batch per round
            answer = env.stubs.orders.SubmitBatch(batch(), metadata=md, timeout=60)
            placed += [r.order.order_id for r in answer.results]
            for _ in range(600):  # the fast client has read this round before the next one
                if set(placed) <= accepted or fast_error:
                    break
                pause.wait(0.05)
            assert set(placed) <= accepted, fast_error
        assert len(placed) == ROUNDS * PER_ROUND

        # the slow client reads now: what the server had sent, then the cut-off
        got, last_seq = 0, 0
        try:
            for update in slow:
                got, last_seq = got + 1, update.seq
            raise AssertionError("the slow stream was not ended")
        except grpc.RpcError as err:
            assert err.code() == grpc.StatusCode.RESOURCE_EXHAUSTED  # type: ignore[attr-defined]
            trailers = dict(err.trailing_metadata() or ())  # type: ignore[attr-defined]
            assert trailers.get("atlas-reason") == "SLOW_CONSUMER"
            assert "open it again" in err.details()  # type: ignore[attr-defined]
        assert 0 < got < 2 * len(placed)  # it did not get everything
        # opened again from the last seq it saw, it gets the rest from the journal
        again = OrdersStub(slow_channel).StreamOrderUpdates(
            pb.StreamOrderUpdatesRequest(account_id="alice", since_seq=last_seq),
            metadata=md,
            timeout=60,
        )
        rest: set[int] = set()
        for update in again:
            assert update.replay and update.seq > last_seq
            if update.type == "OrderAccepted":
                rest.add(update.order_id)
            if placed[-1] in rest:
                break
        again.cancel()
        slow_channel.close()
        assert placed[-1] in rest and len(rest) > 0

        # the stream that kept up saw every order accepted, and is still open
        assert not fast_error
        fast.cancel()
        reader.join(10)

        metrics = httpx.get(f"{env.url}/metrics").text
        assert (
            'atlas_interface_requests_total{interface="grpc",method="StreamOrderUpdates",'
            'outcome="SLOW_CONSUMER"} 1.0' in metrics
        )
