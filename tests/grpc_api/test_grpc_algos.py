"""Parent orders over gRPC (``atlas.v1.Algos``), as REST's /v1/algos: a TWAP that slices and
fills, pause/resume/cancel, an idempotent algo_id, an iceberg's display child, a SMART parent
with its route decision, another account's parent NOT_FOUND, and the metrics lines."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import grpc
import httpx
import pytest
from grpc_kit import SPOT, Env, grpc_env

from atlas_oms.grpc_api.gen.atlas.v1 import algos_pb2 as ap
from atlas_oms.grpc_api.gen.atlas.v1 import algos_pb2_grpc
from atlas_oms.grpc_api.gen.atlas.v1 import orders_pb2 as pb
from atlas_oms.grpc_api.gen.atlas.v1 import types_pb2 as t


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    with grpc_env(tmp_path) as e:
        # bob offers 1 BTC at 31000: what the parents buy
        e.stubs.orders.SubmitOrder(
            pb.SubmitOrderRequest(
                account_id="bob",
                symbol=SPOT,
                side=t.SIDE_SELL,
                order_type=t.ORDER_TYPE_LIMIT,
                qty="1",
                price="31000",
            ),
            metadata=e.md("bob"),
        )
        yield e


def algos(env: Env) -> algos_pb2_grpc.AlgosStub:
    return algos_pb2_grpc.AlgosStub(env.stubs.channel)


def reason_of(err: grpc.RpcError) -> str | None:
    return dict(err.trailing_metadata() or ()).get("atlas-reason")  # type: ignore[attr-defined]


def twap(**over: object) -> ap.SubmitAlgoRequest:
    fields: dict[str, object] = {
        "account_id": "alice",
        "symbol": SPOT,
        "side": t.SIDE_BUY,
        "qty": "0.4",
        "kind": ap.ALGO_KIND_TWAP,
        "algo_id": "tw1",
        "limit_price": "31000",
        "duration_ms": 3_600_000,
        "slices": 2,
    }
    return ap.SubmitAlgoRequest(**(fields | over))  # type: ignore[arg-type]


def test_a_twap_slices_fills_pauses_resumes_and_cancels(env: Env) -> None:
    a, md = algos(env), env.md("alice")
    started = a.SubmitAlgo(twap(), metadata=md)
    assert (started.kind, started.status) == (ap.ALGO_KIND_TWAP, ap.ALGO_STATUS_WORKING)
    assert started.qty == "0.4000" and started.slices_planned == 2
    # the first slice is due at the start: 0.2 bought at once from bob's offer
    assert started.cum_qty == "0.2000" and started.slices_done == 1 and not started.duplicate
    assert [c.status for c in started.children] == [t.ORDER_STATUS_FILLED]
    assert started.children[0].tag == "algo:tw1"
    view = json.loads(started.view_json)  # REST's whole body: fills, report, routes
    assert view["children"][0]["fills"][0]["last_px"] == "31000.00"
    assert view["report"]["filled_qty"] == "0.2000" and "routes" in view
    # the same algo_id again: the parent it names
    again = a.SubmitAlgo(twap(), metadata=md)
    assert again.duplicate and again.algo_id == "tw1" and again.cum_qty == "0.2000"

    assert a.PauseAlgo(ap.AlgoRef(algo_id="tw1"), metadata=md).status == ap.ALGO_STATUS_PAUSED
    assert a.ResumeAlgo(ap.AlgoRef(algo_id="tw1"), metadata=md).status == ap.ALGO_STATUS_WORKING
    listed = a.ListAlgos(ap.ListAlgosRequest(account_id="alice", open_only=True), metadata=md)
    assert [x.algo_id for x in listed.algos] == ["tw1"]
    got = a.GetAlgo(ap.AlgoRef(algo_id="tw1"), metadata=md)
    assert got.cum_qty == "0.2000" and got.avg_px.startswith("31000")

    canceled = a.CancelAlgo(ap.AlgoRef(algo_id="tw1"), metadata=md)
    assert canceled.status == ap.ALGO_STATUS_CANCELED and canceled.cum_qty == "0.2000"
    assert a.ListAlgos(ap.ListAlgosRequest(open_only=True), metadata=md).algos == []
    with pytest.raises(grpc.RpcError) as caught:
        a.CancelAlgo(ap.AlgoRef(algo_id="tw1"), metadata=md)
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION  # type: ignore[attr-defined]
    assert reason_of(caught.value) == "ORDER_NOT_LIVE"


def test_another_accounts_parent_is_not_found_and_refusals_carry_reasons(env: Env) -> None:
    a = algos(env)
    a.SubmitAlgo(twap(), metadata=env.md("alice"))
    for call in (a.GetAlgo, a.CancelAlgo, a.PauseAlgo):
        with pytest.raises(grpc.RpcError) as caught:
            call(ap.AlgoRef(algo_id="tw1"), metadata=env.md("bob"))
        assert caught.value.code() == grpc.StatusCode.NOT_FOUND  # type: ignore[attr-defined]
        assert reason_of(caught.value) == "UNKNOWN_ALGO"
    assert a.ListAlgos(ap.ListAlgosRequest(), metadata=env.md("bob")).algos == []
    # bob's key may not start a parent for alice's account
    with pytest.raises(grpc.RpcError) as caught:
        a.SubmitAlgo(twap(algo_id="x"), metadata=env.md("bob"))
    assert caught.value.code() in (  # type: ignore[attr-defined]
        grpc.StatusCode.NOT_FOUND,
        grpc.StatusCode.PERMISSION_DENIED,
    )
    # a request that does not parse: REST's 400 INVALID_FIELD
    with pytest.raises(grpc.RpcError) as caught:
        a.SubmitAlgo(twap(algo_id="y", kind=ap.ALGO_KIND_UNSPECIFIED), metadata=env.md("alice"))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT  # type: ignore[attr-defined]
    assert reason_of(caught.value) == "INVALID_FIELD"
    # the risk key may cancel any parent
    risk = (("x-api-key", env.tokens["risk"]),)
    assert a.CancelAlgo(ap.AlgoRef(algo_id="tw1"), metadata=risk).status == (
        ap.ALGO_STATUS_CANCELED
    )
    metrics = httpx.get(f"{env.url}/metrics").text
    assert (
        'atlas_interface_requests_total{interface="grpc",method="SubmitAlgo",outcome="ok"}'
        in metrics
    )
    assert (
        'atlas_interface_requests_total{interface="grpc",method="GetAlgo",outcome="UNKNOWN_ALGO"}'
        in metrics
    )


def test_an_iceberg_shows_its_display_child_and_a_smart_parent_its_route(env: Env) -> None:
    a, md = algos(env), env.md("alice")
    ice = a.SubmitAlgo(
        ap.SubmitAlgoRequest(
            account_id="alice",
            symbol=SPOT,
            side=t.SIDE_BUY,
            qty="1",
            kind=ap.ALGO_KIND_ICEBERG,
            algo_id="ice",
            limit_price="29000",
            display_qty="0.2",
        ),
        metadata=md,
    )
    assert [(c.leaves_qty, c.display_qty) for c in ice.children] == [("1.0000", "0.2000")]
    smart = a.SubmitAlgo(
        ap.SubmitAlgoRequest(
            account_id="alice",
            symbol=SPOT,
            side=t.SIDE_BUY,
            qty="0.1",
            kind=ap.ALGO_KIND_SMART,
            algo_id="sm1",
            limit_price="31000",
            venue="SMART",
        ),
        metadata=md,
    )
    assert smart.kind == ap.ALGO_KIND_SMART and smart.cum_qty == "0.1000"
    routes = json.loads(smart.view_json)["routes"]
    assert routes and routes[0]["decision"]["allocations"], routes
    # SubmitOrder with venue SMART points at Algos.SubmitAlgo
    with pytest.raises(grpc.RpcError) as caught:
        env.stubs.orders.SubmitOrder(
            pb.SubmitOrderRequest(
                account_id="alice",
                symbol=SPOT,
                side=t.SIDE_BUY,
                order_type=t.ORDER_TYPE_LIMIT,
                qty="0.1",
                price="31000",
                venue="SMART",
            ),
            metadata=md,
        )
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT  # type: ignore[attr-defined]
    assert "SubmitAlgo" in caught.value.details()  # type: ignore[attr-defined]
