"""Seed 001 section 13: the pre-market checks of a trade intent (the instrument's market status is
PRE_MARKET: ``core/risk/gates.py::market_status``, an operator's status or the XNYS schedule).

* Spread: ``(ask - bid) / ((ask + bid) / 2)`` must be below ``premarket.max-spread-pct``. Bid and
  ask are the best live limit prices resting on the venue from other accounts than the intent's
  (the built-in exchange's book is made of Atlas orders); a side without a quote refuses
  (``PREMARKET_NO_QUOTE``).
* Volume: more than ``premarket.min-volume`` traded in the last ``premarket.volume-window-ms``:
  the prints Atlas saw on the symbol (its fills, each venue trade once; ``desk.book_print``).
* Size (25% of the day capital) and the one limit attempt are applied by ``cycles.admit`` and
  the entry (``premarket.max-repricing-cycles``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from atlas_oms.core.decimals import ZERO
from atlas_oms.model.enums import Side
from atlas_oms.model.instrument import Instrument

if TYPE_CHECKING:
    from atlas_oms.core.state.state import State


def best_bid_ask(
    state: State, symbol: str, account_id: str
) -> tuple[Decimal | None, Decimal | None]:
    """The highest resting buy and the lowest resting sell of other accounts."""
    bid: Decimal | None = None
    ask: Decimal | None = None
    for order in state.orders.values():
        if (
            order.symbol != symbol
            or order.account_id == account_id
            or order.price is None
            or order.held
            or not order.is_live
        ):
            continue
        if order.side is Side.BUY:
            if bid is None or order.price > bid:
                bid = order.price
        elif ask is None or order.price < ask:
            ask = order.price
    return bid, ask


def volume(state: State, symbol: str, ts: int) -> Decimal:
    """What traded on ``symbol`` in the window ending at ``ts``."""
    horizon = ts - state.policy.premarket.volume_window_ms * 1_000_000
    prints = state.cycles.prints.get(symbol, ())
    return sum((q for t, q, _ in prints if horizon < t <= ts), ZERO)


def check(state: State, inst: Instrument, account_id: str, ts: int) -> tuple[str, str] | None:
    """None when the intent may enter in pre-market, else (reason code, sentence)."""
    p = state.policy.premarket
    bid, ask = best_bid_ask(state, inst.symbol, account_id)
    if bid is None or ask is None:
        return (
            "PREMARKET_NO_QUOTE",
            f"{inst.symbol} has no bid and ask in pre-market: the spread cannot be checked",
        )
    mid = (bid + ask) / 2
    spread = (ask - bid) / mid if mid > 0 else Decimal(1)
    if spread >= p.max_spread_pct:
        return (
            "PREMARKET_SPREAD_TOO_WIDE",
            f"{inst.symbol}'s spread {bid}-{ask} is {spread:.4%} of the midpoint "
            f"(pre-market needs below {p.max_spread_pct:.2%})",
        )
    traded = volume(state, inst.symbol, ts)
    if traded <= p.min_volume:
        return (
            "PREMARKET_VOLUME_TOO_LOW",
            f"{traded} {inst.symbol} traded in the last {p.volume_window_ms // 60_000} min "
            f"(pre-market needs more than {p.min_volume})",
        )
    return None
