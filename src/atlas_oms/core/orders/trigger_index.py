"""Held stop, take-profit and trailing orders, indexed so a price update finds what fires."""

from __future__ import annotations

from decimal import Decimal

from sortedcontainers import SortedList

from atlas_oms.model.enums import TAKE_PROFIT_TYPES, TRAILING_TYPES, OrderType, Side, TriggerType


def fires_on_rise(side: Side, order_type: OrderType) -> bool:
    """True when the order fires as the price rises to its trigger (buy stop, sell take-profit)."""
    take_profit = order_type in TAKE_PROFIT_TYPES
    return (side is Side.BUY) != take_profit


class TriggerBook:
    """One instrument's held orders for one price source (last or mark)."""

    __slots__ = ("down", "trailing", "up")

    def __init__(self) -> None:
        self.up: SortedList = SortedList()  # (trigger, order_id): fire when price >= trigger
        self.down: SortedList = SortedList()  # (trigger, -order_id): fire when price <= trigger
        self.trailing: dict[int, None] = {}  # order ids, in arrival order

    def __bool__(self) -> bool:
        return bool(self.up or self.down or self.trailing)


class TriggerIndex:
    """Every held order by (symbol, trigger type)."""

    def __init__(self) -> None:
        self._books: dict[tuple[str, TriggerType], TriggerBook] = {}
        self._where: dict[int, tuple[tuple[str, TriggerType], tuple[Decimal, int] | None]] = {}

    def __len__(self) -> int:
        return len(self._where)

    @property
    def active(self) -> bool:
        return bool(self._where)

    def __contains__(self, order_id: int) -> bool:
        return order_id in self._where

    def book(self, symbol: str, trigger_type: TriggerType) -> TriggerBook | None:
        return self._books.get((symbol, trigger_type))

    def add(
        self,
        order_id: int,
        symbol: str,
        trigger_type: TriggerType,
        side: Side,
        order_type: OrderType,
        trigger_price: Decimal,
    ) -> None:
        key = (symbol, trigger_type)
        book = self._books.get(key)
        if book is None:
            book = self._books[key] = TriggerBook()
        if order_type in TRAILING_TYPES:
            book.trailing[order_id] = None
            self._where[order_id] = (key, None)
        elif fires_on_rise(side, order_type):
            entry = (trigger_price, order_id)
            book.up.add(entry)
            self._where[order_id] = (key, entry)
        else:
            entry = (trigger_price, -order_id)
            book.down.add(entry)
            self._where[order_id] = (key, entry)

    def remove(self, order_id: int) -> None:
        found = self._where.pop(order_id, None)
        if found is None:
            return
        key, entry = found
        book = self._books[key]
        if entry is None:
            del book.trailing[order_id]
        elif entry[1] == order_id:
            book.up.remove(entry)
        else:
            book.down.remove(entry)

    def fired(self, symbol: str, trigger_type: TriggerType, price: Decimal) -> list[int]:
        """Ids of the non-trailing orders whose trigger the price has reached, in firing order."""
        book = self._books.get((symbol, trigger_type))
        if book is None:
            return []
        out: list[int] = []
        up = book.up
        for trigger, order_id in up:
            if trigger > price:
                break
            out.append(order_id)
        down = book.down
        for i in range(len(down) - 1, -1, -1):
            trigger, neg_id = down[i]
            if trigger < price:
                break
            out.append(-neg_id)
        return out
