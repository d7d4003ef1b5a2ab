"""US-equities buying power (MRG-4): cash accounts, Reg T margin accounts, pattern day traders.

An account's ``equity_type`` decides how its equity orders are paid for:

* ``CASH`` pays only with *settled* cash. A sale's proceeds settle T+1 (the next New York
  business day; weekends are skipped, exchange holidays are not modelled). Until then they are
  in the balance but cannot pay for a buy. A sell may not exceed the shares held (no short sale).
  Buys and sells lock funds and shares as spot orders do.
* ``MARGIN`` is Reg T: an order locks nothing; instead every increase of the account's exposure
  (positions and open orders, valued in the order's currency) needs initial margin out of the
  account's excess equity: 50% overnight (2:1 buying power), 25% intraday for a pattern day
  trader with at least $25,000 of equity (4:1). Cash may go negative (a margin loan) and a sell
  beyond the shares held opens a short.

The formulas, with their sources, are in ``docs/RISK.md`` ("US equities buying power").

Everything here is a pure function of the fold's data and the message's ``ts``: settlement happens
by time (an entry whose settlement instant is at or before ``ts`` counts as settled), so a replay
decides exactly as the live engine did. The only state this module adds is :class:`EquityBook`'s
unsettled proceeds, changed by fills folded in ``state.py``; its index of live orders is derived.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

import msgspec

from atlas_oms.core.orders import Order
from atlas_oms.core.sessions import SECOND_NS, civil_from_days, new_york_offset, scheduled_status
from atlas_oms.core.validation import Refusal, plain
from atlas_oms.model.enums import InstrumentKind, Side
from atlas_oms.model.instrument import Instrument
from atlas_oms.model.reasons import Reason
from atlas_oms.model.risk import EquityAccountType, MarketStatus

if TYPE_CHECKING:
    from atlas_oms.core.state import EngineState
    from atlas_oms.model.account import Account
    from atlas_oms.model.commands import SubmitOrder
    from atlas_oms.model.events import OrderFilled

ZERO = Decimal(0)
ONE = Decimal(1)
#: Reg T initial margin: 50% of a purchase or short sale (2:1 overnight buying power).
INITIAL_MARGIN = Decimal("0.5")
#: FINRA Rule 4210 maintenance margin: 25% of the market value (4:1 intraday for a day trader).
MAINTENANCE_MARGIN = Decimal("0.25")
#: FINRA Rule 4210(f)(8)(B)(iv): a pattern day trader needs this much equity to day trade.
PDT_MIN_EQUITY = Decimal(25_000)
#: Business days from trade date to settlement (SEC Rule 15c6-1, T+1 since 2024-05-28).
SETTLEMENT_DAYS = 1
#: The schedule "intraday" is read from: the regular session of the New York Stock Exchange.
INTRADAY_SESSION = "XNYS"
_DAY_S = 86_400
_EQUITY = InstrumentKind.EQUITY
_CASH = EquityAccountType.CASH
_MARGIN = EquityAccountType.MARGIN


# ---------------------------------------------------------------------------------- calendar
def trade_day(ts: int) -> int:
    """The New York calendar day (days since 1970-01-01) of an instant in ns: the trade date."""
    utc_s = ts // SECOND_NS
    return (utc_s + new_york_offset(utc_s)) // _DAY_S


def settlement_ts(ts: int, days: int = SETTLEMENT_DAYS) -> int:
    """When a trade made at ``ts`` settles: 00:00 New York time on the ``days``-th weekday after
    its trade date (so a Friday sale settles on Monday). Exchange holidays are not modelled: a
    sale the day before one settles a day early."""
    day = trade_day(ts)
    left = days
    while left:
        day += 1
        if (day + 3) % 7 < 5:  # 0 = Monday; 1970-01-01 was a Thursday
            left -= 1
    # A weekday never holds a daylight-saving change (they happen on Sundays): noon's offset
    # is midnight's.
    return (day * _DAY_S - new_york_offset(day * _DAY_S + 12 * 3600)) * SECOND_NS


def _date(ts: int) -> str:
    y, m, d = civil_from_days(trade_day(ts))
    return f"{y:04d}-{m:02d}-{d:02d}"


def is_intraday(ts: int) -> bool:
    """Whether ``ts`` is in the regular session (09:30-16:00 New York, Monday to Friday)."""
    return scheduled_status(INTRADAY_SESSION, ts) is MarketStatus.OPEN


# ---------------------------------------------------------------------------------- the book
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
    state: EngineState, order: Order, fill: OrderFilled, now: int, reverse: bool = False
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


# ---------------------------------------------------------------------------------- valuation
def order_px(
    side: Side,
    price: Decimal | None,
    protection: Decimal | None,
    trigger: Decimal | None,
    limit_offset: Decimal | None,
    last: Decimal | None,
) -> Decimal | None:
    """The price an equity order is valued at for margin: its limit price; without one (market,
    stop and trailing orders before they trigger) the highest of its protection bound, its
    trigger (plus the limit offset of a trailing stop-limit buy) and the last price."""
    if price is not None:
        return price
    if trigger is not None and limit_offset and side is Side.BUY:
        trigger = trigger + limit_offset
    candidates = [p for p in (protection, trigger, last) if p is not None]
    return max(candidates) if candidates else None


def _live_notional(order: Order, last: Decimal | None, mult: Decimal) -> Decimal:
    """Notional of a live order's leaves; with a modify in flight, the larger of old and new."""
    px = order_px(
        order.side,
        order.price,
        order.protection_price,
        order.trigger_price,
        order.limit_offset,
        last,
    )
    value = order.leaves_qty * px * mult if px is not None else ZERO
    if order.pending is not None:
        qty, price, trigger, _ = order.pending
        px = order_px(order.side, price, order.protection_price, trigger, order.limit_offset, last)
        if px is not None:
            value = max(value, (qty - order.cum_qty) * px * mult)
    return value


def _exposure(value: Decimal, buys: Decimal, sells: Decimal) -> Decimal:
    """Worst-case gross exposure in one stock: all open buys fill, or all open sells fill."""
    return max(abs(value + buys), abs(value - sells))


class BuyingPower(msgspec.Struct, frozen=True, kw_only=True):
    """An account's US-equities buying power in one currency at one instant (see docs/RISK.md).

    ``cash`` is the balance (negative: a margin loan), ``free_cash`` what open orders leave of it,
    ``unsettled`` the part of the cash that is sale proceeds not yet settled (cash accounts).
    ``equity`` = cash + long market value - short market value, at last prices. ``exposure`` is
    the worst-case gross value of positions and open orders; ``requirement`` = ``rate`` ×
    ``exposure`` and ``excess`` = equity - requirement (margin accounts). ``buying_power`` is
    settled free cash (cash account, ``ratio`` 1) or ``ratio`` × max(0, excess) (margin).
    """

    account_id: str
    currency: str
    account_type: EquityAccountType
    cash: Decimal
    free_cash: Decimal
    unsettled: Decimal
    settles_ts: int | None
    long_value: Decimal
    short_value: Decimal
    equity: Decimal
    exposure: Decimal
    rate: Decimal
    requirement: Decimal
    excess: Decimal
    ratio: int
    intraday: bool
    buying_power: Decimal
    note: str = ""


def _holdings(
    state: EngineState, account_id: str, currency: str
) -> tuple[Decimal, Decimal, dict[str, list[Decimal]]]:
    """(cash, free cash, symbol -> [market value of the shares held, open buy notional, open
    sell notional]) of an account's equities in ``currency``."""
    cash = free = ZERO
    per: dict[str, list[Decimal]] = {}
    book = state.equities
    for bal in state.account_balances.get(account_id, ()):
        if bal.asset == currency:
            cash, free = bal.total, bal.free
        elif bal.total:
            inst = book.equity_of_base(state.instruments, bal.asset)
            if inst is not None and inst.quote == currency:
                px = state.reference_price(inst.symbol)
                value = bal.total * px * inst.multiplier if px is not None else ZERO
                per.setdefault(inst.symbol, [ZERO, ZERO, ZERO])[0] += value
    for order in book.live.get(account_id, {}).values():
        inst = state.instruments[order.symbol]
        if inst.quote != currency:
            continue
        notional = _live_notional(order, state.reference_price(inst.symbol), inst.multiplier)
        per.setdefault(inst.symbol, [ZERO, ZERO, ZERO])[1 if order.side is Side.BUY else 2] += (
            notional
        )
    return cash, free, per


def buying_power(
    state: EngineState,
    account_id: str,
    currency: str,
    ts: int,
    holdings: tuple[Decimal, Decimal, dict[str, list[Decimal]]] | None = None,
) -> BuyingPower:
    """The account's US-equities buying power in ``currency`` at ``ts`` (a pure reading)."""
    account = state.accounts[account_id]
    cash, free, per = holdings or _holdings(state, account_id, currency)
    long_value = sum((v[0] for v in per.values() if v[0] > 0), ZERO)
    short_value = -sum((v[0] for v in per.values() if v[0] < 0), ZERO)
    equity = cash + long_value - short_value
    intraday = is_intraday(ts)
    if account.equity_type is _CASH:
        unsettled, settles = state.equities.unsettled_at(account_id, currency, ts)
        return BuyingPower(
            account_id=account_id,
            currency=currency,
            account_type=account.equity_type,
            cash=cash,
            free_cash=free,
            unsettled=unsettled,
            settles_ts=settles,
            long_value=long_value,
            short_value=short_value,
            equity=equity,
            exposure=ZERO,
            rate=ONE,
            requirement=ZERO,
            excess=free - unsettled,
            ratio=1,
            intraday=intraday,
            buying_power=max(ZERO, free - unsettled),
        )
    exposure = sum((_exposure(*v) for v in per.values()), ZERO)
    rate, ratio, note = _margin_rate(account, equity, intraday, currency)
    requirement = rate * exposure
    excess = equity - requirement
    return BuyingPower(
        account_id=account_id,
        currency=currency,
        account_type=account.equity_type,
        cash=cash,
        free_cash=free,
        unsettled=ZERO,
        settles_ts=None,
        long_value=long_value,
        short_value=short_value,
        equity=equity,
        exposure=exposure,
        rate=rate,
        requirement=requirement,
        excess=excess,
        ratio=ratio,
        intraday=intraday,
        buying_power=ratio * max(ZERO, excess),
        note=note,
    )


def _margin_rate(
    account: Account, equity: Decimal, intraday: bool, currency: str
) -> tuple[Decimal, int, str]:
    """(margin rate, buying-power ratio, why not 4:1 for a pattern day trader)."""
    if not account.pattern_day_trader:
        return INITIAL_MARGIN, 2, ""
    if not intraday:
        return INITIAL_MARGIN, 2, "4:1 day-trading buying power applies only in the regular session"
    if equity < PDT_MIN_EQUITY:
        return (
            INITIAL_MARGIN,
            2,
            f"pattern day trader equity {plain(equity)} {currency} is below the "
            f"{plain(PDT_MIN_EQUITY)} minimum for 4:1 intraday buying power",
        )
    return MAINTENANCE_MARGIN, 4, ""


# ---------------------------------------------------------------------------------- checks
def check_submit(
    state: EngineState,
    c: SubmitOrder,
    inst: Instrument,
    unit: Decimal,
    protection: Decimal | None,
    trigger: Decimal | None,
) -> Refusal | None:
    """Buying power of a new equity order. ``unit`` is what one unit of it locks (cash account:
    the quote amount of a buy, fee included, or one share of a sell)."""
    account = state.accounts[c.account_id]
    what = f"{c.side} {plain(c.qty)} {inst.symbol}"
    if account.equity_type is _CASH:
        return _cash_refusal(state, c.account_id, inst, c.side, c.qty * unit, c.ts, what)
    px = order_px(
        c.side, c.price, protection, trigger, c.limit_offset, state.reference_price(inst.symbol)
    )
    if px is None:
        return (
            Reason.NO_REFERENCE_PRICE,
            f"no price for {inst.symbol} yet: a margin account's order is valued at a price",
        )
    notional = c.qty * px * inst.multiplier
    return _margin_refusal(state, account, inst, c.side, ZERO, notional, c.ts, what)


def check_modify(
    state: EngineState,
    order: Order,
    inst: Instrument,
    qty: Decimal,
    price: Decimal | None,
    trigger: Decimal | None,
    protection: Decimal | None,
    unit: Decimal,
    ts: int,
) -> Refusal | None:
    """Buying power of a modify: what it adds is checked as a new order would be."""
    account = state.accounts[order.account_id]
    leaves = qty - order.cum_qty
    what = f"modify of order {order.order_id} to {plain(qty)} {inst.symbol}"
    if account.equity_type is _CASH:
        extra = leaves * unit - order.reserved if leaves > 0 else ZERO
        if extra <= 0:
            return None
        return _cash_refusal(state, order.account_id, inst, order.side, extra, ts, what)
    last = state.reference_price(inst.symbol)
    old = _live_notional(order, last, inst.multiplier)
    px = order_px(order.side, price, protection, trigger, order.limit_offset, last)
    new = leaves * px * inst.multiplier if px is not None and leaves > 0 else ZERO
    return _margin_refusal(state, account, inst, order.side, old, new, ts, what)


def _cash_refusal(
    state: EngineState,
    account_id: str,
    inst: Instrument,
    side: Side,
    need: Decimal,
    ts: int,
    what: str,
) -> Refusal | None:
    """A cash account: a buy within settled free cash, a sell within the shares held."""
    if side is Side.SELL:
        bal = state.balances.get((account_id, inst.base))
        free = bal.free if bal is not None else ZERO
        if need <= free:
            return None
        held = bal.total if bal is not None else ZERO
        offered = f", {plain(bal.locked)} already offered" if bal is not None and bal.locked else ""
        return (
            Reason.SHORT_SALE_NOT_ALLOWED,
            f"{what} needs {plain(need)} {inst.base} but account {account_id} has "
            f"{plain(free)} to sell ({plain(held)} held{offered}): a cash account may not sell short",
        )
    currency = inst.quote
    bal = state.balances.get((account_id, currency))
    free = bal.free if bal is not None else ZERO
    unsettled, settles = state.equities.unsettled_at(account_id, currency, ts)
    power = max(ZERO, free - unsettled)
    if need <= power:
        return None
    text = (
        f"{what} needs {plain(need)} {currency} but account {account_id}'s buying power is "
        f"{plain(power)} {currency} of settled free cash"
    )
    if unsettled:
        assert settles is not None
        text += (
            f" ({plain(free)} free, of which {plain(unsettled)} is sale proceeds settling T+1, "
            f"the last on {_date(settles)}): a cash account pays only with settled cash"
        )
    return Reason.INSUFFICIENT_BUYING_POWER, text


def _margin_refusal(
    state: EngineState,
    account: Account,
    inst: Instrument,
    side: Side,
    old: Decimal,
    new: Decimal,
    ts: int,
    what: str,
) -> Refusal | None:
    """Reg T: an order whose worst case raises the account's exposure needs margin on the raise
    (plus its fee) out of the excess equity. One that does not (a sale of shares held, a buy
    covering a short, a smaller modify) always passes: it can only bring the account nearer to
    its requirement."""
    currency = inst.quote
    holdings = _holdings(state, account.account_id, currency)
    value, buys, sells = holdings[2].get(inst.symbol, (ZERO, ZERO, ZERO))
    before = _exposure(value, buys, sells)
    if side is Side.BUY:
        after = _exposure(value, buys - old + new, sells)
    else:
        after = _exposure(value, buys, sells - old + new)
    raised = after - before
    if raised <= 0:
        return None
    bp = buying_power(state, account.account_id, currency, ts, holdings)
    fee = max(new - old, ZERO) * max(inst.maker_fee, inst.taker_fee, ZERO)
    need = bp.rate * raised + fee
    if need <= bp.excess:
        return None
    when = "intraday" if bp.ratio == 4 else "Reg T"
    text = (
        f"{what} needs {plain(need / bp.rate)} {currency} of buying power "
        f"({plain(bp.rate * 100)}% margin on {plain(raised)} of exposure"
        + (f" + fee {plain(fee)}" if fee else "")
        + f") but account {account.account_id} has {plain(bp.buying_power)} {currency}: "
        f"{bp.ratio}:1 {when}, {bp.ratio} × (equity {plain(bp.equity)} - "
        f"{plain(bp.rate * 100)}% × exposure {plain(bp.exposure)})"
    )
    if bp.note:
        text += f"; {bp.note}"
    return Reason.INSUFFICIENT_BUYING_POWER, text


def is_margin(state: EngineState, account_id: str) -> bool:
    """Whether an account trades equities on Reg T margin (its equity orders lock nothing)."""
    return state.accounts[account_id].equity_type is _MARGIN
