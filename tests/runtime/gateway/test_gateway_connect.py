"""Connect and reconnect: the order of operations, tradability, gaps, silence, clock, position mode."""

from __future__ import annotations

import asyncio

from gw_world import FAST, new_node, running, until
from scripted import ScriptedAdapter

from atlas_oms.model import commands as c
from atlas_oms.model.enums import PositionMode
from atlas_oms.model.venue import ReconcileVenue, SetVenueStatus


def test_connect_opens_and_buffers_the_stream_before_the_snapshot_and_trades_only_after_reconcile() -> (
    None
):
    async def main() -> None:
        adapter = ScriptedAdapter()
        async with running(adapter) as (_gateway, rec, _):
            calls = adapter.calls
            assert calls.index("start") < calls.index("account_settings")
            assert calls.index("server_time") < calls.index("instruments")
            assert calls.index("instruments") < calls.index("facts") < calls.index("open_orders")
            assert calls.index("open_orders") < calls.index("fills") < calls.index("balances")
            kinds = [type(m).__name__ for m in rec.messages]
            assert "AddInstrument" in kinds
            # not tradable until the snapshot went to the core, tradable right after it
            statuses = rec.of(SetVenueStatus)
            assert [s.reason for s in statuses] == ["CONNECTING", "RECONCILING", "READY"]
            i_reconcile = next(
                i for i, m in enumerate(rec.messages) if isinstance(m, ReconcileVenue)
            )
            i_ready = rec.messages.index(statuses[-1])
            assert i_reconcile < i_ready
            assert all(not s.tradable for s in statuses[:-1]) and statuses[-1].tradable
            assert rec.of(ReconcileVenue)[0].reason == "CONNECT"
            assert rec.of(ReconcileVenue)[0].balances is not None

    asyncio.run(main())


def test_facts_received_during_the_snapshot_are_applied_after_reconcile_venue() -> None:
    async def main() -> None:
        adapter = ScriptedAdapter()
        adapter.query_delay_s = 0.02
        from scripted import Step  # noqa: F401

        from atlas_oms.model.venue import OrderUpdate

        async with running(adapter, wait_ready=False) as (gateway, rec, _):
            await until(lambda: "open_orders" in adapter.calls)
            cmd_order = adapter.vorder(_place_cmd())
            await adapter.push(
                OrderUpdate(venue="binance", account_id="A", ts=1, order=cmd_order, exec_type="NEW")
            )
            await until(lambda: gateway.sessions[("binance", "A")].tradable)
            await until(lambda: any(type(m).__name__ == "ApplyOrderUpdate" for m in rec.messages))
            kinds = [type(m).__name__ for m in rec.messages]
            assert kinds.index("ReconcileVenue") < kinds.index("ApplyOrderUpdate")

    asyncio.run(main())


def _place_cmd():  # type: ignore[no-untyped-def]
    from decimal import Decimal

    from atlas_oms.model.enums import Side
    from atlas_oms.model.venue import PlaceOrder

    return PlaceOrder(
        order_id=99,
        client_order_id="other1",
        symbol="BTC/USDT",
        side=Side.BUY,
        qty=Decimal("1"),
        price=Decimal("100"),
    )


def test_stream_gap_makes_the_account_untradable_until_reconciled() -> None:
    async def main() -> None:
        adapter = ScriptedAdapter()
        async with running(adapter) as (gateway, rec, _):
            adapter.query_delay_s = 0.05
            await adapter.push(adapter.gap("LISTEN_KEY_EXPIRED"))
            session = gateway.sessions[("binance", "A")]
            await until(lambda: not session.tradable)
            assert session.status == (False, "RECONCILING")
            await until(lambda: session.tradable)
            reconciles = rec.of(ReconcileVenue)
            assert [r.reason for r in reconciles] == ["CONNECT", "GAP"]
            assert [s.reason for s in rec.of(SetVenueStatus)][-2:] == ["RECONCILING", "READY"]

    asyncio.run(main())


def test_silent_stream_is_reconciled_while_staying_tradable() -> None:
    async def main() -> None:
        config = FAST.__class__(**{**FAST.__dict__, "silent_after_s": 0.1})
        async with running(config=config) as (gateway, rec, _):
            await until(lambda: len(rec.of(ReconcileVenue)) >= 3)
            assert [r.reason for r in rec.of(ReconcileVenue)][:3] == ["CONNECT", "GAP", "GAP"]
            assert gateway.sessions[("binance", "A")].tradable

    asyncio.run(main())


def test_periodic_reconciliation() -> None:
    async def main() -> None:
        config = FAST.__class__(**{**FAST.__dict__, "reconcile_every_s": 0.1})
        async with running(config=config) as (_gateway, rec, _):
            await until(lambda: len(rec.of(ReconcileVenue)) >= 2)
            assert rec.of(ReconcileVenue)[1].reason == "PERIODIC"

    asyncio.run(main())


def test_manual_reconcile_returns_what_the_core_emitted() -> None:
    async def main() -> None:
        async with running() as (gateway, rec, _):
            events = await gateway.reconcile("binance", "A")
            assert isinstance(events, list)
            assert rec.of(ReconcileVenue)[-1].reason == "MANUAL"
            health = gateway.health()[0]
            assert health.last_reconciliation is not None
            assert health.last_reconciliation.reason == "MANUAL" and health.last_reconciliation.ok

    asyncio.run(main())


def test_clock_offset_beyond_half_the_receive_window_is_not_tradable() -> None:
    async def main() -> None:
        adapter = ScriptedAdapter(clock_offset_ns=-6_000_000_000)
        async with running(adapter, wait_ready=False) as (gateway, _rec, _):
            session = gateway.sessions[("binance", "A")]
            await until(lambda: session.status == (False, "CLOCK_SKEW"))
            assert "offset" in session.status_message
            assert adapter.signing_offset_ns < -5_000_000_000  # the adapter signs with it
            assert abs(gateway.health()[0].clock_offset_ms + 6000) < 100

    asyncio.run(main())


def test_clock_offset_within_bounds_is_set_on_the_adapter_and_tradable() -> None:
    async def main() -> None:
        adapter = ScriptedAdapter(clock_offset_ns=2_000_000_000)
        async with running(adapter) as (gateway, _, _):
            assert abs(adapter.signing_offset_ns - 2_000_000_000) < 50_000_000
            assert gateway.sessions[("binance", "A")].tradable

    asyncio.run(main())


def test_clock_is_remeasured_and_trading_resumes_when_the_offset_comes_back() -> None:
    async def main() -> None:
        adapter = ScriptedAdapter(clock_offset_ns=-6_000_000_000)
        adapter.clock_offsets.append(0)
        config = FAST.__class__(**{**FAST.__dict__, "clock_every_s": 0.05})
        async with running(adapter, config=config, wait_ready=False) as (gateway, rec, _):
            session = gateway.sessions[("binance", "A")]
            await until(lambda: session.tradable)
            reasons = [s.reason for s in rec.of(SetVenueStatus)]
            assert "CLOCK_SKEW" in reasons and reasons[-1] == "READY"

    asyncio.run(main())


def test_hedge_mode_mismatch_is_refused_and_says_why() -> None:
    async def main() -> None:
        adapter = ScriptedAdapter(hedge_mode=True)
        node = new_node()  # account A is one-way (netting)
        async with running(adapter, node=node, wait_ready=False) as (gateway, rec, _):
            session = gateway.sessions[("binance", "A")]
            await until(lambda: session.status == (False, "POSITION_MODE_MISMATCH"))
            await asyncio.sleep(0.05)
            assert "hedge" in session.status_message
            assert not rec.of(ReconcileVenue)  # never reconciled, never tradable
            assert not any(s.tradable for s in rec.of(SetVenueStatus))
            assert gateway.health()[0].reason == "POSITION_MODE_MISMATCH"

    asyncio.run(main())


def test_hedge_mode_matching_a_hedge_account_is_tradable() -> None:
    async def main() -> None:
        node = new_node()
        node.process(
            c.OpenAccount(ts=node.clock.now(), account_id="H", position_mode=PositionMode.HEDGE)
        )
        adapter = ScriptedAdapter(account_id="H", hedge_mode=True)
        async with running(adapter, node=node) as (gateway, _, _):
            assert gateway.sessions[("binance", "H")].tradable

    asyncio.run(main())


def test_a_failing_session_reconnects_with_backoff_and_says_why() -> None:
    async def main() -> None:
        adapter = ScriptedAdapter()
        async with running(adapter) as (gateway, rec, _):
            session = gateway.sessions[("binance", "A")]
            await adapter.push(ConnectionError("socket closed"))
            await until(lambda: session.reconnects >= 1)
            health = gateway.health()[0]
            assert "socket closed" in health.error
            assert (False, "DISCONNECTED") in rec.statuses()
            await until(lambda: session.tradable)
            assert adapter.started == 2 and "close" in adapter.calls
            assert [r.reason for r in rec.of(ReconcileVenue)] == ["CONNECT", "GAP"]

    asyncio.run(main())
