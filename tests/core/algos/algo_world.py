"""A built-in exchange with a market maker and a trader, on an injected clock (parent order
tests)."""

from __future__ import annotations

from decimal import Decimal as D

import msgspec

from atlas_oms import Instrument, ManualClock, Node
from atlas_oms.model import events as ev

SEC = 1_000_000_000
T0 = 1_000 * SEC


def world(*, second: bool = False, asks: tuple[tuple[str, str], ...] = (("100", "50"),)) -> Node:
    """``BTC/USDT`` (tick 0.1, lot 0.01) on ``sim``; ``mm`` rests ``asks`` (price, qty) and a
    bid at 90; ``t1`` has 1,000,000 USDT and 100 BTC. ``second``: also ``BTC/USDT@x`` (sim)."""
    node = Node.in_memory(clock=ManualClock(T0))
    node.add_instrument(Instrument.spot("BTC/USDT", tick_size="0.1", lot_size="0.01"))
    if second:
        base = Instrument.spot("BTC/USDT", tick_size="0.1", lot_size="0.01")
        node.add_instrument(msgspec.structs.replace(base, symbol="BTC/USDT@x"))
    for acc in ("mm", "t1"):
        node.open_account(acc)
        node.deposit(acc, "USDT", 1_000_000)
        node.deposit(acc, "BTC", 100)
    for px, qty in asks:
        node.sell("mm", "BTC/USDT", qty, px)
    node.buy("mm", "BTC/USDT", "50", "90")
    return node


def events_of(node: Node, cls: type, algo_id: str | None = None) -> list:
    return [
        e
        for e in node.events()
        if isinstance(e, cls) and (algo_id is None or getattr(e, "algo_id", None) == algo_id)
    ]


def sum_children(node: Node, algo_id: str) -> tuple[D, D]:
    view = node.algo(algo_id)
    qty = sum((o.cum_qty for o in view.children), D(0))
    notional = sum((o.cum_qty * (o.avg_px or 0) for o in view.children), D(0))
    return qty, notional


__all__ = ["SEC", "T0", "ev", "events_of", "sum_children", "world"]
