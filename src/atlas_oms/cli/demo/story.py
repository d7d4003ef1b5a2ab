"""The demo's stage: one node on a SQLite journal, a manual clock, and how the story is told."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from atlas_oms.cli.tables import fmt, render
from atlas_oms.core.views import OrderView
from atlas_oms.runtime.clock import ManualClock
from atlas_oms.runtime.node import CommandRefused, Node
from atlas_oms.store.opener import open_journal

__all__ = ["AAPL", "BTC", "DEMO_START_NS", "PERP", "SECOND", "Story"]

#: The demo's clock starts at the US cash open on the first Monday of 2026 (14:30 UTC).
DEMO_START_NS = int(datetime(2026, 1, 5, 14, 30, tzinfo=UTC).timestamp()) * 1_000_000_000
SECOND = 1_000_000_000

BTC = "BTC/USDT"
PERP = "BTC/USDT:USDT"
AAPL = "AAPL"


class Story:
    """The scripted session's node and clock, and the helpers that print each step of it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.clock = ManualClock(DEMO_START_NS)
        self.node = Node(open_journal(str(path)), clock=self.clock)

    def step(self, text: str, seconds: int = 1) -> None:
        """Move the clock on and print what happens, stamped with the time."""
        self.clock.advance(seconds * SECOND)
        ts = self.clock.now()
        print(f"{datetime.fromtimestamp(ts // SECOND, tz=UTC):%H:%M:%S}  {text}")

    @staticmethod
    def note(text: str) -> None:
        """Print a result under the step it belongs to."""
        print(f"          {text}")

    @staticmethod
    def section(title: str) -> None:
        """Print a chapter's title."""
        print(f"== {title}")

    def outcome(self, o: OrderView) -> str:
        """``#id STATUS, filled QTY @ avg PX, QTY resting [REASON]``."""
        text = f"#{o.order_id} {o.status}"
        if o.cum_qty:
            text += f", filled {fmt(o.cum_qty)} @ avg {fmt(o.avg_px, 2)}"
            if o.leaves_qty and o.status not in ("CANCELED", "FILLED", "EXPIRED"):
                text += f", {fmt(o.leaves_qty)} resting"
        if o.reason:
            text += f" [{o.reason}]"
        return text

    def depth(self, symbol: str, levels: int = 5) -> None:
        """Print the book of ``symbol``, asks above bids."""
        book = self.node.book(symbol, levels)
        asks = list(reversed(book["asks"]))
        rows: list[list[Any]] = [["", "", fmt(px), fmt(qty)] for px, qty in asks]
        rows += [[fmt(qty), fmt(px), "", ""] for px, qty in book["bids"]]
        print(render(["bid qty", "bid", "ask", "ask qty"], rows))

    def message(self, order_id: int) -> str:
        """The sentence of the order's latest refusal (from the last few events)."""
        for event in self.node.events(max(1, self.node.seq - 5)):
            if getattr(event, "order_id", None) == order_id and hasattr(event, "message"):
                return str(event.message)
        return ""

    def denial(self, o: OrderView) -> None:
        """Print a denied order's reason code and sentence."""
        self.note(f"-> #{o.order_id} {o.status} {o.reason}: {self.message(o.order_id)}")

    def refused(self, action: Callable[[], object]) -> None:
        """Do ``action``, which the story expects to be refused; print the refusal."""
        try:
            action()
        except CommandRefused as exc:
            self.note(f"-> refused {exc.reason}: {exc.message}")
        else:  # pragma: no cover - the story expects a refusal
            self.note("-> done")
