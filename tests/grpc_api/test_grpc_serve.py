"""A real ``atlas serve`` subprocess with ``ATLAS_GRPC_PORT``: the README's client example runs
as it is (its own process), a stream sees the order's updates, /metrics shows the gRPC lines,
and the server stops cleanly with its gRPC port."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from decimal import Decimal
from pathlib import Path

import grpc
import httpx
from serving import Served, free_port

from atlas_oms.grpc_api.gen.atlas.v1 import market_data_pb2, market_data_pb2_grpc, orders_pb2_grpc
from atlas_oms.grpc_api.gen.atlas.v1 import orders_pb2 as pb
from atlas_oms.grpc_api.gen.atlas.v1 import types_pb2 as t

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_client() -> str:
    section = README.read_text().split("### gRPC API", 1)[1].split("\n### ", 1)[0]
    blocks = re.findall(r"```py\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 1
    return blocks[0]


def test_a_whole_session_over_grpc_against_atlas_serve(tmp_path: Path) -> None:
    port = free_port()
    served = Served(tmp_path / "atlas-data", market_maker=True, env={"ATLAS_GRPC_PORT": str(port)})
    served.start()
    try:
        target = f"127.0.0.1:{port}"
        with grpc.insecure_channel(target) as channel:
            grpc.channel_ready_future(channel).result(timeout=30)
            token = served.keys()["trader"]["X-API-Key"]
            auth = (("x-api-key", token),)
            stub = orders_pb2_grpc.OrdersStub(channel)
            stream = stub.StreamOrderUpdates(
                pb.StreamOrderUpdatesRequest(account_id="desk"), metadata=auth
            )
            seen: list[pb.OrderUpdate] = []
            filled = threading.Event()

            def read() -> None:
                try:
                    for update in stream:
                        seen.append(update)
                        if update.type == "OrderFilled":
                            filled.set()
                except grpc.RpcError as err:  # cancelled at the end
                    assert err.code() == grpc.StatusCode.CANCELLED  # type: ignore[attr-defined]

            reader = threading.Thread(target=read, daemon=True)
            reader.start()
            # the README's example, as it is, in its own process
            code = readme_client().replace("127.0.0.1:50051", target)
            run = subprocess.run(
                [sys.executable, "-c", code],
                cwd=tmp_path,
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert run.returncode == 0, run.stderr
            lines = run.stdout.splitlines()
            order_id, status, cum_qty, avg_px = lines[0].split()
            assert status == "ORDER_STATUS_FILLED" and Decimal(cum_qty) == Decimal("0.01")
            assert re.fullmatch(r"\d+\.\d+", avg_px)  # an exact decimal string
            code_name, reason = lines[1].split()
            assert code_name == "FAILED_PRECONDITION" and reason.isupper()
            symbol, qty, _ = lines[2].split()
            assert symbol == "BTC/USDT" and Decimal(qty) == Decimal("0.01")
            assert filled.wait(30), [u.type for u in seen]
            ours = [u for u in seen if u.order_id == int(order_id)]
            assert "OrderSubmitted" in [u.type for u in ours]
            fill = next(u for u in ours if u.type == "OrderFilled")
            assert (
                Decimal(fill.fill.last_qty) == Decimal("0.01")
                and fill.order.status == t.ORDER_STATUS_FILLED
            )
            stream.cancel()
        metrics = httpx.get(f"{served.url}/metrics").text
        assert (
            'atlas_interface_requests_total{interface="grpc",method="SubmitOrder",outcome="ok"}'
            in metrics
        )
        assert re.search(
            r'atlas_interface_requests_total\{interface="grpc",method="SubmitOrder",outcome="[A-Z_]+"\}',
            metrics.replace('outcome="ok"', ""),
        )
        assert 'atlas_interface_sessions{interface="grpc"}' in metrics
        # a stream open while the server stops ends at once: UNAVAILABLE, NODE_STOPPING
        ended: list[tuple[grpc.StatusCode, str | None]] = []
        opened = threading.Event()
        with grpc.insecure_channel(target) as channel:
            market = market_data_pb2_grpc.MarketDataStub(channel)
            books = market.StreamBook(market_data_pb2.BookRequest(symbol="BTC/USDT"), metadata=auth)

            def watch() -> None:
                try:
                    for _ in books:
                        opened.set()
                except grpc.RpcError as err:
                    trailers = dict(err.trailing_metadata() or ())  # type: ignore[attr-defined]
                    ended.append((err.code(), trailers.get("atlas-reason")))  # type: ignore[attr-defined]

            watcher = threading.Thread(target=watch, daemon=True)
            watcher.start()
            assert opened.wait(30)
            code_, seconds, log = served.stop()
            watcher.join(10)
        assert ended == [(grpc.StatusCode.UNAVAILABLE, "NODE_STOPPING")]
        assert code_ == 0, log[-3000:]
        assert seconds < 3, "the open stream held the stop for its whole grace period"
        assert '"interface": "grpc"' in log and token not in log
    finally:
        served.ensure_stopped()
