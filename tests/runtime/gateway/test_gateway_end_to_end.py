"""The gateway with the real core (core/venues/): what the node ends up believing."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

import pytest
from gw_world import CORE_HANDLES_VENUES, buy, new_node, running, until
from scripted import SPOT, ScriptedAdapter, Step
from test_gateway_restart import _journal_unsent_order

from atlas_oms.runtime.errors import CommandRefused

pytestmark = pytest.mark.skipif(not CORE_HANDLES_VENUES, reason="needs the venue core")


def test_orders_are_refused_until_the_venue_account_is_reconciled() -> None:
    async def main() -> None:
        adapter = ScriptedAdapter()
        adapter.query_delay_s = 0.1
        async with running(adapter, wait_ready=False) as (gateway, rec, _):
            await until(lambda: rec.node.instrument(SPOT) is not None)
            try:
                denied = rec.node.order(buy(rec))
            except CommandRefused as refused:
                assert refused.reason == "VENUE_NOT_TRADABLE"
            else:
                assert (denied.status, denied.reason) == ("DENIED", "VENUE_NOT_TRADABLE")
            assert adapter.places() == []
            await until(lambda: gateway.sessions[("binance", "A")].tradable)
            assert rec.node.order(buy(rec)).status == "SUBMITTED"

    asyncio.run(main())


def test_unknown_place_that_filled_ends_filled_with_one_fill_and_the_position() -> None:
    async def main() -> None:
        adapter = ScriptedAdapter()
        adapter.place_script.append(Step(kind="unknown", reason="TIMEOUT", commit=True, fill=True))
        async with running(adapter) as (gateway, rec, _):
            order_id = buy(rec, qty="0.5")
            await until(lambda: rec.node.order(order_id).status == "FILLED")
            assert len(rec.node.order_fills(order_id)) == 1
            assert rec.node.balance("A", "BTC").total == Decimal("0.5")
            # a reconciliation that sees the same fill again books nothing more
            await gateway.reconcile("binance", "A")
            assert len(rec.node.order_fills(order_id)) == 1
            assert adapter.places() == [f"place:atk3f9q2x{order_id}"]

    asyncio.run(main())


def test_unknown_place_never_found_ends_rejected() -> None:
    async def main() -> None:
        adapter = ScriptedAdapter()
        adapter.place_script.append(Step(kind="unknown", reason="TIMEOUT", commit=False))
        async with running(adapter) as (_gateway, rec, _):
            order_id = buy(rec)
            await until(lambda: rec.node.order(order_id).status == "REJECTED")
            assert rec.node.order(order_id).reason == "NOT_FOUND_AFTER_UNKNOWN"

    asyncio.run(main())


def test_cancel_of_an_order_that_filled_meanwhile_ends_filled() -> None:
    async def main() -> None:
        async with running() as (gateway, rec, (adapter,)):
            order_id = buy(rec)
            await until(lambda: rec.node.order(order_id).status == "ACCEPTED")
            cid = f"atk3f9q2x{order_id}"
            order = adapter.book.pop(cid)
            adapter.place_script.clear()
            adapter.book[cid] = order.__class__(
                **{
                    **{f: getattr(order, f) for f in order.__struct_fields__},
                    "state": order.state.__class__.FILLED,
                    "cum_qty": order.qty,
                }
            )
            adapter.fill_list.append(adapter.fill_for(adapter.book[cid], "t-late"))
            adapter.cancel_script.append(
                Step(
                    kind="refuse",
                    reason="UNKNOWN_ORDER",
                    code="-2011",
                    message="Unknown order sent.",
                )
            )
            rec.node.cancel("A", order_id)
            await until(lambda: rec.node.order(order_id).status == "FILLED")
            assert [f.trade_id for f in rec.node.order_fills(order_id)] == ["t-late"]
            await gateway.reconcile("binance", "A")  # the same fill again: nothing more
            assert len(rec.node.order_fills(order_id)) == 1

    asyncio.run(main())


def test_restart_resend_ends_with_the_order_accepted_once(tmp_path: Path) -> None:
    path = str(tmp_path / "atlas.db")
    order_id = _journal_unsent_order(path)

    async def main() -> None:
        adapter = ScriptedAdapter()
        async with running(adapter, node=new_node(path)) as (_gateway, rec, _):
            await until(lambda: rec.node.order(order_id).status == "ACCEPTED")
            assert len(adapter.book) == 1 and len(adapter.places()) == 1

    asyncio.run(main())
