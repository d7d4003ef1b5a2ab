"""Positions, balances, accounts and transfers, market data and risk status over gRPC; the
same authentication and authorization as REST; the per-key rate limit; /metrics and the
access log."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import grpc
import httpx
import pytest
from grpc_kit import SPOT, Env, grpc_env

from atlas_oms.grpc_api.gen.atlas.v1 import market_data_pb2 as md
from atlas_oms.grpc_api.gen.atlas.v1 import orders_pb2 as pb
from atlas_oms.grpc_api.gen.atlas.v1 import portfolio_pb2 as pf
from atlas_oms.grpc_api.gen.atlas.v1 import risk_pb2 as rk
from atlas_oms.grpc_api.gen.atlas.v1 import types_pb2 as t


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    with grpc_env(tmp_path) as e:
        yield e


def limit(account: str, side: int, qty: str, price: str) -> pb.SubmitOrderRequest:
    return pb.SubmitOrderRequest(
        account_id=account,
        symbol=SPOT,
        side=side,
        order_type=t.ORDER_TYPE_LIMIT,
        qty=qty,
        price=price,
    )


def failure(call: object, *args: object, **kw: object) -> tuple[grpc.StatusCode, str | None]:
    with pytest.raises(grpc.RpcError) as caught:
        call(*args, **kw)  # type: ignore[operator]
    err = caught.value
    return err.code(), dict(err.trailing_metadata() or ()).get("atlas-reason")  # type: ignore[attr-defined]


def test_balances_accounts_and_a_transfer(env: Env) -> None:
    a, md_ = env.stubs.accounts, env.md("alice")
    listed = a.List(pf.ListAccountsRequest(), metadata=md_)
    assert [x.account_id for x in listed.accounts] == ["alice", "alice-sub"]
    detail = a.Get(pf.AccountRequest(account_id="alice"), metadata=md_)
    assert list(detail.sub_accounts) == ["alice-sub"]
    assert {b.asset: b.total for b in detail.balances}["USDT"] == "1000000.00000000"
    moved = a.Transfer(
        pf.TransferRequest(
            from_account_id="alice", to_account_id="alice-sub", asset="USDT", amount="12.5"
        ),
        metadata=md_,
    )
    assert moved.to_balance.total == "12.50000000" and moved.seq > 0
    sub = env.stubs.balances.List(pf.AccountRequest(account_id="alice-sub"), metadata=md_)
    assert [(b.asset, b.free) for b in sub.balances] == [("USDT", "12.50000000")]
    transfers = a.ListTransfers(pf.AccountRequest(account_id="alice"), metadata=md_)
    assert [(x.to_account_id, x.amount) for x in transfers.transfers] == [
        ("alice-sub", "12.50000000")
    ]
    # bob's accounts: not found for alice, as REST's 404 (no probing)
    assert failure(a.Get, pf.AccountRequest(account_id="bob"), metadata=md_) == (
        grpc.StatusCode.NOT_FOUND,
        "UNKNOWN_ACCOUNT",
    )
    assert failure(
        a.Transfer,
        pf.TransferRequest(from_account_id="alice", to_account_id="bob", asset="USDT", amount="1"),
        metadata=md_,
    ) == (grpc.StatusCode.NOT_FOUND, "UNKNOWN_ACCOUNT")


def test_book_trades_and_their_streams(env: Env) -> None:
    o = env.stubs.orders
    o.SubmitOrder(limit("bob", t.SIDE_SELL, "1", "30010"), metadata=env.md("bob"))
    o.SubmitOrder(limit("bob", t.SIDE_BUY, "2", "29990"), metadata=env.md("bob"))
    m = env.stubs.market
    book = m.GetBook(md.BookRequest(symbol=SPOT, levels=5), metadata=env.md("alice"))
    assert [(x.price, x.qty) for x in book.asks] == [("30010.00", "1.0000")]
    assert [(x.price, x.qty) for x in book.bids] == [("29990.00", "2.0000")]
    books = m.StreamBook(md.BookRequest(symbol=SPOT), metadata=env.md("alice"))
    trades = m.StreamTrades(md.TradesRequest(symbol=SPOT), metadata=env.md("alice"))
    seen_books: list[md.Book] = []
    seen_trades: list[md.Trade] = []
    got_book, got_trade = threading.Event(), threading.Event()

    def read_books() -> None:
        for b in books:
            seen_books.append(b)
            if len(seen_books) == 2:
                got_book.set()
                return

    def read_trades() -> None:
        for x in trades:
            seen_trades.append(x)
            got_trade.set()
            return

    threading.Thread(target=read_books, daemon=True).start()
    threading.Thread(target=read_trades, daemon=True).start()
    while not seen_books:  # the first book is the book now
        threading.Event().wait(0.02)
    o.SubmitOrder(
        pb.SubmitOrderRequest(
            account_id="alice",
            symbol=SPOT,
            side=t.SIDE_BUY,
            order_type=t.ORDER_TYPE_MARKET,
            qty="0.4",
        ),
        metadata=env.md("alice"),
    )
    assert got_book.wait(20) and got_trade.wait(20)
    books.cancel()
    trades.cancel()
    assert [(x.price, x.qty) for x in seen_books[1].asks] == [("30010.00", "0.6000")]
    trade = seen_trades[0]
    assert (trade.price, trade.qty, trade.taker_side) == ("30010.00", "0.4000", t.SIDE_BUY)
    listed = m.GetTrades(md.TradesRequest(symbol=SPOT), metadata=env.md("alice"))
    assert [(x.price, x.qty) for x in listed.trades] == [("30010.00", "0.4000")]
    assert failure(m.GetBook, md.BookRequest(symbol="NOPE/USDT"), metadata=env.md("alice")) == (
        grpc.StatusCode.NOT_FOUND,
        "UNKNOWN_INSTRUMENT",
    )


def test_risk_status(env: Env) -> None:
    r = env.stubs.risk
    mine = r.GetRiskStatus(rk.RiskStatusRequest(account_id="alice"), metadata=env.md("alice"))
    assert list(mine.trading_states) == [] and list(mine.kill_switches) == []
    # every account's status needs the risk role, as REST
    assert failure(r.GetRiskStatus, rk.RiskStatusRequest(), metadata=env.md("alice")) == (
        grpc.StatusCode.PERMISSION_DENIED,
        "FORBIDDEN_ROLE",
    )
    httpx.post(
        f"{env.url}/v1/risk/kill",
        json={"scope": "account", "scope_id": "alice", "reason": "test"},
        headers={"X-API-Key": env.tokens["risk"]},
    ).raise_for_status()
    every = r.GetRiskStatus(rk.RiskStatusRequest(), metadata=env.md("risk"))
    assert [(k.scope, k.scope_id, k.reason) for k in every.kill_switches] == [
        ("account", "alice", "test")
    ]
    # and the kill switch denies alice's next order, with its reason code
    code, reason = failure(
        env.stubs.orders.SubmitOrder,
        limit("alice", t.SIDE_BUY, "0.1", "1000"),
        metadata=env.md("alice"),
    )
    assert code == grpc.StatusCode.FAILED_PRECONDITION and reason == "KILL_SWITCH_ACTIVE"


def test_authentication_and_authorization_as_rest(env: Env) -> None:
    o = env.stubs.orders
    ref = pb.ListOrdersRequest(account_id="alice")
    assert failure(o.ListOrders, ref) == (grpc.StatusCode.UNAUTHENTICATED, "UNAUTHENTICATED")
    bad = (("x-api-key", env.tokens["alice"] + "x"),)
    assert failure(o.ListOrders, ref, metadata=bad) == (
        grpc.StatusCode.UNAUTHENTICATED,
        "UNAUTHENTICATED",
    )
    bearer = (("authorization", f"Bearer {env.tokens['alice']}"),)
    assert o.ListOrders(ref, metadata=bearer).orders == []
    # another account: NOT_FOUND, as REST's 404 (the same answer as an unknown account)
    assert failure(
        o.ListOrders, pb.ListOrdersRequest(account_id="bob"), metadata=env.md("alice")
    ) == (
        grpc.StatusCode.NOT_FOUND,
        "UNKNOWN_ACCOUNT",
    )
    # a risk key sees every account but may not place orders
    assert failure(
        o.SubmitOrder, limit("alice", t.SIDE_BUY, "0.1", "29000"), metadata=env.md("risk")
    ) == (grpc.StatusCode.PERMISSION_DENIED, "FORBIDDEN_ROLE")
    assert o.ListOrders(ref, metadata=env.md("risk")).orders == []
    # a key that must sign its requests cannot call without a client certificate
    assert failure(
        o.ListOrders, pb.ListOrdersRequest(account_id="bob"), metadata=env.md("signed")
    ) == (
        grpc.StatusCode.UNAUTHENTICATED,
        "SIGNATURE_REQUIRED",
    )


def test_rate_limit_is_resource_exhausted(tmp_path: Path) -> None:
    with grpc_env(tmp_path, rate_limit_per_s=2) as env:  # burst 4
        ref = pb.ListOrdersRequest(account_id="alice")
        codes = []
        for _ in range(8):
            try:
                env.stubs.orders.ListOrders(ref, metadata=env.md("alice"))
                codes.append("ok")
            except grpc.RpcError as err:
                codes.append(dict(err.trailing_metadata())["atlas-reason"])  # type: ignore[attr-defined]
                assert err.code() == grpc.StatusCode.RESOURCE_EXHAUSTED  # type: ignore[attr-defined]
        assert codes[:3] == ["ok"] * 3 and "RATE_LIMITED" in codes
        # the per-key bucket: another key still calls
        env.stubs.orders.ListOrders(pb.ListOrdersRequest(account_id="bob"), metadata=env.md("bob"))


def test_metrics_and_access_log_show_grpc_calls(env: Env, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="atlas.access"):
        env.stubs.orders.ListOrders(
            pb.ListOrdersRequest(account_id="alice"), metadata=env.md("alice")
        )
        failure(
            env.stubs.orders.ListOrders,
            pb.ListOrdersRequest(account_id="bob"),
            metadata=env.md("alice"),
        )
    text = httpx.get(f"{env.url}/metrics").text
    assert (
        'atlas_interface_requests_total{interface="grpc",method="ListOrders",outcome="ok"} 1.0'
        in text
    )
    assert (
        'atlas_interface_requests_total{interface="grpc",method="ListOrders",outcome="UNKNOWN_ACCOUNT"} 1.0'
        in text
    )
    assert 'atlas_interface_request_seconds_count{interface="grpc"}' in text
    lines = [
        r
        for r in caplog.records
        if r.name == "atlas.access" and getattr(r, "interface", None) == "grpc"
    ]
    assert [(r.method, r.outcome) for r in lines] == [  # type: ignore[attr-defined]
        ("ListOrders", "ok"),
        ("ListOrders", "UNKNOWN_ACCOUNT"),
    ]
    key_id = env.tokens["alice"].split(".")[0]
    assert all(r.key_id == key_id for r in lines)  # type: ignore[attr-defined]
    assert env.tokens["alice"] not in json.dumps([r.__dict__ for r in lines], default=str)
