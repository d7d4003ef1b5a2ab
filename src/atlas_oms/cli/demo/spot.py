"""The demo's first chapters: three instruments, a market maker's ladder, limit, market, modify,
trailing-stop, stop-limit, IOC, FOK and post-only orders, a perpetual and an equity, and refusals
with their reason codes."""

from __future__ import annotations

from decimal import Decimal

from atlas_oms.cli.demo.story import AAPL, BTC, PERP, SECOND, Story
from atlas_oms.cli.tables import fmt, render
from atlas_oms.cli.version import version
from atlas_oms.model.enums import OrderType, Side, TimeInForce, TrailingOffsetType
from atlas_oms.model.instrument import Instrument
from atlas_oms.runtime.node import CommandRefused

__all__ = ["LADDER", "Ladder", "spot_chapters"]

#: The market maker's ladder: quantity and distance from the mid, per level and side.
LADDER = (("0.5", 10), ("0.75", 25), ("1", 50), ("1.5", 100))


class Ladder:
    """The market maker's resting orders on BTC/USDT around a mid price."""

    def __init__(self, story: Story, mid: Decimal) -> None:
        self.story = story
        self.mid = mid
        self.levels: list[tuple[Side, Decimal, int, int]] = []  # side, qty, offset, order id
        for qty, off in LADDER:
            for side in (Side.BUY, Side.SELL):
                px = mid - off if side is Side.BUY else mid + off
                order = story.node.submit("mm", BTC, side, OrderType.LIMIT, qty, px)
                self.levels.append((side, Decimal(qty), off, order.order_id))

    def requote(self, mid: Decimal) -> None:
        """Move the ladder to ``mid``: re-price live orders, refill filled ones.

        The side moving away from the other goes first, so the ladder never crosses itself.
        """
        n = self.story.node
        rising = mid > self.mid
        self.mid = mid
        order = (Side.SELL, Side.BUY) if rising else (Side.BUY, Side.SELL)
        for first_side in order:
            for i, (side, qty, off, order_id) in enumerate(self.levels):
                if side is not first_side:
                    continue
                px = mid - off if side is Side.BUY else mid + off
                o = n.order(order_id)
                if o.is_live:
                    if px != o.price or o.leaves_qty != qty:
                        n.modify("mm", order_id, price=px, qty=o.cum_qty + qty)
                else:
                    fresh = n.submit("mm", BTC, side, OrderType.LIMIT, qty, px)
                    self.levels[i] = (side, qty, off, fresh.order_id)


def _set_up(story: Story) -> None:
    n = story.node
    print(f"Atlas OMS {version()} demo: journal {story.path}")
    story.section("Set-up: three instruments on the built-in exchange sim")
    instruments = [
        Instrument.spot(
            BTC, tick_size="0.01", lot_size="0.0001", maker_fee="0.0005", taker_fee="0.001"
        ),
        Instrument.perpetual(
            PERP, tick_size="0.1", lot_size="0.001", maker_fee="0.0002", taker_fee="0.0005"
        ),
        Instrument.equity(AAPL, tick_size="0.01", lot_size="1"),
    ]
    for inst in instruments:
        n.add_instrument(inst)
    headers = ["symbol", "kind", "tick", "lot", "maker", "taker", "settles"]
    rows = [
        [i.symbol, i.kind, i.tick_size, i.lot_size, i.maker_fee, i.taker_fee, i.settle_asset]
        for i in instruments
    ]
    print(render(headers, rows))
    story.step("accounts: market maker mm (sub-account mm-perp), traders alice and bob")
    n.open_account("mm", name="Market maker")
    n.open_account("mm-perp", parent_id="mm", name="Market maker, perpetual desk")
    n.open_account("alice", name="Alice")
    n.open_account("bob", name="Bob")
    deposits = {
        "mm": [("USDT", 2_000_000), ("BTC", 40), ("USD", 250_000), ("AAPL", 2_000)],
        "mm-perp": [("USDT", 500_000)],
        "alice": [("USDT", 300_000), ("BTC", 1), ("USD", 10_000)],
        "bob": [("USDT", 100_000), ("BTC", 6)],
    }
    for account, assets in deposits.items():
        for asset, amount in assets:
            n.deposit(account, asset, amount)
        story.note(
            f"deposit {account}: " + ", ".join(f"{amount:,} {asset}" for asset, amount in assets)
        )
    n.set_leverage("mm-perp", PERP, 20)
    n.set_leverage("bob", PERP, 10)
    story.note("leverage on BTC/USDT:USDT: mm-perp 20x, bob 10x")


def _quotes(story: Story) -> Ladder:
    n = story.node
    story.section("The market maker quotes")
    story.step("reference prices: BTC/USDT last 64,000; perpetual mark 64,010; AAPL last 240")
    n.update_prices(BTC, last="64000")
    n.update_prices(PERP, last="64010", mark="64010")
    n.update_prices(AAPL, last="240")
    ladder = Ladder(story, Decimal(64000))
    n.buy("mm-perp", PERP, "2", "64005")
    n.sell("mm-perp", PERP, "2", "64015")
    n.buy("mm", AAPL, 300, "239.95")
    n.sell("mm", AAPL, 300, "240.05")
    story.step("mm rests a ladder of 4 bids and 4 asks on BTC/USDT (and quotes PERP and AAPL)")
    story.depth(BTC)
    story.note(f"snapshot of the whole state written at seq {n.snapshot()}")
    return ladder


def _alice_and_bob(story: Story) -> int:
    """Alice walks the asks and replaces; bob walks the bids. Return alice's first order id."""
    n = story.node
    story.section("Alice: a limit buy that walks the asks, then a cancel/replace")
    story.step("alice: BUY 1.5 BTC/USDT LIMIT 64,030")
    first = n.buy("alice", BTC, "1.5", "64030")
    story.note(f"-> {story.outcome(first)} (0.5 @ 64,010 + 0.75 @ 64,025, rest at 64,030)")
    story.step(f"alice: modify #{first.order_id} -> qty 1.6, price 64,000 (joins the bid)")
    mod = n.modify("alice", first.order_id, qty="1.6", price="64000")
    story.note(f"-> #{mod.order_id} {mod.status}: leaves {fmt(mod.leaves_qty)} @ {fmt(mod.price)}")

    story.section("Bob: a market sell that walks the bids")
    story.step("bob: SELL 1.2 BTC/USDT MARKET")
    sold = n.sell("bob", BTC, "1.2")
    story.note(f"-> {story.outcome(sold)}")
    story.note(f"alice's #{first.order_id} is now {n.order(first.order_id).status}")
    return first.order_id


def _stops(story: Story, ladder: Ladder) -> None:
    n = story.node
    held = n.balance("alice", "BTC").free
    story.section(f"Alice protects her {fmt(held)} BTC: a 0.1% trailing stop and a stop-limit")
    story.step("alice: SELL 0.5 TRAILING_STOP_MARKET, 0.1% below the highest last")
    trail = n.submit(
        "alice",
        BTC,
        Side.SELL,
        OrderType.TRAILING_STOP_MARKET,
        "0.5",
        trailing_offset="0.1",
        trailing_offset_type=TrailingOffsetType.PERCENT,
    )

    def trigger() -> str:
        return fmt(n.order(trail.order_id).trigger_price)

    rows = [["submitted", n.last_price(BTC), trigger()]]
    story.step("market data: BTC/USDT rallies to 64,300, dips to 64,260, makes a high at 64,350")
    story.note("(mm re-quotes its ladder around each new last)")
    for last, why in (
        ("64300", "rally: the trail tightens"),
        ("64260", "dip: the trail holds"),
        ("64350", "new high: tightens again"),
    ):
        story.clock.advance(SECOND)
        n.update_prices(BTC, last=last)
        rows.append([why.split(":")[0], last, trigger()])
        ladder.requote(Decimal(last))
    print(render(["step", "last", "trail trigger"], rows))
    story.step("alice: SELL 0.5 STOP_LIMIT trigger 64,100 limit 64,050")
    stop = n.submit(
        "alice", BTC, Side.SELL, OrderType.STOP_LIMIT, "0.5", "64050", trigger_price="64100"
    )
    story.note(f"-> #{stop.order_id} {stop.status} (held by the engine until its trigger)")
    story.depth(BTC, 4)
    story.step("bob: SELL 2.5 BTC/USDT MARKET (its trade at 64,250 hits alice's trail)")
    dump = n.sell("bob", BTC, "2.5")
    story.note(f"-> bob {story.outcome(dump)}")
    story.note(f"-> alice's trail {story.outcome(n.order(trail.order_id))}")
    story.step("market data: BTC/USDT last 64,080 (alice's stop-limit fires)")
    n.update_prices(BTC, last="64080")
    story.note(f"-> alice's stop {story.outcome(n.order(stop.order_id))}")


def _time_in_force(story: Story) -> None:
    n = story.node
    story.section("Time in force and post-only")
    story.step("bob: BUY 1 BTC/USDT LIMIT 64,370 IOC")
    story.note(f"-> {story.outcome(n.buy('bob', BTC, '1', '64370', tif=TimeInForce.IOC))}")
    story.step("alice: BUY 2 BTC/USDT LIMIT 64,400 FOK (only 1.75 offered up to 64,400)")
    story.note(f"-> {story.outcome(n.buy('alice', BTC, '2', '64400', tif=TimeInForce.FOK))}")
    story.step("alice: BUY 0.1 BTC/USDT LIMIT 64,400 post-only (would take)")
    story.note(f"-> {story.outcome(n.buy('alice', BTC, '0.1', '64400', post_only=True))}")

    story.section("Perpetual and equity")
    story.step("bob (10x): BUY 1 BTC/USDT:USDT MARKET")
    story.note(f"-> {story.outcome(n.buy('bob', PERP, '1'))}")
    story.step("alice: BUY 25 AAPL MARKET")
    story.note(f"-> {story.outcome(n.buy('alice', AAPL, 25))}")
    story.step("market data: perpetual mark 64,200; AAPL last 241.50")
    n.update_prices(PERP, last="64200", mark="64200")
    n.update_prices(AAPL, last="241.5")


def _refusals(story: Story, first_order_id: int) -> None:
    n = story.node
    story.section("Refusals: reason code and sentence")
    story.step("alice: BUY 0.1 BTC/USDT LIMIT 64,000.005 (off tick)")
    story.denial(n.buy("alice", BTC, "0.1", "64000.005"))
    story.step("bob: BUY 10 BTC/USDT LIMIT 64,000 (more than bob can pay)")
    story.denial(n.buy("bob", BTC, "10", "64000"))
    story.step(f"alice: cancel #{first_order_id} (already filled)")
    try:
        n.cancel("alice", first_order_id)
    except CommandRefused as exc:
        story.note(f"-> refused {exc.reason}: {exc.message}")


def spot_chapters(story: Story) -> None:
    """Set up the venue and play the trading chapters, in order."""
    _set_up(story)
    ladder = _quotes(story)
    first = _alice_and_bob(story)
    _stops(story, ladder)
    _time_in_force(story)
    _refusals(story, first)
