"""The derivatives venue's state: margin modes, insurance funds, funding, liquidation cases, and the
index of positions by liquidation price that lets a mark-price message find who to liquidate
without looking at every position.

:class:`LiqBook` is state (snapshotted and hashed). :class:`LiqIndex` is derived from it and from
the positions: rebuilt from scratch after a restart, kept current through a dirty set.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sortedcontainers import SortedList

from atlas_oms.model.enums import PositionSide
from atlas_oms.model.margin import MarginMode

ZERO = Decimal(0)

#: Stages of liquidating one position.
BOOK = "BOOK"  # IOC at the bankruptcy price into the book; better fills feed the insurance fund
FUND = "FUND"  # IOC at a worse price; the insurance fund pays the difference
ADL = "ADL"  # what is left closes against opposite positions at the bankruptcy price
CLOSED = "CLOSED"  # the position was already flat when its turn came
NET = "NET"  # hedge mode, cross: the account's own long and short close against each other


class Case:
    """One liquidation in progress: an isolated position, or all of a cross account's positions in
    one settlement asset, closed one after the other."""

    __slots__ = (
        "account_id",
        "asset",
        "bankruptcy",
        "case_id",
        "current",
        "mode",
        "order_id",
        "settled_notional",
        "settled_qty",
        "shortfall",
        "stage",
        "todo",
    )

    def __init__(
        self,
        case_id: int,
        account_id: str,
        mode: MarginMode,
        asset: str,
        todo: list[tuple[str, PositionSide]],
    ) -> None:
        self.case_id = case_id
        self.account_id = account_id
        self.mode = mode
        self.asset = asset
        self.todo = todo
        self.current: tuple[str, PositionSide] | None = None
        self.stage: str | None = None
        self.order_id: int | None = None
        self.bankruptcy: Decimal | None = None
        self.settled_qty = ZERO
        self.settled_notional = ZERO
        self.shortfall = ZERO

    def canonical(self) -> list[Any]:
        return [
            self.case_id,
            self.account_id,
            self.mode,
            self.asset,
            self.todo,
            self.current,
            self.stage,
            self.order_id,
            self.bankruptcy,
            self.settled_qty,
            self.settled_notional,
            self.shortfall,
        ]


class LiqBook:
    """Margin modes, funds, funding and the liquidations in progress."""

    def __init__(self) -> None:
        #: (account, symbol) -> mode; absent = CROSS (the venues' default).
        self.margin_mode: dict[tuple[str, str], MarginMode] = {}
        #: asset -> insurance fund balance.
        self.fund: dict[str, Decimal] = {}
        #: perpetual -> funding rate of the next settlement.
        self.funding_rate: dict[str, Decimal] = {}
        #: perpetual -> time (ns) of the last settlement boundary passed.
        self.last_funding: dict[str, int] = {}
        #: (account, symbol, position side) -> funding received (+) or paid (-) so far.
        self.funding_total: dict[tuple[str, str, PositionSide], Decimal] = {}
        self.cases: dict[int, Case] = {}
        self.next_case_id = 1
        #: (account, symbol) or (account, "*") for a cross case -> case id: frozen for new orders.
        self.frozen: dict[tuple[str, str], int] = {}
        #: liquidation order id -> case id.
        self.orders: dict[int, int] = {}
        self.liquidations = 0
        self.adl_count = 0

    def mode(self, account_id: str, symbol: str) -> MarginMode:
        return self.margin_mode.get((account_id, symbol), MarginMode.CROSS)

    def is_frozen(self, account_id: str, symbol: str) -> bool:
        frozen = self.frozen
        return (account_id, "*") in frozen or (account_id, symbol) in frozen

    def canonical(self) -> list[Any]:
        return [
            sorted(self.margin_mode.items()),
            sorted(self.fund.items()),
            sorted(self.funding_rate.items()),
            sorted(self.last_funding.items()),
            sorted(self.funding_total.items()),
            [c.canonical() for _, c in sorted(self.cases.items())],
            self.next_case_id,
            sorted(self.frozen.items()),
            sorted(self.orders.items()),
            self.liquidations,
            self.adl_count,
        ]


Key = tuple[str, str, str]  # (account, symbol, position side or "" for a cross entry)


class LiqIndex:
    """Per symbol, entries ``(liquidation price, key)`` in two sorted lists: ``below`` liquidates
    when the mark falls to the price or under (net longs), ``above`` when it rises to it or over.

    A mark-price message looks at the top of each list: O(log n) when nothing liquidates.
    """

    def __init__(self) -> None:
        self.below: dict[str, SortedList] = {}
        self.above: dict[str, SortedList] = {}
        #: account -> its entries (symbol, below?, item) for removal.
        self.entries: dict[str, list[tuple[str, bool, tuple[Decimal, Key]]]] = {}
        #: Accounts whose entries must be recomputed before the index is read.
        self.dirty: set[str] = set()
        #: symbol -> cross accounts holding it and another symbol: a mark of one moves the
        #: others' liquidation prices, so they are checked directly on every mark of each.
        self.cross_multi: dict[str, set[str]] = {}
        self.multi_of: dict[str, set[str]] = {}
        #: Bumped by every mark price, funding settlement and tier change: ADL scores all move.
        self.epoch = 0

    def clear(self) -> None:
        self.below.clear()
        self.above.clear()
        self.entries.clear()
        self.cross_multi.clear()
        self.multi_of.clear()
        self.epoch += 1

    def remove_account(self, account_id: str) -> None:
        old = self.entries.pop(account_id, None)
        if old:
            for symbol, below, item in old:
                (self.below if below else self.above)[symbol].remove(item)
        syms = self.multi_of.pop(account_id, None)
        if syms:
            for symbol in syms:
                accounts = self.cross_multi[symbol]
                accounts.discard(account_id)
                if not accounts:
                    del self.cross_multi[symbol]

    def add(self, account_id: str, symbol: str, price: Decimal, below: bool, key: Key) -> None:
        side = self.below if below else self.above
        lst = side.get(symbol)
        if lst is None:
            lst = side[symbol] = SortedList()
        item = (price, key)
        lst.add(item)
        self.entries.setdefault(account_id, []).append((symbol, below, item))

    def add_multi(self, account_id: str, symbols: set[str]) -> None:
        self.multi_of[account_id] = symbols
        for symbol in symbols:
            self.cross_multi.setdefault(symbol, set()).add(account_id)

    def hits(self, symbol: str, mark: Decimal) -> list[Key]:
        """Keys whose liquidation price the mark has reached."""
        out: list[Key] = []
        below = self.below.get(symbol)
        if below:
            i = len(below) - 1
            while i >= 0:
                item = below[i]
                if item[0] < mark:
                    break
                out.append(item[1])
                i -= 1
        above = self.above.get(symbol)
        if above:
            for item in above:
                if item[0] > mark:
                    break
                out.append(item[1])
        return out
