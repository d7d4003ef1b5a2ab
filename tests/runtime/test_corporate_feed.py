"""Corporate actions from a feed file (POS-5): parsed into commands the core applies once."""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path

import pytest

from atlas_oms import Instrument, ManualClock, Node
from atlas_oms.model import events as ev
from atlas_oms.runtime.corporate_feed import FeedError, load_feed, parse_feed

FEED = """action_id,symbol,kind,ratio,amount
AAPL-split,AAPL,SPLIT,4,
AAPL-div,AAPL,dividend,,0.25
"""


def test_a_feed_file_splits_and_pays_and_replaying_it_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "actions.csv"
    path.write_text(FEED)
    node = Node.in_memory(clock=ManualClock(1_767_625_200 * 10**9))
    node.add_instrument(Instrument.equity("AAPL"))
    node.open_account("a", equity_type="MARGIN")
    node.deposit("a", "AAPL", 10)
    for command in load_feed(path, ts=node.clock.now()):
        node.process(command)
    assert node.balance("a", "AAPL").total == 40
    assert node.balance("a", "USD").total == D("10.00")
    digest = node.digest()
    again = [e for c in load_feed(path, ts=node.clock.now()) for e in node.process(c)]
    assert all(isinstance(e, ev.CommandRejected) for e in again) and len(again) == 2
    assert node.balance("a", "AAPL").total == 40 and node.digest() != digest  # rejections journaled


def test_a_bad_feed_names_the_line() -> None:
    with pytest.raises(FeedError, match="line 2"):
        parse_feed(["action_id,symbol,kind,ratio,amount\n", "x,AAPL,SPLIT,two,\n"])
    with pytest.raises(FeedError, match="amount"):
        parse_feed(["action_id,symbol,kind,ratio\n"])
