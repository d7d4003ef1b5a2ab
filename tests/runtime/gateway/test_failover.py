"""Failover (issue 15 §2, VEN-3): a venue account that is down stops taking new orders, the
configured alternative takes them, every switch is journaled with its reason, and the working
orders left at the failed venue are reconciled when it returns."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from gw_world import CORE_HANDLES_VENUES, Recorder, new_node, running, until
from scripted import SPOT, ScriptedAdapter, spot_instrument

from atlas_oms.model import commands as c
from atlas_oms.model import events as ev
from atlas_oms.model.enums import InstrumentKind
from atlas_oms.model.instrument import Instrument
from atlas_oms.model.routing import SwitchRoute
from atlas_oms.model.venue import VenueOrderState
from atlas_oms.runtime.gateway.failover import (
    FailoverRouter,
    FailoverRule,
    Route,
    health_score,
    rules_from_config,
)
from atlas_oms.runtime.node import Node

pytestmark = pytest.mark.skipif(not CORE_HANDLES_VENUES, reason="needs the venue core")

OTHER = "BTC/USDT@other"


class Downable(ScriptedAdapter):
    """A scripted venue account that can be taken down: its stream breaks and it refuses to
    connect until it is up again."""

    down = False

    async def start(self) -> None:
        if self.down:
            raise ConnectionError("venue unreachable")
        await super().start()

    def take_down(self) -> None:
        self.down = True
        self.stream.put_nowait(ConnectionError("stream dropped"))


def _switches(rec: Recorder) -> list[ev.RouteSwitched]:
    return [e for e in rec.events if isinstance(e, ev.RouteSwitched)]


def _other_venue_instrument() -> Instrument:
    return Instrument(
        symbol=OTHER,
        kind=InstrumentKind.SPOT,
        base="BTC",
        quote="USDT",
        tick_size=Decimal("0.01"),
        lot_size=Decimal("0.001"),
        venue="other",
        venue_symbol="BTCUSDT",
    )


def _fill_at_venue(adapter: ScriptedAdapter, cid: str, trade_id: str) -> None:
    order = adapter.book.pop(cid)
    fields = {f: getattr(order, f) for f in order.__struct_fields__}
    adapter.book[cid] = order.__class__(
        **{**fields, "state": VenueOrderState.FILLED, "cum_qty": order.qty}
    )
    adapter.fill_list.append(adapter.fill_for(adapter.book[cid], trade_id))


@pytest.mark.parametrize("alternative", ["account", "venue"])
def test_a_venue_down_sends_new_orders_to_the_alternative_and_reconciles_on_return(
    alternative: str,
) -> None:
    async def main() -> None:
        node = new_node()
        primary = Downable("binance", "A")
        if alternative == "account":
            node.open_account("B")
            node.deposit("B", "USDT", 1_000_000)
            alt = Downable("binance", "B")
            alt_route = Route("binance", "B", SPOT)
        else:
            alt = Downable("other", "A", instruments=(_other_venue_instrument(),))
            alt_route = Route("other", "A", OTHER)
        async with running([primary, alt], node=node) as (gateway, rec, _):
            router = FailoverRouter.for_gateway(gateway, [FailoverRule("A", SPOT, (alt_route,))])
            first = router.submit("A", SPOT, "BUY", "LIMIT", Decimal("0.01"), Decimal("100"))
            assert (first.account_id, first.symbol) == ("A", SPOT)
            await until(lambda: rec.node.order(first.order_id).status == "ACCEPTED")

            primary.take_down()
            await until(lambda: not gateway.sessions[("binance", "A")].tradable)
            second = router.submit("A", SPOT, "BUY", "LIMIT", Decimal("0.02"), Decimal("100"))
            assert (second.account_id, second.symbol) == (alt_route.account_id, alt_route.symbol)
            await until(lambda: rec.node.order(second.order_id).status == "ACCEPTED")
            switched = _switches(rec)
            assert len(switched) == 1
            assert switched[0].reason == "DISCONNECTED" and not switched[0].restored
            assert (switched[0].to_venue, switched[0].to_account_id) == (
                alt_route.venue,
                alt_route.account_id,
            )
            # the first order stays tracked at the failed venue
            assert rec.node.order(first.order_id).status == "ACCEPTED"

            # while it was down, the first order filled there
            _fill_at_venue(primary, f"atk3f9q2x{first.order_id}", "t-while-down")
            primary.down = False
            await until(lambda: rec.node.order(first.order_id).status == "FILLED")
            assert [f.trade_id for f in rec.node.order_fills(first.order_id)] == ["t-while-down"]
            await until(lambda: gateway.sessions[("binance", "A")].tradable)

            third = router.submit("A", SPOT, "BUY", "LIMIT", Decimal("0.01"), Decimal("100"))
            assert (third.account_id, third.symbol) == ("A", SPOT)
            switched = _switches(rec)
            assert [(e.reason, e.restored) for e in switched] == [
                ("DISCONNECTED", False),
                ("RESTORED", True),
            ]
            assert rec.node.engine.state.venues.routes == {}

    asyncio.run(main())


def test_with_no_alternative_up_the_order_is_refused_with_the_reason() -> None:
    async def main() -> None:
        primary, alt = (
            Downable("binance", "A"),
            Downable("other", "A", instruments=(_other_venue_instrument(),)),
        )
        async with running([primary, alt]) as (gateway, rec, _):
            router = FailoverRouter.for_gateway(
                gateway, [FailoverRule("A", SPOT, (Route("other", "A", OTHER),))]
            )
            primary.take_down()
            alt.take_down()
            await until(lambda: not any(s.tradable for s in gateway.sessions.values()))
            view = router.submit("A", SPOT, "BUY", "LIMIT", Decimal("0.01"), Decimal("100"))
            assert (view.status, view.reason) == ("DENIED", "VENUE_NOT_TRADABLE")
            assert _switches(rec) == []

    asyncio.run(main())


def test_a_health_score_below_the_threshold_counts_as_down() -> None:
    async def main() -> None:
        primary, alt = (
            ScriptedAdapter("binance", "A"),
            ScriptedAdapter("other", "A", instruments=(_other_venue_instrument(),)),
        )
        async with running([primary, alt]) as (gateway, rec, _):
            router = FailoverRouter.for_gateway(
                gateway, [FailoverRule("A", SPOT, (Route("other", "A", OTHER),))]
            )
            limiter = gateway.sessions[("binance", "A")].limiter
            limiter.on_response("A", 429, {"Retry-After": "30"})  # the venue says: slow down
            assert health_score(gateway.sessions[("binance", "A")].health()) == 0.5
            router.min_health = 0.6
            view = router.submit("A", SPOT, "BUY", "LIMIT", Decimal("0.01"), Decimal("100"))
            assert view.symbol == OTHER
            (switched,) = _switches(rec)
            assert switched.reason == "HEALTH_BELOW_THRESHOLD" and switched.health == "0.5"

    asyncio.run(main())


def test_failover_rules_read_from_accounts_yaml_shape() -> None:
    rules = rules_from_config(
        {
            "rules": [
                {
                    "account": "A",
                    "symbol": SPOT,
                    "alternatives": [
                        {"venue": "bybit", "symbol": "BTC/USDT:bybit"},
                        {"venue": "binance", "account": "B"},
                    ],
                }
            ]
        }
    )
    assert rules == [
        FailoverRule(
            "A", SPOT, (Route("bybit", "A", "BTC/USDT:bybit"), Route("binance", "B", SPOT))
        )
    ]
    with pytest.raises(ValueError, match="no alternative"):
        rules_from_config([{"account": "A", "symbol": SPOT}])


def test_the_route_in_force_survives_a_replay() -> None:
    node = new_node()
    node.process(c.AddInstrument(ts=0, instrument=spot_instrument()))
    cmd = SwitchRoute(
        ts=1,
        venue="binance",
        account_id="A",
        symbol=SPOT,
        to_venue="other",
        to_account_id="A",
        to_symbol=OTHER,
        reason="DISCONNECTED",
    )
    assert len(node.process(cmd)) == 1
    assert node.process(cmd) == []  # a repeat of the route in force is nothing
    again = Node()
    for event in node.journal.read(1):
        again.engine.apply(event)
    assert again.digest() == node.digest()
    assert again.engine.state.venues.routes[("A", SPOT)].to_symbol == OTHER
