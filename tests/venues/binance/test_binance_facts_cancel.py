"""The adapter's stream iterator stops when its consumer is cancelled, even when a fact arrived in
the same instant (``asyncio.wait_for`` on Python 3.11 swallowed that cancellation: the gateway's
stop then hung forever on the session's stream pump)."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

from atlas_oms.model.venue import StreamGap
from atlas_oms.venues.binance import BinanceEndpoints, BinanceSpotAdapter


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _adapter() -> BinanceSpotAdapter:
    base = f"127.0.0.1:{_closed_port()}"
    adapter = BinanceSpotAdapter(
        account_id="acc-1",
        api_key="k" * 64,
        secret="s" * 64,
        decode_client_id=lambda cid: None,
        endpoints=BinanceEndpoints(f"http://{base}", f"ws://{base}/ws", f"ws://{base}/ws-api/v3"),
        reconnect_min_s=0.05,
    )
    adapter._markets_loaded = True  # no exchangeInfo request: nothing listens there
    return adapter


def test_consumer_cancelled_as_a_fact_arrives_stops() -> None:
    async def main() -> None:
        adapter = _adapter()
        got: list[Any] = []

        async def consume() -> None:
            async for fact in adapter.facts():
                got.append(fact)

        try:
            for _ in range(5):
                task = asyncio.create_task(consume())
                while adapter._facts is None:
                    await asyncio.sleep(0)
                await asyncio.sleep(0.01)  # the iterator now waits for its next fact
                adapter._put(StreamGap(venue="binance", account_id="acc-1", ts=1, reason="X"))
                task.cancel()  # in the same instant
                done, _ = await asyncio.wait({task}, timeout=1.0)
                assert done == {task}, "the stream iterator swallowed its cancellation"
                assert task.cancelled()
        finally:
            await adapter.close()

    asyncio.run(main())
