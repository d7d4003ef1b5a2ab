"""The equities part of the engine's state: a cash account's unsettled sale proceeds."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from atlas_oms.core.equities.settlement import settlement_ts
from atlas_oms.model.enums import InstrumentKind
from atlas_oms.model.instrument import Instrument
from atlas_oms.model.risk import EquityAccountType

if TYPE_CHECKING:
    from atlas_oms.core.orders.order import Order
    from atlas_oms.core.state.state import State
    from atlas_oms.model.events import OrderFilled

ZERO = Decimal(0)
_EQUITY = InstrumentKind.EQUITY
_CASH = EquityAccountType.CASH


class EquityBook:
    """The equities part of the engine's state.

    ``unsettled``: (account, currency) -> {settlement instant (ns): amount}, a cash account's
    sale proceeds not yet settled (state: folded from fills, hashed, snapshotted). Amounts of one
    settlement instant are summed, and instants already reached are pruned whenever an entry is
    added, so an account holds a few entries at most.

    ``live``: account -> {order id: order}, its live equity orders (derived from the orders and
    rebuilt when a snapshot is loaded; margin accounts value them).
    """

    __slots__ = ("_bases", "live", "unsettled")

    def __init__(self) -> None:
        self.unsettled: dict[tuple[str, str], dict[int, Decimal]] = {}
        self.live: dict[str, dict[int, Order]] = {}
        self._bases: tuple[int, dict[str, Instrument]] = (-1, {})

    def __getstate__(self) -> tuple[Any, ...]:
        return (self.unsettled,)  # ``live`` is derived: import_state rebuilds it

    def __setstate__(self, data: tuple[Any, ...]) -> None:
        self.unsettled = data[0]
        self.live = {}
        self._bases = (-1, {})

    def track(self, order: Order) -> None:
        """Follow an equity order's leaves: in the live index while it has any."""
        if order.leaves_qty:
            self.live.setdefault(order.account_id, {})[order.order_id] = order
        else:
            live = self.live.get(order.account_id)
            if live is not None:
                live.pop(order.order_id, None)
                if not live:
                    del self.live[order.account_id]

    def unsettled_at(self, account_id: str, currency: str, ts: int) -> tuple[Decimal, int | None]:
        """Proceeds not settled at ``ts`` and the instant the last of them settles."""
        entries = self.unsettled.get((account_id, currency))
        if not entries:
            return ZERO, None
        pending = [(t, a) for t, a in entries.items() if t > ts]
        total = sum((a for _, a in pending), ZERO)
        if total <= 0:
            return ZERO, None
        return total, max(t for t, _ in pending)

    def canonical(self) -> list[Any]:
        return sorted((key, sorted(entries.items())) for key, entries in self.unsettled.items())

    def equity_of_base(self, instruments: dict[str, Instrument], asset: str) -> Instrument | None:
        """The equity whose shares ``asset`` is (a pure cache: instruments are only ever added)."""
        count, bases = self._bases
        if count != len(instruments):
            bases = {i.base: i for i in instruments.values() if i.kind is _EQUITY}
            self._bases = (len(instruments), bases)
        return bases.get(asset)


def book_sale(
    state: State, order: Order, fill: OrderFilled, now: int, reverse: bool = False
) -> None:
    """Fold one execution of a cash account's equity sale into its unsettled proceeds.

    The amount is what the sale put in the balance (notional less the fee), due at the
    settlement of the execution's own trade date. ``reverse`` takes it out again (a bust, or the
    old version of a corrected execution): from the entry the execution made, or from nowhere if
    that one has settled already (the cash then simply leaves the settled balance). ``now`` is
    the event's time: entries settled by then are pruned here, so memory stays bounded.
    """
    if state.accounts[order.account_id].equity_type is not _CASH:
        return
    inst = state.instruments[order.symbol]
    key = (order.account_id, inst.quote)
    book = state.equities.unsettled
    entries = book.get(key)
    if entries:
        for settled in [t for t in entries if t <= now]:
            del entries[settled]
    settle = settlement_ts(fill.ts_event)
    if settle > now:
        amount = fill.last_qty * fill.last_px * inst.multiplier
        if fill.fee and fill.fee_asset == inst.quote:
            amount -= fill.fee
        if reverse:
            amount = -amount
        if entries is None:
            entries = book[key] = {}
        total = entries.get(settle, ZERO) + amount
        if total:
            entries[settle] = total
        else:
            entries.pop(settle, None)
    if entries is not None and not entries:
        del book[key]
