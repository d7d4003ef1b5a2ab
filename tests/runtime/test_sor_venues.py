"""Smart order routing against real venues (issue 16 §4): a node in front of the Binance and Bybit
spot fakes (real ccxt clients, real sockets, real signatures; ``accounts.yaml`` gives both venues a
symbol suffix) plus the built-in exchange ``sim`` listing ``BTC/USDT``. The consolidated book
(``runtime/market/hub.py::MarketData``) is fed by the adapters' own ``books()`` streams and the sim,
and the node routes from it (``node.route_books = md.route_book``).

- the consolidated book holds the three venues' levels;
- SMART: the best fee-adjusted price wins (a lower raw ask with a higher taker tier loses);
- a split across the three venues fills at the cost the book predicted;
- a venue failing mid-route: the remainder is re-routed to the others, nothing lost or doubled;
- risk limits hold on the children: a child over its account's limit is refused, seen on the
  parent."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from tests.venue_fakes import spot_fakes, until, write_keys

from atlas_oms import Instrument
from atlas_oms.fakes.binance import FakeBinance
from atlas_oms.fakes.bybit import FakeBybit
from atlas_oms.model import events as ev
from atlas_oms.runtime.clock import LiveClock
from atlas_oms.runtime.gateway import GatewayConfig
from atlas_oms.runtime.live import run_clock
from atlas_oms.runtime.market.arbitrage import ArbitrageConfig
from atlas_oms.runtime.market.config import MarketDataConfig
from atlas_oms.runtime.market.hub import MarketData
from atlas_oms.runtime.node import Node
from atlas_oms.runtime.venue_setup import VenueSetup, plan_venues, setup_venues

D = Decimal
BN_KEY, BN_SECRET = "s" * 64, "t" * 64
BY_KEY, BY_SECRET = "bybitsorkey000000001", "bybitsorsecret000000000000000001"
MASTER = b"w" * 32
BINANCE, BYBIT = "binance_spot_main", "bybit_spot_main"
KEYS = {BINANCE: (BN_KEY, BN_SECRET), BYBIT: (BY_KEY, BY_SECRET)}
BN_SYM, BY_SYM = "BTC/USDT@binance", "BTC/USDT@bybit"


def fee_yaml(binance_taker: str, bybit_taker: str) -> str:
    return f"""
fees:
  {BINANCE}: {{binance: {{maker: "0.001", taker: "{binance_taker}"}}}}
  {BYBIT}: {{bybit: {{maker: "0.001", taker: "{bybit_taker}"}}}}
"""


def accounts_yaml(binance: FakeBinance, bybit: FakeBybit, extra: str) -> str:
    return f"""
accounts:
  binance:
    main: {{type: main, spot_enabled: true}}
  bybit:
    main: {{type: main, spot_enabled: true}}
account_routing:
  default: main
  strategies: {{sor: [main]}}
venues:
  binance:
    rest_url: "{binance.http}"
    ws_url: "{binance.ws}/ws"
    ws_api_url: "{binance.ws}/ws-api/v3"
    timeout_ms: 1000
    symbol_suffix: "@binance"
  bybit:
    rest_url: "{bybit.http}"
    ws_url: "{bybit.ws}"
    timeout_ms: 1000
    symbol_suffix: "@bybit"
{extra}"""


@dataclass
class Desk:
    node: Node
    md: MarketData
    setup: VenueSetup
    binance: FakeBinance
    bybit: FakeBybit

    def asks(self) -> dict[str, list[tuple[Decimal, Decimal]]]:
        out: dict[str, list[tuple[Decimal, Decimal]]] = {}
        for level in self.md.book.levels("BTC/USDT", "ask", depth=30):
            out.setdefault(level.venue, []).append((level.price, level.qty))
        return out

    def bids(self) -> dict[str, list[tuple[Decimal, Decimal]]]:
        out: dict[str, list[tuple[Decimal, Decimal]]] = {}
        for level in self.md.book.levels("BTC/USDT", "bid", depth=30):
            out.setdefault(level.venue, []).append((level.price, level.qty))
        return out

    def events(self, kind: type[Any]) -> list[Any]:
        return [e for e in self.node.journal.read() if isinstance(e, kind)]


@contextlib.asynccontextmanager
async def desk(
    tmp_path: Path,
    *,
    binance_asks: list[tuple[str, str]],
    bybit_asks: list[tuple[str, str]],
    sim_asks: list[tuple[str, str]],
    fees: str,
    sim_taker: str = "0.001",
    binance_bids: list[tuple[str, str]] = [],  # noqa: B006 - read only
    bybit_bids: list[tuple[str, str]] = [],  # noqa: B006 - read only
    arbitrage: ArbitrageConfig | None = None,
) -> AsyncIterator[Desk]:
    binance, bybit = spot_fakes(KEYS[BINANCE], KEYS[BYBIT])
    await binance.start()
    await bybit.start()
    for px, qty in binance_asks:
        binance.venue.house_quote("spot", "BTCUSDT", "SELL", px, qty)
    for px, qty in bybit_asks:
        bybit.venue.house_quote("spot", "BTCUSDT", "Sell", D(px), D(qty))
    for px, qty in binance_bids:
        binance.venue.house_quote("spot", "BTCUSDT", "BUY", px, qty)
    for px, qty in bybit_bids:
        bybit.venue.house_quote("spot", "BTCUSDT", "Buy", D(px), D(qty))
    accounts = tmp_path / "accounts.yaml"
    accounts.write_text(accounts_yaml(binance, bybit, fees))
    master = write_keys(tmp_path, MASTER, KEYS)
    plan = plan_venues(accounts, keys_path=tmp_path / "venue-keys.json", master_key_file=master)
    node = Node.in_memory(clock=LiveClock())
    node.add_instrument(
        Instrument.spot(
            "BTC/USDT", tick_size="0.01", lot_size="0.00001", taker_fee=sim_taker, maker_fee="0"
        )
    )
    for account in ("mm", "desk"):
        node.open_account(account)
        node.deposit(account, "USDT", 1_000_000)
        node.deposit(account, "BTC", 10)
    for px, qty in sim_asks:
        node.submit("mm", "BTC/USDT", "SELL", "LIMIT", qty, px)
    setup = setup_venues(
        node,
        plan.config,
        plan.sources,
        data_dir=tmp_path,
        gateway_config=GatewayConfig(
            stream_wait_s=0.2, visibility_s=1.0, reconnect_initial_s=0.1, reconnect_max_s=0.5
        ),
    )
    md = MarketData(node, MarketDataConfig(depth=10), accounts=plan.config, arbitrage=arbitrage)
    md.attach_gateway(setup.gateway)  # before the gateway starts: its book streams start with it
    node.route_books = md.route_book
    setup.gateway.start()
    tasks = [
        asyncio.create_task(md.run()),
        asyncio.create_task(run_clock(node, max_interval_s=0.05)),
    ]
    tasks += [asyncio.create_task(w()) for _, w in setup.watchers]
    d = Desk(node, md, setup, binance, bybit)
    try:
        bn = setup.gateway.session("binance", BINANCE)
        by = setup.gateway.session("bybit", BYBIT)
        await until(lambda: bn.health().tradable and by.health().tradable, what="tradable")
        want = {
            "binance": [(D(p), D(q)) for p, q in binance_asks],
            "bybit": [(D(p), D(q)) for p, q in bybit_asks],
            "sim": [(D(p), D(q)) for p, q in sim_asks],
        }
        await until(lambda: d.asks() == want, what=f"the consolidated book {want}, not {d.asks()}")
        bids = {
            "binance": [(D(p), D(q)) for p, q in binance_bids],
            "bybit": [(D(p), D(q)) for p, q in bybit_bids],
        }
        await until(lambda: d.bids() == {k: v for k, v in bids.items() if v}, what="the bids")
        yield d
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await setup.gateway.stop()
        await binance.stop()
        await bybit.stop()


def done(d: Desk, algo_id: str) -> Any:
    view = d.node.algo(algo_id)
    return view if view.status != "WORKING" else None


def test_the_consolidated_book_holds_the_levels_of_both_fakes_and_the_built_in_exchange(
    tmp_path: Path,
) -> None:
    async def main() -> None:
        async with desk(
            tmp_path,
            binance_asks=[("60000.00", "0.1"), ("60050.00", "0.2")],
            bybit_asks=[("60005.00", "0.1")],
            sim_asks=[("60010.00", "0.1")],
            fees=fee_yaml("0.001", "0.001"),
        ) as d:
            asks = d.md.book.levels("BTC/USDT", "ask", depth=10)
            assert [(a.venue, a.symbol, a.price, a.qty) for a in asks] == [
                ("binance", BN_SYM, D("60000.00"), D("0.1")),
                ("bybit", BY_SYM, D("60005.00"), D("0.1")),
                ("sim", "BTC/USDT", D("60010.00"), D("0.1")),
                ("binance", BN_SYM, D("60050.00"), D("0.2")),
            ]
            # A new Bybit level reaches the consolidated book through the Bybit stream.
            d.bybit.venue.house_quote("spot", "BTCUSDT", "Sell", D("60001.00"), D("0.3"))
            await until(
                lambda: d.asks().get("bybit", [])[:1] == [(D("60001.00"), D("0.3"))],
                what="the new Bybit level",
            )
            rb = d.md.route_book("BTC/USDT", "desk", "sor")
            assert sorted(b.symbol for b in rb.books) == ["BTC/USDT", BN_SYM, BY_SYM]

    asyncio.run(main())


def test_smart_sends_to_the_best_fee_adjusted_price_not_the_best_raw_price(
    tmp_path: Path,
) -> None:
    async def main() -> None:
        # Binance shows the lowest ask, but this account pays 30 bps there: Bybit (10 bps) wins.
        async with desk(
            tmp_path,
            binance_asks=[("60000.00", "0.1")],
            bybit_asks=[("60050.00", "0.1")],
            sim_asks=[("60200.00", "0.1")],
            fees=fee_yaml("0.003", "0.001"),
        ) as d:
            view = d.node.submit_algo(
                "desk", "BTC/USDT", "BUY", "0.05", "SMART", venue="SMART", strategy="sor"
            )
            (routed,) = d.events(ev.AlgoRouted)
            decision = routed.decision
            assert [(a.venue, a.symbol, a.account_id, a.qty) for a in decision.allocations] == [
                ("bybit", BY_SYM, BYBIT, D("0.05"))
            ]
            seen = {(s.venue, s.account_id): s for s in decision.seen}
            assert seen[("binance", BINANCE)].adjusted_px == D("60000.00") * D("1.003")
            assert seen[("bybit", BYBIT)].adjusted_px == D("60050.00") * D("1.001")
            final = await until(lambda: done(d, view.algo_id), what="the parent done")
            assert final.status == "DONE" and final.cum_qty == D("0.05")
            assert final.avg_px == D("60050.00")
            (child,) = final.children
            assert (child.symbol, child.account_id) == (BY_SYM, BYBIT)

    asyncio.run(main())


def test_a_split_over_three_venues_fills_at_the_cost_the_book_predicted(tmp_path: Path) -> None:
    async def main() -> None:
        async with desk(
            tmp_path,
            binance_asks=[("60000.00", "0.1")],
            bybit_asks=[("60005.00", "0.1")],
            sim_asks=[("60010.00", "0.1")],
            fees=fee_yaml("0.001", "0.001"),
        ) as d:
            view = d.node.submit_algo(
                "desk", "BTC/USDT", "BUY", "0.25", "SMART", venue="SMART", strategy="sor"
            )
            (routed,) = d.events(ev.AlgoRouted)
            decision = routed.decision
            assert [(a.symbol, a.account_id, a.qty) for a in decision.allocations] == [
                (BN_SYM, BINANCE, D("0.1")),
                (BY_SYM, BYBIT, D("0.1")),
                ("BTC/USDT", "desk", D("0.05")),
            ]
            assert decision.unallocated == 0
            final = await until(lambda: done(d, view.algo_id), what="the parent done")
            assert final.status == "DONE"
            by_symbol = {c.symbol: c for c in final.children}
            for a in decision.allocations:
                child = by_symbol[a.symbol]
                assert child.cum_qty == a.qty
                assert child.avg_px == a.expected_avg_px  # the books did not move
            # The parent's average = the decision's expected average; the cost with the taker
            # fees (every venue charges 10 bps here) = the expected cost.
            assert final.cum_qty == D("0.25") and final.leaves_qty == 0
            assert final.avg_px == decision.expected_avg_px
            cost = sum(c.cum_qty * c.avg_px * D("1.001") for c in final.children)
            assert cost == decision.expected_cost
            # What each venue saw is what filled there.
            mine = [o for o in d.bybit.venue.orders.values() if not o.house]
            assert [o.cum_qty for o in mine] == [D("0.1")]

    asyncio.run(main())


def test_a_venue_failing_mid_route_sends_the_remainder_to_the_others(tmp_path: Path) -> None:
    async def main() -> None:
        async with desk(
            tmp_path,
            binance_asks=[("60000.00", "0.1"), ("60020.00", "0.5")],
            bybit_asks=[("60005.00", "0.1")],
            sim_asks=[("60010.00", "0.1")],
            fees=fee_yaml("0.001", "0.001"),
        ) as d:
            # Bybit fails the order it gets (the account's USDT is gone at the venue; Atlas
            # still sees the balance it last read): its child is rejected after the route.
            d.bybit.venue.accounts["desk"].wallet["USDT"] = D("0")
            view = d.node.submit_algo(
                "desk",
                "BTC/USDT",
                "BUY",
                "0.25",
                "SMART",
                venue="SMART",
                strategy="sor",
                remainder="REROUTE",
                # A child resting unfilled this long is canceled and its rest routed again
                # (the venue's book stream may lag its own fills: a re-route can meet a level
                # that is already gone).
                reroute_after_ms=500,
            )
            final = await until(lambda: done(d, view.algo_id), what="the parent done")
            routes = d.events(ev.AlgoRouted)
            assert [(a.symbol, a.qty) for a in routes[0].decision.allocations] == [
                (BN_SYM, D("0.1")),
                (BY_SYM, D("0.1")),
                ("BTC/USDT", D("0.05")),
            ]
            rerouted = d.events(ev.AlgoRerouted)
            assert (rerouted[0].reason, rerouted[0].qty, rerouted[0].policy) == (
                "REJECTED",
                D("0.1"),
                "REROUTE",
            )
            # Every re-route leaves out the venue account that rejected.
            assert len(routes) >= 2
            for route in routes[1:]:
                assert BY_SYM not in {a.symbol for a in route.decision.allocations}
                assert ("bybit", "VENUE_REJECTED") in {
                    (s.venue, s.skipped) for s in route.decision.seen if s.account_id == BYBIT
                }
            # The parent = the sum of its children; nothing lost or doubled.
            assert final.status == "DONE"
            assert final.cum_qty == sum(c.cum_qty for c in final.children) == D("0.25")
            assert final.leaves_qty == 0 and final.working_qty == 0
            by_venue: dict[str, Decimal] = {}
            for c in final.children:
                by_venue[c.symbol] = by_venue.get(c.symbol, D(0)) + c.cum_qty
            assert by_venue == {
                BN_SYM: D("0.15"),  # 0.1 at 60000, then 0.05 at 60020
                BY_SYM: D("0"),
                "BTC/USDT": D("0.1"),  # all the sim showed
            }
            rejected = [c for c in final.children if c.symbol == BY_SYM]
            assert [c.status.value for c in rejected] == ["REJECTED"]
            notional = D("0.1") * D("60000") + D("0.1") * D("60010") + D("0.05") * D("60020")
            assert final.avg_px == notional / D("0.25")
            # The venues agree: Binance filled 0.15 for the desk, Bybit nothing.
            at_binance = [o for o in d.binance.venue.orders.values() if o.account == "desk"]
            assert sum(o.executed for o in at_binance) == D("0.15")
            assert all(o.cum_qty == 0 for o in d.bybit.venue.orders.values() if not o.house)

    asyncio.run(main())


def test_a_child_over_its_accounts_risk_limit_is_refused_and_shown_on_the_parent(
    tmp_path: Path,
) -> None:
    async def main() -> None:
        async with desk(
            tmp_path,
            binance_asks=[("60000.00", "0.1")],
            bybit_asks=[("60005.00", "0.1")],
            sim_asks=[("60010.00", "0.1")],
            fees=fee_yaml("0.001", "0.001"),
        ) as d:
            d.node.set_limits("account", BYBIT, actor="risk", max_order_qty=D("0.05"))
            view = d.node.submit_algo(
                "desk", "BTC/USDT", "BUY", "0.25", "SMART", venue="SMART", strategy="sor"
            )
            (refused,) = d.events(ev.AlgoChildRefused)
            assert (refused.symbol, refused.qty) == (BY_SYM, D("0.1"))
            assert refused.reason == "ORDER_QTY_TOO_LARGE"
            parent = d.node.algo(view.algo_id)
            assert [(r.reason, r.order_id) for r in parent.refused] == [
                ("ORDER_QTY_TOO_LARGE", refused.order_id)
            ]
            assert d.node.order(refused.order_id).status.value == "DENIED"
            # Nothing of the refused child reached Bybit; the others filled.
            await until(
                lambda: d.node.algo(view.algo_id).cum_qty == D("0.15"), what="the others filled"
            )
            assert [o for o in d.bybit.venue.orders.values() if not o.house] == []
            parent = d.node.algo(view.algo_id)
            assert parent.leaves_qty == D("0.1")

    asyncio.run(main())
