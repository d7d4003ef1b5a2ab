"""The equities part of the engine's state, a cash account's unsettled sale proceeds, and the
dates they follow: the trade date, T+1 settlement (SEC Rule 15c6-1) and the regular session."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from atlas_oms.model.enums import InstrumentKind
from atlas_oms.model.instrument import Instrument
from atlas_oms.model.risk import EquityAccountType

if TYPE_CHECKING:
    from atlas_oms.core.orders.order import Order
    from atlas_oms.core.state.state import State
    from atlas_oms.model.events import OrderFilled
from atlas_oms.core.equities.calendar import UsMarketBook, closed_days, session_status
from atlas_oms.core.sessions import SECOND_NS, civil_from_days, new_york_offset
from atlas_oms.model.risk import MarketStatus

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

    __slots__ = ("_bases", "live", "unsettled", "us")

    def __init__(self) -> None:
        self.unsettled: dict[tuple[str, str], dict[int, Decimal]] = {}
        #: Calendars, day-trade counts, close equity, corporate actions (``calendar.py``).
        self.us = UsMarketBook()
        self.live: dict[str, dict[int, Order]] = {}
        self._bases: tuple[int, dict[str, Instrument]] = (-1, {})

    def __getstate__(self) -> tuple[Any, ...]:
        return (self.unsettled, self.us)  # ``live`` is derived: import_state rebuilds it

    def __setstate__(self, data: tuple[Any, ...]) -> None:
        self.unsettled = data[0]
        self.us = data[1] if len(data) > 1 else UsMarketBook()
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
        out: list[Any] = sorted(
            (key, sorted(entries.items())) for key, entries in self.unsettled.items()
        )
        us = self.us.canonical()
        if us is not None:  # appended only when used: older journals keep their digests
            out.append(["us", us])
        return out

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
    settle = settlement_ts(fill.ts_event, closed=closed_days(state.equities.us, INTRADAY_SESSION))
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


#: Business days from trade date to settlement (SEC Rule 15c6-1, T+1 since 2024-05-28).
SETTLEMENT_DAYS = 1
#: The schedule "intraday" is read from: the regular session of the New York Stock Exchange.
INTRADAY_SESSION = "XNYS"
_DAY_S = 86_400


def trade_day(ts: int) -> int:
    """The New York calendar day (days since 1970-01-01) of an instant in ns: the trade date."""
    utc_s = ts // SECOND_NS
    return (utc_s + new_york_offset(utc_s)) // _DAY_S


def settlement_ts(
    ts: int, days: int = SETTLEMENT_DAYS, closed: set[int] | dict[int, int] | None = None
) -> int:
    """When a trade made at ``ts`` settles: 00:00 New York time on the ``days``-th business day
    after its trade date (so a Friday sale settles on Monday). ``closed``: the exchange holidays
    (day numbers) of the calendar the core was given (``calendar.py``), skipped too; without
    one, a sale the day before a holiday settles a day early."""
    day = trade_day(ts)
    left = days
    while left:
        day += 1
        if (day + 3) % 7 < 5 and not (closed and day in closed):  # 0 = Monday
            left -= 1
    # A weekday never holds a daylight-saving change (they happen on Sundays): noon's offset
    # is midnight's.
    return (day * _DAY_S - new_york_offset(day * _DAY_S + 12 * 3600)) * SECOND_NS


def trade_date_text(ts: int) -> str:
    y, m, d = civil_from_days(trade_day(ts))
    return f"{y:04d}-{m:02d}-{d:02d}"


def is_intraday(ts: int, us: UsMarketBook | None = None) -> bool:
    """Whether ``ts`` is in the regular session (09:30-16:00 New York, Monday to Friday; with a
    calendar, not on a holiday and not after an early close)."""
    return session_status(us, INTRADAY_SESSION, ts) is MarketStatus.OPEN
