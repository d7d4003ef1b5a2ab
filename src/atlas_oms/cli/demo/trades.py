"""``atlas demo trades``: a managed trade's day (issue 13, seed 001) on the built-in exchange.

A strategy hands Atlas one intent for the US equity ACME; Atlas does the rest, step by step, on a
manual clock that starts at the New York open (so the story, its journal and its digest are the
same every run): the entry limit reprices twice toward the offer, fills, the bracket goes out in
one step (a stop and one target per tranche, no OCA group), tranche 1 fills and the stop moves to
break-even. Each step prints what Atlas decided (its ``Trade*`` events) and the trade as it then
is.

The day is a list of named steps, :data:`STEPS`: a step is ``(title, function(day))``. More of
seed 001 (trailing on bar closes, a partial stop fill handled at market, the forced close) are
steps to add to the list as they are built.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from atlas_oms.cli.demo.story import DEMO_START_NS, SECOND
from atlas_oms.cli.tables import fmt, render
from atlas_oms.model import events as ev
from atlas_oms.model.instrument import Instrument
from atlas_oms.runtime.clock import ManualClock
from atlas_oms.runtime.node import Node
from atlas_oms.runtime.trade_view import TradeView, is_trade_event
from atlas_oms.store.opener import open_journal

__all__ = ["STEPS", "TradeDay", "run_trades_demo"]

SYMBOL = "ACME"
TRADE = "acme-1"


class TradeDay:
    """The day's node (a journal, or memory), its clock, and how a step is told."""

    def __init__(self, path: Path | None = None) -> None:
        self.clock = ManualClock(DEMO_START_NS)
        journal = open_journal(str(path)) if path is not None else None
        self.node = (
            Node(journal, clock=self.clock)
            if journal is not None
            else Node.in_memory(clock=self.clock)
        )
        self.seen = 0  # the last seq already told
        self.offer = 0  # the maker's resting offer

    # ------------------------------------------------------------------ telling
    def now(self) -> str:
        ts = self.clock.now()
        return f"{datetime.fromtimestamp(ts // SECOND, tz=UTC):%H:%M:%S} UTC"

    def wait(self, seconds: float) -> None:
        """Let ``seconds`` pass: the node's timers (repricing, cancels) fire on the way."""
        self.node.advance_time(int(seconds * SECOND))

    def say(self, text: str) -> None:
        print(f"  {text}")

    def decisions(self) -> list[ev.EventBase]:
        """The ``Trade*`` events since the last call, printed one a line."""
        found = [e for e in self.node.events(self.seen + 1) if is_trade_event(e)]
        self.seen = self.node.seq
        for e in found:
            print(f"    -> {type(e).__name__}: {_fields(e)}")
        return found

    def trade(self) -> TradeView:
        view = self.node.managed_trade(TRADE)
        assert view is not None, "the intent was refused"
        return view

    def show(self) -> None:
        """The trade now: phase, position, stop, tranches and P&L."""
        t = self.trade()
        stop = f"{fmt(t.stop_trigger)}" + (" (break-even)" if t.break_even else "")
        entry = _usd(t.entry_avg_px)
        self.say(
            f"trade {t.trade_id}: {t.phase}, position {fmt(t.position)} @ {entry}, "
            f"stop {stop}, realized {_usd(t.realized_pnl)} USD, "
            f"unrealized {_usd(t.unrealized_pnl)} USD"
        )
        if t.tranches:
            rows = [
                [
                    x.index,
                    _usd(x.price),
                    fmt(x.planned_qty),
                    fmt(x.filled_qty),
                    x.status,
                    _usd(x.realized_pnl),
                ]
                for x in t.tranches
            ]
            print(
                render(
                    ["tranche", "price", "qty", "filled", "status", "P&L"],
                    rows,
                    indent="    ",
                    align="rrrrlr",
                )
            )


def _usd(value: Decimal | None) -> str:
    if value is None:
        return "-"
    return f"{value if value else Decimal(0):,.2f}"  # never "-0.00"


def _fields(e: ev.EventBase) -> str:
    skip = {"seq", "ts_event", "trade_id", "account_id", "symbol"}
    parts = []
    for name in e.__struct_fields__:
        value = getattr(e, name)
        if name in skip or value in (None, (), ""):
            continue
        if isinstance(value, Decimal):
            value = fmt(value)
        elif name == "targets":
            value = ", ".join(f"T{i} {fmt(q)} @ {fmt(p, 2)}" for _, i, q, p in value)
        parts.append(f"{name}={getattr(value, 'value', value)}")
    return " ".join(parts)


# ---------------------------------------------------------------------- the steps
def opening(day: TradeDay) -> None:
    """ACME lists at 100; a maker bids 99 and offers 101 (the trader's entry zone lies below)."""
    n = day.node
    n.add_instrument(Instrument.equity(SYMBOL))
    for account in ("trader", "maker"):
        n.open_account(account)
        n.deposit(account, "USD", 1_000_000)
        n.deposit(account, SYMBOL, 10_000)
    n.update_prices(SYMBOL, last=100)
    n.buy("maker", SYMBOL, 500, 99)
    day.offer = n.sell("maker", SYMBOL, 500, 101).order_id
    day.seen = n.seq
    day.say("ACME last 100, book 99 / 101")


def intent(day: TradeDay) -> None:
    """The strategy's intent: long ACME, ideal 100, at most 101, stop 98, R = 200 USD."""
    day.node.trade(
        TRADE,
        "trader",
        SYMBOL,
        "BUY",
        entry_ideal="100",
        entry_max="101",
        stop="98",
        risk_amount="200",
        scale_out="STANDARD",
    )
    day.say("intent: BUY ACME, zone 100..101, stop 98, R 200 (size = R / (entry - stop))")
    day.decisions()


def reprice_twice(day: TradeDay) -> None:
    """Nobody sells at 100: every 5 s the entry moves one step toward the offer (seed §8.1)."""
    for _ in range(2):
        day.wait(5)
        day.say(f"{day.now()}: 5 s without a fill")
        day.decisions()


def entry_fills(day: TradeDay) -> None:
    """A seller meets the entry's price: the entry fills, and in the same step the bracket goes
    out (seed §5): a stop on the whole position and one limit per tranche, no OCA group."""
    price = day.trade().entry_price
    day.node.cancel("maker", day.offer)
    day.node.sell("maker", SYMBOL, 100, price)
    day.say(f"the maker pulls its offer at 101 and sells 100 at the entry's {fmt(price, 2)}")
    day.decisions()
    day.show()


def tranche_one(day: TradeDay) -> None:
    """Buyers lift tranche 1's target: the stop shrinks to the rest and moves to break-even
    (seed §9.1); the other targets keep working."""
    t = day.trade()
    first = t.tranches[0]
    day.wait(60)
    day.node.update_prices(SYMBOL, last=first.price)
    day.node.buy("maker", SYMBOL, first.planned_qty, first.price)
    day.say(f"{day.now()}: ACME trades up to {fmt(first.price, 2)}: tranche 1 fills")
    day.decisions()
    day.show()


def trailing_bars(day: TradeDay) -> None:
    """ACME climbs for 20 minutes (1-minute bars as market data): on each bar close the stop is
    maintained (seed §10.2: ATR trail, MFE lock, EMA(9)/higher-low runner), never loosening."""
    node = day.node
    close = Decimal("100.60")
    for _ in range(20):
        day.wait(60)
        start = day.clock.now() - day.clock.now() % (60 * SECOND) - 60 * SECOND
        close += Decimal("0.15")
        node.apply_bar(
            SYMBOL,
            start,
            close - Decimal("0.1"),
            close + Decimal("0.2"),
            close - Decimal("0.3"),
            close,
            5000,
        )
    node.update_prices(SYMBOL, last=close)
    moves = [e for e in day.decisions() if isinstance(e, ev.TradeStopMoved)]
    day.say(
        f"{day.now()}: ACME at {fmt(close, 2)} after 20 bars; the stop moved {len(moves)} times"
    )
    day.show()


def partial_stop(day: TradeDay) -> None:
    """ACME drops through the stop: the stop-limit sells only part before the bid is gone, so
    the rest of the stop and every target go at market at once (seed §9.1, §3.2 item 4)."""
    t = day.trade()
    node = day.node
    trigger = t.stop_trigger or Decimal(0)
    node.buy("maker", SYMBOL, 20, trigger)  # a bid takes 20 at the stop level
    day.wait(1)
    node.update_prices(SYMBOL, last=trigger)
    day.say(f"{day.now()}: ACME trades at the stop, {fmt(trigger, 2)}; 20 fill on the stop-limit")
    day.decisions()
    day.show()


def forced_close(day: TradeDay) -> None:
    """Cycle 2: a new intent enters at 100; at 15:45 New York time no entry is taken any more
    and the position is closed with an aggressive limit at the bid (seed §11)."""
    node = day.node
    node.sell("maker", SYMBOL, 100, 100)
    node.trade(
        "acme-2", "trader", SYMBOL, "BUY", entry_ideal="100", entry_max="101", stop="98",
        risk_amount="200", scale_out="OFF",
    )  # fmt: skip
    day.decisions()
    close_at = DEMO_START_NS + (6 * 3600 + 15 * 60) * SECOND  # 09:30 ET + 6 h 15 min
    day.clock.set(close_at)
    node.advance_time(0)
    day.say(f"{day.now()} (15:45 ET): forced close")
    day.decisions()
    late = node.trade(
        "acme-3", "trader", SYMBOL, "BUY", entry_ideal="100", entry_max="101", stop="98",
        risk_amount="200",
    )  # fmt: skip
    refused = [e for e in late if isinstance(e, ev.TradeIntentRefused)]
    if refused:
        day.say(f"a new intent now is refused: {refused[0].reason}")
    second = node.managed_trade("acme-2")
    if second is not None:
        day.say(
            f"trade acme-2: {second.phase} ({second.close_cause}), position {fmt(second.position)}"
        )


#: The day, in order: (title, step). Add steps here as seed 001's other parts are built.
STEPS: list[tuple[str, Callable[[TradeDay], None]]] = [
    ("The open", opening),
    ("The intent", intent),
    ("The entry reprices twice", reprice_twice),
    ("The entry fills: the bracket", entry_fills),
    ("Tranche 1, then break-even", tranche_one),
    ("Trailing on 1-minute bar closes", trailing_bars),
    ("A partial stop fill, the rest at market", partial_stop),
    ("Cycle 2 and the forced close at 15:45 ET", forced_close),
]


def run_trades_demo(
    path: Path | None = None, steps: Sequence[tuple[str, Callable[[TradeDay], None]]] = STEPS
) -> TradeDay:
    """Play ``steps`` on a new node (journaled at ``path``, else in memory); print each step."""
    day = TradeDay(path)
    for number, (title, step) in enumerate(steps, 1):
        print(f"== {number}. {title}  [{day.now()}]")
        step(day)
    day.node.flush()
    print(f"events: {day.node.seq}   digest: {day.node.digest()}")
    return day
