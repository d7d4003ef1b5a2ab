"""Crash safety over gRPC: a real ``atlas serve`` subprocess killed with SIGKILL while clients
submit orders. Every order that was answered exists after a restart on the same data dir, with
the same id and the state it was answered with; a ``StreamOrderUpdates`` from seq 0 replays them
all; the health service is SERVING again, and says NOT_SERVING and ends its watch when the
restarted server is stopped."""

from __future__ import annotations

import threading
import time
from decimal import Decimal
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from serving import Served, free_port

from atlas_oms.grpc_api.gen.atlas.v1 import orders_pb2 as pb
from atlas_oms.grpc_api.gen.atlas.v1 import orders_pb2_grpc
from atlas_oms.grpc_api.gen.atlas.v1 import types_pb2 as t

ACCOUNT = "desk"
WRITERS = 3


def limit(side: int, price: str, client_order_id: str) -> pb.SubmitOrderRequest:
    return pb.SubmitOrderRequest(
        account_id=ACCOUNT,
        symbol="BTC/USDT",
        side=side,
        order_type=t.ORDER_TYPE_LIMIT,
        qty="0.001",
        price=price,
        client_order_id=client_order_id,
    )


def ready(target: str) -> grpc.Channel:
    channel = grpc.insecure_channel(target)
    grpc.channel_ready_future(channel).result(timeout=60)
    return channel


def test_every_answered_order_survives_a_sigkill_with_its_id_and_state(tmp_path: Path) -> None:
    grpc_port = free_port()
    target = f"127.0.0.1:{grpc_port}"
    served = Served(
        tmp_path / "atlas-data", market_maker=False, env={"ATLAS_GRPC_PORT": str(grpc_port)}
    )
    served.start()
    try:
        auth = (("x-api-key", served.keys()["trader"]["X-API-Key"]),)
        answered: dict[int, tuple[str, int]] = {}  # order id -> (client order id, status)
        lock = threading.Lock()
        stop = threading.Event()
        errors: list[str] = []

        with ready(target) as channel:
            orders = orders_pb2_grpc.OrdersStub(channel)
            # first a few orders whose state changes after the submit: cancelled ones
            for i in range(3):
                placed = orders.SubmitOrder(
                    limit(t.SIDE_BUY, "1000", f"cxl-{i}"), metadata=auth, timeout=30
                )
                gone = orders.CancelOrder(
                    pb.OrderRef(account_id=ACCOUNT, order_id=placed.order_id),
                    metadata=auth,
                    timeout=30,
                )
                assert gone.status == t.ORDER_STATUS_CANCELED
                answered[placed.order_id] = (f"cxl-{i}", gone.status)

            def write(writer: int) -> None:
                n = 0
                while True:  # until the server dies under it
                    n += 1
                    cid = f"w{writer}-{n}"
                    side = t.SIDE_BUY if n % 2 else t.SIDE_SELL
                    price = "1000" if side == t.SIDE_BUY else "900000"
                    try:
                        placed = orders.SubmitOrder(limit(side, price, cid), metadata=auth)
                    except grpc.RpcError as err:
                        if not stop.is_set():  # before the kill every call is answered
                            errors.append(f"{cid}: {err}")
                        return
                    with lock:
                        answered[placed.order_id] = (cid, placed.status)

            writers = [threading.Thread(target=write, args=(w,)) for w in range(WRITERS)]
            for thread in writers:
                thread.start()
            deadline = time.monotonic() + 60
            while len(answered) < 40 and time.monotonic() < deadline and not errors:
                time.sleep(0.01)
            stop.set()  # from here on a call may die with the server: unanswered, not lost
            served.kill()  # SIGKILL with calls in flight
            for thread in writers:
                thread.join(30)
        assert not errors, errors[:3]
        assert len(answered) >= 40
        assert {status for _, status in answered.values()} == {
            t.ORDER_STATUS_CANCELED,
            t.ORDER_STATUS_ACCEPTED,
        }

        served.start()  # the same data dir, the same gRPC port
        with ready(target) as channel:
            health = health_pb2_grpc.HealthStub(channel)
            assert (
                health.Check(health_pb2.HealthCheckRequest(), timeout=10).status
                == health_pb2.HealthCheckResponse.SERVING
            )
            orders = orders_pb2_grpc.OrdersStub(channel)
            for order_id, (cid, status) in sorted(answered.items()):
                found = orders.GetOrder(
                    pb.OrderRef(account_id=ACCOUNT, client_order_id=cid),
                    metadata=auth,
                    timeout=30,
                )
                assert (found.order_id, found.status) == (order_id, status), cid
                assert Decimal(found.qty) == Decimal("0.001")

            # a stream from seq 0 replays every answered order, then goes live
            stream = orders.StreamOrderUpdates(
                pb.StreamOrderUpdatesRequest(account_id=ACCOUNT, since_seq=0),
                metadata=auth,
                timeout=60,
            )
            submitted: set[int] = set()
            cancelled: set[int] = set()
            want_cancelled = {
                oid for oid, (_, s) in answered.items() if s == t.ORDER_STATUS_CANCELED
            }
            for update in stream:
                assert update.replay
                if update.type == "OrderSubmitted":
                    submitted.add(update.order_id)
                elif update.type == "OrderCanceled":
                    cancelled.add(update.order_id)
                if set(answered) <= submitted and want_cancelled <= cancelled:
                    break
            stream.cancel()
            assert set(answered) <= submitted and want_cancelled <= cancelled

            # stopping the restarted server: a health watch sees NOT_SERVING and ends (on a
            # connection of its own, as a load balancer's probe would hold)
            watch_channel = ready(target)
            watch = health_pb2_grpc.HealthStub(watch_channel).Watch(
                health_pb2.HealthCheckRequest(service="atlas.v1.Orders"), wait_for_ready=True
            )
            seen: list[int] = []
            ended: list[grpc.StatusCode] = []
            first = threading.Event()

            def read() -> None:
                try:
                    for answer in watch:
                        seen.append(answer.status)
                        first.set()
                    ended.append(grpc.StatusCode.OK)
                except grpc.RpcError as err:
                    ended.append(err.code())  # type: ignore[attr-defined]

            reader = threading.Thread(target=read, daemon=True)
            reader.start()
            assert first.wait(30)
            code, seconds, log = served.stop()
            reader.join(10)
            watch_channel.close()
        assert code == 0, log[-3000:]
        assert seconds < 5, "the health watch held the stop"
        assert seen == [
            health_pb2.HealthCheckResponse.SERVING,
            health_pb2.HealthCheckResponse.NOT_SERVING,
        ]
        assert ended == [grpc.StatusCode.OK]
    finally:
        served.ensure_stopped()
