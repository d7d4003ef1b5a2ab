"""Through the whole path (Node → core → gateway → adapter → fake): an extended-hours limit
DAY order reaches Alpaca with ``extended_hours: true``; a plain one without it."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

from atlas_oms.fakes.alpaca import Account, FakeAlpaca
from atlas_oms.model.enums import OrderStatus
from atlas_oms.runtime.clock import LiveClock
from atlas_oms.runtime.gateway import Gateway, GatewayConfig, decode, prefix_for
from atlas_oms.runtime.node import Node
from atlas_oms.venues.alpaca import AlpacaAdapter

D = Decimal
KEY, SECRET = "PKGATEWAY00000000001", "gatewaysecret0000000000000000000000001"
TAG = "q7w8e9"


async def wait_until(predicate: object, timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():  # type: ignore[operator]
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.01)


def test_extended_hours_travels_from_the_submit_to_alpaca(tmp_path: Path) -> None:
    async def main() -> None:
        fake = FakeAlpaca([Account(name="acc-1", api_key=KEY, secret=SECRET, cash=D("100000"))])
        await fake.start()
        node = Node.open(str(tmp_path / "atlas.db"), clock=LiveClock())
        node.open_account("acc-1")
        prefix = prefix_for(TAG)
        adapter = AlpacaAdapter(
            account_id="acc-1",
            api_key=KEY,
            secret=SECRET,
            decode_client_id=lambda cid: decode(prefix, cid),
            base_url=fake.http,
            stream_url=fake.stream_url,
            timeout_ms=800,
            reconnect_min_s=0.05,
            reconnect_max_s=0.2,
            session=None,
        )
        config = GatewayConfig(
            stream_wait_s=0.1,
            visibility_s=1.0,
            query_backoff_s=0.05,
            query_backoff_max_s=0.2,
            reconcile_every_s=300.0,
            silent_after_s=300.0,
            clock_every_s=300.0,
            tick_s=0.05,
            reconnect_initial_s=0.05,
            reconnect_max_s=0.2,
            stream_open_timeout_s=2.0,
        )
        gateway = Gateway(node, [adapter], tag=TAG, config=config, market_data=False)
        gateway.start()
        try:
            await wait_until(lambda: gateway.session("alpaca", "acc-1").tradable)
            ext = node.buy("acc-1", "AAPL", D("10"), D("150"), tif="DAY", extended_hours=True)
            plain = node.buy("acc-1", "AAPL", D("5"), D("140"), tif="DAY")
            await wait_until(
                lambda: all(
                    node.order(o.order_id).status is OrderStatus.ACCEPTED for o in (ext, plain)
                )
            )
            by_cid = {o.client_order_id: o for o in fake.venue.orders.values()}
            assert by_cid[f"{prefix}{ext.order_id}"].extended_hours is True
            assert by_cid[f"{prefix}{plain.order_id}"].extended_hours is False
        finally:
            await gateway.stop()
            node.close()
            await fake.stop()

    asyncio.run(asyncio.wait_for(main(), 20))


def _split_then_reconcile(tmp_path: Path, *, at_broker: bool) -> list[object]:
    """Atlas holds 10 AAPL at Alpaca (adopted at connect); a 2-for-1 split is applied in
    Atlas (the operator's command), and at the broker when ``at_broker``; then the gateway
    reconciles. Returns the reconciliation's AAPL balance differences."""
    from atlas_oms.model import commands as c
    from atlas_oms.model import events as ev

    async def main() -> list[object]:
        acct = Account(name="acc-1", api_key=KEY, secret=SECRET, cash=D("100000"))
        acct.positions["AAPL"] = [D("10"), D("150")]
        fake = FakeAlpaca([acct])
        await fake.start()
        node = Node.open(str(tmp_path / "atlas.db"), clock=LiveClock())
        node.open_account("acc-1")
        prefix = prefix_for(TAG)
        adapter = AlpacaAdapter(
            account_id="acc-1",
            api_key=KEY,
            secret=SECRET,
            decode_client_id=lambda cid: decode(prefix, cid),
            base_url=fake.http,
            stream_url=fake.stream_url,
            timeout_ms=800,
            reconnect_min_s=0.05,
            reconnect_max_s=0.2,
            session=None,
        )
        config = GatewayConfig(
            stream_wait_s=0.1,
            visibility_s=1.0,
            reconcile_every_s=300.0,
            silent_after_s=300.0,
            clock_every_s=300.0,
            tick_s=0.05,
            reconnect_initial_s=0.05,
            reconnect_max_s=0.2,
            stream_open_timeout_s=2.0,
        )
        gateway = Gateway(node, [adapter], tag=TAG, config=config, market_data=False)
        gateway.start()
        try:
            await wait_until(lambda: gateway.session("alpaca", "acc-1").tradable)
            assert node.engine.state.balance("acc-1", "AAPL").total == 10
            events = node.process(
                c.ApplyCorporateAction(
                    ts=node.clock.now(),
                    actor="ops",
                    reason="AAPL 2-for-1",
                    action_id="AAPL-split-2026",
                    symbol="AAPL",
                    kind="SPLIT",
                    ratio=D(2),
                )
            )
            assert [type(e).__name__ for e in events] == ["CorporateActionApplied"]
            assert node.engine.state.balance("acc-1", "AAPL").total == 20
            if at_broker:
                fake.venue.apply_split("AAPL", D(2))
            found = await gateway.reconcile("alpaca", "acc-1")
            report = next(e for e in found if isinstance(e, ev.VenueReconciled))
            return [d for d in report.differences if d.asset == "AAPL"]
        finally:
            await gateway.stop()
            node.close()
            await fake.stop()

    return asyncio.run(main())


def test_a_split_applied_in_atlas_and_at_the_broker_reconciles_without_a_difference(
    tmp_path: Path,
) -> None:
    assert _split_then_reconcile(tmp_path, at_broker=True) == []


def test_a_split_applied_in_atlas_only_is_reported_by_the_next_reconciliation(
    tmp_path: Path,
) -> None:
    (diff,) = _split_then_reconcile(tmp_path, at_broker=False)
    assert (diff.kind, diff.atlas, diff.venue) == ("BALANCE", "20", "10")  # type: ignore[attr-defined]
    assert diff.action == "applied"  # type: ignore[attr-defined]  # the broker's figure adopted
