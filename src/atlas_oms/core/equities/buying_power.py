"""US-equities buying power: the figures of a cash or Reg T margin account (docs/RISK.md)."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

import msgspec

from atlas_oms.core.decimals import plain
from atlas_oms.core.equities.book import is_intraday
from atlas_oms.core.orders.order import Order
from atlas_oms.model.enums import Side
from atlas_oms.model.risk import EquityAccountType

if TYPE_CHECKING:
    from atlas_oms.core.state.state import State
    from atlas_oms.model.account import Account

ZERO = Decimal(0)
ONE = Decimal(1)
#: Reg T initial margin: 50% of a purchase or short sale (2:1 overnight buying power).
INITIAL_MARGIN = Decimal("0.5")
#: FINRA Rule 4210 maintenance margin: 25% of the market value (4:1 intraday for a day trader).
MAINTENANCE_MARGIN = Decimal("0.25")
#: FINRA Rule 4210(f)(8)(B)(iv): a pattern day trader needs this much equity to day trade.
PDT_MIN_EQUITY = Decimal(25_000)
_CASH = EquityAccountType.CASH
_MARGIN = EquityAccountType.MARGIN


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


def live_notional(order: Order, last: Decimal | None, mult: Decimal) -> Decimal:
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


def gross_exposure(value: Decimal, buys: Decimal, sells: Decimal) -> Decimal:
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


def equity_holdings(
    state: State, account_id: str, currency: str
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
        notional = live_notional(order, state.reference_price(inst.symbol), inst.multiplier)
        per.setdefault(inst.symbol, [ZERO, ZERO, ZERO])[1 if order.side is Side.BUY else 2] += (
            notional
        )
    return cash, free, per


def buying_power(
    state: State,
    account_id: str,
    currency: str,
    ts: int,
    holdings: tuple[Decimal, Decimal, dict[str, list[Decimal]]] | None = None,
) -> BuyingPower:
    """The account's US-equities buying power in ``currency`` at ``ts`` (a pure reading)."""
    account = state.accounts[account_id]
    cash, free, per = holdings or equity_holdings(state, account_id, currency)
    long_value = sum((v[0] for v in per.values() if v[0] > 0), ZERO)
    short_value = -sum((v[0] for v in per.values() if v[0] < 0), ZERO)
    equity = cash + long_value - short_value
    intraday = is_intraday(ts, state.equities.us)
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
    exposure = sum((gross_exposure(*v) for v in per.values()), ZERO)
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


def is_margin(state: State, account_id: str) -> bool:
    """Whether an account trades equities on Reg T margin (its equity orders lock nothing)."""
    return state.accounts[account_id].equity_type is _MARGIN
