"""§1 parity: the same strategy on the same data gives the same journal, event for event, in a
backtest and in a paper session (asyncio loop, recorded feed played back).

Nothing is normalized: both modes set the node's clock to each event's ``ts`` (see
``backtest/paper.py``), the simulated venue's ids are deterministic, and the setup (instruments,
accounts, deposits) is the same code (``Backtest.build``) at the same start time; so the encoded
events are compared byte for byte.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

import pytest

from atlas_oms.backtest.data import load_bars
from atlas_oms.backtest.paper import PaperSession, read_feed, replay, write_feed
from atlas_oms.backtest.runner import AccountSpec, Backtest
from atlas_oms.store.codec import encode_event

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "examples" / "data" / "BTCUSDT-1m-sample.csv"
SMA = str(ROOT / "examples" / "strategies" / "sma_crossover.py") + ":SmaCrossover"
BREAKOUT = str(ROOT / "examples" / "strategies" / "breakout_intents.py") + ":BreakoutIntents"


def _accounts() -> list[AccountSpec]:
    return [
        AccountSpec("sma", SMA, capital=Decimal(10_000)),
        AccountSpec("breakout", BREAKOUT, capital=Decimal(10_000)),
    ]


def _journal(node) -> list[bytes]:  # type: ignore[no-untyped-def]
    return [encode_event(e) for e in node.events()]


@pytest.mark.parametrize("n_bars", [1_200])
def test_backtest_and_paper_journals_are_identical_event_for_event(
    n_bars: int, tmp_path: Path
) -> None:
    bars = load_bars(SAMPLE)[:n_bars]
    backtest = Backtest(_accounts(), events=bars, progress=False).run()
    assert backtest.node is not None

    feed = tmp_path / "feed.jsonl"
    write_feed(feed, bars)
    recorded = read_feed(feed)
    assert recorded == bars  # the recording round-trips exactly (Decimal from text)

    session = PaperSession(_accounts(), symbols=["BTCUSDT"], start_ns=bars[0].start_ns)

    async def main() -> int:
        n = await session.run(replay(recorded, speed=0))
        session.stop()
        return n

    assert asyncio.run(main()) == n_bars
    paper = session.result()

    a, b = _journal(backtest.node), _journal(session.node)
    # both strategies traded: the parity covers orders, fills and managed trades
    kinds = {type(e).__name__ for e in backtest.node.events()}
    assert {"OrderFilled", "TradeIntentAccepted", "BarApplied"} <= kinds
    assert len(a) == len(b)
    for i, (x, y) in enumerate(zip(a, b, strict=True)):
        assert x == y, f"event {i + 1} differs"
    assert backtest.digest == paper.digest
    for name in ("sma", "breakout"):
        assert backtest.accounts[name].fills == paper.accounts[name].fills
        assert backtest.accounts[name].equity == paper.accounts[name].equity


def test_replay_paces_by_the_feeds_time_gaps_scaled_by_speed() -> None:
    bars = load_bars(SAMPLE)[:4]  # one minute apart
    slept: list[float] = []

    async def fake_sleep(s: float) -> None:
        slept.append(s)

    async def main() -> list[object]:
        return [e async for e in replay(bars, speed=60.0, sleep=fake_sleep)]

    assert asyncio.run(main()) == bars
    assert slept == [1.0, 1.0, 1.0]  # 60 s gaps at 60x
