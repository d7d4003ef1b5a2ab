"""Commands of the smart order router's arbitrage side (issue 16, MD-1/VEN-5): the runtime's
watcher notes an opportunity, an operator (or an opt-in automation) sends a paired order."""

from __future__ import annotations

from decimal import Decimal

from atlas_oms.model.commands import Command
from atlas_oms.model.route_decision import ArbOpportunity


class NoteArbitrage(Command, frozen=True):
    """Journal a change in the arbitrage opportunities of unified ``symbol``: ``status`` NEW (it
    appeared), CHANGED (its prices or size moved) or ENDED (it is gone; ``opportunity`` is how it
    was last seen). Built by ``core/sor/arbitrage.py::ArbitrageTracker``."""

    symbol: str
    status: str
    opportunity: ArbOpportunity


class SubmitArbitragePair(Command, frozen=True):
    """Buy ``buy_qty`` of ``buy_symbol`` for ``buy_account_id`` at most at ``buy_limit`` and sell
    ``sell_qty`` of ``sell_symbol`` for ``sell_account_id`` at least at ``sell_limit``, both as IOC
    limit orders at once (each risk checked); a leg that fills more than the other is unwound
    (a market IOC order on its instrument, opposite side, for the excess). Quantities are in each
    instrument's order units. ``pair_id`` names the pair (its legs' client order ids are
    ``<pair_id>:B``, ``<pair_id>:S`` and ``<pair_id>:U`` for the unwind)."""

    pair_id: str
    buy_account_id: str
    buy_symbol: str
    buy_qty: Decimal
    buy_limit: Decimal
    sell_account_id: str
    sell_symbol: str
    sell_qty: Decimal
    sell_limit: Decimal
    tag: str | None = None
