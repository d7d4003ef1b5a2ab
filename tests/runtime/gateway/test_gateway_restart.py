"""Restart: an order journaled but never sent (kill -9 between journaling and sending) ends with
exactly one order at the venue; one sent whose answer was lost is found, not sent again."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

from gw_world import FAST, Recorder, buy, new_node, running, until
from scripted import ScriptedAdapter, spot_instrument

from atlas_oms.model import commands as c
from atlas_oms.model import reports as rep
from atlas_oms.model.venue import ApplyOrderUpdate, ReconcileVenue

CID = "atk3f9q2x"


class _Lost:
    """A venue whose requests never leave the process (it dies first)."""

    name = "binance"
    synchronous = False

    def handle(self, request: object) -> list[object]:
        return []


def _journal_unsent_order(path: str) -> int:
    """A journal holding an order whose intent was recorded but never sent."""
    node = new_node(path)
    node.venues["binance"] = _Lost()
    node.process(c.AddInstrument(ts=node.clock.now(), instrument=spot_instrument()))
    order_id = buy(Recorder(node))
    assert node.order(order_id).status == "SUBMITTED"
    node.close()
    return order_id


def test_restart_sends_a_journaled_but_unsent_order_exactly_once(tmp_path: Path) -> None:
    path = str(tmp_path / "atlas.db")
    order_id = _journal_unsent_order(path)

    async def main() -> None:
        adapter = ScriptedAdapter()
        async with running(adapter, node=new_node(path)) as (gateway, rec, _):
            await until(lambda: adapter.places())
            await until(
                lambda: [m for m in rec.of(ApplyOrderUpdate) if m.update.order.order_id == order_id]
            )
            reconcile = rec.of(ReconcileVenue)[0]
            assert reconcile.reason == "RESTART" and reconcile.not_found == (order_id,)
            assert adapter.places() == [f"place:{CID}{order_id}"]
            assert len(adapter.book) == 1
            # and a second reconciliation does not send it again
            await gateway.reconcile("binance", "A")
            await asyncio.sleep(0.05)
            assert adapter.places() == [f"place:{CID}{order_id}"]
            assert not rec.of(rep.VenueRejected)

    asyncio.run(main())


def test_restart_after_the_order_reached_the_venue_finds_it_and_does_not_resend(
    tmp_path: Path,
) -> None:
    path = str(tmp_path / "atlas.db")
    order_id = _journal_unsent_order(path)

    async def main() -> None:
        adapter = ScriptedAdapter()
        # the first process sent it and died before the answer; the venue shows it late
        from decimal import Decimal

        from atlas_oms.model.enums import Side
        from atlas_oms.model.venue import PlaceOrder

        cmd = PlaceOrder(
            order_id=order_id,
            client_order_id=f"{CID}{order_id}",
            symbol="BTC/USDT",
            side=Side.BUY,
            qty=Decimal("0.01"),
            price=Decimal("100"),
        )
        loop = asyncio.get_running_loop()
        adapter.visible_at[cmd.client_order_id] = 0.0
        adapter.book[cmd.client_order_id] = adapter.vorder(cmd)
        adapter.visible_at[cmd.client_order_id] = loop.time() + 0.15
        async with running(adapter, node=new_node(path)) as (_gateway, rec, _):
            await until(
                lambda: [m for m in rec.of(ApplyOrderUpdate) if m.update.order.order_id == order_id]
            )
            assert adapter.places() == []
            assert not rec.of(rep.VenueRejected)

    asyncio.run(main())


def test_restart_too_late_to_send_rejects_not_sent(tmp_path: Path) -> None:
    path = str(tmp_path / "atlas.db")
    order_id = _journal_unsent_order(path)

    async def main() -> None:
        adapter = ScriptedAdapter()
        config = FAST.__class__(**{**FAST.__dict__, "resend_max_age_s": 0.0})
        async with running(adapter, node=new_node(path), config=config) as (_gateway, rec, _):
            await until(lambda: rec.of(rep.VenueRejected))
            rejected = rec.of(rep.VenueRejected)[0]
            assert rejected.order_id == order_id and rejected.reason == "NOT_SENT"
            assert adapter.places() == []
            assert rec.node.order(order_id).status == "REJECTED"

    asyncio.run(main())


def test_a_market_order_sent_at_restart_keeps_its_protection_price(tmp_path: Path) -> None:
    """A market order's price bound is part of what was journaled: the order sent late after a
    crash is bounded exactly as the one the user submitted."""
    path = str(tmp_path / "atlas.db")
    node = new_node(path)
    node.venues["binance"] = _Lost()
    node.process(c.AddInstrument(ts=node.clock.now(), instrument=spot_instrument()))
    node.process(c.UpdatePrices(ts=node.clock.now(), symbol="BTC/USDT", last=Decimal(100)))
    view = node.submit("A", "BTC/USDT", "BUY", "MARKET", Decimal("0.01"))
    assert view.status == "SUBMITTED" and view.protection_price is not None
    node.close()

    async def main() -> None:
        adapter = ScriptedAdapter()
        async with running(adapter, node=new_node(path)) as (_gateway, _rec, _):
            await until(lambda: adapter.placed)
            (sent,) = adapter.placed
            assert sent.price is None and sent.protection_price == view.protection_price

    asyncio.run(main())
