"""A paper account's ``symbols`` in accounts.yaml (issue 14 §1): on a real venue listing
thousands of instruments, the paper venue lists and subscribes only the symbols its accounts
name."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from atlas_oms.model.instrument import Instrument
from atlas_oms.model.venue import PriceTick, VenueInstrument
from atlas_oms.runtime.clock import ManualClock
from atlas_oms.runtime.node import Node
from atlas_oms.runtime.paper import PaperFeed, paper_symbol, run_paper
from atlas_oms.runtime.venue_setup import setup_paper
from atlas_oms.store.memory import MemoryJournal
from atlas_oms.venues.accounts import AccountsConfigError, parse_accounts

VENUE = "paper-binance"

YAML = """
accounts:
  binance:
    paper: {type: main, mode: paper, spot_enabled: true, symbols: [BTC/USDT, ETH/USDT]}
account_routing: {default: paper}
"""


def test_a_paper_accounts_symbols_are_read_from_accounts_yaml() -> None:
    (paper,) = parse_accounts(YAML).paper
    assert paper.symbols == ("BTC/USDT", "ETH/USDT")


def test_symbols_on_a_live_account_is_refused() -> None:
    with pytest.raises(AccountsConfigError, match="symbols"):
        parse_accounts(
            "accounts:\n  binance:\n    main: {type: main, spot_enabled: true, "
            "symbols: [BTC/USDT]}\naccount_routing: {default: main}\n"
        )


class _Source:
    """A venue adapter's public face: three instruments; records what was subscribed."""

    def __init__(self) -> None:
        self.subscribed: list[str] = []

    async def instruments(self) -> list[Any]:
        return [
            VenueInstrument(
                instrument=Instrument.spot(s, tick_size="0.01", lot_size="0.001", venue="binance"),
                venue_symbol=s.replace("/", ""),
            )
            for s in ("BTC/USDT", "ETH/USDT", "SOL/USDT")
        ]

    async def prices(self, symbols: list[str]) -> Any:
        self.subscribed = list(symbols)
        yield PriceTick(symbol="BTC/USDT", ts=1, last=None)
        await asyncio.sleep(3600)


def test_setup_paper_lists_and_subscribes_only_the_accounts_symbols() -> None:
    node = Node(MemoryJournal(), clock=ManualClock(1_000))
    ((_name, task),) = setup_paper(node, parse_accounts(YAML))
    feed: PaperFeed = task.__defaults__[0]  # type: ignore[attr-defined]
    assert feed.only == {"BTC/USDT", "ETH/USDT"}
    source = _Source()

    async def main() -> None:
        runner = asyncio.create_task(run_paper(feed, source))
        for _ in range(100):
            await asyncio.sleep(0.01)
            if source.subscribed:
                break
        runner.cancel()

    asyncio.run(main())
    assert sorted(source.subscribed) == ["BTC/USDT", "ETH/USDT"]
    listed = sorted(i.symbol for i in node.instruments() if i.venue == VENUE)
    assert listed == [paper_symbol("BTC/USDT", VENUE), paper_symbol("ETH/USDT", VENUE)]
