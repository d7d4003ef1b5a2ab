"""The arbitrage watcher of the consolidated book (issue 16 §2, "Arbitrage detection").

After a book of a group changed (a venue's stream, or the built-in exchange's flush), the market
data hub calls :meth:`ArbitrageWatcher.check`: the group's route book goes to the core's
``ArbitrageTracker`` (``core/sor/arbitrage.py``, debounced: only a new, changed or ended
opportunity is a command) and each ``NoteArbitrage`` it returns is processed by the node
(journaled ``ArbitrageDetected``; the service's group commit makes it durable before any later
REST answer, like the spread monitor's ``NoteVenueSpread``).

Fees: per venue instrument the lowest taker fee of the accounts that may trade it (the route
book's accounts: the configured strategy's, plus ``account``; their ``accounts.yaml`` fee tiers),
else the instrument's own taker fee.

Auto-execution (``auto``, off by default): a NEW opportunity becomes one ``SubmitArbitragePair``
(``core/sor/pair.py``: both legs IOC limits at the opportunity's walked limits, risk-checked each;
second leg short -> unwind) for ``min(opportunity qty, max qty of the symbol)`` on each leg's
instrument lot, the leg accounts chosen among the route book's candidates (usable, enough
balance; lowest taker fee, then routing order). Not while a pair of the same two instruments is
in flight.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from typing import Any

from atlas_oms.core.sor.arbitrage import NEW, ArbitrageTracker
from atlas_oms.core.sor.candidates import route_candidates
from atlas_oms.model.commands_sor import NoteArbitrage, SubmitArbitragePair
from atlas_oms.model.enums import Side
from atlas_oms.model.route_book import RouteBook
from atlas_oms.model.route_decision import ArbOpportunity, RouteCandidate
from atlas_oms.runtime.market.consolidated import ConsolidatedBook

__all__ = ["ArbitrageConfig", "ArbitrageWatcher"]

log = logging.getLogger("atlas.market")
ZERO = Decimal(0)


@dataclass(frozen=True)
class ArbitrageConfig:
    """``threshold_bps``: the edge after both taker fees an opportunity needs (basis points of
    the ask); ``strategy``: whose accounts (``account_routing.strategies``) may trade the legs
    and whose fee tiers count; ``account``: an account added to them (the built-in exchange
    takes any account; venue accounts trade only on their venue); ``auto``: submit a paired
    order for each new opportunity; ``max_qty``: unified symbol (or ``*``) -> the most base
    quantity per pair (no entry: no auto-execution for that symbol)."""

    threshold_bps: Decimal = Decimal(5)
    strategy: str | None = None
    account: str | None = None
    auto: bool = False
    max_qty: Mapping[str, Decimal] = field(default_factory=dict)

    def max_qty_for(self, symbol: str) -> Decimal | None:
        q = self.max_qty.get(symbol)
        return self.max_qty.get("*") if q is None else q


class ArbitrageWatcher:
    """See the module doc. One per node."""

    def __init__(self, node: Any, book: ConsolidatedBook, config: ArbitrageConfig) -> None:
        self.node = node
        self.book = book
        self.config = config
        self.tracker = ArbitrageTracker(threshold_bps=config.threshold_bps)
        self._pairs = 0

    def check(self, unified: str) -> list[NoteArbitrage]:
        """Look for opportunities on ``unified`` now; process what changed; return it."""
        cfg = self.config
        rb = self.book.route_book(unified, cfg.account, cfg.strategy)
        if len(rb.books) < 2 and not any(k[0] == rb.symbol for k in self.tracker.live):
            return []
        cands = self._candidates(rb, Side.BUY)
        commands = self.tracker.update(rb, self._fees(rb, cands))
        for command in commands:
            self.node.process(command)
        if cfg.auto:
            for command in commands:
                if command.status == NEW:
                    self._execute(rb, command.opportunity)
        return commands

    # ------------------------------------------------------------------ helpers
    def _candidates(self, rb: RouteBook, side: Side) -> list[RouteCandidate]:
        account = self.config.account or ""
        if not rb.accounts and not account:
            return []
        return route_candidates(self.node.engine.state, account, side, rb)

    def _fees(self, rb: RouteBook, cands: list[RouteCandidate]) -> dict[str, Decimal]:
        fees: dict[str, Decimal] = {}
        for c in cands:
            if not c.skipped and (c.symbol not in fees or c.taker_fee < fees[c.symbol]):
                fees[c.symbol] = c.taker_fee
        for vb in rb.books:
            if vb.symbol not in fees:
                inst = self.node.instrument(vb.symbol)
                if inst is not None:
                    fees[vb.symbol] = inst.taker_fee
        return fees

    def _execute(self, rb: RouteBook, opp: ArbOpportunity) -> None:
        cap = self.config.max_qty_for(rb.symbol)
        state = self.node.engine.state
        if cap is None or cap <= 0:
            return
        if any(
            p.buy_symbol == opp.buy_symbol and p.sell_symbol == opp.sell_symbol
            for p in state.pairs.values()
        ):
            return
        buy_inst = state.instruments.get(opp.buy_symbol)
        sell_inst = state.instruments.get(opp.sell_symbol)
        if buy_inst is None or sell_inst is None:
            return
        qty = min(opp.qty, cap)
        buy_qty = _lot_down(qty / buy_inst.multiplier, buy_inst.lot_size)
        sell_qty = _lot_down(qty / sell_inst.multiplier, sell_inst.lot_size)
        base = min(buy_qty * buy_inst.multiplier, sell_qty * sell_inst.multiplier)
        buy_qty = _lot_down(base / buy_inst.multiplier, buy_inst.lot_size)
        sell_qty = _lot_down(base / sell_inst.multiplier, sell_inst.lot_size)
        if buy_qty <= 0 or buy_qty * buy_inst.multiplier != sell_qty * sell_inst.multiplier:
            log.info("arbitrage on %s: no size both legs can trade", rb.symbol)
            return
        buyer = _leg(self._candidates(rb, Side.BUY), opp.buy_symbol, buy_qty, opp.buy_limit)
        seller = _leg(self._candidates(rb, Side.SELL), opp.sell_symbol, sell_qty, None)
        if buyer is None or seller is None:
            log.info("arbitrage on %s: no account may trade both legs", rb.symbol)
            return
        self._pairs += 1
        self.node.process(
            SubmitArbitragePair(
                ts=self.node.clock.now(),
                pair_id=f"ARB{state.seq + 1}-{self._pairs}",
                buy_account_id=buyer.account_id,
                buy_symbol=opp.buy_symbol,
                buy_qty=buy_qty,
                buy_limit=opp.buy_limit,
                sell_account_id=seller.account_id,
                sell_symbol=opp.sell_symbol,
                sell_qty=sell_qty,
                sell_limit=opp.sell_limit,
            )
        )


def _lot_down(qty: Decimal, lot: Decimal) -> Decimal:
    if lot <= 0:
        return qty
    return (qty / lot).to_integral_value(ROUND_DOWN) * lot


def _leg(
    cands: list[RouteCandidate], symbol: str, qty: Decimal, limit: Decimal | None
) -> RouteCandidate | None:
    """The account for one leg: usable on ``symbol`` with enough balance; lowest taker fee,
    then routing order."""
    usable = []
    for c in cands:
        if c.symbol != symbol or c.skipped:
            continue
        if (
            limit is not None
            and c.buy_power is not None
            and c.buy_power < qty * limit * (1 + c.taker_fee)
        ):
            continue
        if limit is None and c.sell_qty is not None and c.sell_qty < qty * c.multiplier:
            continue
        usable.append(c)
    usable.sort(key=lambda c: (c.taker_fee, c.rank))
    return usable[0] if usable else None
