"""Events of the smart order router's arbitrage side (issue 16): opportunities seen, and paired
arbitrage orders (placed, unwound, done). Part of the union in :mod:`atlas_oms.model.events`."""

from __future__ import annotations

from decimal import Decimal

from atlas_oms.model.event_base import EventBase
from atlas_oms.model.route_decision import ArbOpportunity

ZERO = Decimal(0)


class ArbitrageDetected(EventBase, frozen=True):
    """An arbitrage opportunity on unified ``symbol`` appeared (``status`` NEW), moved (CHANGED)
    or ended (ENDED: ``opportunity`` as last seen). Nothing in the state changes."""

    symbol: str
    status: str
    opportunity: ArbOpportunity


class ArbitragePairPlaced(EventBase, frozen=True):
    """Both legs of paired arbitrage order ``pair_id`` were submitted: the buy leg's order
    ``buy_order_id`` and the sell leg's ``sell_order_id`` (None when the engine gave none).
    Quantities are in each instrument's order units; ``base_mult_buy``/``base_mult_sell`` their
    contract sizes (base units per unit)."""

    pair_id: str
    buy_account_id: str
    buy_symbol: str
    buy_qty: Decimal
    buy_limit: Decimal
    sell_account_id: str
    sell_symbol: str
    sell_qty: Decimal
    sell_limit: Decimal
    buy_order_id: int | None = None
    sell_order_id: int | None = None
    base_mult_buy: Decimal = Decimal(1)
    base_mult_sell: Decimal = Decimal(1)


class ArbitragePairUnwound(EventBase, frozen=True):
    """Both legs ended with different fills (base units ``buy_filled``, ``sell_filled``): the
    excess ``qty`` (order units of ``symbol``) is sent back, ``side`` on ``symbol`` for
    ``account_id``, as order ``order_id`` (None when the engine gave none)."""

    pair_id: str
    buy_filled: Decimal
    sell_filled: Decimal
    account_id: str
    symbol: str
    side: str
    qty: Decimal
    order_id: int | None = None


class ArbitragePairDone(EventBase, frozen=True):
    """Pair ``pair_id`` is over: what each leg filled (base units), what the unwind filled
    (``unwound``, base units) and what is left unhedged (``open_qty``, base units; 0 when the
    legs matched or the unwind filled)."""

    pair_id: str
    buy_filled: Decimal
    sell_filled: Decimal
    unwound: Decimal = ZERO
    open_qty: Decimal = ZERO
