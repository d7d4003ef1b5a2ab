"""The derivatives venue: what a mark price costs when nothing liquidates, and how fast a crash
liquidates a crowd of leveraged accounts.

Both run on a node with a memory journal and the built-in exchange ``sim`` (the venue that Atlas
liquidates on itself), one perpetual ``BTC/USDT:USDT`` with a Binance-shaped margin tier table and
maker and taker fees. Positions are built by crossing limit orders through the book (set-up, not
timed); every figure is measured at the :meth:`Node.process` level: the engine, the exchange and
the journal append.

``bench_mark_update`` holds 10,000 positions (200 master accounts with 50 sub-accounts each, one
position per sub-account: 5,000 longs and 5,000 shorts, leverage 2x to 20x, isolated and cross
margin mixed, entries within 1% of 30,000) and times mark-price messages that move inside
+-0.5%, where nothing liquidates: each should be a look at the top of the index by liquidation
price, whatever the number of positions.

``bench_liquidations`` builds high-leverage longs (20x to 50x, isolated and cross mixed) facing
low-leverage shorts, a market maker's bids spread over many price levels below, and an insurance
fund; then a few mark-price messages crash the price under every long's liquidation price. Some
liquidations fill in the book, some are paid by the insurance fund, the rest auto-deleverage the
profitable shorts.
"""

from __future__ import annotations

import gc
import random
import time
from decimal import ROUND_CEILING, Decimal
from typing import Any

from atlas_oms.benchmarks.core import START_NS, settle_gc
from atlas_oms.model import events as ev
from atlas_oms.model.commands import SubmitOrder, UpdatePrices
from atlas_oms.model.enums import OrderStatus, OrderType, Side
from atlas_oms.model.instrument import Instrument
from atlas_oms.model.margin import tiers_from_rows
from atlas_oms.runtime.clock import ManualClock
from atlas_oms.runtime.node import Node

SYMBOL = "BTC/USDT:USDT"
ASSET = "USDT"
TICK = Decimal("0.1")
LOT = Decimal("0.001")
MAKER_FEE = Decimal("0.0002")
TAKER_FEE = Decimal("0.0005")
#: Binance's first three BTCUSDT brackets: (floor, cap, maintenance rate, amount, max leverage).
TIER_ROWS = [
    (0, 50_000, "0.004", 0, 125),
    (50_000, 250_000, "0.005", 50, 100),
    (250_000, None, "0.01", 1_300, 50),
]
REF = Decimal(30_000)
SEED = 20260105
MS_NS = 1_000_000

# ---------------------------------------------------------------- mark update
MASTERS = 200
MASTERS_QUICK = 4
SUBS = 50  # sub-accounts per master: each holds one position (one-way mode)
LEVERAGES = (2, 3, 5, 8, 10, 12, 15, 20)
#: Entry prices are REF +- this fraction; the marks sent move within +- MARK_BAND.
ENTRY_SPREAD = Decimal("0.01")
MARK_BAND = Decimal("0.005")
N_MARKS = 20_000
N_MARKS_QUICK = 500

# ---------------------------------------------------------------- liquidation cascade
LONGS = 2_000
LONGS_QUICK = 50
SHORTS = 100
SHORTS_QUICK = 10
CASCADE_LEVERAGES = (20, 25, 30, 40, 50)
#: Longs enter within +- this fraction of REF.
CASCADE_SPREAD = Decimal("0.005")
#: The market maker's bids: on levels LEVEL_STEP apart from BID_TOP down, holding this fraction
#: of the longs' total quantity (the rest goes to the insurance fund and ADL).
BID_TOP = Decimal(29_600)
LEVEL_STEP = Decimal(5)
BOOK_SHARE = Decimal("0.4")
#: The crash: mark prices sent one after the other (the last under every liquidation price).
CRASH = (Decimal(29_300), Decimal(28_900), Decimal(28_400))
#: The insurance fund, per long liquidated.
FUND_PER_LONG = Decimal(25)


def perpetual() -> Instrument:
    return Instrument.perpetual(
        SYMBOL,
        tick_size=TICK,
        lot_size=LOT,
        maker_fee=MAKER_FEE,
        taker_fee=TAKER_FEE,
        margin_tiers=tiers_from_rows(TIER_ROWS),
    )


class _Venue:
    """A node with the perpetual and a clock that moves 1 ms per set-up command."""

    def __init__(self) -> None:
        self.clock = ManualClock(START_NS)
        self.node = Node.in_memory(clock=self.clock)
        self.node.add_instrument(perpetual())
        self.node.update_prices(SYMBOL, last=REF, mark=REF)
        self.deposits = Decimal(0)

    def deposit(self, account: str, amount: Decimal) -> None:
        self.node.deposit(account, ASSET, amount)
        self.deposits += amount

    def open(
        self, account: str, leverage: int, isolated: bool, deposit: Decimal, parent: str | None
    ) -> None:
        node = self.node
        node.open_account(account, parent_id=parent)
        self.deposit(account, deposit)
        node.set_leverage(account, SYMBOL, leverage)
        if isolated:
            node.set_margin_mode(account, SYMBOL, "ISOLATED")

    def send(self, account: str, side: Side, qty: Decimal, price: Decimal) -> int:
        """A GTC limit order; return its id (the set-up is broken if the engine refuses it)."""
        self.clock.advance(MS_NS)
        events = self.node.process(
            SubmitOrder(
                ts=self.clock.now(),
                account_id=account,
                symbol=SYMBOL,
                side=side,
                order_type=OrderType.LIMIT,
                qty=qty,
                price=price,
            )
        )
        first = events[0]
        if not isinstance(first, ev.OrderSubmitted):
            raise RuntimeError(f"derivatives benchmark set-up refused: {first}")
        return first.order_id

    def cross(self, long: str, short: str, qty: Decimal, price: Decimal) -> None:
        """``short`` rests a sell, ``long`` takes it: one trade at ``price``."""
        self.send(short, Side.SELL, qty, price)
        order_id = self.send(long, Side.BUY, qty, price)
        status = self.node.order(order_id).status
        if status is not OrderStatus.FILLED:
            raise RuntimeError(f"derivatives benchmark set-up: the crossing buy is {status}")


def _collateral(qty: Decimal, price: Decimal, leverage: int, extra: Decimal) -> Decimal:
    """Initial margin, the taker fee and ``extra`` of the notional, rounded up to a cent."""
    notional = qty * price
    need = notional / leverage + notional * (TAKER_FEE + extra)
    return need.quantize(Decimal("0.01"), rounding=ROUND_CEILING)


def _percentiles(samples: list[int]) -> tuple[float, float, float, float]:
    """(p50, p99, max, mean) in microseconds of nanosecond samples."""
    samples = sorted(samples)
    n = len(samples)
    return (
        round(samples[n // 2] / 1000, 2),
        round(samples[min(n - 1, n * 99 // 100)] / 1000, 2),
        round(samples[-1] / 1000, 2),
        round(sum(samples) / n / 1000, 2),
    )


# ---------------------------------------------------------------- mark update
def _build_book_of_positions(masters: int) -> _Venue:
    """``masters`` x ``SUBS`` sub-accounts, each with one position: pairs (long, short) trade
    at an entry price within ``ENTRY_SPREAD`` of ``REF``; leverage and margin mode are drawn
    for each holder, so long and short sides each mix every leverage and both modes."""
    venue = _Venue()
    rng = random.Random(SEED)
    holders = masters * SUBS
    for mi in range(masters):
        venue.node.open_account(f"mst{mi:03d}")
    plan = []
    for j in range(holders):
        if j % 2 == 0:
            spread_ticks = int(REF * ENTRY_SPREAD / TICK)
            price = REF + TICK * rng.randint(-spread_ticks, spread_ticks)
            qty = LOT * rng.randint(10, 2_000)  # 0.01 to 2 BTC: 300 to 60,000 USDT
        lev = rng.choice(LEVERAGES)
        isolated = rng.random() < 0.5
        account = f"mst{j // SUBS:03d}-s{j % SUBS:02d}"
        venue.open(
            account,
            lev,
            isolated,
            _collateral(qty, price, lev, Decimal("0.002")),
            parent=f"mst{j // SUBS:03d}",
        )
        plan.append((account, qty, price))
        if j % 2 == 1:
            (long, q, px), (short, _, _) = plan[-2], plan[-1]
            if (j // 2) % 2:  # the long holder is the odd one half of the time
                long, short = short, long
            venue.cross(long, short, q, px)
    return venue


def bench_mark_update(quick: bool) -> dict[str, Any]:
    """``mark_update_10k_positions_us`` is the **median** time of one mark-price message through
    :meth:`Node.process` (engine and memory-journal append) for an instrument with 10,000 open
    positions of which none liquidates; p99, max and mean are reported beside it (untargeted)."""
    masters = MASTERS_QUICK if quick else MASTERS
    started = time.perf_counter()
    venue = _build_book_of_positions(masters)
    setup_s = time.perf_counter() - started
    node = venue.node
    positions = sum(1 for p in node.positions() if p.symbol == SYMBOL)
    holders = masters * SUBS
    if positions != holders:
        raise RuntimeError(f"mark benchmark set-up: {positions} positions, expected {holders}")
    # One untimed mark: the index takes in every account the set-up left dirty.
    venue.clock.advance(MS_NS)
    node.process(UpdatePrices(ts=venue.clock.now(), symbol=SYMBOL, mark=REF))
    watch = node.liquidation_watch(SYMBOL)
    if watch.watched != holders or watch.stale_accounts:
        raise RuntimeError(f"mark benchmark: {watch.watched} of {holders} positions indexed")
    lo, hi = REF * (1 - MARK_BAND), REF * (1 + MARK_BAND)
    below, above = watch.nearest_below, watch.nearest_above
    if below is None or above is None or below >= lo or above <= hi:
        raise RuntimeError("mark benchmark set-up: a liquidation price lies inside the mark band")

    n = N_MARKS_QUICK if quick else N_MARKS
    band_ticks = int(REF * MARK_BAND / TICK)
    ts0 = venue.clock.now() + MS_NS
    commands = [
        UpdatePrices(
            ts=ts0 + i * MS_NS,
            symbol=SYMBOL,
            # Alternately above and below the reference, never the same mark twice in a row.
            mark=REF + TICK * (1 + i % band_ticks) * (1 if i % 2 else -1),
        )
        for i in range(n)
    ]
    samples = [0] * n
    settle_gc()
    process = node.process
    clock = time.perf_counter_ns
    for i, cmd in enumerate(commands):
        t0 = clock()
        process(cmd)
        samples[i] = clock() - t0
    gc.unfreeze()
    summary = node.liquidation_summary()
    if summary.cases_started or summary.cases_open:
        raise RuntimeError("mark benchmark broken: a position liquidated")
    watch = node.liquidation_watch(SYMBOL)
    below, above = watch.nearest_below, watch.nearest_above
    if watch.watched != holders or below is None or above is None:
        raise RuntimeError("mark benchmark broken: the index lost positions")
    p50, p99, worst, mean = _percentiles(samples)
    return {
        "mark_update_10k_positions_us": p50,
        "mark_update_10k_positions_p99_us": p99,
        "mark_update_10k_positions_max_us": worst,
        "mark_update_10k_positions_mean_us": mean,
        "mark_update_nearest_liquidation_pct": round(
            float(min((REF - below) / REF, (above - REF) / REF) * 100), 2
        ),
        "mark_update_setup_s": round(setup_s, 1),
        "n": {
            "mark_update_positions": positions,
            "mark_update_master_accounts": masters,
            "mark_update_accounts": masters + holders,
            "mark_update_samples": n,
        },
    }


# ---------------------------------------------------------------- liquidation cascade
class _Cascade:
    """Longs, shorts, a market maker's bids and an insurance fund, ready to crash."""

    def __init__(self, quick: bool) -> None:
        self.n_longs = LONGS_QUICK if quick else LONGS
        self.n_shorts = SHORTS_QUICK if quick else SHORTS
        self.venue = _Venue()
        self.longs = [f"long{i:04d}" for i in range(self.n_longs)]
        self.shorts = [f"short{i:03d}" for i in range(self.n_shorts)]
        self.fund = FUND_PER_LONG * self.n_longs
        self.long_qty = Decimal(0)
        self.bids = 0

    def build(self) -> None:
        venue = self.venue
        rng = random.Random(SEED + 1)
        # Shorts: 2x cross, well funded (they profit from the crash and are the ADL side).
        for account in self.shorts:
            venue.open(account, 2, False, Decimal(10_000_000), None)
        spread_ticks = int(REF * CASCADE_SPREAD / TICK)
        for i, account in enumerate(self.longs):
            price = REF + TICK * rng.randint(-spread_ticks, spread_ticks)
            qty = LOT * rng.randint(50, 1_500)  # 0.05 to 1.5 BTC
            lev = rng.choice(CASCADE_LEVERAGES)
            isolated = i % 2 == 0
            venue.open(account, lev, isolated, _collateral(qty, price, lev, Decimal("0.001")), None)
            venue.cross(account, self.shorts[i % self.n_shorts], qty, price)
            self.long_qty += qty
        # The market maker: 5x cross, deep pockets; bids below every entry on many levels.
        venue.open("mm", 5, False, Decimal(1_000_000_000), None)
        levels = 400
        per_level = (self.long_qty * BOOK_SHARE / levels / LOT).to_integral_value() * LOT
        per_level = max(per_level, LOT)
        for k in range(levels):
            # Two orders a level, different sizes: a liquidation takes partial fills too.
            price = BID_TOP - LEVEL_STEP * k
            first = (per_level * Decimal("0.3") / LOT).to_integral_value() * LOT or LOT
            venue.send("mm", Side.BUY, first, price)
            venue.send("mm", Side.BUY, per_level - first if per_level > first else LOT, price)
            self.bids += 2
        venue.node.deposit_insurance_fund(ASSET, self.fund, actor="bench")

    def flat_longs(self) -> int:
        return sum(
            1
            for p in self.venue.node.positions(include_flat=True)
            if p.symbol == SYMBOL and p.account_id.startswith("long") and not p.qty
        )

    def conservation(self, price: Decimal) -> Decimal:
        """Balances + unrealized P&L at ``price`` + insurance fund + fees - deposits (0 if
        nothing was created or lost). ``price`` must be the mark: positions are valued there."""
        node = self.venue.node
        mark = node.mark_price(SYMBOL)
        if mark != price:
            raise RuntimeError(f"liquidation benchmark: the mark is {mark}, not {price}")
        balances = sum((b.total for b in node.balances() if b.asset == ASSET), Decimal(0))
        positions = node.positions()  # open ones, valued at the mark
        upnl = sum((p.unrealized_pnl for p in positions), Decimal(0))
        net = sum((p.qty for p in positions), Decimal(0))
        if net:
            raise RuntimeError(f"liquidation benchmark: positions net to {net}, not zero")
        fees = sum(
            (e.fee for e in node.events() if isinstance(e, ev.OrderFilled)),
            Decimal(0),
        )
        fund = node.insurance_fund(ASSET)
        return balances + upnl + fund + fees - (self.venue.deposits + self.fund)


def bench_liquidations(quick: bool) -> dict[str, Any]:
    """``liquidations_per_s``: liquidation cases started and finished (``LiquidationFinished``
    events) per second of the crash's mark-price messages through :meth:`Node.process`, every
    stage included (BOOK orders matched in the exchange, FUND orders, ADL), the journal append
    too. The target, at least 1,000 a second, is ours: the issue gives none."""
    cascade = _Cascade(quick)
    started = time.perf_counter()
    cascade.build()
    setup_s = time.perf_counter() - started
    venue = cascade.venue
    node = venue.node
    # An untimed mark at the reference: the index takes in every account the set-up changed.
    venue.clock.advance(MS_NS)
    node.process(UpdatePrices(ts=venue.clock.now(), symbol=SYMBOL, mark=REF, last=REF))
    if node.liquidation_summary().cases_started:
        raise RuntimeError("liquidation benchmark set-up: a long liquidated before the crash")
    # The identity holds before the crash too, with isolated and cross positions open.
    before = cascade.conservation(REF)
    if before:
        raise RuntimeError(f"liquidation benchmark set-up: money not conserved, off by {before}")
    ts0 = venue.clock.now() + MS_NS
    commands = [
        UpdatePrices(ts=ts0 + i * MS_NS, symbol=SYMBOL, mark=px) for i, px in enumerate(CRASH)
    ]
    produced: list[list[ev.EventBase]] = []
    settle_gc()
    process = node.process
    t0 = time.perf_counter_ns()
    for cmd in commands:
        produced.append(process(cmd))
    elapsed_ns = time.perf_counter_ns() - t0
    gc.unfreeze()

    events = [e for batch in produced for e in batch]
    finished = [e for e in events if isinstance(e, ev.LiquidationFinished)]
    per_message = [
        sum(1 for e in batch if isinstance(e, ev.LiquidationFinished)) for batch in produced
    ]
    stages: dict[str, int] = {}
    for e in events:
        if isinstance(e, ev.LiquidationStep):
            stages[e.stage] = stages.get(e.stage, 0) + 1
    transfers = [e.amount for e in events if isinstance(e, ev.LiquidationFundTransfer)]
    adl = sum(1 for e in events if isinstance(e, ev.PositionAutoDeleveraged) and not e.liquidated)
    alerts = [e for e in events if isinstance(e, ev.RiskAlert)]
    liquidated = {e.account_id for e in finished}
    open_cases = node.liquidation_summary().cases_open
    if (
        len(finished) != cascade.n_longs
        or liquidated != set(cascade.longs)
        or open_cases
        or any(e.shortfall for e in finished)
        or alerts
    ):
        raise RuntimeError(
            f"liquidation benchmark broken: {len(finished)} of {cascade.n_longs} longs "
            f"liquidated, {open_cases} cases open, {len(alerts)} alerts"
        )
    if cascade.flat_longs() != cascade.n_longs:
        raise RuntimeError("liquidation benchmark broken: a liquidated long is not flat")
    if not (stages.get("BOOK") and stages.get("FUND") and stages.get("ADL")):
        raise RuntimeError(f"liquidation benchmark: not every stage ran: {stages}")
    residual = cascade.conservation(CRASH[-1])
    if abs(residual) > Decimal("1e-12"):
        raise RuntimeError(f"liquidation benchmark: money not conserved, off by {residual}")
    seconds = elapsed_ns / 1e9
    fund_after = node.insurance_fund(ASSET)
    return {
        "liquidations_per_s": round(len(finished) / seconds),
        "liquidation_cascade_ms": round(elapsed_ns / 1e6, 1),
        "liquidation_cascade_per_message": per_message,
        "liquidation_steps": stages,
        "liquidation_adl_trades": adl,
        "liquidation_fund_in": str(sum((a for a in transfers if a > 0), Decimal(0))),
        "liquidation_fund_out": str(-sum((a for a in transfers if a < 0), Decimal(0))),
        "liquidation_fund_before": str(cascade.fund),
        "liquidation_fund_after": str(fund_after),
        # FUND orders of cases in flight together are each sized on the whole fund: it can
        # end below zero (reported, not asserted: see the engine's _liq_fund_order).
        "liquidation_fund_overdrawn": fund_after < 0,
        "liquidation_conservation": "exact" if not residual else f"off by {residual}",
        "liquidation_events": len(events),
        "liquidation_setup_s": round(setup_s, 1),
        "n": {
            "liquidation_longs": cascade.n_longs,
            "liquidation_shorts": cascade.n_shorts,
            "liquidation_mm_bids": cascade.bids,
            "liquidation_crash_messages": len(commands),
        },
    }
