"""Market data throttling, health per venue account, Atlas's own overhead, client order ids."""

from __future__ import annotations

import asyncio
import os
import stat
from decimal import Decimal
from pathlib import Path

import pytest
from gw_world import buy, running, until
from scripted import SPOT

from atlas_oms.model import commands as c
from atlas_oms.model.venue import ApplyOrderUpdate, PriceTick
from atlas_oms.runtime.gateway import decode, encode, node_tag, prefix_for
from atlas_oms.runtime.gateway.marketdata import PriceThrottle


def test_node_tag_is_made_once_per_data_directory_readable_by_its_owner_only(
    tmp_path: Path,
) -> None:
    tag = node_tag(tmp_path)
    assert len(tag) == 6 and tag.isalnum() and tag == tag.lower()
    assert node_tag(tmp_path) == tag
    mode = stat.S_IMODE(os.stat(tmp_path / "venue-tag").st_mode)
    assert mode == 0o600


def test_client_order_ids_round_trip_and_foreign_ids_are_none() -> None:
    prefix = prefix_for("k3f9q2")
    cid = encode(prefix, 1042)
    assert cid == "atk3f9q2x1042" and len(cid) <= 32 and cid.isalnum()
    assert decode(prefix, cid) == 1042
    assert decode(prefix, "atzzzzzzx1042") is None  # another node's
    assert decode(prefix, "web_123") is None and decode(prefix, None) is None
    assert decode(prefix, "atk3f9q2x") is None and decode(prefix, "atk3f9q2x01") is None
    with pytest.raises(ValueError):
        prefix_for("TOOLONG7")


def test_price_throttle_sends_changes_at_most_every_interval() -> None:
    now = [0.0]
    throttle = PriceThrottle(0.25, lambda: now[0])
    assert throttle.offer(SPOT, Decimal(100), None)
    assert not throttle.offer(SPOT, Decimal(100), None)  # unchanged
    now[0] = 0.1
    assert not throttle.offer(SPOT, Decimal(101), None)  # too soon: held back
    assert throttle.due() == []
    now[0] = 0.3
    assert throttle.due() == [(SPOT, Decimal(101), None)]  # the held-back change goes out
    assert throttle.prices(PriceTick(symbol=SPOT, ts=0, bid=Decimal(99), ask=Decimal(101))) == (
        Decimal(100),
        None,
    )


def test_prices_reach_the_engine_throttled_per_symbol() -> None:
    async def main() -> None:
        async with running() as (_gateway, rec, (adapter,)):
            await until(lambda: "prices" in adapter.calls)
            for i in range(20):
                adapter.ticks.put_nowait(PriceTick(symbol=SPOT, ts=i, last=Decimal(100 + i)))
            await asyncio.sleep(0.15)
            updates = rec.of(c.UpdatePrices)
            assert 1 <= len(updates) <= 4  # not 20
            assert updates[-1].last == Decimal(119)  # the latest price is not lost
            assert rec.node.last_price(SPOT) == Decimal(119)

    asyncio.run(main())


def test_health_says_connected_age_clock_budget_reconciliation_and_tradable() -> None:
    async def main() -> None:
        async with running() as (gateway, _rec, (adapter,)):
            await adapter.push(
                adapter.gap("STARTED").__class__(
                    venue="binance", account_id="A", ts=1, reason="DISCONNECTED"
                )
            )
            await until(
                lambda: (
                    gateway.health()[0].reconciliation == "done" and gateway.health()[0].tradable
                )
            )
            health = gateway.health()[0]
            assert (health.venue, health.account_id) == ("binance", "A")
            assert health.connected and health.tradable and health.reason == "READY"
            assert health.last_message_age_s is not None and health.last_message_age_s < 1
            assert health.clock_offset_ms is not None and abs(health.clock_offset_ms) < 100
            assert health.rate_limit["weight_1m"] < 6000 and "orders_10s" in health.rate_limit
            assert health.last_reconciliation is not None and health.last_reconciliation.ok
            assert health.reconnects == 0 and health.error == ""

    asyncio.run(main())


def test_overhead_histograms_record_sends_and_facts() -> None:
    async def main() -> None:
        async with running() as (gateway, rec, (adapter,)):
            order_id = buy(rec)
            await until(lambda: rec.of(ApplyOrderUpdate))
            from atlas_oms.model.venue import OrderUpdate

            order = next(iter(adapter.book.values()))
            await adapter.push(
                OrderUpdate(venue="binance", account_id="A", ts=1, order=order, exec_type="NEW")
            )
            await until(lambda: gateway.overhead.fact.count >= 1)
            summary = gateway.overhead.summary()
            assert summary["send"]["count"] == 1 and summary["send"]["p99_us"] is not None
            assert summary["fact"]["p50_us"] is not None
            assert order_id

    asyncio.run(main())


def test_a_live_runtime_owns_the_gateways_tasks_and_none_outlives_it() -> None:
    from gw_world import FAST, Recorder, new_node
    from scripted import ScriptedAdapter

    from atlas_oms.runtime.gateway import Gateway
    from atlas_oms.runtime.live import Committer, LiveRuntime

    async def main() -> None:
        node = new_node()
        adapter = ScriptedAdapter()
        gateway = Gateway(Recorder(node), [adapter], tag="k3f9q2", config=FAST)
        runtime = LiveRuntime(Committer(node))
        gateway.attach(runtime)
        await runtime.start()
        await until(lambda: gateway.sessions[("binance", "A")].tradable)
        adapter.stream.put_nowait(ConnectionError("drop"))  # a failing session never stops the node
        await until(lambda: gateway.sessions[("binance", "A")].reconnects == 1)
        assert runtime.failure is None
        await runtime.stop()
        assert [t for t in asyncio.all_tasks() if t is not asyncio.current_task()] == []

    asyncio.run(main())
