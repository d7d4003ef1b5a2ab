"""Shared set-up for the stop maintenance tests (seed 001 §10): a node whose clock starts in the
middle of a minute, warm-up bars fed as market data, and a long on the built-in exchange."""

from __future__ import annotations

from decimal import Decimal

from trade_kit import SYMBOL, long_intent, make_node, of

from atlas_oms import ManualClock, Node
from atlas_oms.core.policy.bars import MINUTE_NS, Bar
from atlas_oms.core.policy.trade_state import TradeState
from atlas_oms.model import events as ev

D = Decimal
#: The clock starts 30 s into minute 1,000 (so the entry trades mid-minute).
T0 = 1_000 * MINUTE_NS + 30 * 1_000_000_000


def node_at_t0() -> Node:
    return make_node(Node.in_memory(clock=ManualClock(T0)))


def bar(minute: int, o: object, h: object, low: object, c: object, v: object = 100) -> Bar:
    """The bar of minute ``minute`` (counted from minute 1,000, the entry's)."""
    return Bar(
        (1_000 + minute) * MINUTE_NS, D(str(o)), D(str(h)), D(str(low)), D(str(c)), D(str(v))
    )


def feed(node: Node, bars: list[Bar]) -> list[ev.EventBase]:
    out: list[ev.EventBase] = []
    for b in bars:
        out += node.apply_bar(SYMBOL, b.start_ns, b.open, b.high, b.low, b.close, b.volume)
    return out


def flat_bars(first_minute: int, n: int, low: str = "99.75", high: str = "100.25") -> list[Bar]:
    """``n`` identical bars (true range 0.5, close 100, equal lows: no swing points)."""
    return [bar(first_minute + i, 100, high, low, 100) for i in range(n)]


#: Nine bars whose lows make a swing low 99.0 (index 2), then a higher low 99.2 (index 6):
#: known once index 8 closed; EMA(9) exists after the ninth bar.
HIGHER_LOW_LOWS = ["99.5", "99.4", "99.0", "99.4", "99.5", "99.3", "99.2", "99.4", "99.5"]


def higher_low_bars(first_minute: int) -> list[Bar]:
    return [bar(first_minute + i, 100, "100.5", low, 100) for i, low in enumerate(HIGHER_LOW_LOWS)]


def enter_long(node: Node, **kw: object) -> ev.TradeBracketPlaced:
    """A long of 100 at 100 (stop 98: 1R = 2), filled at once against the maker."""
    node.sell("maker", SYMBOL, 100, 100)
    b = of(long_intent(node, **kw), ev.TradeBracketPlaced)[0]
    assert isinstance(b, ev.TradeBracketPlaced)
    return b


def state_of(node: Node, trade_id: str = "t1") -> TradeState:
    t: TradeState = node.engine.state.trades[trade_id]
    return t


def moves(events: list[ev.EventBase]) -> list[ev.TradeStopMoved]:
    return [e for e in events if isinstance(e, ev.TradeStopMoved)]
