"""The HTTP client (``atlas_oms.cli.client``) and how a command reports a server that does not
answer."""

from __future__ import annotations

import socket

import httpx
import pytest

from atlas_oms.cli.client import ApiProblem, AtlasClient, Unreachable

from .helpers import run_main


def test_an_unreachable_server_is_one_sentence_and_exit_code_3(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    code, out, err = run_main(["positions", "-a", "desk", "--url", url, "--key", "ak_x.y"], capsys)
    assert (code, out) == (3, "")
    assert err.startswith(f"atlas positions: cannot reach the Atlas server at {url} (")
    assert len(err.splitlines()) == 1


def test_a_problem_document_is_an_api_problem_and_a_2xx_a_reply() -> None:
    def server(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/balances":
            return httpx.Response(200, json=[{"asset": "USDT", "total": "1.50"}])
        return httpx.Response(404, json={"reason": "UNKNOWN_ORDER", "detail": "no order 7"})

    with AtlasClient("http://atlas.test", "ak_x.y", transport=httpx.MockTransport(server)) as c:
        assert c.key_id == "ak_x"
        reply = c.balances("desk")
        assert reply.status == 200 and reply.data[0]["total"] == "1.50"
        with pytest.raises(ApiProblem) as problem:
            c.order("desk", 7)
    assert (problem.value.status, problem.value.reason) == (404, "UNKNOWN_ORDER")
    assert problem.value.detail == "no order 7"


def test_a_transport_error_is_unreachable() -> None:
    def server(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    client = AtlasClient("http://atlas.test", "ak_x.y", transport=httpx.MockTransport(server))
    with client, pytest.raises(Unreachable) as unreachable:
        client.positions("desk")
    assert str(unreachable.value).startswith("cannot reach the Atlas server at http://atlas.test")
