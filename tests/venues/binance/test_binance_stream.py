"""The adapters' private-stream translation, fed raw messages the way ccxt hands them over
(no sockets): wrapped spot events, futures events, and the stream-ending events that must
yield a gap before anything else."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from atlas_oms.model.venue import BalanceUpdate, OrderUpdate, PositionUpdate, StreamGap
from atlas_oms.venues.binance import BinanceEndpoints, BinanceSpotAdapter, BinanceUsdmAdapter

FIXTURES = Path(__file__).parent / "fixtures"
ENDPOINTS = BinanceEndpoints(
    "http://127.0.0.1:9", "ws://127.0.0.1:9/ws", "ws://127.0.0.1:9/ws-api/v3"
)


def fixture(name: str) -> Any:
    data = json.loads((FIXTURES / name).read_text())
    data.pop("_source")
    return data


def drain(queue: asyncio.Queue[Any]) -> list[Any]:
    out = []
    while not queue.empty():
        out.append(queue.get_nowait())
    return out


def test_spot_stream_messages_become_facts_after_the_subscription_gap() -> None:
    async def main() -> None:
        adapter = BinanceSpotAdapter(
            account_id="a",
            api_key="k",
            secret="s",
            decode_client_id=lambda c: None,
            endpoints=ENDPOINTS,
        )
        queue: asyncio.Queue[Any] = asyncio.Queue()
        adapter._facts = queue
        url = ENDPOINTS.ws_api_url
        adapter._on_ws_message(url, {"id": "1", "status": 200, "result": {"subscriptionId": 0}})
        adapter._on_ws_message(url, fixture("spot_execution_report_new_wrapped.json"))
        adapter._on_ws_message(url, fixture("spot_account_position_wrapped.json"))
        adapter._on_ws_message(
            url, {"subscriptionId": 0, "event": {"e": "eventStreamTerminated", "E": 1}}
        )
        facts = drain(queue)
        assert [type(f).__name__ for f in facts] == [
            "StreamGap",
            "OrderUpdate",
            "BalanceUpdate",
            "StreamGap",
        ]
        assert (
            isinstance(facts[0], StreamGap)
            and facts[0].reason == "STARTED"
            and facts[0].since_ts == 0
        )
        assert isinstance(facts[1], OrderUpdate) and facts[1].order.venue_order_id == "4293153"
        assert isinstance(facts[2], BalanceUpdate)
        assert isinstance(facts[3], StreamGap) and facts[3].reason == "STREAM_TERMINATED"
        assert facts[3].since_ts == facts[2].ts  # anything after the last message may be missing
        # a disconnect right after a terminated stream is the same gap, not a second one
        adapter._on_ws_connection(url, False)
        assert drain(queue) == []
        await adapter.close()

    asyncio.run(main())


def test_futures_stream_connection_and_events() -> None:
    async def main() -> None:
        adapter = BinanceUsdmAdapter(
            account_id="a",
            api_key="k",
            secret="s",
            decode_client_id=lambda c: None,
            endpoints=ENDPOINTS,
        )
        queue: asyncio.Queue[Any] = asyncio.Queue()
        adapter._facts = queue
        url = "ws://127.0.0.1:9/private/ws?listenKey=K"
        adapter._on_ws_connection(url, True)
        adapter._on_ws_message(url, fixture("usdm_order_update_trade_partial.json"))
        adapter._on_ws_message(url, fixture("usdm_account_update.json"))
        adapter._on_ws_message(url, {"e": "listenKeyExpired", "E": 1576653824250, "listenKey": "K"})
        adapter._on_ws_message(
            "ws://127.0.0.1:9/public/ws/0", fixture("usdm_order_update_adl.json")
        )
        facts = drain(queue)
        kinds = [type(f).__name__ for f in facts]
        assert kinds == ["StreamGap", "OrderUpdate", "BalanceUpdate", "PositionUpdate", "StreamGap"]
        assert isinstance(facts[3], PositionUpdate) and len(facts[3].positions) == 3
        assert isinstance(facts[4], StreamGap) and facts[4].reason == "LISTEN_KEY_EXPIRED"
        assert adapter._client.options["linear"] == {}  # ccxt will POST a fresh listenKey
        await adapter.close()

    asyncio.run(main())
