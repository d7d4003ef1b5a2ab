"""Shared set-up for the managed-trade tests: a node with a maker providing liquidity."""

from __future__ import annotations

from decimal import Decimal

from atlas_oms import Instrument, ManualClock, Node
from atlas_oms.model import events as ev
from atlas_oms.runtime.trade_view import TradeView

D = Decimal
SYMBOL = "XYZ/USD"
SEC = 1_000_000_000


def make_node(node: Node | None = None) -> Node:
    node = node or Node.in_memory(clock=ManualClock())
    node.add_instrument(Instrument.spot(SYMBOL, tick_size="0.01", lot_size="1"))
    for account in ("trader", "maker"):
        node.open_account(account)
        node.deposit(account, "USD", 10_000_000)
        node.deposit(account, "XYZ", 1_000_000)
    node.update_prices(SYMBOL, last=100)
    return node


def long_intent(node: Node, intent_id: str = "t1", **kw: object) -> list[ev.EventBase]:
    """A long: ideal 100, max 103, stop 98, R 200 (size 100), STANDARD profile."""
    args: dict[str, object] = {
        "entry_ideal": "100",
        "entry_max": "103",
        "stop": "98",
        "risk_amount": "200",
        "scale_out": "STANDARD",
    }
    args.update(kw)
    return node.trade(intent_id, "trader", SYMBOL, "BUY", **args)  # type: ignore[arg-type]


def of(events: list[ev.EventBase], kind: type) -> list[ev.EventBase]:
    return [e for e in events if isinstance(e, kind)]


def trade(node: Node, trade_id: str = "t1") -> TradeView:
    view = node.managed_trade(trade_id)
    assert view is not None
    return view
