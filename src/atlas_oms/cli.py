"""The ``atlas`` command: ``demo``, ``replay``, ``audit``, ``risk``, ``futures``, ``kill``,
``transfer``, ``bench``, ``serve`` and ``version``; and, as a client of a running server
(:mod:`atlas_oms.client`), ``order``, ``positions``, ``balances`` and ``kill --url``.

Every sub-command goes through the library API (:class:`~atlas_oms.runtime.node.Node`) or, for
``replay``, through the journal and a fresh :class:`~atlas_oms.core.engine.Engine`, exactly as a
restart would; ``audit`` reads the journal read-only through :mod:`atlas_oms.store.audit`. The
``risk`` and ``futures`` actions, ``kill`` and ``transfer`` open a node on the journal, do one
action, print what it did and close; a refusal is printed as ``refused: REASON: sentence`` with
exit code 2.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sqlite3
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from importlib import metadata
from pathlib import Path
from typing import Any, TypeVar

import msgspec

from atlas_oms import client
from atlas_oms.core.derivatives.formulas import max_notional
from atlas_oms.core.engine import Engine
from atlas_oms.core.views import OrderView
from atlas_oms.derivatives_report import (
    case_json,
    case_text,
    grouped,
    liquidation_cases,
    money,
    pct,
    position_json,
    positions_table,
    price,
    tiers_json,
    tiers_table,
)
from atlas_oms.model import events as ev
from atlas_oms.model.enums import OrderType, PositionSide, Side, TimeInForce, TrailingOffsetType
from atlas_oms.model.instrument import Instrument
from atlas_oms.model.margin import tiers_from_rows
from atlas_oms.model.risk import (
    BreakerConfig,
    MarketStatus,
    RiskLimits,
    Scope,
    TradingState,
    explicit,
)
from atlas_oms.runtime.clock import LiveClock, ManualClock
from atlas_oms.runtime.node import CommandRefused, Node
from atlas_oms.runtime.snapshots import recover
from atlas_oms.store.audit import AuditRecord, audit_trail, write_audit
from atlas_oms.store.base import JournalError
from atlas_oms.store.opener import open_journal
from atlas_oms.store.reference import load_brackets
from atlas_oms.tables import fmt, fmt_ns, render

DEFAULT_DEMO_JOURNAL = "atlas-data/demo.db"
#: The demo's clock starts at the US cash open on the first Monday of 2026 (14:30 UTC).
DEMO_START_NS = int(datetime(2026, 1, 5, 14, 30, tzinfo=UTC).timestamp()) * 1_000_000_000
SECOND = 1_000_000_000
#: The market maker's ladder: quantity and distance from the mid, per level and side.
LADDER = (("0.5", 10), ("0.75", 25), ("1", 50), ("1.5", 100))

BTC = "BTC/USDT"
PERP = "BTC/USDT:USDT"
AAPL = "AAPL"
ETH_PERP = "ETH/USDT:USDT"
#: Binance's ETHUSDT leverage brackets, as in examples/binance_leverage_brackets.json: notional
#: floor, cap, maintenance margin rate, maintenance amount ("cum") and maximum leverage.
ETH_BRACKETS = (
    (0, 10_000, "0.005", 0, 100),
    (10_000, 100_000, "0.0065", 15, 75),
    (100_000, 500_000, "0.01", 365, 50),
    (500_000, 1_000_000, "0.02", 5_365, 25),
    (1_000_000, 2_000_000, "0.05", 35_365, 10),
    (2_000_000, 5_000_000, "0.1", 135_365, 5),
    (5_000_000, 10_000_000, "0.125", 260_365, 4),
    (10_000_000, 20_000_000, "0.15", 510_365, 3),
    (20_000_000, 50_000_000, "0.25", 2_510_365, 2),
    (50_000_000, 100_000_000, "0.5", 15_010_365, 1),
)

_S = TypeVar("_S", bound=msgspec.Struct)


def version() -> str:
    """The installed package's version (the source tree's when not installed)."""
    try:
        return metadata.version("atlas-oms")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "0.0.0+unknown"


# ---------------------------------------------------------------------------------------- demo
class _Demo:
    """The scripted demo session: one node on a SQLite journal, a manual clock, a story."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.clock = ManualClock(DEMO_START_NS)
        self.node = Node(open_journal(str(path)), clock=self.clock)

    # -- output helpers
    def step(self, text: str, seconds: int = 1) -> None:
        self.clock.advance(seconds * SECOND)
        ts = self.clock.now()
        print(f"{datetime.fromtimestamp(ts // SECOND, tz=UTC):%H:%M:%S}  {text}")

    @staticmethod
    def note(text: str) -> None:
        print(f"          {text}")

    @staticmethod
    def section(title: str) -> None:
        print(f"== {title}")

    def outcome(self, o: OrderView) -> str:
        text = f"#{o.order_id} {o.status}"
        if o.cum_qty:
            text += f", filled {fmt(o.cum_qty)} @ avg {fmt(o.avg_px, 2)}"
            if o.leaves_qty and o.status not in ("CANCELED", "FILLED", "EXPIRED"):
                text += f", {fmt(o.leaves_qty)} resting"
        if o.reason:
            text += f" [{o.reason}]"
        return text

    def depth(self, symbol: str, levels: int = 5) -> None:
        book = self.node.book(symbol, levels)
        asks = list(reversed(book["asks"]))
        rows: list[list[Any]] = [["", "", fmt(px), fmt(qty)] for px, qty in asks]
        rows += [[fmt(qty), fmt(px), "", ""] for px, qty in book["bids"]]
        print(render(["bid qty", "bid", "ask", "ask qty"], rows))

    # -- the story
    def run(self) -> str:
        n = self.node
        print(f"Atlas OMS {version()} demo: journal {self.path}")
        self.section("Set-up: three instruments on the built-in exchange sim")
        instruments = [
            Instrument.spot(
                BTC, tick_size="0.01", lot_size="0.0001", maker_fee="0.0005", taker_fee="0.001"
            ),
            Instrument.perpetual(
                PERP, tick_size="0.1", lot_size="0.001", maker_fee="0.0002", taker_fee="0.0005"
            ),
            Instrument.equity(AAPL, tick_size="0.01", lot_size="1"),
        ]
        for inst in instruments:
            n.add_instrument(inst)
        print(
            render(
                ["symbol", "kind", "tick", "lot", "maker", "taker", "settles"],
                [
                    [
                        i.symbol,
                        i.kind,
                        i.tick_size,
                        i.lot_size,
                        i.maker_fee,
                        i.taker_fee,
                        i.settle_asset,
                    ]
                    for i in instruments
                ],
            )
        )
        self.step("accounts: market maker mm (sub-account mm-perp), traders alice and bob")
        n.open_account("mm", name="Market maker")
        n.open_account("mm-perp", parent_id="mm", name="Market maker, perpetual desk")
        n.open_account("alice", name="Alice")
        n.open_account("bob", name="Bob")
        deposits = {
            "mm": [("USDT", 2_000_000), ("BTC", 40), ("USD", 250_000), ("AAPL", 2_000)],
            "mm-perp": [("USDT", 500_000)],
            "alice": [("USDT", 300_000), ("BTC", 1), ("USD", 10_000)],
            "bob": [("USDT", 100_000), ("BTC", 6)],
        }
        for account, assets in deposits.items():
            for asset, amount in assets:
                n.deposit(account, asset, amount)
            self.note(
                f"deposit {account}: "
                + ", ".join(f"{amount:,} {asset}" for asset, amount in assets)
            )
        n.set_leverage("mm-perp", PERP, 20)
        n.set_leverage("bob", PERP, 10)
        self.note("leverage on BTC/USDT:USDT: mm-perp 20x, bob 10x")

        self.section("The market maker quotes")
        self.step("reference prices: BTC/USDT last 64,000; perpetual mark 64,010; AAPL last 240")
        n.update_prices(BTC, last="64000")
        n.update_prices(PERP, last="64010", mark="64010")
        n.update_prices(AAPL, last="240")
        self.mid = Decimal(64000)
        self.ladder: list[tuple[Side, Decimal, int, int]] = []  # side, qty, offset, order id
        for qty, off in LADDER:
            for side in (Side.BUY, Side.SELL):
                px = Decimal(64000 - off if side is Side.BUY else 64000 + off)
                order = n.submit("mm", BTC, side, OrderType.LIMIT, qty, px)
                self.ladder.append((side, Decimal(qty), off, order.order_id))
        n.buy("mm-perp", PERP, "2", "64005")
        n.sell("mm-perp", PERP, "2", "64015")
        n.buy("mm", AAPL, 300, "239.95")
        n.sell("mm", AAPL, 300, "240.05")
        self.step("mm rests a ladder of 4 bids and 4 asks on BTC/USDT (and quotes PERP and AAPL)")
        self.depth(BTC)

        self.note(f"snapshot of the whole state written at seq {n.snapshot()}")
        self.section("Alice: a limit buy that walks the asks, then a cancel/replace")
        self.step("alice: BUY 1.5 BTC/USDT LIMIT 64,030")
        first = n.buy("alice", BTC, "1.5", "64030")
        self.note(f"-> {self.outcome(first)} (0.5 @ 64,010 + 0.75 @ 64,025, rest at 64,030)")
        self.step(f"alice: modify #{first.order_id} -> qty 1.6, price 64,000 (joins the bid)")
        mod = n.modify("alice", first.order_id, qty="1.6", price="64000")
        self.note(
            f"-> #{mod.order_id} {mod.status}: leaves {fmt(mod.leaves_qty)} @ {fmt(mod.price)}"
        )

        self.section("Bob: a market sell that walks the bids")
        self.step("bob: SELL 1.2 BTC/USDT MARKET")
        sold = n.sell("bob", BTC, "1.2")
        self.note(f"-> {self.outcome(sold)}")
        self.note(f"alice's #{first.order_id} is now {n.order(first.order_id).status}")

        held = n.balance("alice", "BTC").free
        self.section(f"Alice protects her {fmt(held)} BTC: a 0.1% trailing stop and a stop-limit")
        self.step("alice: SELL 0.5 TRAILING_STOP_MARKET, 0.1% below the highest last")
        trail = n.submit(
            "alice",
            BTC,
            Side.SELL,
            OrderType.TRAILING_STOP_MARKET,
            "0.5",
            trailing_offset="0.1",
            trailing_offset_type=TrailingOffsetType.PERCENT,
        )
        rows = [["submitted", n.engine.state.last[BTC], self._trigger(trail.order_id)]]
        self.step("market data: BTC/USDT rallies to 64,300, dips to 64,260, makes a high at 64,350")
        self.note("(mm re-quotes its ladder around each new last)")
        for last, why in (
            ("64300", "rally: the trail tightens"),
            ("64260", "dip: the trail holds"),
            ("64350", "new high: tightens again"),
        ):
            self.clock.advance(SECOND)
            n.update_prices(BTC, last=last)
            rows.append([why.split(":")[0], last, self._trigger(trail.order_id)])
            self._requote(Decimal(last))
        print(render(["step", "last", "trail trigger"], rows))
        self.step("alice: SELL 0.5 STOP_LIMIT trigger 64,100 limit 64,050")
        stop = n.submit(
            "alice", BTC, Side.SELL, OrderType.STOP_LIMIT, "0.5", "64050", trigger_price="64100"
        )
        self.note(f"-> #{stop.order_id} {stop.status} (held by the engine until its trigger)")
        self.depth(BTC, 4)
        self.step("bob: SELL 2.5 BTC/USDT MARKET (its trade at 64,250 hits alice's trail)")
        dump = n.sell("bob", BTC, "2.5")
        self.note(f"-> bob {self.outcome(dump)}")
        self.note(f"-> alice's trail {self.outcome(n.order(trail.order_id))}")
        self.step("market data: BTC/USDT last 64,080 (alice's stop-limit fires)")
        n.update_prices(BTC, last="64080")
        self.note(f"-> alice's stop {self.outcome(n.order(stop.order_id))}")

        self.section("Time in force and post-only")
        self.step("bob: BUY 1 BTC/USDT LIMIT 64,370 IOC")
        ioc = n.buy("bob", BTC, "1", "64370", tif=TimeInForce.IOC)
        self.note(f"-> {self.outcome(ioc)}")
        self.step("alice: BUY 2 BTC/USDT LIMIT 64,400 FOK (only 1.75 offered up to 64,400)")
        fok = n.buy("alice", BTC, "2", "64400", tif=TimeInForce.FOK)
        self.note(f"-> {self.outcome(fok)}")
        self.step("alice: BUY 0.1 BTC/USDT LIMIT 64,400 post-only (would take)")
        post = n.buy("alice", BTC, "0.1", "64400", post_only=True)
        self.note(f"-> {self.outcome(post)}")

        self.section("Perpetual and equity")
        self.step("bob (10x): BUY 1 BTC/USDT:USDT MARKET")
        perp = n.buy("bob", PERP, "1")
        self.note(f"-> {self.outcome(perp)}")
        self.step("alice: BUY 25 AAPL MARKET")
        eq = n.buy("alice", AAPL, 25)
        self.note(f"-> {self.outcome(eq)}")
        self.step("market data: perpetual mark 64,200; AAPL last 241.50")
        n.update_prices(PERP, last="64200", mark="64200")
        n.update_prices(AAPL, last="241.5")

        self.section("Refusals: reason code and sentence")
        self.step("alice: BUY 0.1 BTC/USDT LIMIT 64,000.005 (off tick)")
        bad = n.buy("alice", BTC, "0.1", "64000.005")
        self.note(f"-> #{bad.order_id} {bad.status} {bad.reason}: {self._message(bad.order_id)}")
        self.step("bob: BUY 10 BTC/USDT LIMIT 64,000 (more than bob can pay)")
        poor = n.buy("bob", BTC, "10", "64000")
        self.note(
            f"-> #{poor.order_id} {poor.status} {poor.reason}: {self._message(poor.order_id)}"
        )
        self.step(f"alice: cancel #{first.order_id} (already filled)")
        try:
            n.cancel("alice", first.order_id)
        except CommandRefused as exc:
            self.note(f"-> refused {exc.reason}: {exc.message}")

        self._report()
        self._risk()
        self._derivatives()
        n.flush()
        digest = n.digest()
        count = n.journal.last_seq
        n.close()
        print(f"events: {count}   digest: {digest}")
        print(f"replay it: atlas replay {self.path}")
        return digest

    def _risk(self) -> None:
        """The risk controls on bob: limits, a trading state, a circuit breaker, a kill switch."""
        n = self.node
        self.section("Risk controls: limits, trading state, circuit breaker, kill switch (bob)")
        last = n.engine.state.last[BTC]
        limits = {"max_order_qty": "1", "price_band_pct": "1", "max_open_orders": 3}
        self.step(
            "ops: limits on account bob: max_order_qty 1, price_band_pct 1, max_open_orders 3"
        )
        n.set_limits("account", "bob", **limits, actor="ops", reason="desk limits for bob")
        self.step("bob: BUY 5 BTC/USDT LIMIT 64,000 (a fat finger)")
        self._denial(n.buy("bob", BTC, "5", "64000"))
        self.step(f"bob: BUY 0.1 BTC/USDT LIMIT 63,000 (2% under the last {fmt(last)})")
        self._denial(n.buy("bob", BTC, "0.1", "63000"))
        self.step("bob: rests 0.1 BTC/USDT bids at 64,000, 63,950 and 63,900, then one at 63,850")
        bids = [n.buy("bob", BTC, "0.1", px) for px in ("64000", "63950", "63900")]
        self.note("-> " + ", ".join(self.outcome(b) for b in bids))
        self._denial(n.buy("bob", BTC, "0.1", "63850"))
        self.step(f"bob: cancel #{bids[-1].order_id} (two bids stay on the book)")
        n.cancel("bob", bids[-1].order_id)

        self.step("ops: account bob REDUCING (only orders that reduce his positions)")
        n.set_trading_state(
            "account", "bob", "REDUCING", actor="ops", reason="over his risk budget"
        )
        self.step("bob: BUY 0.2 BTC/USDT:USDT LIMIT 64,015 (adds to his long 1)")
        self._denial(n.buy("bob", PERP, "0.2", "64015"))
        self.step("bob: SELL 0.5 BTC/USDT:USDT LIMIT 64,005 (reduces it)")
        self.note(f"-> {self.outcome(n.sell('bob', PERP, '0.5', '64005'))}")
        self.step("ops: account bob ACTIVE again")
        n.set_trading_state("account", "bob", "ACTIVE", actor="ops", reason="back within budget")

        self.step("ops: circuit breaker on account bob: 2 losing trades in a row trip it")
        breaker = BreakerConfig(max_consecutive_losses=2)
        n.set_limits(
            "account", "bob", **limits, breaker=breaker, actor="ops", reason="loss streaks"
        )
        for i in (1, 2):
            self.step(f"bob: round trip {i} on the perpetual: BUY 0.1 @ 64,015, SELL 0.1 @ 64,005")
            n.buy("bob", PERP, "0.1", "64015")
            sold = n.sell("bob", PERP, "0.1", "64005")
            report = n.breaker_status("account", "bob") or {}
            self.note(
                f"-> #{sold.order_id} {sold.status}: a loss; consecutive losses "
                f"{report.get('consecutive_losses')}, breaker {report.get('state')}"
            )
        self.step("bob: BUY 0.1 BTC/USDT:USDT LIMIT 64,015")
        self._denial(n.buy("bob", PERP, "0.1", "64015"))
        self.step("ops: reset bob's breaker at once")
        self._refused(lambda: n.reset_breaker("account", "bob", actor="ops", reason="looked at it"))
        print(breaker_table(n.risk_status("bob")["circuit_breakers"], self.clock.now()))

        open_ids = [o.order_id for o in n.orders("bob", open_only=True)]
        self.step(f"ops: kill switch on account bob (open orders {open_ids})")
        events = n.kill(
            "account", "bob", actor="ops", reason="loss streak: stop bob, cancel his orders"
        )
        canceled = [e.order_id for e in events if isinstance(e, ev.OrderCanceled)]
        self.note("-> canceled: " + ", ".join(self.outcome(n.order(i)) for i in canceled))
        self.step("bob: SELL 0.1 BTC/USDT:USDT LIMIT 64,005")
        self._denial(n.sell("bob", PERP, "0.1", "64005"))
        self.step("ops: reset the kill switch without a reason")
        self._refused(lambda: n.reset_kill("account", "bob", actor="ops", reason=""))
        self.step("ops: reset the kill switch, reason: reviewed with bob")
        n.reset_kill("account", "bob", actor="ops", reason="reviewed with bob")
        self.note("-> kill switch off; bob's breaker is still open until its reset")
        trail = n.audit("bob")
        print(f"Audit trail of bob: last 12 of {len(trail)} events")
        print(audit_table(trail[-12:]))

    def _derivatives(self) -> None:
        """The perpetual-futures venue: tiers, isolated and cross margin, a liquidation that goes
        through the book, the insurance fund and ADL; then the money is counted."""
        n = self.node
        self.section("Derivatives venue: margin tiers, isolated and cross margin, a liquidation")
        self.step(f"ops: list {ETH_PERP} and set its margin tiers (Binance's ETHUSDT brackets)")
        n.add_instrument(
            Instrument.perpetual(
                ETH_PERP, tick_size="0.01", lot_size="0.001", maker_fee="0.0002", taker_fee="0.0005"
            )
        )
        tiers = tiers_from_rows(ETH_BRACKETS)
        n.set_margin_tiers(ETH_PERP, tiers, actor="ops", reason="Binance ETHUSDT brackets")
        print(tiers_table(tiers[:4]))
        self.note(f"(and {len(tiers) - 4} more tiers, up to {grouped(tiers[-1].cap)} USDT at 1x)")
        deposits = {"mm-eth": 200_000, "carol": 1_000, "dave": 5_000, "erin": 2_000}
        self.step("accounts: mm-eth (sub-account of mm), carol, dave and erin; an insurance fund")
        n.open_account("mm-eth", parent_id="mm", name="Market maker, ETH perpetual desk")
        for account in ("carol", "dave", "erin"):
            n.open_account(account, name=account.capitalize())
        for account, amount in deposits.items():
            n.deposit(account, "USDT", amount)
        self.note("deposit USDT: " + ", ".join(f"{a} {v:,}" for a, v in deposits.items()))
        seed = Decimal(100)
        n.deposit_insurance_fund("USDT", seed, actor="ops", reason="seed the USDT fund")
        self.note(f"ops: the USDT insurance fund starts with {fmt(seed)}")
        self.step(f"carol: ISOLATED margin on {ETH_PERP}, then leverage 150x")
        n.set_margin_mode("carol", ETH_PERP, "ISOLATED")
        self._refused(lambda: n.set_leverage("carol", ETH_PERP, 150))
        self.step("leverage: carol 50x (isolated); dave 10x, erin 20x, mm-eth 10x (cross)")
        for account, leverage in (("carol", 50), ("dave", 10), ("erin", 20), ("mm-eth", 10)):
            n.set_leverage(account, ETH_PERP, leverage)
        self.step("mark 3,000; mm-eth offers 7 @ 3,000 and bids 4 @ 2,945, 2 @ 2,938, 20 @ 2,800")
        n.update_prices(ETH_PERP, last="3000", mark="3000")
        n.sell("mm-eth", ETH_PERP, "7", "3000")
        for qty, px in (("4", "2945"), ("2", "2938"), ("20", "2800")):
            n.buy("mm-eth", ETH_PERP, qty, px)
        self.step("erin: SELL 8 ETH/USDT:USDT LIMIT 3,000 (joins the offer)")
        self.note(f"-> {self.outcome(n.sell('erin', ETH_PERP, '8', '3000'))}")
        self.step("carol: BUY 10 MARKET (30,000 USDT of notional: 600 of margin at 50x)")
        self.note(f"-> {self.outcome(n.buy('carol', ETH_PERP, '10'))}")
        self.step("dave: BUY 5 MARKET")
        self.note(f"-> {self.outcome(n.buy('dave', ETH_PERP, '5'))}")
        ticks = {ETH_PERP: n.engine.state.instruments[ETH_PERP].tick_size}

        def positions() -> str:
            views = [v for a in deposits for v in n.positions(a) if v.symbol == ETH_PERP]
            return positions_table(views, ticks)

        print(positions())
        carol = n.position("carol", ETH_PERP)
        liq = price(carol.liquidation_price if carol else None, ticks[ETH_PERP])
        self.step(
            f"market data: ETH/USDT:USDT mark drops to 2,950 (carol's liquidation price {liq})"
        )
        for case in liquidation_cases(n.update_prices(ETH_PERP, mark="2950")):
            print(case_text(case, ticks))
        self.note("-> 4 sold into mm-eth's bid above carol's bankruptcy price (the surplus to the")
        self.note(
            "   fund), 2 below it (the fund pays the difference), 4 deleveraged against erin,"
        )
        self.note("   the short ranked first by profit x leverage")
        print(positions())
        self._conservation(deposits, seed)

    def _conservation(self, deposits: dict[str, int], seed: Decimal) -> None:
        """What came in equals wallets + unrealized P&L + insurance fund + fees: nothing is made
        or lost by a liquidation."""
        n = self.node
        rows: list[list[Any]] = []
        total_in = Decimal(seed)
        total_now = Decimal(0)
        fees = Decimal(0)
        for account, amount in deposits.items():
            wallet = n.balance(account, "USDT").total
            upnl = sum(
                (p.unrealized_pnl for p in n.positions(account) if p.symbol == ETH_PERP),
                Decimal(0),
            )
            fees += sum((f.fee for f in n.fills(account) if f.symbol == ETH_PERP), Decimal(0))
            equity = wallet + upnl
            cells = [money(v, group=True) for v in (wallet, upnl, equity)]
            rows.append([account, grouped(Decimal(amount)), *cells])
            total_in += amount
            total_now += equity
        fund = n.insurance_fund("USDT")
        rows.append(
            ["insurance fund", grouped(seed), money(fund, group=True), "", money(fund, group=True)]
        )
        rows.append(["fees to the venue", "", "", "", money(fees, group=True)])
        total_now += fund + fees
        rows.append(["total", grouped(total_in), "", "", money(total_now, group=True)])
        self.section("Derivatives venue: where the USDT is (equity = wallet + unrealized P&L)")
        print(render(["", "paid in", "wallet", "unreal. P&L", "equity"], rows, align="lrrrr"))
        verdict = "conserved" if total_now == total_in else f"off by {fmt(total_now - total_in)}"
        self.note(
            f"-> {grouped(total_in)} USDT in, {money(total_now, group=True)} accounted for: {verdict}"
        )

    def _denial(self, o: OrderView) -> None:
        self.note(f"-> #{o.order_id} {o.status} {o.reason}: {self._message(o.order_id)}")

    def _refused(self, action: Callable[[], object]) -> None:
        try:
            action()
        except CommandRefused as exc:
            self.note(f"-> refused {exc.reason}: {exc.message}")
        else:  # pragma: no cover - the story expects a refusal
            self.note("-> done")

    # -- pieces
    def _trigger(self, order_id: int) -> str:
        return fmt(self.node.engine.state.orders[order_id].trigger_price)

    def _message(self, order_id: int) -> str:
        for event in self.node.events(max(1, self.node.engine.seq - 5)):
            if getattr(event, "order_id", None) == order_id and hasattr(event, "message"):
                return event.message  # type: ignore[no-any-return]
        return ""

    def _requote(self, mid: Decimal) -> None:
        """The market maker moves its ladder to ``mid``: re-prices live orders, refills filled ones.

        The side moving away from the other goes first, so the ladder never crosses itself.
        """
        n = self.node
        rising = mid > self.mid
        self.mid = mid
        order = (Side.SELL, Side.BUY) if rising else (Side.BUY, Side.SELL)
        for first_side in order:
            for i, (side, qty, off, order_id) in enumerate(self.ladder):
                if side is not first_side:
                    continue
                px = mid - off if side is Side.BUY else mid + off
                o = n.engine.state.orders[order_id]
                if o.is_live:
                    if px != o.price or o.leaves_qty != qty:
                        n.modify("mm", order_id, price=px, qty=o.cum_qty + qty)
                else:
                    fresh = n.submit("mm", BTC, side, OrderType.LIMIT, qty, px)
                    self.ladder[i] = (side, qty, off, fresh.order_id)

    def _report(self) -> None:
        n = self.node
        self.section("Blotter")
        rows = []
        for o in n.orders():
            price = fmt(o.price)
            if o.order_type not in (OrderType.LIMIT, OrderType.MARKET) and o.trigger_price:
                stop = f"stop {fmt(o.trigger_price)}"
                price = f"{price} {stop}" if o.price is not None else stop
            rows.append(
                [
                    o.order_id,
                    o.account_id,
                    o.symbol,
                    o.side,
                    o.order_type + ("/" + o.tif if o.tif != "GTC" else ""),
                    o.qty,
                    price,
                    o.status,
                    o.cum_qty,
                    fmt(o.avg_px, 2),
                    o.reason or "",
                ]
            )
        print(
            render(
                [
                    "id",
                    "account",
                    "symbol",
                    "side",
                    "type",
                    "qty",
                    "price",
                    "status",
                    "filled",
                    "avg px",
                    "reason",
                ],
                rows,
            )
        )
        self.section("Fills (one row per trade: buyer and seller order, M = maker)")
        trades: dict[str, dict[str, Any]] = {}
        for f in n.fills():
            t = trades.setdefault(f.trade_id, {"symbol": f.symbol, "qty": f.last_qty})
            t["px"] = f.last_px
            t[f.side] = f"#{f.order_id} {f.account_id}" + (
                " M" if f.liquidity_side == "MAKER" else ""
            )
            t[f.side + "fee"] = f"{fmt(f.fee)} {f.fee_asset}"
        print(
            render(
                ["trade", "symbol", "qty", "price", "buyer", "buyer fee", "seller", "seller fee"],
                [
                    [
                        k,
                        t["symbol"],
                        t["qty"],
                        t["px"],
                        t["BUY"],
                        t["BUYfee"],
                        t["SELL"],
                        t["SELLfee"],
                    ]
                    for k, t in trades.items()
                ],
            )
        )
        self.section("Positions (FIFO lots; unrealized at mark or last)")
        rows = []
        for p in n.positions():
            lots = ", ".join(f"{fmt(lot.qty)}@{fmt(lot.price)}" for lot in p.lots[:3])
            if len(p.lots) > 3:
                lots += f", +{len(p.lots) - 3}"
            rows.append(
                [
                    p.account_id,
                    p.symbol,
                    p.qty,
                    fmt(p.avg_entry_px, 2),
                    fmt(p.mark_px),
                    fmt(p.realized_pnl, 2),
                    fmt(p.unrealized_pnl, 2),
                    fmt(p.fees, 4),
                    lots,
                ]
            )
        print(
            render(
                [
                    "account",
                    "symbol",
                    "qty",
                    "avg entry",
                    "mark",
                    "realized",
                    "unreal.",
                    "fees",
                    "lots",
                ],
                rows,
            )
        )
        self.section("Balances")
        print(
            render(
                ["account", "asset", "total", "locked", "free"],
                [
                    [b.account_id, b.asset, fmt(b.total, 8), fmt(b.locked, 8), fmt(b.free, 8)]
                    for b in n.balances()
                ],
            )
        )


def _fresh(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm", "-journal"):
        candidate = Path(f"{path}{suffix}")
        if candidate.exists():
            candidate.unlink()


def cmd_demo(args: argparse.Namespace) -> int:
    path = Path(args.journal)
    _fresh(path)
    _Demo(path).run()
    return 0


# -------------------------------------------------------------------------------------- replay
def replay(path: str, *, full: bool = False) -> dict[str, Any]:
    """Rebuild an engine from the journal at ``path`` (read-only); return what happened."""
    started = time.perf_counter()
    journal = open_journal(path, readonly=True)
    try:
        engine = Engine()
        result = recover(engine, journal, use_snapshot=not full)
        snapshot_seq = result.snapshot_seq
        count = result.events_replayed
        recovery = journal.recovery
    finally:
        journal.close()
    elapsed = time.perf_counter() - started
    return {
        "journal": path,
        "snapshot_seq": snapshot_seq,
        "events_replayed": count,
        "last_seq": engine.seq,
        "orders": engine.state.next_order_id - 1,
        "snapshot_note": result.snapshot_note,
        "recovery": {
            "clean": recovery.clean,
            "events_recovered": recovery.events_recovered,
            "last_seq": recovery.last_seq,
            "discarded_bytes": recovery.discarded_bytes,
            "discarded_records": recovery.discarded_records,
            "reason": recovery.reason,
            "detail": recovery.detail,
            "kept_at": recovery.kept_at,
        },
        "elapsed_s": round(elapsed, 6),
        "digest": engine.digest(),
    }


def cmd_replay(args: argparse.Namespace) -> int:
    if not Path(args.path).exists():
        print(f"atlas replay: no journal at {args.path}", file=sys.stderr)
        return 2
    try:
        result = replay(args.path, full=args.full)
    except JournalError as exc:
        print(f"atlas replay: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(result))
        return 0
    rec = result["recovery"]
    print(f"journal:         {result['journal']}")
    if result["snapshot_seq"]:
        print(f"snapshot:        seq {result['snapshot_seq']}")
    else:
        print("snapshot:        none used (replayed from seq 1)")
    print(f"events replayed: {result['events_replayed']}")
    print(f"last seq:        {result['last_seq']}")
    if rec["clean"]:
        print(f"recovery:        clean ({rec['events_recovered']} events intact)")
    else:
        print(
            f"recovery:        {rec['reason']}: {rec['detail']} "
            f"(discarded {rec['discarded_records']} records, {rec['discarded_bytes']} bytes"
            + (f"; kept at {rec['kept_at']})" if rec["kept_at"] else ")")
        )
    rate = result["events_replayed"] / result["elapsed_s"] if result["elapsed_s"] else 0
    print(f"elapsed:         {result['elapsed_s'] * 1000:.1f} ms ({rate:,.0f} events/s)")
    print(f"digest: {result['digest']}")
    return 0


# --------------------------------------------------------------------------------------- audit
AUDIT_HEADERS = (
    "seq",
    "time",
    "event",
    "order",
    "symbol",
    "side",
    "qty",
    "price",
    "status/reason",
    "actor",
)


def read_audit(
    path: str, account_id: str, *, include_subaccounts: bool = False
) -> list[AuditRecord]:
    """The audit trail of ``account_id`` in the journal at ``path``, opened read-only."""
    journal = open_journal(path, readonly=True)
    try:
        return audit_trail(journal.read(), account_id, include_subaccounts=include_subaccounts)
    finally:
        journal.close()


def audit_table(records: Sequence[AuditRecord], *, with_account: bool = False) -> str:
    """The trail as a text table; ``with_account`` adds the account column (sub-account trails)."""
    headers = list(AUDIT_HEADERS)
    if with_account:
        headers.insert(3, "account")
    rows = []
    for r in records:
        row: list[Any] = [
            r.seq,
            fmt_ns(r.ts_event),
            r.event,
            r.order_id,
            r.symbol,
            r.side,
            _decimal(r.qty),
            _decimal(r.price),
            r.status_or_reason,
            r.actor,
        ]
        if with_account:
            row.insert(3, r.account_id)
        rows.append(["" if cell is None else cell for cell in row])
    return render(headers, rows)


def _decimal(text: str | None) -> Decimal | str | None:
    """A column's exact decimal string, as a Decimal so the table prints it without exponent."""
    if text is None:
        return None
    try:
        return Decimal(text)
    except ArithmeticError:
        return text


def cmd_audit(args: argparse.Namespace) -> int:
    journal, account = args.journal, args.account
    if not Path(journal).exists():
        print(f"atlas audit: no journal at {journal}", file=sys.stderr)
        return 2
    try:
        records = read_audit(journal, account, include_subaccounts=args.subaccounts)
    except JournalError as exc:
        print(f"atlas audit: {exc}", file=sys.stderr)
        return 1
    # Firm-wide (global) events are in every account's trail; an account is known by its own.
    if not any(r.detail.get("scope") != "global" for r in records):
        print(
            f"atlas audit: unknown account {account!r}: no event in {journal} concerns it",
            file=sys.stderr,
        )
        return 2
    try:
        if args.format == "table":
            scope = f"{account} and its sub-accounts" if args.subaccounts else account
            text = (
                f"Audit trail of {scope} in {journal}: {len(records)} events\n"
                + audit_table(records, with_account=args.subaccounts)
                + "\n"
            )
            if args.out:
                Path(args.out).write_text(text, encoding="utf-8")
            else:
                sys.stdout.write(text)
        elif args.out:
            write_audit(records, args.out, args.format)
        else:
            write_audit(records, sys.stdout, args.format)
    except BrokenPipeError:  # the reader went away (``| head``): stop quietly, as Unix tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except OSError as exc:
        where = args.out or "stdout"
        print(f"atlas audit: cannot write {where}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    if args.out:
        print(f"atlas audit: {len(records)} records of {account} written to {args.out}")
    return 0


# ---------------------------------------------------------------------------------------- risk
class UsageError(Exception):
    """An argument argparse could not judge (a limit's name or value): a sentence, exit code 2."""


RISK_SCOPES = tuple(s.value for s in Scope)
MARKET_CHOICES = (*(s.value for s in MarketStatus), "SCHEDULE")
#: Writing one of these as a value (``--set max_order_qty=none``) means "no limit".
_NONE_WORDS = frozenset({"none", "null"})


class OperatorClock:
    """Wall-clock time for an operator action, never before the journal's last event.

    A journal written on a manual clock (the demo, a backtest) may run ahead of the wall clock;
    an operator's event stamped before the events it follows would read as if it came first.
    """

    def __init__(self, floor_ns: int = 0) -> None:
        self._live = LiveClock()
        self._floor = floor_ns

    def now(self) -> int:
        return max(self._live.now(), self._floor)


def utc(ts: int | None) -> str:
    """An epoch-nanosecond time as ``YYYY-MM-DD HH:MM:SS UTC``; ``-`` for none."""
    return "-" if ts is None else fmt_ns(ts)[:19] + " UTC"


def parse_pairs(pairs: Sequence[str], option: str) -> dict[str, str | None]:
    """``KEY=VALUE`` strings as a dict; ``none``/``null`` as the value means None."""
    fields: dict[str, str | None] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key:
            raise UsageError(f"{option} {pair!r}: write KEY=VALUE")
        fields[key] = None if value.lower() in _NONE_WORDS else value
    return fields


def convert_fields(fields: dict[str, Any], cls: type[_S], what: str) -> _S:
    """``fields`` (strings from the command line, or JSON values) as a ``cls``, or a UsageError
    naming the unknown key or the field whose value does not fit."""
    known = cls.__struct_fields__
    unknown = sorted(set(fields) - set(known))
    if unknown:
        raise UsageError(
            f"unknown {what} {', '.join(map(repr, unknown))}; known: {', '.join(known)}"
        )
    try:
        return msgspec.convert(fields, cls, strict=False)
    except msgspec.ValidationError as exc:
        text = str(exc)
        match = re.search(r"^(.*) - at `\$\.([\w.]+)`", text)
        if match is None:
            raise UsageError(f"bad {what}: {text}") from None
        problem, path = match.groups()
        name = path.split(".")[-1]
        value: Any = fields
        for part in path.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        raise UsageError(f"bad value {value!r} for {what} {name}: {problem}") from None


def limits_from_args(args: argparse.Namespace, current: RiskLimits | None) -> RiskLimits:
    """The RiskLimits an ``atlas risk limits`` command line describes."""
    fields: dict[str, Any] = {}
    if args.update and current is not None:
        fields.update(msgspec.to_builtins(current))
    if args.from_file:
        try:
            loaded = json.loads(Path(args.from_file).read_text("utf-8"), parse_float=Decimal)
        except OSError as exc:
            raise UsageError(f"cannot read {args.from_file}: {exc.strerror or exc}") from None
        except ValueError as exc:
            raise UsageError(f"{args.from_file} is not JSON: {exc}") from None
        if not isinstance(loaded, dict):
            raise UsageError(f"{args.from_file} must hold one JSON object of limits")
        fields.update(loaded)
    fields.update(parse_pairs(args.set or (), "--set"))
    if args.breaker:
        breaker = fields.get("breaker")
        merged = dict(breaker) if isinstance(breaker, dict) else {}
        merged.update(parse_pairs(args.breaker, "--breaker"))
        convert_fields(merged, BreakerConfig, "breaker setting")  # names a bad key or value
        fields["breaker"] = merged
    elif isinstance(fields.get("breaker"), dict):
        convert_fields(fields["breaker"], BreakerConfig, "breaker setting")
    return convert_fields(fields, RiskLimits, "limit")


def limit_items(limits: RiskLimits) -> list[tuple[str, str]]:
    """The limits a scope sets (defaults left out), as (name, value) rows; the breaker in one row."""
    items = explicit(limits)
    breaker: Any = items.pop("breaker", None)
    rows = [(k, _show(v)) for k, v in items.items()]
    if limits.breaker is not None:
        own = ", ".join(f"{k}={_show(v)}" for k, v in (breaker or {}).items())
        rows.append(("breaker", (own + "; others default") if own else "defaults"))
    return rows or [("(none)", "")]


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return fmt(Decimal(value)) if isinstance(value, str) and _is_number(value) else str(value)


def _is_number(text: str) -> bool:
    try:
        return Decimal(text).is_finite()
    except ArithmeticError:
        return False


def _of(report: dict[str, Any], name: str, limit: Any) -> str:
    return f"{report[name]} of {limit}" if limit is not None else str(report[name])


def breaker_table(reports: Sequence[dict[str, Any]], now: int | None = None) -> str:
    """Circuit-breaker status reports side by side: one column per breaker."""
    headers = ["circuit breaker", *(_scope_name(r["scope"], r["scope_id"]) for r in reports)]
    columns = []
    for r in reports:
        cfg: BreakerConfig = r["config"]
        state = r["state"]
        due = r["auto_reset_at"]
        if state == "OPEN" and now is not None and due is not None and now >= due:
            state += " (auto-reset due: on the next order or timer tick)"
        columns.append(
            [
                state,
                _cause(r),
                utc(r["tripped_at"]),
                utc(r["may_reset_at"]),
                utc(r["auto_reset_at"]),
                "-" if r["equity"] is None else f"{fmt(r['equity'], 2)} {cfg.currency}",
                fmt(r["daily_pnl"], 2),
                _pct(r["daily_loss_pct"], cfg.max_daily_loss_pct),
                _pct(r["drawdown_pct"], cfg.max_drawdown_pct),
                _of(r, "consecutive_losses", cfg.max_consecutive_losses),
                _of(r, "consecutive_errors", cfg.max_consecutive_errors),
                _of(r, "orders_last_minute", cfg.max_orders_per_minute),
                _of(r, "orders_last_hour", cfg.max_orders_per_hour),
                str(r["trips"]),
            ]
        )
    labels = [
        "state",
        "cause",
        "tripped at",
        "may reset at",
        "auto-reset at",
        "equity",
        "daily P&L",
        "daily loss %",
        "drawdown %",
        "consecutive losses",
        "consecutive errors",
        "orders last minute",
        "orders last hour",
        "trips",
    ]
    rows = [[label, *(col[i] for col in columns)] for i, label in enumerate(labels)]
    return render(headers, rows if reports else [], align="l" * len(headers))


def _cause(report: dict[str, Any]) -> str:
    """Why the breaker tripped; for a closed one, why it tripped last (the report keeps it)."""
    if not report["cause"]:
        return "-"
    text = f"{report['cause']}: {report['message']}"
    return text if report["state"] == "OPEN" else f"last trip: {text}"


def _pct(value: Decimal | None, limit: Decimal | None) -> str:
    text = fmt(value, 4)
    return f"{text} (limit {fmt(limit)})" if limit is not None else text


def _scope_name(scope: str, scope_id: str) -> str:
    return scope if scope == Scope.GLOBAL else f"{scope} {scope_id}"


def status_text(status: dict[str, Any], now: int) -> str:
    """``Node.risk_status()`` as readable tables; an empty section is one line."""
    parts: list[str] = []

    def section(title: str, none: str, headers: list[str], rows: list[list[Any]]) -> None:
        if not rows:
            parts.append(f"{title}: {none}")
        else:
            parts.extend([f"{title}:", render(headers, rows, align="l" * len(headers))])

    section(
        "Trading states",
        "none set (everything ACTIVE)",
        ["scope", "id", "state", "since", "actor", "reason"],
        [
            [s["scope"], s["scope_id"], s["state"], utc(s["since"]), s["actor"], s["reason"]]
            for s in status["trading_states"]
        ],
    )
    section(
        "Kill switches",
        "none active",
        ["scope", "id", "since", "actor", "reason", "flatten"],
        [
            [k["scope"], k["scope_id"], utc(k["since"]), k["actor"], k["reason"], k["flatten"]]
            for k in status["kill_switches"]
        ],
    )
    if status["circuit_breakers"]:
        parts += ["Circuit breakers:", breaker_table(status["circuit_breakers"], now)]
    else:
        parts.append("Circuit breakers: none configured")
    section(
        "Limits (per scope; where several scopes set one, the tightest wins)",
        "none set",
        ["scope", "id", "limit", "value"],
        [
            [entry["scope"], entry["scope_id"], name, value]
            for entry in status["limits"]
            for name, value in limit_items(entry["limits"])
        ],
    )
    section(
        "Market status overrides",
        "none (every instrument follows its schedule)",
        ["symbol", "status"],
        [[symbol, value] for symbol, value in status["market_status"].items()],
    )
    return "\n".join(parts)


def _open_node(path: str, *, readonly: bool = False) -> Node:
    node = Node(open_journal(path, readonly=readonly))
    floor = 0
    if node.engine.seq:
        last = next(iter(node.journal.read(node.engine.seq)), None)
        floor = last.ts_event if last is not None else 0
    node.clock = OperatorClock(floor)
    return node


def run_on_journal(
    args: argparse.Namespace, action: Callable[[Node], int], *, readonly: bool = False
) -> int:
    """Open the node on ``args.journal``, do ``action``, close; refusals and errors as sentences."""
    action_name = getattr(args, f"{args.command}_command", None)
    who = f"atlas {args.command}" + (f" {action_name}" if action_name else "")
    path = args.journal
    if not Path(path).exists():
        print(f"{who}: no journal at {path}", file=sys.stderr)
        return 2
    try:
        node = _open_node(path, readonly=readonly)
    except (JournalError, sqlite3.Error, OSError) as exc:
        print(f"{who}: cannot open the journal {path}: {exc}", file=sys.stderr)
        return 1
    try:
        return action(node)
    except CommandRefused as exc:
        print(f"refused: {exc.reason}: {exc.message}", file=sys.stderr)
        return 2
    except UsageError as exc:
        print(f"{who}: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the reader went away (``| head``): stop quietly, as Unix tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except (JournalError, sqlite3.Error, OSError) as exc:
        print(f"{who}: journal {path}: {exc}", file=sys.stderr)
        return 1
    finally:
        node.close()


def _scope_id(args: argparse.Namespace) -> tuple[str, str]:
    scope, scope_id = args.scope, args.scope_id or ""
    if scope != Scope.GLOBAL and not scope_id:
        raise UsageError(f"the {scope} scope needs an id: {scope} ID")
    return scope, scope_id


def _by(args: argparse.Namespace) -> str:
    return f"by {args.actor}" + (f": {args.reason}" if args.reason else "")


def cmd_risk_status(args: argparse.Namespace) -> int:
    def action(node: Node) -> int:
        if args.account is not None and args.account not in node.engine.state.accounts:
            raise UsageError(f"unknown account {args.account!r} in {args.journal}")
        now = node.clock.now()
        status = node.risk_status(args.account)
        if args.json:
            status["limits"] = [
                {**entry, "limits": explicit(entry["limits"])} for entry in status["limits"]
            ]
            print(msgspec.json.encode({"journal": args.journal, "as_of": now, **status}).decode())
            return 0
        scope = f", account {args.account} and what governs it" if args.account else ""
        print(f"Risk status of {args.journal} at {utc(now)}{scope}")
        print(status_text(status, now))
        return 0

    return run_on_journal(args, action, readonly=True)


def cmd_risk_limits(args: argparse.Namespace) -> int:
    def action(node: Node) -> int:
        scope, scope_id = _scope_id(args)
        key = (Scope(scope), scope_id)
        previous = node.engine.state.risk.limits.get(key)
        breaker = node.engine.state.risk.breakers.get(key)
        was_open = breaker is not None and breaker.state == "OPEN"
        limits = limits_from_args(args, previous)
        node.set_limits(scope, scope_id, limits, actor=args.actor, reason=args.reason)
        name = _scope_name(scope, scope_id)
        print(f"limits of {name} set {_by(args)}")
        print(render(["limit", "value"], limit_items(limits), align="ll"))
        if previous is not None and previous.breaker is not None and limits.breaker is None:
            state = "; it was OPEN: new orders are no longer stopped by it" if was_open else ""
            print(
                f"note: {name} no longer has a circuit breaker{state} (pass --breaker, or "
                "--update to keep what is not named)",
                file=sys.stderr,
            )
        return 0

    return run_on_journal(args, action)


def cmd_risk_state(args: argparse.Namespace) -> int:
    def action(node: Node) -> int:
        *ids, state = args.target
        if len(ids) > 1:
            raise UsageError("write: atlas risk state SCOPE [ID] STATE")
        args.scope_id = ids[0] if ids else ""
        scope, scope_id = _scope_id(args)
        try:
            value = TradingState(state.upper())
        except ValueError:
            raise UsageError(
                f"unknown trading state {state!r}: {', '.join(s.value for s in TradingState)}"
            ) from None
        node.set_trading_state(scope, scope_id, value, actor=args.actor, reason=args.reason)
        print(f"{_scope_name(scope, scope_id)} is {value} {_by(args)}")
        return 0

    return run_on_journal(args, action)


def cmd_kill(args: argparse.Namespace) -> int:
    if client.wants_server(args):
        if args.journal is not None:
            print("atlas kill: --journal or --url/--key, not both", file=sys.stderr)
            return 2
        return client.kill_online(args)
    if args.actor is None:
        args.kill_parser.error("the following arguments are required: --actor")
    if args.json:
        print("atlas kill: --json is for a server (--url)", file=sys.stderr)
        return 2
    if args.journal is None:
        args.journal = DEFAULT_DEMO_JOURNAL
    if getattr(args, "reset", False):
        if args.flatten:
            print("atlas kill: --reset and --flatten do not go together", file=sys.stderr)
            return 2
        return cmd_reset_kill(args)

    def action(node: Node) -> int:
        scope, scope_id = _scope_id(args)
        events = node.kill(
            scope, scope_id, actor=args.actor, reason=args.reason, flatten=args.flatten
        )
        print(f"kill switch of {_scope_name(scope, scope_id)} tripped {_by(args)}")
        canceled = [e.order_id for e in events if isinstance(e, ev.OrderCanceled)]
        pending = [e.order_id for e in events if isinstance(e, ev.OrderPendingCancel)]
        pending = [i for i in pending if i not in canceled]
        print(f"open orders canceled: {len(canceled) or 'none'}")
        if canceled:
            print(_orders_table(node, canceled))
        if pending:
            print(f"cancels sent, not yet confirmed: {', '.join(f'#{i}' for i in pending)}")
        if args.flatten:
            flat = [e.order_id for e in events if isinstance(e, ev.OrderSubmitted | ev.OrderDenied)]
            print(f"flattening orders: {len(flat) or 'none (no position, or orders still open)'}")
            if flat:
                print(_orders_table(node, flat))
        return 0

    return run_on_journal(args, action)


def _orders_table(node: Node, order_ids: Sequence[int]) -> str:
    rows = []
    for order_id in order_ids:
        o = node.order(order_id)
        rows.append(
            [o.order_id, o.account_id, o.symbol, o.side, o.qty, fmt(o.price), o.status, o.reason]
        )
    headers = ["id", "account", "symbol", "side", "qty", "price", "status", "reason"]
    return render(headers, [["" if c is None else c for c in r] for r in rows])


def cmd_reset_kill(args: argparse.Namespace) -> int:
    def action(node: Node) -> int:
        scope, scope_id = _scope_id(args)
        node.reset_kill(scope, scope_id, actor=args.actor, reason=args.reason)
        print(f"kill switch of {_scope_name(scope, scope_id)} reset {_by(args)}")
        return 0

    return run_on_journal(args, action)


def cmd_reset_breaker(args: argparse.Namespace) -> int:
    def action(node: Node) -> int:
        scope, scope_id = _scope_id(args)
        node.reset_breaker(scope, scope_id, actor=args.actor, reason=args.reason)
        print(f"circuit breaker of {_scope_name(scope, scope_id)} reset {_by(args)}")
        return 0

    return run_on_journal(args, action)


def cmd_risk_market(args: argparse.Namespace) -> int:
    def action(node: Node) -> int:
        status = None if args.status == "SCHEDULE" else MarketStatus(args.status)
        node.set_market_status(args.symbol, status, actor=args.actor, reason=args.reason)
        if status is None:
            print(f"{args.symbol} follows its schedule again ({_by(args)})")
        else:
            print(f"{args.symbol} is {status} {_by(args)}")
        return 0

    return run_on_journal(args, action)


# ----------------------------------------------------------------------------------- transfer
def cmd_transfer(args: argparse.Namespace) -> int:
    def action(node: Node) -> int:
        seq = node.engine.seq
        sent, got = node.transfer(
            args.from_account, args.to_account, args.asset, args.amount, reason=args.reason
        )
        event = next(e for e in node.events(seq + 1) if isinstance(e, ev.FundsTransferred))
        if args.json:
            _print_json({"transfer": event, "balances": [sent, got]})
            return 0
        print(
            f"transferred {fmt(args.amount)} {args.asset} from {args.from_account} to "
            f"{args.to_account} ({args.reason}), seq {event.seq}"
        )
        print(
            render(
                ["account", "asset", "total", "locked", "free"],
                [
                    [b.account_id, b.asset, fmt(b.total), fmt(b.locked), fmt(b.free)]
                    for b in (sent, got)
                ],
            )
        )
        return 0

    return run_on_journal(args, action)


# ------------------------------------------------------------------------------------- futures
def _number(text: str) -> Decimal:
    """An exact decimal from the command line (argparse type)."""
    try:
        value = Decimal(text)
    except ArithmeticError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value.is_finite():
        raise argparse.ArgumentTypeError(f"not a finite number: {text!r}")
    return value


def _print_json(value: Any) -> None:
    print(msgspec.json.encode(value).decode())


def _derivative(node: Node, symbol: str) -> Instrument:
    inst = node.engine.state.instruments.get(symbol)
    if inst is None or not inst.is_derivative:
        known = sorted(s for s, i in node.engine.state.instruments.items() if i.is_derivative)
        raise UsageError(
            f"{symbol!r} is not a derivative in this journal"
            + (f"; it has {', '.join(known)}" if known else "")
        )
    return inst


def _known_account(node: Node, account_id: str | None, journal: str) -> None:
    if account_id is not None and account_id not in node.engine.state.accounts:
        raise UsageError(f"unknown account {account_id!r} in {journal}")


def _ticks(node: Node) -> dict[str, Decimal]:
    return {symbol: inst.tick_size for symbol, inst in node.engine.state.instruments.items()}


def _cross_margin(node: Node, views: Sequence[Any]) -> list[dict[str, Any]]:
    """The cross-margin figures of every (account, settlement asset) among ``views``."""
    pairs = sorted(
        {
            (v.account_id, node.engine.state.instruments[v.symbol].settle_asset)
            for v in views
            if v.margin_mode == "CROSS"
        }
    )
    return [
        {"account_id": a, "asset": asset, **node.account_margin(a, asset)} for a, asset in pairs
    ]


def cross_margin_table(rows: Sequence[dict[str, Any]]) -> str:
    return render(
        ["account", "asset", "wallet", "margin balance", "maint. margin", "margin ratio"],
        [
            [
                r["account_id"],
                r["asset"],
                money(r["wallet_balance"]),
                money(r["margin_balance"]),
                money(r["maint_margin"]),
                pct(r["margin_ratio"]),
            ]
            for r in rows
        ],
    )


def cmd_futures_tiers(args: argparse.Namespace) -> int:
    def action(node: Node) -> int:
        inst = _derivative(node, args.symbol)
        if args.file is None:
            if args.actor or args.reason or args.binance_symbol:
                raise UsageError("--binance-symbol, --actor and --reason go with --file")
            tiers = node.margin_tiers(inst.symbol)
            source = "set" if inst.margin_tiers is not None else "default"
            if args.json:
                _print_json(
                    {"journal": args.journal, "symbol": inst.symbol, "source": source}
                    | {"tiers": tiers_json(tiers)}
                )
                return 0
            what = "" if source == "set" else " (none set: the engine's default single tier)"
            print(f"Margin tiers of {inst.symbol} in {args.journal}{what}")
            print(tiers_table(tiers))
            return 0
        if not args.actor:
            raise UsageError("setting tiers needs --actor WHO")
        name = args.binance_symbol or f"{inst.base}{inst.quote}"
        try:
            tables = load_brackets(args.file)
        except OSError as exc:
            raise UsageError(f"cannot read {args.file}: {exc.strerror or exc}") from None
        except (ValueError, msgspec.MsgspecError) as exc:
            raise UsageError(f"{args.file} is not a Binance leverage-bracket file: {exc}") from None
        if name not in tables:
            raise UsageError(
                f"{args.file} has no brackets for {name} (it has {', '.join(sorted(tables))}): "
                "name one with --binance-symbol"
            )
        node.set_margin_tiers(inst.symbol, tables[name], actor=args.actor, reason=args.reason)
        tiers = node.margin_tiers(inst.symbol)
        if args.json:
            _print_json({"symbol": inst.symbol, "source": name, "tiers": tiers_json(tiers)})
            return 0
        print(f"margin tiers of {inst.symbol} set from {args.file} ({name}) {_by(args)}")
        print(tiers_table(tiers))
        return 0

    return run_on_journal(args, action, readonly=args.file is None)


def cmd_futures_leverage(args: argparse.Namespace) -> int:
    def action(node: Node) -> int:
        node.set_leverage(args.account, args.symbol, args.leverage)
        inst = node.engine.state.instruments[args.symbol]
        cap = max_notional(node.margin_tiers(inst.symbol), args.leverage)
        if args.json:
            _print_json(
                {
                    "account_id": args.account,
                    "symbol": args.symbol,
                    "leverage": args.leverage,
                    "max_notional": cap,
                }
            )
            return 0
        limit = "no notional cap" if cap is None else f"positions up to {grouped(cap)}"
        print(
            f"leverage of {args.account} on {args.symbol} set to {fmt(args.leverage)}x: {limit} "
            f"{inst.settle_asset} of notional"
        )
        return 0

    return run_on_journal(args, action)


def cmd_futures_mode(args: argparse.Namespace) -> int:
    def action(node: Node) -> int:
        node.set_margin_mode(args.account, args.symbol, args.mode)
        if args.json:
            _print_json(
                {"account_id": args.account, "symbol": args.symbol, "margin_mode": args.mode}
            )
            return 0
        how = "on its own" if args.mode == "ISOLATED" else "by the whole account"
        print(f"{args.account}'s {args.symbol} position is margined {args.mode} ({how})")
        return 0

    return run_on_journal(args, action)


def cmd_futures_margin(args: argparse.Namespace) -> int:
    def action(node: Node) -> int:
        side = PositionSide(args.side) if args.side else None
        move = node.add_margin if args.action == "add" else node.remove_margin
        move(args.account, args.symbol, args.amount, side)
        inst = node.engine.state.instruments[args.symbol]
        view = node.position(args.account, args.symbol, side or PositionSide.BOTH)
        if args.json:
            _print_json(
                {
                    "account_id": args.account,
                    "symbol": args.symbol,
                    "action": args.action,
                    "amount": args.amount,
                    "position": position_json(view) if view is not None else None,
                }
            )
            return 0
        way = "added to" if args.action == "add" else "removed from"
        print(
            f"{fmt(args.amount)} {inst.settle_asset} {way} {args.account}'s isolated "
            f"{args.symbol} margin"
        )
        if view is not None:
            print(positions_table([view], _ticks(node)))
        return 0

    return run_on_journal(args, action)


def cmd_futures_positions(args: argparse.Namespace) -> int:
    def action(node: Node) -> int:
        _known_account(node, args.account, args.journal)
        views = [v for v in node.positions(args.account) if v.margin_mode is not None]
        cross = _cross_margin(node, views)
        now = node.clock.now()
        if args.json:
            _print_json(
                {
                    "journal": args.journal,
                    "as_of": now,
                    "positions": [position_json(v) for v in views],
                    "cross_margin": cross,
                }
            )
            return 0
        who = f", account {args.account}" if args.account else ""
        print(f"Derivative positions in {args.journal} at {utc(now)}{who}")
        print(positions_table(views, _ticks(node)))
        if cross:
            print("Cross margin (per account and settlement asset; liquidation at 100%):")
            print(cross_margin_table(cross))
        return 0

    return run_on_journal(args, action, readonly=True)


def cmd_futures_mark(args: argparse.Namespace) -> int:
    def action(node: Node) -> int:
        inst = _derivative(node, args.symbol)
        before = node.engine.state.mark.get(inst.symbol)
        funds = dict(node.engine.state.liq.fund)
        events = node.update_prices(inst.symbol, mark=args.price, last=args.last)
        cases = liquidation_cases(events)
        fund_now = dict(node.engine.state.liq.fund)
        if args.json:
            _print_json(
                {
                    "symbol": inst.symbol,
                    "mark": args.price,
                    "previous_mark": before,
                    "liquidations": [case_json(c) for c in cases],
                    "insurance_fund": fund_now,
                    "events": [{"type": type(e).__name__} | msgspec.to_builtins(e) for e in events],
                }
            )
            return 0
        last = f", last {fmt(args.last)}" if args.last is not None else ""
        print(f"mark of {inst.symbol}: {fmt(before)} -> {fmt(args.price)}{last}")
        ticks = _ticks(node)
        funded = [e for e in events if isinstance(e, ev.FundingSettled)]
        if funded:
            print(
                f"funding settled on {funded[0].symbol} at rate {fmt(funded[0].rate)}, mark "
                f"{fmt(funded[0].mark)}: {len(funded)} positions paid or received"
            )
        for e in events:
            if isinstance(e, ev.OrderTriggered):
                print(f"order #{e.order_id} triggered")
            elif isinstance(e, ev.RiskAlert):
                print(f"alert {e.level} {e.code}: {e.message}")
        if not cases:
            print("no liquidation: no position reached its liquidation price")
        for case in cases:
            print(case_text(case, ticks))
        for asset in sorted(set(funds) | set(fund_now)):
            old, new = funds.get(asset, Decimal(0)), fund_now.get(asset, Decimal(0))
            if old != new:
                print(f"insurance fund {asset}: {money(old)} -> {money(new)}")
        return 0

    return run_on_journal(args, action)


def cmd_futures_funding_rate(args: argparse.Namespace) -> int:
    def action(node: Node) -> int:
        node.set_funding_rate(args.symbol, args.rate)
        inst = node.engine.state.instruments[args.symbol]
        interval = inst.funding_interval_min * 60 * SECOND
        due = node.engine.state.liq.last_funding.get(args.symbol, 0) + interval
        if args.json:
            _print_json(
                {
                    "symbol": args.symbol,
                    "rate": args.rate,
                    "interval_min": inst.funding_interval_min,
                    "next_funding_ts": due,
                }
            )
            return 0
        print(
            f"funding rate of {args.symbol} set to {fmt(args.rate)} "
            f"({fmt(args.rate * 100)}% of the mark value every {inst.funding_interval_min} min; "
            f"positive: longs pay shorts); next settlement at {utc(due)}"
        )
        return 0

    return run_on_journal(args, action)


def cmd_futures_settle(args: argparse.Namespace) -> int:
    def action(node: Node) -> int:
        before = {
            p.account_id: p.qty for p in node.positions() if p.symbol == args.symbol and p.qty
        }
        node.settle_future(args.symbol, args.price, actor=args.actor, reason=args.reason)
        if args.json:
            _print_json(
                {
                    "symbol": args.symbol,
                    "price": args.price,
                    "settled": [
                        {
                            "account_id": a,
                            "qty": q,
                            "realized_pnl": node.position(a, args.symbol).realized_pnl,
                        }  # type: ignore[union-attr]
                        for a, q in sorted(before.items())
                    ],
                }
            )
            return 0
        print(
            f"{args.symbol} settled at {fmt(args.price)} by {args.actor}: "
            f"{len(before)} positions closed; it no longer trades"
        )
        return 0

    return run_on_journal(args, action)


def cmd_futures_fund(args: argparse.Namespace) -> int:
    def show(node: Node) -> int:
        flows: dict[str, list[Decimal]] = {}
        for e in node.events():
            if isinstance(e, ev.InsuranceFundDeposited):
                flows.setdefault(e.asset, [Decimal(0)] * 3)[0] += e.amount
            elif isinstance(e, ev.LiquidationFundTransfer):
                row = flows.setdefault(e.asset, [Decimal(0)] * 3)
                row[1 if e.amount > 0 else 2] += e.amount
        balances = node.engine.state.liq.fund
        assets = sorted(set(flows) | set(balances))
        if args.asset is not None:
            assets = [args.asset]
        rows = [
            {
                "asset": a,
                "deposited": flows.get(a, [Decimal(0)] * 3)[0],
                "from_liquidations": flows.get(a, [Decimal(0)] * 3)[1],
                "to_liquidations": flows.get(a, [Decimal(0)] * 3)[2],
                "balance": balances.get(a, Decimal(0)),
            }
            for a in assets
        ]
        if args.json:
            _print_json({"journal": args.journal, "insurance_funds": rows})
            return 0
        print(f"Insurance funds in {args.journal}")
        print(
            render(
                ["asset", "deposited", "from liquidations", "to liquidations", "balance"],
                [
                    [
                        r["asset"],
                        money(r["deposited"]),
                        money(r["from_liquidations"], sign=True),
                        money(r["to_liquidations"]),
                        money(r["balance"]),
                    ]
                    for r in rows
                ],
            )
        )
        return 0

    def deposit(node: Node) -> int:
        if not args.actor:
            raise UsageError("a deposit to the insurance fund needs --actor WHO")
        balance = node.deposit_insurance_fund(
            args.asset, args.amount, actor=args.actor, reason=args.reason
        )
        if args.json:
            _print_json({"asset": args.asset, "amount": args.amount, "balance": balance})
            return 0
        way = "deposit" if args.amount > 0 else "withdrawal"
        print(
            f"insurance fund {args.asset}: {way} of {fmt(abs(args.amount))} {_by(args)}; "
            f"balance {fmt(balance)}"
        )
        return 0

    if args.amount is None:
        return run_on_journal(args, show, readonly=True)
    return run_on_journal(args, deposit)


def cmd_futures_liquidations(args: argparse.Namespace) -> int:
    def action(node: Node) -> int:
        _known_account(node, args.account, args.journal)
        cases = liquidation_cases(node.events(), node.fills())
        if args.account is not None:
            cases = [c for c in cases if args.account in c.accounts()]
        if args.json:
            _print_json(
                {
                    "journal": args.journal,
                    "account": args.account,
                    "liquidations": [case_json(c) for c in cases],
                }
            )
            return 0
        who = f" concerning {args.account} (liquidated or deleveraged)" if args.account else ""
        print(f"Liquidations in {args.journal}{who}: {len(cases) or 'none'}")
        ticks = _ticks(node)
        for case in cases:
            started = case.started
            print(f"\nseq {started.seq} at {utc(started.ts_event)}")
            print(case_text(case, ticks))
        return 0

    return run_on_journal(args, action, readonly=True)


# --------------------------------------------------------------------------------------- bench
def cmd_bench(args: argparse.Namespace) -> int:
    from atlas_oms.benchmarks import run_all

    only = [k.strip() for k in args.only.split(",") if k.strip()] if args.only else None
    try:
        result = run_all(quick=args.quick, only=only)
    except KeyError as exc:
        print(f"atlas bench: {exc.args[0]}", file=sys.stderr)
        return 2
    print(json.dumps(result, indent=2))
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from atlas_oms.service.server import serve
    from atlas_oms.service.settings import ServiceSettings

    overrides: dict[str, object] = {}
    for name in ("data_dir", "host", "port", "instruments_file", "tls_cert", "tls_key"):
        value = getattr(args, name)
        if value is not None:
            overrides[name] = value
    if args.no_market_maker:
        overrides["market_maker"] = False
    serve(ServiceSettings(**overrides))  # type: ignore[arg-type]
    return 0


def cmd_version(args: argparse.Namespace) -> int:
    print(f"atlas-oms {version()} (Python {sys.version.split()[0]})")
    return 0


# ---------------------------------------------------------------------------------------- main
def _journal_option(parser: argparse.ArgumentParser, *, readonly: bool = False) -> None:
    parser.add_argument(
        "--journal",
        default=DEFAULT_DEMO_JOURNAL,
        metavar="PATH",
        help=f"journal to {'read, read-only' if readonly else 'act on'} "
        f"(default {DEFAULT_DEMO_JOURNAL}, the demo's)",
    )


def _operator_options(parser: argparse.ArgumentParser, *, reason_required: bool = True) -> None:
    _journal_option(parser)
    parser.add_argument("--actor", required=True, metavar="WHO", help="who acts (journaled)")
    parser.add_argument(
        "--reason",
        required=reason_required,
        default="",
        metavar="WHY",
        help="why (journaled)" + ("" if reason_required else "; optional"),
    )


def _scope_arguments(parser: argparse.ArgumentParser, *, optional: bool) -> None:
    parser.add_argument(
        "scope",
        nargs="?" if optional else None,
        default=Scope.GLOBAL.value if optional else None,
        type=str.lower,
        choices=RISK_SCOPES,
        metavar="SCOPE",
        help=f"{', '.join(RISK_SCOPES)}" + (" (default global)" if optional else ""),
    )
    parser.add_argument(
        "scope_id",
        nargs="?",
        default="",
        metavar="ID",
        help="the account id, strategy tag or symbol (none for global)",
    )


def _kill_parser(sub: Any, name: str, help_text: str) -> None:
    kill = sub.add_parser(
        name,
        help=help_text,
        description="Offline on a journal (--journal, --actor), or on a running server when "
        "--url or --key is given, or ATLAS_URL / ATLAS_KEY is set and --journal is not: there the "
        "API key (its risk role) is the actor.",
    )
    _scope_arguments(kill, optional=True)
    _journal_option(kill)
    kill.add_argument("--actor", metavar="WHO", help="who acts (journaled; offline only)")
    kill.add_argument("--reason", required=True, metavar="WHY", help="why (journaled)")
    kill.add_argument(
        "--flatten", action="store_true", help="also close the scope's positions at market"
    )
    kill.add_argument("--reset", action="store_true", help="reset the kill switch instead")
    client.server_options(kill)
    # None: not given, so that an explicit --journal keeps the command offline.
    kill.set_defaults(func=cmd_kill, journal=None, kill_parser=kill)


def _add_risk_parsers(sub: Any) -> None:
    risk = sub.add_parser(
        "risk", help="risk controls on a journal: status, limits, trading states, breakers"
    )
    risk.set_defaults(func=lambda args: _help(risk))
    rsub = risk.add_subparsers(dest="risk_command", metavar="ACTION")

    status = rsub.add_parser("status", help="trading states, kill switches, breakers, limits")
    _journal_option(status, readonly=True)
    status.add_argument("--account", metavar="A", help="only what governs account A")
    status.add_argument("--json", action="store_true", help="print one JSON object")
    status.set_defaults(func=cmd_risk_status)

    limits = rsub.add_parser(
        "limits",
        help="replace one scope's limits",
        description="Replace one scope's limits: KEY=VALUE pairs name RiskLimits fields "
        "(--set) and the circuit breaker's BreakerConfig fields (--breaker); 'none' clears one.",
    )
    _scope_arguments(limits, optional=False)
    limits.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="a limit (repeatable)"
    )
    limits.add_argument(
        "--breaker",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a circuit-breaker setting (repeatable); the others take their defaults",
    )
    limits.add_argument("--from-file", metavar="FILE", help="a JSON object of limits")
    limits.add_argument(
        "--update",
        action="store_true",
        help="start from the scope's current limits (and breaker) instead of none",
    )
    _operator_options(limits, reason_required=False)
    limits.set_defaults(func=cmd_risk_limits)

    state = rsub.add_parser("state", help="set a scope's trading state: ACTIVE, REDUCING, HALTED")
    state.add_argument(
        "scope", type=str.lower, choices=RISK_SCOPES, metavar="SCOPE", help="global, account…"
    )
    state.add_argument(
        "target", nargs="+", metavar="[ID] STATE", help="the scope's id, then the state"
    )
    _operator_options(state)
    state.set_defaults(func=cmd_risk_state)

    _kill_parser(rsub, "kill", "fire a kill switch (same as atlas kill)")
    reset_kill = rsub.add_parser("reset-kill", help="reset a kill switch (a reason is required)")
    _scope_arguments(reset_kill, optional=True)
    _operator_options(reset_kill)
    reset_kill.set_defaults(func=cmd_reset_kill)

    reset_breaker = rsub.add_parser(
        "reset-breaker", help="reset an open circuit breaker after its cool-down"
    )
    _scope_arguments(reset_breaker, optional=False)
    _operator_options(reset_breaker)
    reset_breaker.set_defaults(func=cmd_reset_breaker)

    market = rsub.add_parser(
        "market", help="halt, close or reopen an instrument, or return it to its schedule"
    )
    market.add_argument("symbol", metavar="SYMBOL")
    market.add_argument(
        "status",
        type=str.upper,
        choices=MARKET_CHOICES,
        metavar="|".join((*(s.value for s in MarketStatus), "schedule")),
    )
    _operator_options(market)
    market.set_defaults(func=cmd_risk_market)


def _json_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def _add_futures_parsers(sub: Any) -> None:
    fut = sub.add_parser(
        "futures",
        help="the perpetual-futures venue on a journal: tiers, leverage, margin, marks, "
        "liquidations, the insurance fund",
    )
    fut.set_defaults(func=lambda args: _help(fut))
    fsub = fut.add_subparsers(dest="futures_command", metavar="ACTION")

    tiers = fsub.add_parser(
        "tiers",
        help="show a symbol's margin tiers, or set them from a Binance leverage-bracket file",
        description="With --file: load Binance's leverage-bracket JSON "
        '([{"symbol": "BTCUSDT", "brackets": [...]}]) and set the symbol\'s tiers (journaled, '
        "needs --actor). Without: print the current table.",
    )
    tiers.add_argument("symbol", metavar="SYMBOL", help="the perpetual, e.g. BTC/USDT:USDT")
    tiers.add_argument("--file", metavar="FILE", help="Binance leverage-bracket JSON to load")
    tiers.add_argument(
        "--binance-symbol",
        metavar="NAME",
        help="the entry of FILE to use (default: base and quote, e.g. BTCUSDT)",
    )
    _journal_option(tiers)
    tiers.add_argument("--actor", metavar="WHO", help="who sets them (journaled; with --file)")
    tiers.add_argument("--reason", default="", metavar="WHY", help="why (journaled; optional)")
    _json_option(tiers)
    tiers.set_defaults(func=cmd_futures_tiers)

    lev = fsub.add_parser("leverage", help="set an account's leverage on a symbol")
    lev.add_argument("account", metavar="ACCOUNT")
    lev.add_argument("symbol", metavar="SYMBOL")
    lev.add_argument("leverage", type=_number, metavar="N", help="e.g. 20 for 20x")
    _journal_option(lev)
    _json_option(lev)
    lev.set_defaults(func=cmd_futures_leverage)

    mode = fsub.add_parser(
        "mode", help="margin a symbol ISOLATED or CROSS (no position or open orders there)"
    )
    mode.add_argument("account", metavar="ACCOUNT")
    mode.add_argument("symbol", metavar="SYMBOL")
    mode.add_argument(
        "mode", type=str.upper, choices=("ISOLATED", "CROSS"), metavar="isolated|cross"
    )
    _journal_option(mode)
    _json_option(mode)
    mode.set_defaults(func=cmd_futures_mode)

    margin = fsub.add_parser("margin", help="add margin to or remove it from an isolated position")
    margin.add_argument("action", choices=("add", "remove"), metavar="add|remove")
    margin.add_argument("account", metavar="ACCOUNT")
    margin.add_argument("symbol", metavar="SYMBOL")
    margin.add_argument("amount", type=_number, metavar="AMOUNT", help="in the settlement asset")
    margin.add_argument(
        "--side",
        type=str.upper,
        choices=("LONG", "SHORT"),
        help="the position side (hedge-mode accounts)",
    )
    _journal_option(margin)
    _json_option(margin)
    margin.set_defaults(func=cmd_futures_margin)

    positions = fsub.add_parser(
        "positions", help="derivative positions: margin, margin ratio, liquidation prices"
    )
    positions.add_argument("account", nargs="?", metavar="ACCOUNT", help="only this account")
    _journal_option(positions, readonly=True)
    _json_option(positions)
    positions.set_defaults(func=cmd_futures_positions)

    mark = fsub.add_parser(
        "mark", help="a mark price: liquidates what reaches its liquidation price, prints it"
    )
    mark.add_argument("symbol", metavar="SYMBOL")
    mark.add_argument("price", type=_number, metavar="PRICE")
    mark.add_argument("--last", type=_number, metavar="PRICE", help="also a last trade price")
    _journal_option(mark)
    _json_option(mark)
    mark.set_defaults(func=cmd_futures_mark)

    rate = fsub.add_parser("funding-rate", help="the rate of a perpetual's next funding")
    rate.add_argument("symbol", metavar="SYMBOL")
    rate.add_argument("rate", type=_number, metavar="RATE", help="0.0001 = 0.01%%")
    _journal_option(rate)
    _json_option(rate)
    rate.set_defaults(func=cmd_futures_funding_rate)

    settle = fsub.add_parser(
        "settle", help="cash-settle an expired dated future at its settlement price"
    )
    settle.add_argument("symbol", metavar="SYMBOL")
    settle.add_argument("price", type=_number, metavar="PRICE")
    _journal_option(settle)
    settle.add_argument("--actor", required=True, metavar="WHO", help="who settles (journaled)")
    settle.add_argument("--reason", default="expiry", metavar="WHY", help="why (journaled)")
    _json_option(settle)
    settle.set_defaults(func=cmd_futures_settle)

    fund = fsub.add_parser(
        "fund",
        help="show the insurance funds, or deposit to one (negative: withdraw)",
        description="Without AMOUNT: the insurance funds (deposits, what liquidations paid in "
        "and took out, balance). With ASSET AMOUNT: a deposit (journaled, needs --actor).",
    )
    fund.add_argument("asset", nargs="?", metavar="ASSET")
    fund.add_argument("amount", nargs="?", type=_number, metavar="AMOUNT")
    _journal_option(fund)
    fund.add_argument("--actor", metavar="WHO", help="who deposits (journaled)")
    fund.add_argument("--reason", default="", metavar="WHY", help="why (journaled; optional)")
    _json_option(fund)
    fund.set_defaults(func=cmd_futures_fund)

    liqs = fsub.add_parser(
        "liquidations",
        help="liquidation history: steps, fills against the bankruptcy price, fund, ADL",
    )
    liqs.add_argument(
        "account", nargs="?", metavar="ACCOUNT", help="only cases it was liquidated or ADL'd in"
    )
    _journal_option(liqs, readonly=True)
    _json_option(liqs)
    liqs.set_defaults(func=cmd_futures_liquidations)


def _help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="atlas", description="Atlas OMS: an event-sourced order management system."
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = sub.add_parser("demo", help="run a scripted trading session on the built-in exchange")
    demo.add_argument(
        "--journal",
        default=DEFAULT_DEMO_JOURNAL,
        metavar="PATH",
        help=f"SQLite journal to write, replaced if it exists (default {DEFAULT_DEMO_JOURNAL})",
    )
    demo.set_defaults(func=cmd_demo)
    rep = sub.add_parser("replay", help="rebuild the state from a journal and print its digest")
    rep.add_argument("path", help="journal file (.db SQLite, .journal file journal)")
    rep.add_argument("--full", action="store_true", help="ignore snapshots: replay from seq 1")
    rep.add_argument("--json", action="store_true", help="print one JSON object")
    rep.set_defaults(func=cmd_replay)
    aud = sub.add_parser(
        "audit", help="print or export every journaled event that concerns an account"
    )
    aud.add_argument("account", metavar="ACCOUNT", help="the account id")
    aud.add_argument(
        "--journal",
        default=DEFAULT_DEMO_JOURNAL,
        metavar="PATH",
        help=f"journal to read, read-only (default {DEFAULT_DEMO_JOURNAL}, the demo's)",
    )
    aud.add_argument(
        "--format",
        choices=("table", "jsonl", "csv"),
        default="table",
        help="a readable table (default), JSON Lines or CSV",
    )
    aud.add_argument("--out", metavar="FILE", help="write to FILE (replaced) instead of stdout")
    aud.add_argument(
        "--subaccounts",
        action="store_true",
        help="include the account's sub-accounts (at any depth)",
    )
    aud.set_defaults(func=cmd_audit)
    _add_risk_parsers(sub)
    _add_futures_parsers(sub)
    transfer = sub.add_parser(
        "transfer",
        help="move an asset between an account and one of its sub-accounts (any depth, "
        "either way, or between two sub-accounts of one account)",
    )
    transfer.add_argument("from_account", metavar="FROM", help="the account paying")
    transfer.add_argument("to_account", metavar="TO", help="the account receiving")
    transfer.add_argument("asset", metavar="ASSET", help="e.g. USDT")
    transfer.add_argument(
        "amount",
        type=_number,
        metavar="AMOUNT",
        help="positive; at most FROM's free balance (less unsettled sale proceeds and cross "
        "unrealized losses)",
    )
    transfer.add_argument("--reason", default="transfer", metavar="WHY", help="why (journaled)")
    _journal_option(transfer)
    _json_option(transfer)
    transfer.set_defaults(func=cmd_transfer)
    _kill_parser(sub, "kill", "fire a kill switch: block new orders, cancel open ones")
    client.add_parsers(sub, _help)
    bench = sub.add_parser("bench", help="run the benchmarks; print one JSON object")
    bench.add_argument("--quick", action="store_true", help="tiny sizes (seconds, for tests)")
    bench.add_argument("--only", metavar="KEY,...", help="run only these benchmark keys")
    bench.set_defaults(func=cmd_bench)
    srv = sub.add_parser(
        "serve",
        help="run Atlas: the REST + WebSocket API on its embedded defaults (127.0.0.1:8000)",
        description="Starts the engine on a SQLite journal in the data folder with the built-in "
        "exchange and market maker; resumes from the journal on restart. First start writes the "
        "first API keys to DATA_DIR/first-keys.txt. ATLAS_* environment variables set the rest.",
    )
    srv.add_argument("--data-dir", metavar="DIR", help="journal and keys folder (atlas-data)")
    srv.add_argument("--host", metavar="HOST", help="address to listen on (127.0.0.1)")
    srv.add_argument("--port", type=int, metavar="PORT", help="port (8000)")
    srv.add_argument("--instruments-file", metavar="FILE", help="instruments JSON (first start)")
    srv.add_argument("--tls-cert", metavar="FILE", help="TLS certificate (with --tls-key)")
    srv.add_argument("--tls-key", metavar="FILE", help="TLS private key")
    srv.add_argument("--no-market-maker", action="store_true", help="do not quote")
    srv.set_defaults(func=cmd_serve)

    ver = sub.add_parser("version", help="print the version")
    ver.set_defaults(func=cmd_version)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    return int(args.func(args))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
