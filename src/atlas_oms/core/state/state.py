"""Everything the engine knows: the state the fold builds and the decision side reads.

Only the fold (:mod:`atlas_oms.core.state.fold`) changes it. Indexes marked *derived* are
rebuilt from the rest when a snapshot is loaded and are never hashed; the digest
(:mod:`atlas_oms.core.state.digest`) covers the rest.
"""

from __future__ import annotations

from collections import deque
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sortedcontainers import SortedList

from atlas_oms.core.derivatives.book import LiqBook, LiqIndex
from atlas_oms.core.equities.book import EquityBook
from atlas_oms.core.orders.link_book import LinkBook
from atlas_oms.core.orders.order import Order
from atlas_oms.core.orders.trigger_index import TriggerIndex
from atlas_oms.core.policy.bar_book import BarBook
from atlas_oms.core.policy.desk import CyclesBook
from atlas_oms.core.policy.params import PolicyParams
from atlas_oms.core.risk.book import RiskBook
from atlas_oms.core.state.positions import Balance, Position
from atlas_oms.core.venues.book import VenueBook
from atlas_oms.model import events as ev
from atlas_oms.model.account import Account
from atlas_oms.model.enums import PositionSide
from atlas_oms.model.instrument import Instrument
from atlas_oms.model.risk import Scope

if TYPE_CHECKING:
    from atlas_oms.core.state.booking import FirmExposure, PositionRefs

ZERO = Decimal(0)
ONE = Decimal(1)


class State:
    """The engine's state. Plain data with a few lookups; no decisions."""

    __slots__ = (
        "account_balances",
        "account_positions",
        "accounts",
        "algo_orders",
        "algos",
        "algos_open",
        "archived",
        "balances",
        "bar_book",
        "busted",
        "client_id_queue",
        "client_ids",
        "cycles",
        "deriv_live",
        "equities",
        "expiries",
        "fills",
        "firm",
        "instruments",
        "last",
        "leverage",
        "links",
        "liq",
        "liq_index",
        "mark",
        "next_order_id",
        "open_orders",
        "order_fills",
        "orders",
        "pair_orders",
        "pairs",
        "policy",
        "policy_overrides",
        "positions",
        "refs_cache",
        "risk",
        "seq",
        "symbol_positions",
        "terminal",
        "trade_orders",
        "trades",
        "triggers",
        "venues",
    )

    def __init__(self) -> None:
        self.seq = 0
        self.next_order_id = 1
        self.instruments: dict[str, Instrument] = {}
        self.accounts: dict[str, Account] = {}
        self.orders: dict[int, Order] = {}
        self.client_ids: dict[tuple[str, str], int] = {}
        self.positions: dict[tuple[str, str, PositionSide], Position] = {}
        self.balances: dict[tuple[str, str], Balance] = {}
        self.leverage: dict[tuple[str, str], Decimal] = {}
        self.last: dict[str, Decimal] = {}
        self.mark: dict[str, Decimal] = {}
        #: exec id -> the execution as booked (a correction replaces it).
        self.fills: dict[str, ev.OrderFilled] = {}
        self.busted: set[str] = set()
        #: Retention (see core/retention.py): terminal order id -> when it ended, in the order
        #: orders ended; (ts, account, client order id, order id) of every client id, in the
        #: order they were given; archive events folded so far.
        self.terminal: dict[int, int] = {}
        self.client_id_queue: deque[tuple[int, str, str, int]] = deque()
        self.archived = 0
        #: order id -> its exec ids (derived from the fills).
        #: Exec ids of each order's fills, in order (tuples: untracked by the cyclic GC, so a
        #: long-running node's collections do not grow with its orders).
        self.order_fills: dict[int, tuple[str, ...]] = {}
        #: Held stop, take-profit and trailing orders by trigger (derived from the orders).
        self.triggers = TriggerIndex()
        #: (expire_ts, order id) of every live order that expires (DAY, GTD), in expiry order.
        self.expiries: SortedList = SortedList()
        self.risk = RiskBook()
        #: US equities: a cash account's unsettled sale proceeds; live equity orders (derived).
        self.equities = EquityBook()
        #: The derivatives venue: margin modes, insurance funds, funding, liquidations.
        self.liq = LiqBook()
        #: Positions by liquidation price (derived; see core/derivatives/book.py).
        self.liq_index = LiqIndex()
        #: symbol -> its positions (funding and ADL walk these; derived).
        self.symbol_positions: dict[str, list[Position]] = {}
        #: account -> its live derivative orders (a liquidation cancels them; derived).
        self.deriv_live: dict[str, dict[int, None]] = {}
        #: account -> number of live orders (derived).
        self.open_orders: dict[str, int] = {}
        #: symbol -> net and gross position and open order quantity over all accounts (derived).
        self.firm: dict[str, FirmExposure] = {}
        #: account -> its positions and balances (equity and flattening walk these; derived).
        self.account_positions: dict[str, list[Position]] = {}
        self.account_balances: dict[str, list[Balance]] = {}
        #: (account, symbol, position side) -> what its fills move (a lookup cache).
        self.refs_cache: dict[tuple[str, str, PositionSide], PositionRefs] = {}
        #: External venue accounts: status, adopted orders, reconciliation (core/venues/).
        self.venues = VenueBook()
        #: Linked orders: OCO, OTO, bracket lists (core/orders/links.py).
        self.links = LinkBook()
        #: Managed trades (issue 13; core/policy/trade_state.py) and order id -> trade id.
        self.trades: dict[str, Any] = {}
        self.trade_orders: dict[int, str] = {}
        #: Parent orders (issue 16; core/algos/state.py), child order id -> parent id (derived)
        #: and the open parents (derived: the engine's hooks run only while one is open).
        self.algos: dict[str, Any] = {}
        self.algo_orders: dict[int, str] = {}
        self.algos_open: dict[str, None] = {}
        #: The execution policy's parameters (seed 001 §16), set by ``PolicyParamsSet``.
        self.policy = PolicyParams()
        self.policy_overrides: tuple[tuple[str, str], ...] = ()
        #: Per symbol: 1-minute bars and indicators (seed 001 §10; core/policy/bar_book.py).
        self.bar_book = BarBook()
        #: Trading days, cycles, slippage and degradation per account (core/policy/desk.py).
        self.cycles = CyclesBook()
        #: Paired arbitrage orders in flight (core/sor/pair.py) and order id -> pair id (derived).
        self.pairs: dict[str, Any] = {}
        self.pair_orders: dict[int, str] = {}

    # ------------------------------------------------------------------ lookups
    def balance(self, account_id: str, asset: str) -> Balance:
        """The account's balance of ``asset``, created empty on first use (fold only)."""
        key = (account_id, asset)
        bal = self.balances.get(key)
        if bal is None:
            bal = self.balances[key] = Balance(asset)
            self.account_balances.setdefault(account_id, []).append(bal)
        return bal

    def position(self, account_id: str, inst: Instrument, side: PositionSide) -> Position:
        """The account's position, created flat on first use (fold only)."""
        key = (account_id, inst.symbol, side)
        pos = self.positions.get(key)
        if pos is None:
            pos = self.positions[key] = Position(account_id, inst.symbol, side, inst.multiplier)
            self.account_positions.setdefault(account_id, []).append(pos)
            self.symbol_positions.setdefault(inst.symbol, []).append(pos)
        return pos

    def free(self, account_id: str, asset: str) -> Decimal:
        """Free balance, read without creating a balance."""
        bal = self.balances.get((account_id, asset))
        return bal.free if bal is not None else ZERO

    def leverage_of(self, account_id: str, symbol: str) -> Decimal:
        return self.leverage.get((account_id, symbol), ONE)

    def reference_price(self, symbol: str, prefer_mark: bool = False) -> Decimal | None:
        """The last trade price (or, ``prefer_mark``, the mark price), else the other one."""
        if prefer_mark:
            return self.mark.get(symbol) or self.last.get(symbol)
        return self.last.get(symbol) or self.mark.get(symbol)

    def find_order(
        self, account_id: str, order_id: int | None, client_order_id: str | None
    ) -> Order | None:
        """The account's order by id, or by its client order id; None if it has no such order."""
        if order_id is None and client_order_id is not None:
            order_id = self.client_ids.get((account_id, client_order_id))
        order = self.orders.get(order_id) if order_id is not None else None
        if order is None or order.account_id != account_id:
            return None
        return order

    def in_scope(self, scope: Scope, scope_id: str, account_id: str, tag: str | None) -> bool:
        """Whether an account's order (with strategy ``tag``) falls in a scope."""
        if scope is Scope.GLOBAL:
            return True
        if scope is Scope.ACCOUNT:
            return scope_id in self.risk.chain(account_id)
        if scope is Scope.STRATEGY:
            return tag == scope_id
        return False
