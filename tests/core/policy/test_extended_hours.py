"""A pre-market entry has no stop at the venue (extended hours take only limits): seed 001 §5.2
"interner Stop + sofortige Exit-Policy" protects it until the regular session places the stop
(core/policy/extended.py)."""

from __future__ import annotations

from test_premarket import _premarket
from trade_kit import SYMBOL, D, long_intent, of, trade

from atlas_oms.model import events as ev
from atlas_oms.model.enums import OrderType


def _entered():  # type: ignore[no-untyped-def]
    node = _premarket()
    node.sell("maker", SYMBOL, 1_000, 100, extended_hours=True)
    events = long_intent(node)
    assert of(events, ev.TradeBracketPlaced)
    t = trade(node)
    assert t.position > 0 and t.phase in ("PROTECTED", "ENTERING")
    return node


def test_a_pre_market_position_has_no_venue_stop_but_an_internal_one() -> None:
    node = _entered()
    t = trade(node)
    assert not [
        o for o in node.orders("trader") if o.is_live and o.order_type is OrderType.STOP_LIMIT
    ]
    node.buy("maker", SYMBOL, 1_000, "97.80", extended_hours=True)  # a bid below the stop
    events = node.update_prices(SYMBOL, last="97.90")  # the stop level (98) is crossed
    started = of(events, ev.TradeScaleOutStarted)
    assert started and started[0].cause == "INTERNAL_STOP"  # type: ignore[attr-defined]
    exits = [
        o
        for o in node.orders("trader")
        if o.order_type is OrderType.LIMIT and o.side.value == "SELL"
    ]
    assert exits and all(o.market_reason is None for o in exits)  # never a market order (§3.2)
    assert exits[-1].extended_hours
    assert trade(node).position < t.position


def test_the_venue_stop_is_placed_when_the_regular_session_opens() -> None:
    node = _entered()
    events = node.set_market_status(SYMBOL, "OPEN", actor="ops")
    placed = of(events, ev.TradeStopPlaced)
    assert placed and placed[0].cause == "SESSION_OPEN"  # type: ignore[attr-defined]
    t = trade(node)
    stop = node.order(t.stop_order_id or 0)
    assert stop.is_live and stop.leaves_qty == t.position and stop.trigger_price == D(98)
