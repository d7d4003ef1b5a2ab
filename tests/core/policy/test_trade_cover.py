"""Stop and targets on a spot wallet that holds only what the trade bought (core/policy/cover.py):
every sell locks what it sells, so the targets go first, the venue stop covers the rest, and an
internal stop at the same level protects what the targets hold (seed 001 §5.2: "Broker-Stop
oder interner Stop + sofortige Exit-Policy")."""

from __future__ import annotations

from trade_kit import SYMBOL, D, long_intent, of

from atlas_oms import Instrument, ManualClock, Node
from atlas_oms.model import events as ev
from atlas_oms.runtime.node import Node as _Node


def _wallet() -> _Node:
    node = Node.in_memory(clock=ManualClock())
    node.add_instrument(Instrument.spot(SYMBOL, tick_size="0.01", lot_size="1"))
    node.open_account("trader")
    node.deposit("trader", "USD", 100_000)  # no XYZ: the position is all it will hold
    node.open_account("maker")
    node.deposit("maker", "USD", 10_000_000)
    node.deposit("maker", "XYZ", 1_000_000)
    node.update_prices(SYMBOL, last=100)
    node.sell("maker", SYMBOL, 100, 100)
    return node


def _protected(node: _Node) -> tuple[D, D]:
    """(what the venue stop and the targets hold, the position)."""
    t = node.managed_trade("t1")
    assert t is not None
    held = sum((o.leaves_qty for o in node.orders("trader") if o.is_live), D(0))
    return held, t.position


def test_the_targets_go_first_and_the_stop_covers_the_rest() -> None:
    node = _wallet()
    bracket = of(long_intent(node), ev.TradeBracketPlaced)[0]
    assert bracket.covered  # type: ignore[attr-defined]
    # 4T on 100: 30 @ 1R, 30 @ key (1.5R), 25 @ 2R, runner 15 on the stop
    assert [q for _, _, q, _ in bracket.targets] == [D(30), D(30), D(25)]  # type: ignore[attr-defined]
    assert node.order(bracket.stop_order_id).qty == D(15)  # type: ignore[attr-defined]
    assert _protected(node) == (D(100), D(100))
    assert not of(long_intent(node, "t1"), ev.OrderRejected)


def test_a_target_fill_leaves_the_stop_as_it_was_and_moves_it_to_break_even() -> None:
    node = _wallet()
    bracket = of(long_intent(node), ev.TradeBracketPlaced)[0]
    node.buy("maker", SYMBOL, 30, 102)  # tranche 1 fills
    t = node.managed_trade("t1")
    assert t is not None and t.position == D(70)
    stop = node.order(bracket.stop_order_id)  # type: ignore[attr-defined]
    assert stop.qty == D(15) and stop.trigger_price == D(100)  # break-even
    assert _protected(node) == (D(70), D(70))


def test_the_stop_level_reached_cancels_the_targets_and_the_stop_covers_everything() -> None:
    node = _wallet()
    long_intent(node)
    node.buy("maker", SYMBOL, 10, "97.00")  # a bid below the stop's limit (97.90)
    events = node.update_prices(SYMBOL, last="97.95")
    fired = of(events, ev.TradeStopFired)
    assert fired and fired[0].source in ("LAST_PRICE", "VENUE_TRIGGER")  # type: ignore[attr-defined]
    assert len(of(events, ev.TradeTargetCanceled)) == 3
    placed = of(events, ev.TradeStopPlaced)
    assert placed and placed[0].qty == D(100) and placed[0].cause == "STOP_FIRED"  # type: ignore[attr-defined]
    stop = node.order(placed[0].order_id)  # type: ignore[attr-defined]
    assert stop.status.value == "TRIGGERED" and stop.price == D("97.90")
    held, position = _protected(node)
    assert held == position == D(100)


def test_a_stop_that_trades_all_it_holds_sends_the_exit_once_the_targets_released_theirs() -> None:
    # The venue stop (15) fills at once against a bid above its limit while the three targets
    # (85) still lock what they sell: the market exit for the rest must wait for their cancels
    # (the targets' TradeTargetCanceled is journaled when the cancel is *requested*), not go out
    # first and be refused for want of XYZ (INSUFFICIENT_BALANCE, retried on every confirmation).
    node = _wallet()
    long_intent(node)
    node.buy("maker", SYMBOL, 1000, "97.95")
    events = node.update_prices(SYMBOL, last="97.95")
    assert not of(events, ev.OrderDenied) and not of(events, ev.RiskAlert)
    placed = of(events, ev.TradeExitOrderPlaced)
    assert [(p.attempt, p.qty) for p in placed] == [(1, D(85))]  # type: ignore[attr-defined]
    target_cancels = {e.order_id for e in of(events, ev.TradeTargetCanceled)}  # type: ignore[attr-defined]
    confirmed = [i for i, e in enumerate(events) if isinstance(e, ev.OrderCanceled)]
    assert {events[i].order_id for i in confirmed} >= target_cancels  # type: ignore[attr-defined]
    assert max(confirmed) < events.index(placed[0])
    t = node.managed_trade("t1")
    assert t is not None and t.phase == "CLOSED" and t.position == 0
    assert node.balance("trader", "XYZ").total == 0


def test_a_scale_out_on_a_spot_wallet_sells_what_the_targets_held_once_their_cancels_landed() -> (
    None
):
    # §6.2 on a wallet that holds only the position: the targets (85) lock their XYZ until
    # their cancels are confirmed; the exit limit goes out after that (not refused before).
    node = _wallet()
    long_intent(node)
    node.buy("maker", SYMBOL, 20, "100.50")  # the bid
    events = node.trigger_scale_out("t1", reason="PARABOLIC")
    assert not of(events, ev.OrderDenied)
    placed = next(p for p in of(events, ev.TradeScaleOutPlaced) if p.order_id)  # type: ignore[attr-defined]
    last_cancel = max(i for i, e in enumerate(events) if isinstance(e, ev.OrderCanceled))
    assert events.index(placed) > last_cancel
    assert placed.qty == D(85) and node.order(placed.order_id).cum_qty == D(20)  # type: ignore[attr-defined]
    held, position = _protected(node)
    assert held == position == D(80)


class _LateVenue:
    """A venue whose cancels race with its fills: an order listed in ``traded`` has traded at the
    venue (its fill report is still on the way), so its cancel is refused."""

    name = "late"
    synchronous = True

    def __init__(self) -> None:
        self.traded: set[int] = set()

    def handle(self, request: object) -> list[object]:
        from atlas_oms.model import reports as rep
        from atlas_oms.model import requests as req

        if isinstance(request, req.SubmitToVenue):
            return [
                rep.VenueAccepted(
                    order_id=request.order_id, ts=request.ts, venue_order_id=f"v{request.order_id}"
                )
            ]
        if isinstance(request, req.ModifyAtVenue):
            return [
                rep.VenueModified(
                    order_id=request.order_id,
                    ts=request.ts,
                    qty=request.qty,
                    leaves_qty=request.leaves_qty,
                    price=request.price,
                )
            ]
        if isinstance(request, req.CancelAtVenue):
            if request.order_id in self.traded:
                return [
                    rep.VenueCancelRejected(
                        order_id=request.order_id, ts=request.ts, reason="ORDER_NOT_LIVE"
                    )
                ]
            return [rep.VenueCanceled(order_id=request.order_id, ts=request.ts, reason="CANCELED")]
        raise TypeError(type(request).__name__)

    def restore(self, orders: object) -> None:
        pass


def _fill(node: _Node, order_id: int, qty: int, px: str) -> list[ev.EventBase]:
    from atlas_oms.model import reports as rep
    from atlas_oms.model.enums import LiquiditySide

    return node.feed(
        rep.VenueFilled(
            order_id=order_id,
            ts=0,
            exec_id=f"x{order_id}-{qty}",
            trade_id=f"x{order_id}-{qty}",
            last_qty=D(qty),
            last_px=D(px),
            liquidity_side=LiquiditySide.MAKER,
            fee=D(0),
            fee_asset="USD",
        )
    )


def test_a_target_that_traded_before_its_cancel_leaves_the_stop_covering_the_whole_position() -> (
    None
):
    # The stop level is reached and the targets are canceled, but one of them (30 @ 102) has
    # already traded at the venue: its cancel is refused, its fill arrives after. The 70 left
    # must all be under the stop (before: the stop kept its 15 and 55 stayed unprotected).
    venue = _LateVenue()
    node = Node.in_memory(clock=ManualClock(), venues=[venue])
    node.add_instrument(Instrument.spot(SYMBOL, tick_size="0.01", lot_size="1", venue="late"))
    node.open_account("trader")
    node.deposit("trader", "USD", 100_000)
    node.update_prices(SYMBOL, last=100)
    entry = of(long_intent(node), ev.OrderSubmitted)[0]
    bracket = of(_fill(node, entry.order_id, 100, "100"), ev.TradeBracketPlaced)[0]  # type: ignore[attr-defined]
    assert bracket.covered  # type: ignore[attr-defined]
    second = bracket.targets[1][0]  # type: ignore[attr-defined]
    venue.traded.add(second)
    events = node.update_prices(SYMBOL, last="97.95")
    assert of(events, ev.TradeStopFired) and of(events, ev.OrderCancelRejected)
    events = _fill(node, second, 30, "102")
    t = node.managed_trade("t1")
    assert t is not None and t.position == D(70) and t.phase == "PROTECTED"
    stop = node.order(t.stop_order_id)  # type: ignore[arg-type]
    assert stop.is_live and stop.leaves_qty == D(70)
    held, position = _protected(node)
    assert held == position == D(70)


def test_a_target_fill_that_arrives_after_its_cancel_cuts_the_stop_to_the_position() -> None:
    # The venue traded a target, then confirmed its cancel (the rest), then reports the fill:
    # the stop, by then placed for the whole position (100), must be cut to the 70 left, though
    # the late fill left the wallet's free XYZ below zero (the modify needs nothing more).
    venue = _LateVenue()
    node = Node.in_memory(clock=ManualClock(), venues=[venue])
    node.add_instrument(Instrument.spot(SYMBOL, tick_size="0.01", lot_size="1", venue="late"))
    node.open_account("trader")
    node.deposit("trader", "USD", 100_000)
    node.update_prices(SYMBOL, last=100)
    entry = of(long_intent(node), ev.OrderSubmitted)[0]
    bracket = of(_fill(node, entry.order_id, 100, "100"), ev.TradeBracketPlaced)[0]  # type: ignore[attr-defined]
    second = bracket.targets[1][0]  # type: ignore[attr-defined]
    events = node.update_prices(SYMBOL, last="97.95")
    placed = of(events, ev.TradeStopPlaced)[0]
    assert placed.qty == D(100)  # type: ignore[attr-defined]
    events = _fill(node, second, 30, "102")
    assert not of(events, ev.OrderModifyRejected)
    t = node.managed_trade("t1")
    assert t is not None and t.position == D(70)
    stop = node.order(t.stop_order_id)  # type: ignore[arg-type]
    assert stop.is_live and stop.leaves_qty == D(70)
    balance = node.balance("trader", "XYZ")
    assert balance.total == D(70) and balance.locked == D(70) and balance.free == 0
