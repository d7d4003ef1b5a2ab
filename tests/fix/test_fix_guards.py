"""The FIX gateway under pressure, in process (the REST app with ``fix_port`` served by uvicorn in
a thread, so the test can reach the service): the key's token bucket answers with rejects
carrying RATE_LIMITED and applies nothing; a commit that times out is answered with a
BusinessMessageReject saying the outcome is unknown (never a "rejected" report), and the order's
ExecutionReport follows once its events are durable. Plus the gateway's memory: finished orders are
forgotten ``order_retention_s`` after they ended, as the node forgets them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from tests.fix.initiator import Initiator
from tests.service.serving import free_port

from atlas_oms import Instrument, Node
from atlas_oms.service.app import create_app
from atlas_oms.service.keys import KeyStore
from atlas_oms.service.server import BackgroundServer
from atlas_oms.service.settings import ServiceSettings

NOW = "20260101-00:00:00"


def world(node: Node) -> None:
    node.add_instrument(Instrument.spot("BTC/USDT", tick_size="0.01", lot_size="0.0001"))
    node.open_account("alice")
    node.deposit("alice", "USDT", "1000000")
    node.update_prices("BTC/USDT", last="30000")


@contextmanager
def fix_env(tmp_path: Path, **settings: Any) -> Iterator[tuple[Any, Node, Initiator]]:
    """(service, node, a logged-on initiator for alice's trader key)."""
    keys = KeyStore(tmp_path / "keys.json")
    token = keys.issue(("trader",), ("alice",)).token
    port = free_port()
    config = ServiceSettings(
        data_dir=tmp_path, fix_port=port, market_maker=False, market="off", **settings
    )
    node = Node.in_memory()
    app = create_app(config, node=node, keys=keys, setup=world)
    try:
        with BackgroundServer(app):
            client = Initiator(tmp_path / "client", port, token).start()
            try:
                yield app.state.service, node, client
            finally:
                client.stop()
    finally:
        node.close()


def test_rate_limited_messages_are_rejected_and_apply_nothing(tmp_path: Path) -> None:
    with fix_env(tmp_path, rate_limit_per_s=1) as (_, node, c):  # a burst of 2, then 1 a second
        first, second, third = c.cl(), c.cl(), c.cl()
        for cl in (first, second, third):
            c.new_order(cl, "1", "0.1", "29000", extra=((1, "alice"),))
        order_id = c.expect("8", t150="0", t11=first)[37]
        c.expect("8", t150="0", t11=second)
        limited = c.expect("8", t150="8", t39="8", t11=third, t37="NONE", t151="0")
        assert limited[58].startswith("RATE_LIMITED: ")
        cancel = c.cl()
        c.send("F", (11, cancel), (41, first), (55, "BTC/USDT"), (54, "1"), (60, NOW))
        refused = c.expect("9", t11=cancel, t41=first, t39="0", t434="1")
        assert refused[58].startswith("RATE_LIMITED: ") and refused[37] == order_id
        assert not refused[60].startswith("1970")  # TransactTime: now
        assert len(node.orders("alice")) == 2  # the refused order was never placed
        assert node.order(int(order_id)).status.name == "ACCEPTED"  # nor the cancel applied
        assert node.find_order("alice", None, third) is None
        assert not c.drain(0.3)  # no report follows a refusal


def test_a_commit_timeout_says_outcome_unknown_then_reports_once_durable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from atlas_oms.runtime.live import CommitTimeout

    with fix_env(tmp_path, rate_limit_per_s=1000) as (service, node, c):

        async def stuck() -> None:
            raise CommitTimeout("the journal is slow")

        monkeypatch.setattr(service, "durable", stuck)
        cl = c.cl()
        c.new_order(cl, "1", "0.1", "29000", extra=((1, "alice"),))
        unknown = c.expect("j", t372="D", t379=cl, t380="0")
        assert unknown[58].startswith("COMMIT_TIMEOUT: ") and "unknown" in unknown[58]
        # The order was taken: its report comes from its events once they are committed (the
        # group commit went on; only this answer's wait gave up), never an 8 "rejected".
        new = c.expect("8", t150="0", t39="0", t11=cl)
        monkeypatch.undo()
        c.send("H", (11, cl), (55, "BTC/USDT"), (54, "1"))
        c.expect("8", t150="I", t39="0", t11=cl, t37=new[37])
        assert node.find_order("alice", None, cl) is not None


def test_finished_orders_are_forgotten_after_the_order_retention(tmp_path: Path) -> None:
    """The gateway's per-order tracking is bounded like the node's orders: a finished order is
    dropped ``order_retention_s`` after it ended (at the next durable batch, or at start), a live
    one is kept; the node still answers for the dropped one (status, duplicate ClOrdID)."""
    from atlas_oms.fix.gateway import FixGateway
    from atlas_oms.fix.translate import OrderTrack

    node = Node.in_memory()
    world(node)
    node.open_account("bob")
    node.deposit("bob", "BTC", "10")
    service = SimpleNamespace(node=node, settings=SimpleNamespace(order_retention_s=1.0))
    sent: list[tuple[str, str, list[tuple[int, str]]]] = []
    gw = FixGateway(service, tmp_path / "fix", lambda s, m, f: sent.append((s, m, f)))  # type: ignore[arg-type]
    live = node.buy("alice", "BTC/USDT", "1", "28000", client_order_id="live")
    done = node.buy("alice", "BTC/USDT", "0.5", "29000", client_order_id="done")
    for view in (live, done):
        gw.tracks[view.order_id] = OrderTrack.of_view(view, view.client_order_id or "")
        gw.book.remember("CLIENT", view.client_order_id or "", view.order_id)
        gw.book.persist("CLIENT", view.client_order_id or "", view.order_id)
    seq = node.seq
    node.sell("bob", "BTC/USDT", "0.5", "29000")  # fills ``done``
    filled = [e for e in node.journal.read(seq + 1) if getattr(e, "order_id", None)]
    gw.on_durable(filled)
    assert [m for _, m, f in sent if dict(f).get(150) == "F"]  # reported
    assert done.order_id in gw.ended and live.order_id not in gw.ended
    ended = gw.ended[done.order_id]
    assert gw.prune(ended + 500_000_000) == 0  # within the retention: kept
    assert gw.prune(ended + 1_000_000_000) == 1
    assert set(gw.tracks) == {live.order_id}
    assert ("CLIENT", "done") not in gw.book.by_cl and ("CLIENT", "live") in gw.book.by_cl
    # A restart past the retention loads only what is kept, and rewrites the file so.
    service.settings.order_retention_s = 0.0
    again = FixGateway(service, tmp_path / "fix", lambda s, m, f: None)  # type: ignore[arg-type]
    assert set(again.tracks) == {live.order_id}
    assert "done" not in (tmp_path / "fix" / "orders.jsonl").read_text()
    node.close()
