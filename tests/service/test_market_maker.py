"""A market that moves (issue 14 §5): the built-in market maker follows a seeded random walk or a
recorded file, quotes a book deep enough for the README's examples, prints trades so that stops
fire, and can be turned off."""

from __future__ import annotations

import json
import re
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from atlas_oms.model.enums import Side
from atlas_oms.runtime.node import Node
from atlas_oms.service.bootstrap import MAKER, default_instruments, first_start
from atlas_oms.service.market_maker import (
    NOISE,
    FileReplay,
    MarketConfig,
    MarketFileError,
    MarketMaker,
    RandomWalk,
    load_path_file,
    to_tick,
)
from atlas_oms.service.server import BackgroundServer, build_app
from atlas_oms.service.settings import ServiceSettings

D = Decimal
README = Path(__file__).resolve().parents[2] / "README.md"


def demo_node() -> Node:
    node = Node.in_memory()
    first_start(node, default_instruments())
    return node


# ---------------------------------------------------------------------------------- the path
@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    start=st.decimals("0.5", "100000", places=2),
    tick=st.sampled_from([D("0.01"), D("0.1"), D("0.5"), D(1), D(5)]),
    volatility=st.floats(0.01, 50.0),
)
def test_the_walk_is_the_same_for_a_seed_and_stays_on_the_tick_and_in_its_bounds(
    seed: int, start: Decimal, tick: Decimal, volatility: float
) -> None:
    def walk() -> list[Decimal]:
        w = RandomWalk(start, tick, seed=seed, volatility=volatility, every_s=60)
        return [w.next() for _ in range(200)]

    first, again = walk(), walk()
    assert first == again
    for p in first:
        assert p > 0 and p % tick == 0
        assert start / 4 - tick <= p <= start * 4 + tick
        assert "E" not in str(p) and "e" not in str(p)


def test_two_seeds_give_two_paths_and_the_walk_moves() -> None:
    a = RandomWalk(D(60000), D("0.01"), seed=1, volatility=0.8, every_s=1)
    b = RandomWalk(D(60000), D("0.01"), seed=2, volatility=0.8, every_s=1)
    pa, pb = [a.next() for _ in range(100)], [b.next() for _ in range(100)]
    assert pa != pb
    assert len(set(pa)) > 90  # 80 % a year moves about 6 USDT a second at 60,000


def test_to_tick_writes_prices_plainly() -> None:
    assert str(to_tick(D(60000), D("0.01"))) == "60000.00"
    assert str(to_tick(D("123456"), D("1E+1"))) == "123460"
    assert str(to_tick(D("3000.123"), D("0.5"))) == "3000.0"


def test_a_recorded_file_of_ccxt_bars_is_replayed_in_a_loop_from_the_start_price(
    tmp_path: Path,
) -> None:
    csv = tmp_path / "bars.csv"
    csv.write_text(
        "timestamp,open,high,low,close,volume\n"
        "1700000000000,100,104,99,103,12.5\n"  # the low is nearer the open: low first
        "1700000060000,103,103.5,96,97,8\n"  # the high is nearer: high first
    )
    prices = load_path_file(csv)
    assert prices == [D(x) for x in ("100", "99", "104", "103", "103", "103.5", "96", "97")]
    replay = FileReplay(prices, D(60000), D("0.01"))  # the file's returns from 60,000
    seen = [replay.next() for _ in range(9)]
    assert seen[:3] == [D("59400.00"), D("62400.00"), D("61800.00")]
    assert seen[7] == D("60000.00") and seen[8] == D("59400.00")  # looped


def test_a_file_of_prices_without_a_header_and_a_wrong_file(tmp_path: Path) -> None:
    plain = tmp_path / "p.csv"
    plain.write_text("1700000000,100\n1700000001,101.5\n")
    assert load_path_file(plain) == [D(100), D("101.5")]
    bad = tmp_path / "bad.csv"
    bad.write_text("price\n100\nabc\n")
    with pytest.raises(MarketFileError, match=r"bad\.csv:3"):
        load_path_file(bad)
    with pytest.raises(MarketFileError):
        load_path_file(tmp_path / "missing.csv")


# ---------------------------------------------------------------------------------- the book
def readme_example_sizes() -> list[Decimal]:
    """Every BTC quantity an example of the README trades: ``"qty"`` in a request, the size of
    ``atlas order submit``, and the size a managed trade's example intent works out to
    (risk / (entry - stop))."""
    text = README.read_text()
    sizes = [D(x) for x in re.findall(r'"qty": "([0-9.]+)"', text)]
    sizes += [D(x) for x in re.findall(r"order submit BTC/USDT \w+ ([0-9.]+)", text)]
    for entry, stop, risk in re.findall(
        r'"entry_ideal": "([0-9.]+)".*?"stop": "([0-9.]+)", "risk_amount": "([0-9.]+)"',
        text,
        flags=re.S,
    ):
        sizes.append(D(risk) / (D(entry) - D(stop)))
    assert len(sizes) >= 3
    return sizes


def test_the_book_is_deep_enough_for_the_readmes_examples() -> None:
    node = demo_node()
    MarketMaker(node, MarketConfig(seed=3)).step(move=False)
    largest = max(readme_example_sizes())
    book = node.book("BTC/USDT", 10)
    for side in ("bids", "asks"):
        levels = book[side]
        assert len(levels) == 10
        assert sum(q for _, q in levels[:3]) >= 4 * largest  # several times, within 3 levels
        top, third = levels[0][0], levels[2][0]
        assert abs(top - third) / top <= D("0.001")  # ... a few ticks of the grid away
    fill = node.submit("desk", "BTC/USDT", "BUY", "MARKET", largest)
    assert fill.status == "FILLED"
    assert fill.avg_px is not None and fill.avg_px <= book["asks"][1][0]


def test_a_small_move_modifies_one_order_a_side_and_keeps_the_ids() -> None:
    node = demo_node()
    maker = MarketMaker(node, MarketConfig(seed=3, depth=5))
    maker.step(move=False)
    ids = {o.order_id for o in node.orders(MAKER, open_only=True)}
    for other in maker._quoted.values():  # the others stay where they are
        other.path = FileReplay([other.price], other.price, other.inst.tick_size)
    q = maker._quoted["BTC/USDT"]
    q.path = FileReplay([D(60000), D(60000) + q.grid], D(60000), D("0.01"))  # one grid step up
    report = maker.step()
    assert report.modified == 2 and report.placed == 0 and report.cancelled == 0
    assert {o.order_id for o in node.orders(MAKER, open_only=True)} == ids
    book = node.book("BTC/USDT", 1)
    assert book["bids"][0][0] == D(60000) and book["asks"][0][0] == D(60000) + 2 * q.grid


def test_a_move_prints_a_trade_between_the_noise_trader_and_the_maker() -> None:
    node = demo_node()
    maker = MarketMaker(node, MarketConfig(seed=3))
    maker.step(move=False)
    q = maker._quoted["BTC/USDT"]
    q.path = FileReplay([D(60000), D(60300)], D(60000), D("0.01"))
    maker.step()
    last = node.last_price("BTC/USDT")
    assert last is not None and D(60300) <= last <= D(60300) + 2 * q.grid
    noise = node.orders(NOISE, symbol="BTC/USDT")
    assert noise[-1].side is Side.BUY and noise[-1].status == "FILLED"


# ---------------------------------------------------------------------------------- serving
def _keys(data: Path) -> dict[str, str]:
    lines = (data / "first-keys.txt").read_text().splitlines()
    return {json.loads(x)["roles"][0]: json.loads(x)["token"] for x in lines}


def _falls_to(trigger: Decimal, seed: int, volatility: float, every_s: float, steps: int) -> bool:
    w = RandomWalk(
        D(60000), D("0.01"), seed=f"{seed}:BTC/USDT", volatility=volatility, every_s=every_s
    )
    return any(w.next() < trigger - 60 for _ in range(steps))


def test_a_stop_placed_on_a_running_server_fires_as_the_market_moves(tmp_path: Path) -> None:
    trigger, vol, every = D(59700), 40.0, 0.02
    seed = next(s for s in range(100) if _falls_to(trigger, s, vol, every, 150))
    settings_ = ServiceSettings(
        data_dir=tmp_path,
        rate_limit_per_s=10_000,
        market_seed=seed,
        market_volatility=vol,
        market_every_s=every,
    )
    with BackgroundServer(build_app(settings_)) as srv:
        headers = {"X-API-Key": _keys(tmp_path)["trader"]}
        body = {
            "account_id": "desk",
            "symbol": "BTC/USDT",
            "side": "SELL",
            "order_type": "STOP_MARKET",
            "qty": "0.01",
            "trigger_price": str(trigger),
        }
        placed = httpx.post(f"{srv.url}/v1/orders", json=body, headers=headers)
        assert placed.status_code == 201, placed.text
        order_id = placed.json()["order_id"]
        deadline = time.monotonic() + 30
        status: Any = None
        while time.monotonic() < deadline:
            status = httpx.get(
                f"{srv.url}/v1/orders/{order_id}?account_id=desk", headers=headers
            ).json()
            if status["status"] == "FILLED":
                break
            time.sleep(0.05)
        assert status["status"] == "FILLED", status
        assert D(status["avg_px"]) <= trigger + 60
        book = httpx.get(f"{srv.url}/v1/book/BTC/USDT?levels=10", headers=headers).json()
        assert len(book["bids"]) == 10 and len(book["asks"]) == 10


def test_turned_off_the_market_quotes_nothing(tmp_path: Path) -> None:
    settings_ = ServiceSettings(
        data_dir=tmp_path, rate_limit_per_s=10_000, market="off", market_every_s=0.01
    )
    app = build_app(settings_)
    with BackgroundServer(app) as srv:
        headers = {"X-API-Key": _keys(tmp_path)["trader"]}
        time.sleep(0.3)
        book = httpx.get(f"{srv.url}/v1/book/BTC/USDT?levels=10", headers=headers).json()
        assert book["bids"] == [] and book["asks"] == []
        node = app.state.service.node
        assert node.orders(MAKER) == [] and node.account(NOISE) is None
