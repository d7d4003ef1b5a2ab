"""The demo's risk chapter, on bob: limits, a REDUCING state, a circuit breaker that trips, a kill
switch that cancels his orders and is reset with a reason, and the tail of his audit trail."""

from __future__ import annotations

from typing import Any

from atlas_oms.cli.audit import audit_table
from atlas_oms.cli.demo.story import BTC, PERP, Story
from atlas_oms.cli.risk import breaker_table
from atlas_oms.cli.tables import fmt
from atlas_oms.model import events as ev
from atlas_oms.model.risk import BreakerConfig

__all__ = ["risk_chapter"]


def _limits_and_states(story: Story) -> dict[str, Any]:
    n = story.node
    last = n.last_price(BTC)
    limits: dict[str, Any] = {"max_order_qty": "1", "price_band_pct": "1", "max_open_orders": 3}
    story.step("ops: limits on account bob: max_order_qty 1, price_band_pct 1, max_open_orders 3")
    n.set_limits("account", "bob", **limits, actor="ops", reason="desk limits for bob")
    story.step("bob: BUY 5 BTC/USDT LIMIT 64,000 (a fat finger)")
    story.denial(n.buy("bob", BTC, "5", "64000"))
    story.step(f"bob: BUY 0.1 BTC/USDT LIMIT 63,000 (2% under the last {fmt(last)})")
    story.denial(n.buy("bob", BTC, "0.1", "63000"))
    story.step("bob: rests 0.1 BTC/USDT bids at 64,000, 63,950 and 63,900, then one at 63,850")
    bids = [n.buy("bob", BTC, "0.1", px) for px in ("64000", "63950", "63900")]
    story.note("-> " + ", ".join(story.outcome(b) for b in bids))
    story.denial(n.buy("bob", BTC, "0.1", "63850"))
    story.step(f"bob: cancel #{bids[-1].order_id} (two bids stay on the book)")
    n.cancel("bob", bids[-1].order_id)

    story.step("ops: account bob REDUCING (only orders that reduce his positions)")
    n.set_trading_state("account", "bob", "REDUCING", actor="ops", reason="over his risk budget")
    story.step("bob: BUY 0.2 BTC/USDT:USDT LIMIT 64,015 (adds to his long 1)")
    story.denial(n.buy("bob", PERP, "0.2", "64015"))
    story.step("bob: SELL 0.5 BTC/USDT:USDT LIMIT 64,005 (reduces it)")
    story.note(f"-> {story.outcome(n.sell('bob', PERP, '0.5', '64005'))}")
    story.step("ops: account bob ACTIVE again")
    n.set_trading_state("account", "bob", "ACTIVE", actor="ops", reason="back within budget")
    return limits


def _breaker(story: Story, limits: dict[str, Any]) -> None:
    n = story.node
    story.step("ops: circuit breaker on account bob: 2 losing trades in a row trip it")
    breaker = BreakerConfig(max_consecutive_losses=2)
    n.set_limits("account", "bob", **limits, breaker=breaker, actor="ops", reason="loss streaks")
    for i in (1, 2):
        story.step(f"bob: round trip {i} on the perpetual: BUY 0.1 @ 64,015, SELL 0.1 @ 64,005")
        n.buy("bob", PERP, "0.1", "64015")
        sold = n.sell("bob", PERP, "0.1", "64005")
        report = n.breaker_status("account", "bob") or {}
        story.note(
            f"-> #{sold.order_id} {sold.status}: a loss; consecutive losses "
            f"{report.get('consecutive_losses')}, breaker {report.get('state')}"
        )
    story.step("bob: BUY 0.1 BTC/USDT:USDT LIMIT 64,015")
    story.denial(n.buy("bob", PERP, "0.1", "64015"))
    story.step("ops: reset bob's breaker at once")
    story.refused(lambda: n.reset_breaker("account", "bob", actor="ops", reason="looked at it"))
    print(breaker_table(n.risk_status("bob")["circuit_breakers"], story.clock.now()))


def _kill_switch(story: Story) -> None:
    n = story.node
    open_ids = [o.order_id for o in n.orders("bob", open_only=True)]
    story.step(f"ops: kill switch on account bob (open orders {open_ids})")
    events = n.kill(
        "account", "bob", actor="ops", reason="loss streak: stop bob, cancel his orders"
    )
    canceled = [e.order_id for e in events if isinstance(e, ev.OrderCanceled)]
    story.note("-> canceled: " + ", ".join(story.outcome(n.order(i)) for i in canceled))
    story.step("bob: SELL 0.1 BTC/USDT:USDT LIMIT 64,005")
    story.denial(n.sell("bob", PERP, "0.1", "64005"))
    story.step("ops: reset the kill switch without a reason")
    story.refused(lambda: n.reset_kill("account", "bob", actor="ops", reason=""))
    story.step("ops: reset the kill switch, reason: reviewed with bob")
    n.reset_kill("account", "bob", actor="ops", reason="reviewed with bob")
    story.note("-> kill switch off; bob's breaker is still open until its reset")


def risk_chapter(story: Story) -> None:
    """Play the risk chapter; print bob's audit trail's tail."""
    story.section("Risk controls: limits, trading state, circuit breaker, kill switch (bob)")
    limits = _limits_and_states(story)
    _breaker(story, limits)
    _kill_switch(story)
    trail = story.node.audit("bob")
    print(f"Audit trail of bob: last 12 of {len(trail)} events")
    print(audit_table(trail[-12:]))
