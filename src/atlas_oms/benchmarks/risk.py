"""The pre-trade risk engine: the cost of every check on a big firm, and what risk costs the
market-order workload.

``bench_risk_check`` builds a node with 200 accounts trading 50 spot pairs through the built-in
exchange, so that every (account, instrument) position is open (10,000) and 100,000 limit orders
rest, with limits set at every scope (global, instrument, account) and a circuit breaker on every
account, all set before the book is built so that the risk state (rate windows, duplicate guard,
breakers' equity marks, ratio windows) is what a day's trading leaves behind. It then times the
pre-trade check alone, :meth:`Node.pre_trade_check`, on pre-built orders that pass every check and are
never submitted (the state stays the same size), one ``perf_counter_ns`` pair per call.

``bench_market_orders_with_risk`` runs the core market-order workload twice in this process, back
to back, best of three each: plainly, and with limits at global and account scope and a breaker
on every account. Both runs send the same commands.
"""

from __future__ import annotations

import gc
import random
import time
from decimal import Decimal
from typing import Any

import msgspec

from atlas_oms.benchmarks.core import (
    N_ORDERS,
    N_ORDERS_QUICK,
    START_NS,
    TAKERS,
    _run_market,
    make_node,
    settle_gc,
)
from atlas_oms.benchmarks.memory import CountingJournal
from atlas_oms.model.commands import SubmitOrder
from atlas_oms.model.enums import OrderStatus, OrderType, Side
from atlas_oms.model.events import OrderDenied
from atlas_oms.model.instrument import Instrument
from atlas_oms.model.risk import (
    BreakerConfig,
    DuplicateAction,
    MarketOrderReason,
    RiskLimits,
    Scope,
)
from atlas_oms.runtime.clock import ManualClock
from atlas_oms.runtime.node import Node

ACCOUNTS = 200
ACCOUNTS_QUICK = 20
SYMBOLS = 50
SYMBOLS_QUICK = 5
N_OPEN = 100_000
N_OPEN_QUICK = 2_000
N_CHECKS = 100_000
N_CHECKS_QUICK = 2_000
N_SUBMITS = 20_000
N_SUBMITS_QUICK = 500
#: The market-order comparison: runs of each kind, the best one counts.
RUNS = 3

TICK = Decimal("0.01")
LOT = Decimal("0.001")
SECOND_NS = 1_000_000_000
MS_NS = 1_000_000
#: Set-up orders are this far apart: 110,000 orders span about 18 minutes, so that each account
#: sends about one order every two seconds and the rate windows hold realistic histories.
SETUP_SPACING_NS = 10 * MS_NS
#: The full submits are this far apart (each account every two seconds, as in the set-up).
SUBMIT_SPACING_NS = 10 * MS_NS
#: Market buys with risk on are this far apart: each taker sends one a second. The duplicate
#: guard (500 ms) would refuse a taker's identical market buys if they came closer together.
MARKET_SPACING_NS = 100 * MS_NS
#: The market-order policy is on in the market workload; its orders carry this reason.
MARKET_REASON = MarketOrderReason.FORCED_CLOSE


def _breaker() -> BreakerConfig:
    """A breaker with seed 003's loss, drawdown and error limits and rate limits that do not trip."""
    return BreakerConfig(max_orders_per_minute=10_000, max_orders_per_hour=100_000)


def global_limits() -> RiskLimits:
    return RiskLimits(
        max_order_qty=Decimal(1_000),
        max_order_notional=Decimal(10_000_000),
        price_band_pct=Decimal(10),
        max_firm_net_qty=Decimal(1_000_000),
        max_firm_gross_qty=Decimal(10_000_000),
    )


def instrument_limits() -> RiskLimits:
    return RiskLimits(
        max_order_qty=Decimal(500),
        max_order_notional=Decimal(1_000_000),
        price_band_pct=Decimal(5),
        max_firm_net_qty=Decimal(100_000),
        max_firm_gross_qty=Decimal(1_000_000),
    )


def account_limits() -> RiskLimits:
    return RiskLimits(
        max_open_orders=1_000,
        max_position_qty=Decimal(10_000),
        max_position_notional=Decimal(100_000_000),
        max_orders_per_second=50,
        max_orders_per_minute=2_000,
        max_orders_per_hour=20_000,
        duplicate_window_ms=500,
        duplicate_action=DuplicateAction.REFUSE,
        market_order_policy=True,
        order_trade_ratio_warn=Decimal(100),
        cancel_replace_ratio_warn=Decimal(100),
        breaker=_breaker(),
    )


def _symbol(s: int) -> str:
    return f"C{s:02d}/USDT"


def _price(s: int) -> Decimal:
    """Reference prices 100 to 1,080: every band (5% of at least 100) is 500 ticks or more."""
    return Decimal(100 + 20 * s)


class _Book:
    """The risk benchmark's node and what its workload needs to know about it."""

    def __init__(self, quick: bool) -> None:
        self.n_accounts = ACCOUNTS_QUICK if quick else ACCOUNTS
        self.n_symbols = SYMBOLS_QUICK if quick else SYMBOLS
        self.n_open = N_OPEN_QUICK if quick else N_OPEN
        self.accounts = [f"acct-{i:03d}" for i in range(self.n_accounts)]
        self.symbols = [_symbol(s) for s in range(self.n_symbols)]
        self.prices = [_price(s) for s in range(self.n_symbols)]
        self.node = Node(CountingJournal(), clock=ManualClock(START_NS))
        self.ts = START_NS + SECOND_NS

    def build(self) -> None:
        """Instruments, funded accounts, limits at every scope, then trades and the resting book."""
        node = self.node
        for symbol in self.symbols:
            node.add_instrument(
                Instrument.spot(
                    symbol, tick_size=TICK, lot_size=LOT, maker_fee="0.0005", taker_fee="0.001"
                )
            )
        for account in self.accounts:
            node.open_account(account)
            node.deposit(account, "USDT", 1_000_000_000_000)
            for symbol in self.symbols:
                node.deposit(account, symbol.split("/")[0], 1_000_000_000)
        for symbol, px in zip(self.symbols, self.prices, strict=True):
            node.update_prices(symbol, last=px)
        node.set_limits(Scope.GLOBAL, "", global_limits(), actor="bench")
        for symbol in self.symbols:
            node.set_limits(Scope.INSTRUMENT, symbol, instrument_limits(), actor="bench")
        for account in self.accounts:
            node.set_limits(Scope.ACCOUNT, account, account_limits(), actor="bench")
        self._trade()
        self._rest()

    def _send(self, account: str, s: int, side: Side, qty: Decimal, price: Decimal) -> None:
        events = self.node.process(
            SubmitOrder(
                ts=self.ts,
                account_id=account,
                symbol=self.symbols[s],
                side=side,
                order_type=OrderType.LIMIT,
                qty=qty,
                price=price,
            )
        )
        self.ts += SETUP_SPACING_NS
        if events and isinstance(events[0], OrderDenied):
            raise RuntimeError(f"risk benchmark set-up refused: {events[0]}")

    def _trade(self) -> None:
        """Pair the accounts up in every instrument: one sells to the other at the reference
        price, so every account holds an open (long or short) position in every instrument."""
        n = self.n_accounts
        for s in range(self.n_symbols):
            px = self.prices[s]
            for k in range(n // 2):
                qty = LOT * (100 + k)
                self._send(self.accounts[(2 * k + s) % n], s, Side.SELL, qty, px)
                self._send(self.accounts[(2 * k + 1 + s) % n], s, Side.BUY, qty, px)

    def _rest(self) -> None:
        """``n_open`` limit orders that rest: every account has as many in every instrument,
        bids below and asks above the reference price, at most 200 ticks away."""
        n, per = self.n_accounts, self.n_accounts * self.n_symbols
        for j in range(self.n_open):
            a, s, level = j % n, (j // n) % self.n_symbols, j // per
            off = TICK * (1 + (a + 37 * level) % 200)
            buy = level % 2 == 0
            qty = LOT * (10 + level)
            px = self.prices[s] - off if buy else self.prices[s] + off
            self._send(self.accounts[a], s, Side.BUY if buy else Side.SELL, qty, px)

    def sizes(self) -> tuple[int, int]:
        """(open positions, open orders) as the node reports them."""
        node = self.node
        return len(node.positions()), len(node.orders(open_only=True))

    def checks(self, n: int, ts: int) -> list[tuple[SubmitOrder, Decimal]]:
        """``n`` limit orders over every account, instrument and side (seeded draws) that pass
        every check, with the worst price the engine would pass (the limit price)."""
        rng = random.Random(20260105)
        out = []
        for i in range(n):
            s = rng.randrange(self.n_symbols)
            buy = rng.random() < 0.5
            off = TICK * rng.randint(1, 400)
            px = self.prices[s] - off if buy else self.prices[s] + off
            cmd = SubmitOrder(
                ts=ts + i * 1_000,
                account_id=self.accounts[rng.randrange(self.n_accounts)],
                symbol=self.symbols[s],
                side=Side.BUY if buy else Side.SELL,
                order_type=OrderType.LIMIT,
                qty=LOT * rng.randint(1, 1_000),
                price=px,
            )
            out.append((cmd, px))
        return out

    def submits(self, n: int, ts: int) -> list[SubmitOrder]:
        """``n`` resting limit orders, each (account, instrument, side, price) new, 201+ ticks
        from the reference (the set-up's orders are at most 200 away)."""
        out = []
        for i in range(n):
            a, k = i % self.n_accounts, i // self.n_accounts
            s, buy = k % self.n_symbols, (k // self.n_symbols) % 2 == 0
            off = TICK * (201 + k // (2 * self.n_symbols))
            out.append(
                SubmitOrder(
                    ts=ts + i * SUBMIT_SPACING_NS,
                    account_id=self.accounts[a],
                    symbol=self.symbols[s],
                    side=Side.BUY if buy else Side.SELL,
                    order_type=OrderType.LIMIT,
                    qty=LOT * 10,
                    price=self.prices[s] - off if buy else self.prices[s] + off,
                )
            )
        return out


def _percentiles(samples: list[int]) -> tuple[float, float, float]:
    """(p50, p99, max) in microseconds of nanosecond samples."""
    samples.sort()
    n = len(samples)
    return (
        round(samples[n // 2] / 1000, 2),
        round(samples[min(n - 1, n * 99 // 100)] / 1000, 2),
        round(samples[-1] / 1000, 2),
    )


def bench_risk_check(quick: bool) -> dict[str, Any]:
    book = _Book(quick)
    build_started = time.perf_counter()
    book.build()
    build_s = time.perf_counter() - build_started
    positions, open_orders = book.sizes()
    if positions != book.n_accounts * book.n_symbols or open_orders != book.n_open:
        raise RuntimeError(
            f"risk benchmark set-up broken: {positions} open positions, {open_orders} open orders"
        )
    node = book.node
    n = N_CHECKS_QUICK if quick else N_CHECKS
    calls = book.checks(n, book.ts + 2 * SECOND_NS)
    check = node.pre_trade_check
    # One untimed pass: every order must pass every check (and the interpreter warms up).
    refused = [(c, r) for c, worst in calls if (r := check(c, worst))]
    if refused:
        raise RuntimeError(f"risk benchmark broken: {len(refused)} refused, first {refused[0]}")
    samples = [0] * n
    empty = [0] * n
    settle_gc()
    clock = time.perf_counter_ns
    for i, (cmd, worst) in enumerate(calls):
        t0 = clock()
        check(cmd, worst)
        samples[i] = clock() - t0
    for i in range(n):  # what a perf_counter_ns pair costs by itself
        t0 = clock()
        empty[i] = clock() - t0
    gc.unfreeze()
    p50, p99, worst_us = _percentiles(samples)
    timer_us = _percentiles(empty)[0]

    # Informational: whole submits (engine, fold, risk hooks, exchange, journal) on that state.
    m = N_SUBMITS_QUICK if quick else N_SUBMITS
    submits = book.submits(m, book.ts + 10 * SECOND_NS)
    first_id = node.next_order_id
    latencies = [0] * m
    settle_gc()
    process = node.process
    for i, cmd in enumerate(submits):
        t0 = clock()
        process(cmd)
        latencies[i] = clock() - t0
    gc.unfreeze()
    accepted = len(node.orders(status=OrderStatus.ACCEPTED, after=first_id - 1))
    if accepted != m:
        raise RuntimeError(f"risk benchmark broken: {accepted} of {m} submits rest")
    sub_p50, sub_p99, sub_max = _percentiles(latencies)
    return {
        "risk_check_p50_us": p50,
        "risk_check_p99_us": p99,
        "risk_check_max_us": worst_us,
        "risk_check_timer_overhead_us": timer_us,
        "risk_submit_p50_us": sub_p50,
        "risk_submit_p99_us": sub_p99,
        "risk_submit_max_us": sub_max,
        "risk_setup_s": round(build_s, 1),
        "n": {
            "risk_accounts": book.n_accounts,
            "risk_instruments": book.n_symbols,
            "risk_open_positions": positions,
            "risk_open_orders": open_orders,
            "risk_check_samples": n,
            "risk_submit_samples": m,
        },
    }


def _set_market_limits(node: Node, monitoring: bool = True) -> None:
    """Limits at global and account scope for the market workload: all on, none tripping.

    Without ``monitoring`` the accounts have every pre-trade limit but no circuit breaker and no
    ratio warnings (the post-trade monitoring), to show what each part costs."""
    node.set_limits(Scope.GLOBAL, "", global_limits(), actor="bench")
    limits = account_limits()
    if not monitoring:
        limits = msgspec.structs.replace(
            limits, breaker=None, order_trade_ratio_warn=None, cancel_replace_ratio_warn=None
        )
    for account in [f"m{i}" for i in range(10)] + [f"t{i}" for i in range(TAKERS)]:
        node.set_limits(Scope.ACCOUNT, account, limits, actor="bench")


def _set_pretrade_limits(node: Node) -> None:
    _set_market_limits(node, monitoring=False)


def bench_market_orders_with_risk(quick: bool) -> dict[str, Any]:
    """The core market-order workload with and without risk, alternating, best of ``RUNS``."""
    n = N_ORDERS_QUICK if quick else N_ORDERS
    best = {"plain": float("inf"), "risk": float("inf"), "pretrade": float("inf")}
    prepare = {"plain": None, "risk": _set_market_limits, "pretrade": _set_pretrade_limits}
    for _ in range(RUNS):
        for variant in ("plain", "risk", "pretrade"):
            node = make_node()
            elapsed, _ = _run_market(
                node,
                n,
                prepare=prepare[variant],
                spacing_ns=MARKET_SPACING_NS,
                market_reason=MARKET_REASON,
            )
            if variant != "plain":
                _check_risk_quiet(node)
            best[variant] = min(best[variant], elapsed)
            del node
            gc.collect()
    plain_rate, risk_rate = n / best["plain"], n / best["risk"]
    pretrade_rate = n / best["pretrade"]
    return {
        "market_orders_risk_per_s": round(risk_rate),
        "market_risk_slowdown_pct": round(100 * (1 - risk_rate / plain_rate), 1),
        "market_orders_plain_per_s": round(plain_rate),
        "market_orders_pretrade_risk_per_s": round(pretrade_rate),
        "market_pretrade_risk_slowdown_pct": round(100 * (1 - pretrade_rate / plain_rate), 1),
        "market_risk_setup": (
            f"limits at global and account scope, a breaker on each of the 20 accounts, "
            f"market-order policy on (orders carry market_reason={MARKET_REASON.value}), "
            f"orders {MARKET_SPACING_NS // MS_NS} ms apart in both runs"
        ),
        "n": {"market_risk_orders": n, "market_risk_runs": RUNS},
    }


def _check_risk_quiet(node: Node) -> None:
    """The risk run must have been the plain run plus checks: no alert, no trip, no refusal."""
    status = node.risk_status()
    blocking = status["trading_states"] or status["kill_switches"] or node.open_breakers()
    if node.ratio_warnings() or blocking:
        raise RuntimeError("market benchmark with risk broken: a ratio warning or a trip")
