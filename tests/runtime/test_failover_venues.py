"""Failover on the real fakes (issue 15 §2, §4): Binance down -> new BTC orders of the Binance
account go to Bybit for the same unified symbol, with a ``RouteSwitched`` event and its reason; a
resting order at Binance that filled while Binance was down is booked once when it returns; the
route is restored. The node, its accounts, adapters (``make_adapter``) and gateway are built by
``setup_venues`` from an accounts.yaml; real ccxt clients, real sockets, real signatures."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

from tests.venue_fakes import spot_fakes, until, write_keys

from atlas_oms.fakes.binance import FakeBinance
from atlas_oms.fakes.bybit import FakeBybit
from atlas_oms.model import events as ev
from atlas_oms.model.enums import OrderStatus
from atlas_oms.runtime.gateway import GatewayConfig
from atlas_oms.runtime.node import Node
from atlas_oms.runtime.venue_setup import plan_venues, setup_venues

D = Decimal
BN_KEY, BN_SECRET = "b" * 64, "c" * 64
BY_KEY, BY_SECRET = "bybitfailoverkey0001", "bybitfailoversecret00000000000000001"
MASTER = b"m" * 32
BINANCE, BYBIT = "binance_spot_main", "bybit_spot_main"
KEYS = {BINANCE: (BN_KEY, BN_SECRET), BYBIT: (BY_KEY, BY_SECRET)}


def fakes() -> tuple[FakeBinance, FakeBybit]:
    return spot_fakes(KEYS[BINANCE], KEYS[BYBIT])


def accounts_yaml(binance: FakeBinance, bybit: FakeBybit, extra: str = "") -> str:
    return f"""
accounts:
  binance:
    main: {{type: main, spot_enabled: true}}
  bybit:
    main: {{type: main, spot_enabled: true}}
account_routing: {{default: main}}
venues:
  binance:
    rest_url: "{binance.http}"
    ws_url: "{binance.ws}/ws"
    ws_api_url: "{binance.ws}/ws-api/v3"
    timeout_ms: 1000
  bybit:
    rest_url: "{bybit.http}"
    ws_url: "{bybit.ws}"
    timeout_ms: 1000
    symbol_suffix: "@bybit"
failover:
  check_every_s: 0.1
  rules:
    - account: {BINANCE}
      alternatives: [{{account: {BYBIT}}}]
{extra}"""


def switches(node: Node) -> list[ev.RouteSwitched]:
    return [e for e in node.journal.read() if isinstance(e, ev.RouteSwitched)]


def test_binance_down_sends_new_btc_orders_to_bybit_and_its_fill_while_down_is_booked_once(
    tmp_path: Path,
) -> None:
    binance, bybit = fakes()

    async def main() -> None:
        await binance.start()
        await bybit.start()
        binance.venue.house_quote("spot", "BTCUSDT", "SELL", "60010", "5")
        bybit.venue.house_quote("spot", "BTCUSDT", "Sell", D("60020"), D("5"))
        accounts = tmp_path / "accounts.yaml"
        accounts.write_text(accounts_yaml(binance, bybit))
        master = write_keys(tmp_path, MASTER, KEYS)
        plan = plan_venues(accounts, keys_path=tmp_path / "venue-keys.json", master_key_file=master)
        node = Node.in_memory()
        setup = setup_venues(
            node,
            plan.config,
            plan.sources,
            data_dir=tmp_path,
            gateway_config=GatewayConfig(
                stream_wait_s=0.2, visibility_s=1.0, reconnect_initial_s=0.1, reconnect_max_s=0.5
            ),
            market_data=False,
        )
        routing = setup.routing
        setup.gateway.start()
        watchers = [asyncio.create_task(w()) for _, w in setup.watchers]
        try:
            bn = setup.gateway.session("binance", BINANCE)
            by = setup.gateway.session("bybit", BYBIT)
            await until(lambda: bn.health().tradable and by.health().tradable, what="tradable")
            # Both venues list BTC/USDT: Bybit's is BTC/USDT@bybit in Atlas (symbol_suffix).
            assert node.instrument("BTC/USDT").venue == "binance"
            assert node.instrument("BTC/USDT@bybit").venue == "bybit"
            assert node.instrument("BTC/USDT@bybit").venue_symbol == "BTCUSDT"

            # Up: the order stays on Binance. A resting buy works there.
            routed = routing.route(BINANCE, "BTC/USDT")
            assert (routed.venue, routed.account_id, routed.rerouted) == ("binance", BINANCE, False)
            resting = node.submit(BINANCE, "BTC/USDT", "BUY", "LIMIT", "0.01", "59000")
            await until(
                lambda: node.order(resting.order_id).status is OrderStatus.ACCEPTED,
                what="resting order accepted",
            )

            # Binance goes down (its REST and streams gone); meanwhile the resting order fills.
            port = binance.port
            await binance.stop()
            cid = bn.cid(resting.order_id)  # the id the gateway sent (node-tag prefixed)
            (venue_order,) = [o for o in binance.venue.orders.values() if o.client_id == cid]
            binance.venue.fill(venue_order, "0.01")
            down = await until(
                lambda: [s for s in switches(node) if not s.restored], what="a RouteSwitched"
            )
            assert (down[0].account_id, down[0].symbol) == (BINANCE, "*")
            assert (down[0].to_venue, down[0].to_account_id) == ("bybit", BYBIT)
            assert down[0].reason and down[0].reason != "RESTORED"

            # A new BTC order of the Binance account goes to Bybit, same unified symbol.
            routed = routing.route(BINANCE, "BTC/USDT")
            assert (routed.venue, routed.account_id, routed.symbol) == (
                "bybit",
                BYBIT,
                "BTC/USDT@bybit",
            )
            assert routed.rerouted and routed.reason == down[0].reason
            view = node.submit(routed.account_id, routed.symbol, "BUY", "LIMIT", "0.01", "60020")
            await until(
                lambda: node.order(view.order_id).status is OrderStatus.FILLED,
                what="the Bybit order filled",
            )
            mine = [o for o in bybit.venue.orders.values() if not o.house]
            assert [(o.symbol, o.link_id) for o in mine] == [("BTCUSDT", by.cid(view.order_id))]
            # No failover asked (strict): the order is refused, typed, with the reason.
            strict = routing.route(BINANCE, "BTC/USDT", strict=True)
            assert (strict.account_id, strict.symbol) == (BINANCE, "BTC/USDT")
            refused = node.submit(BINANCE, "BTC/USDT", "BUY", "LIMIT", "0.01", "59000")
            assert refused.status is OrderStatus.DENIED
            assert refused.reason == "VENUE_NOT_TRADABLE"

            # Binance returns: the resting order's fill is booked once, the route is restored.
            await binance.start(port=port)
            await until(lambda: bn.health().tradable, timeout=20, what="binance back")
            order = await until(
                lambda: (o := node.order(resting.order_id)).status is OrderStatus.FILLED and o,
                what="the fill while down reconciled",
            )
            assert order.cum_qty == D("0.01")
            fills = [f for f in node.fills(account_id=BINANCE) if f.order_id == resting.order_id]
            assert len(fills) == 1
            restored = await until(
                lambda: [s for s in switches(node) if s.restored], what="RESTORED"
            )
            assert restored[0].reason == "RESTORED"
            routed = routing.route(BINANCE, "BTC/USDT")
            assert (routed.venue, routed.account_id, routed.rerouted) == ("binance", BINANCE, False)
            # Reconciled once more after the restore: still one fill (booked once).
            await setup.gateway.reconcile("binance", BINANCE)
            fills = [f for f in node.fills(account_id=BINANCE) if f.order_id == resting.order_id]
            assert len(fills) == 1
        finally:
            for task in watchers:
                task.cancel()
            await setup.gateway.stop()
            setup.close()
            await binance.stop()
            await bybit.stop()

    asyncio.run(asyncio.wait_for(main(), 90))
