"""Spot pushes are exact (binance_api/durable_push.py): a user-data payload or a book snapshot is
built when the node processes its batch and pushed only once the journal holds that batch, so it
never shows a later, not yet durable, change."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from tests.binance_api.kit import SPOT, world

from atlas_oms.binance_api.spot_stream import SpotUserStream
from atlas_oms.binance_api.spot_ws import SpotStreams
from atlas_oms.binance_api.symbols import Symbols
from atlas_oms.model import events as ev
from atlas_oms.runtime.node import Node


@pytest.fixture
def node() -> Node:
    n = Node()
    world(n)
    return n


def test_user_stream_pushes_only_once_durable_with_the_state_of_its_batch(node: Node) -> None:
    stream = SpotUserStream(node, Symbols(node))
    stream.hook(node, SimpleNamespace(on_durable=lambda listener: None))
    got: list[dict[str, Any]] = []
    stream.attach("alice", got.append)
    seen: list[list[ev.EventBase]] = []
    node.subscribe(seen.append)
    node.submit("maker", SPOT, "SELL", "LIMIT", "1", "30000")
    oid = node.submit("alice", SPOT, "BUY", "LIMIT", "1", "30000").order_id
    first = len(seen) - 1  # the batch of alice's first order (accepted and filled)
    btc_then = node.balance("alice", "BTC").free
    assert got == []  # nothing is durable yet
    # a later batch, not yet durable, must not leak into the first one's figures
    node.submit("maker", SPOT, "SELL", "LIMIT", "2", "30000")
    node.submit("alice", SPOT, "BUY", "LIMIT", "2", "30000")
    assert node.balance("alice", "BTC").free > btc_then
    stream.on_durable(seen[first])
    reports = [p for p in got if p["e"] == "executionReport"]
    assert {(p["x"], p["i"]) for p in reports} >= {("TRADE", oid)}
    trade = next(p for p in reports if p["x"] == "TRADE")
    assert trade["z"] == "1" and trade["X"] == "FILLED"
    position = next(p for p in got if p["e"] == "outboundAccountPosition")
    btc = next(b for b in position["B"] if b["a"] == "BTC")
    assert Decimal(btc["f"]) == btc_then  # not the later fill's balance
    got.clear()
    stream.on_durable(seen[-1])
    position = next(p for p in got if p["e"] == "outboundAccountPosition")
    btc = next(b for b in position["B"] if b["a"] == "BTC")
    assert Decimal(btc["f"]) == node.balance("alice", "BTC").free


class _Conn:
    kind = "public"
    combined = False

    def __init__(self, streams: set[str]) -> None:
        self.streams = streams
        self.got: list[tuple[str, Any]] = []

    def publish(self, stream: str, payload: Any) -> None:
        if stream in self.streams:
            self.got.append((stream, payload))


def test_book_snapshots_show_the_book_of_their_batch_once_durable(node: Node) -> None:
    durable: list[Any] = []
    dialect = SimpleNamespace(
        node=node,
        hub=SimpleNamespace(on_durable=durable.append),
        service=SimpleNamespace(book=node.book),
        spot_symbols=Symbols(node),
        extras={},
    )
    streams = SpotStreams(dialect)  # type: ignore[arg-type]
    conn = _Conn({"btcusdt@depth5", "btcusdt@bookTicker"})
    streams.conns.add(conn)  # type: ignore[arg-type]
    seen: list[list[ev.EventBase]] = []
    node.subscribe(seen.append)
    node.submit("maker", SPOT, "SELL", "LIMIT", "1", "30010")
    node.submit("maker", SPOT, "SELL", "LIMIT", "1", "30005")  # not durable yet
    assert conn.got == []
    for listener in durable:
        listener(seen[0])
    depth = [p for s, p in conn.got if s == "btcusdt@depth5"]
    assert [p["asks"] for p in depth] == [[["30010", "1"]]]  # not the later 30005
    assert depth[0]["lastUpdateId"] == seen[0][-1].seq
    top = [p for s, p in conn.got if s == "btcusdt@bookTicker"]
    assert top[0]["a"] == "30010"
    conn.got.clear()
    for listener in durable:
        listener(seen[-1])
    depth = [p for s, p in conn.got if s == "btcusdt@depth5"]
    assert depth[-1]["asks"][0] == ["30005", "1"]
