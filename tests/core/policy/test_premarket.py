"""Seed 001 §13 "Pre-Market-Regeln (Normativ)": an intent for an instrument in its pre-market
session is checked (spread, volume), sized at most 25% of the day capital, and entered with one
limit attempt and no repricing."""

from __future__ import annotations

from trade_kit import SEC, SYMBOL, D, long_intent, make_node, of, trade

from atlas_oms import Node
from atlas_oms.model import events as ev

MIN = 60 * SEC


def _premarket(volume: int = 10_001, bid: str = "99.9", ask: str = "100.1") -> Node:
    node = make_node()
    node.open_account("flow")
    node.deposit("flow", "USD", 10_000_000)
    node.set_market_status(SYMBOL, "PRE_MARKET", actor="ops")
    if volume:
        node.sell("maker", SYMBOL, volume, 100, extended_hours=True)
        node.buy("flow", SYMBOL, volume, 100, extended_hours=True)
    node.buy("maker", SYMBOL, 10, bid, extended_hours=True)
    node.sell("maker", SYMBOL, 10, ask, extended_hours=True)
    return node


def _refusal(events: list[ev.EventBase]) -> str:
    refused = of(events, ev.TradeIntentRefused)
    assert len(refused) == 1, events
    return refused[0].reason  # type: ignore[attr-defined,no-any-return]


def test_section_13_a_spread_of_half_a_percent_or_more_refuses_the_intent() -> None:
    """§13 "Mindest-Spread < 0.5% (Bid-Ask relativ zum Midpoint)"."""
    node = _premarket(bid="99.75", ask="100.25")  # 0.50% of 100: not below
    assert _refusal(long_intent(node)) == "PREMARKET_SPREAD_TOO_WIDE"
    node.buy("maker", SYMBOL, 10, "99.76", extended_hours=True)  # 0.49%
    assert of(long_intent(node, "t2"), ev.TradeIntentAccepted)


def test_section_13_a_side_without_a_quote_refuses_the_intent() -> None:
    node = make_node()
    node.set_market_status(SYMBOL, "PRE_MARKET", actor="ops")
    node.sell("maker", SYMBOL, 10, "100.1", extended_hours=True)
    assert _refusal(long_intent(node)) == "PREMARKET_NO_QUOTE"


def test_section_13_volume_of_10000_or_less_in_the_last_30_min_refuses_the_intent() -> None:
    """§13 "Mindest-Volumen > 10.000 Stueck in den letzten 30 Min Pre-Market": each trade once."""
    node = _premarket(volume=10_000)
    assert _refusal(long_intent(node)) == "PREMARKET_VOLUME_TOO_LOW"
    node.sell("maker", SYMBOL, 1, 100, extended_hours=True)
    node.buy("flow", SYMBOL, 1, 100, extended_hours=True)
    assert of(long_intent(node, "t2"), ev.TradeIntentAccepted)


def test_section_13_prints_older_than_30_min_do_not_count() -> None:
    node = _premarket(volume=10_001)
    node.advance_time(30 * MIN)
    assert _refusal(long_intent(node)) == "PREMARKET_VOLUME_TOO_LOW"


def test_section_13_the_size_is_at_most_25_percent_of_the_day_capital() -> None:
    """§13 "Max. Positionsgroesse 25% Tageskapital (halbe Standardgroesse)"."""
    node = _premarket()
    node.open_account("small")
    node.deposit("small", "USD", 10_000)
    events = node.trade(
        "s1", "small", SYMBOL, "BUY", entry_ideal="100", entry_max="100.1", stop="98",
        risk_amount="200",
    )  # fmt: skip
    sized = of(events, ev.TradeSized)[0]
    assert isinstance(sized, ev.TradeSized)
    # 25% of 10,000 at 100.1 = 24 shares (the regular session would allow 49).
    assert sized.qty == D(24) and sized.caps == ("PREMARKET_MAX_POSITION_PCT",)
    assert sized.premarket and trade(node, "s1").premarket


def test_section_13_one_limit_attempt_and_no_repricing() -> None:
    """§13 "Repricing: Kein Repricing - ein Limit-Order-Versuch"."""
    node = _premarket()
    events = long_intent(node, entry_ideal="100", entry_max="100.05")
    placed = of(events, ev.TradeEntryPlaced)
    assert len(placed) == 1
    assert node.order(placed[0].order_id).extended_hours  # type: ignore[attr-defined]
    later = node.advance_time(5 * SEC)
    assert of(later, ev.TradeEntryRepriced) == []
    abandoned = of(later, ev.TradeEntryAbandoned)
    assert abandoned and abandoned[0].reason == "MAX_REPRICING_CYCLES"  # type: ignore[attr-defined]
    assert trade(node).phase == "SEEKING"


def test_section_13_the_regular_session_is_not_checked() -> None:
    node = make_node()  # OPEN, no quotes, no volume
    assert of(long_intent(node), ev.TradeIntentAccepted)
